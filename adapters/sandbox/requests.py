"""A sandbox agency's request desk: requests *to* the agency on a citizen's behalf.

``POST /{agency}/verzoeken`` takes a request (pause collection, payment plan, warm handover)
with only the fields its type needs — anything else is a 400, so a gateway that over-shares
fails loudly here — and answers 202. ``GET /{agency}/verzoeken/{reference}`` says
``in_behandeling`` until :attr:`RequestDesk.answer_after_s` has passed, then ``geaccepteerd``
or ``geweigerd`` with a reason, decided from the agency's own synthetic record. The BSN is
checked, used to look the citizen up, and never logged or kept.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from adapters.fields import get_path
from adapters.sandbox.citizens import _passes_elfproef

MAX_BODY_BYTES = 8 * 1024
#: What each request type may carry (the gateway's policy sends exactly these).
ALLOWED_KEYS = {
    "pause_collection": {"type", "burgerservicenummer", "reference", "until"},
    "payment_plan": {"type", "burgerservicenummer", "reference", "monthly_amount"},
    "warm_handover": {"type", "burgerservicenummer", "reference", "contact"},
}


@dataclass
class RequestDesk:
    """Shared by the sandbox's agency apps; a test may shorten ``answer_after_s``."""

    answer_after_s: float = 0.5
    max_requests: int = 10_000
    _items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    seen: deque[tuple[str, str, tuple[str, ...]]] = field(default_factory=lambda: deque(maxlen=1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, agency: str, reference: str, item: dict[str, Any]) -> bool:
        with self._lock:
            if (agency, reference) in self._items or len(self._items) >= self.max_requests:
                return False
            self._items[(agency, reference)] = item
            self.seen.append((agency, item["type"], tuple(sorted(item["keys"]))))
            return True

    def get(self, agency: str, reference: str) -> dict[str, Any] | None:
        with self._lock:
            return self._items.get((agency, reference))


DESK = RequestDesk()


def _amount(record: Mapping[str, Any], path: str) -> float:
    found, value = get_path(record, path)
    try:
        return float(value) if found and value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


#: Per agency: the field of its record that says something is owed there.
OWED = {"cjib": "boetes.openstaand", "belastingdienst": "belastingschuld.openstaand",
        "toeslagen": "terugvordering.bedrag", "cak": "wanbetaling.achterstand", "duo": "studieschuld.bedrag"}


def decide(agency: str, item: Mapping[str, Any], record: Mapping[str, Any] | None) -> tuple[str, str]:
    """The agency's answer: (``geaccepteerd`` | ``geweigerd``, reason in B1 Dutch)."""
    rtype = item["type"]
    if record is None:
        return "geweigerd", "Wij kennen deze persoon niet. Controleer de gegevens en bel onze lijn voor professionals."
    if rtype in ("pause_collection", "payment_plan") and agency in OWED and _amount(record, OWED[agency]) <= 0:
        return "geweigerd", "Er staat bij ons niets open. Een pauze of regeling is niet nodig."
    if rtype == "payment_plan" and agency == "duo":
        found, repaying = get_path(record, "studieschuld.aflosfase")
        if found and repaying is False:
            return "geweigerd", "De aflosfase is nog niet begonnen. Een regeling is nu niet nodig."
    if rtype == "pause_collection":
        return "geaccepteerd", (f"Wij pauzeren de invordering tot en met {item.get('until')}. "
                                "In die tijd komen er geen verhogingen of aanmaningen bij.")
    if rtype == "payment_plan":
        return "geaccepteerd", (f"Wij maken een regeling van {item.get('monthly_amount')} euro per maand. "
                                "De burger krijgt de brief binnen een week.")
    return "geaccepteerd", "Een vaste contactpersoon belt de casemanager binnen twee werkdagen."


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"type": "https://loket.example/problems/sandbox/request", "title": "Ongeldig verzoek",
                         "status": status, "detail": detail}, status_code=status,
                        media_type="application/problem+json")


def mount_requests(app: FastAPI, records: Mapping[str, Mapping[str, Mapping[str, Any]]],
                   desk: RequestDesk | None = None, faults: Any = None) -> None:
    """Add the request desk of every agency in ``records`` (agency -> BSN -> record). ``faults``
    (the app's SandboxFaults) make the desk fail with the same injected status as the rest."""
    desk = desk or DESK

    @app.post("/{agency}/verzoeken")
    async def new_request(agency: str, request: Request) -> Response:
        if agency not in records:
            return _problem(404, "This service does not serve that agency.")
        if faults is not None and faults.status_code is not None:
            return _problem(faults.status_code, "Injected fault.")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _problem(413, "The request body is too large.")
        try:
            doc = json.loads(body)
        except ValueError:
            return _problem(400, "The body is not JSON.")
        if not isinstance(doc, dict) or doc.get("type") not in ALLOWED_KEYS:
            return _problem(400, "Unknown request type.")
        extra = set(doc) - ALLOWED_KEYS[doc["type"]]
        if extra:
            return _problem(400, "Fields this request type does not need: " + ", ".join(sorted(extra)[:10]))
        bsn, reference = doc.get("burgerservicenummer"), doc.get("reference")
        if not isinstance(bsn, str) or not _passes_elfproef(bsn):
            return _problem(400, "burgerservicenummer must be a valid BSN.")
        if not isinstance(reference, str) or not 8 <= len(reference) <= 64:
            return _problem(400, "reference is required.")
        item = {"type": doc["type"], "keys": tuple(doc), "until": doc.get("until"),
                "monthly_amount": doc.get("monthly_amount"), "received": time.monotonic()}
        # Decide now from the record, answer later: the BSN is not kept.
        item["answer"] = decide(agency, item, records[agency].get(bsn))
        del bsn
        if not desk.add(agency, reference, item):
            return _problem(409, "A request with this reference exists.")
        return JSONResponse({"reference": reference, "status": "in_behandeling"}, status_code=202)

    @app.get("/{agency}/verzoeken/{reference}")
    async def request_status(agency: str, reference: str) -> Response:
        item = desk.get(agency, reference)
        if item is None:
            return _problem(404, "No such request.")
        if time.monotonic() - item["received"] < desk.answer_after_s:
            return JSONResponse({"reference": reference, "status": "in_behandeling"})
        status, reason = item["answer"]
        return JSONResponse({"reference": reference, "status": status, "reden": reason})
