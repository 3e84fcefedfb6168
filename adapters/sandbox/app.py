"""A sandbox agency: one small HTTP service per adapter kind, answering from synthetic data.

The BRP itself is served by ``adapters/sandbox/brp.py`` (the published BRP API 2.x); the
other kinds behave like Haal Centraal BRP Bevragen where Loket depends on it: ``POST
/{agency}/personen`` with a ``fields`` list returns only those fields (a group path returns
its sub-fields), always with the catalog's ``always_included_flags``; an unknown field path,
a missing or invalid BSN or a malformed body is a 400 problem+json. The BSN is never logged,
echoed or recorded.

:class:`SandboxFaults` is mutable on purpose: a test flips it while the server runs to make
the agency slow, failing, malformed, over-sharing or oversized.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from adapters.catalog import Catalog, load_catalog
from adapters.fields import FieldPathError, minimise, parse_path
from adapters.sandbox.citizens import Citizen, _passes_elfproef
from adapters.sandbox.requests import mount_requests
from adapters.sandbox.signals import install_signal_feed

logger = logging.getLogger("loket.sandbox")

QUERY_TYPE = "RaadpleegMetBurgerservicenummer"
MAX_REQUEST_BYTES = 64 * 1024
MAX_BSNS_PER_REQUEST = 20  # Haal Centraal's own limit for RaadpleegMetBurgerservicenummer
MAX_FIELDS_PER_REQUEST = 128
PROBLEM_BASE = "https://loket.example/problems/sandbox/"


@dataclass
class SandboxFaults:
    """Faults a test can switch on at runtime (all off by default)."""

    delay_s: float = 0.0  # sleep before answering
    status_code: int | None = None  # answer with this HTTP status and a problem body
    malformed_body: bool = False  # 200 with a body that is not JSON
    extra_fields: bool = False  # return the whole record plus an internal field
    oversized_body: bool = False  # stream a body of ``oversized_bytes`` without Content-Length
    oversized_bytes: int = 64 * 1024 * 1024

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, f.default)


@dataclass(frozen=True)
class ObservedRequest:
    """What the agency saw of one request — everything except the BSN itself."""

    agency: str
    url: str  # path and query as received: a test can check that no BSN is in it
    fields: tuple[str, ...]
    bsn_count: int
    traceparent: str | None


@dataclass
class SandboxObservations:
    """A bounded, thread-safe record of requests (the servers run in their own threads)."""

    max_requests: int = 1000
    _requests: deque[ObservedRequest] = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._requests = deque(maxlen=self.max_requests)

    def add(self, request: ObservedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def requests(self) -> list[ObservedRequest]:
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()


def _without_nulls(value: Any) -> Any:
    """Haal Centraal leaves out a field without a value rather than sending ``null``."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def _problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extra},
        status_code=status,
        media_type="application/problem+json",
    )


def _selectable_paths(catalog: Catalog, agency: str) -> frozenset[str]:
    """Every catalog field of the agency, every group above one, and the flags."""
    paths: set[str] = set(catalog.always_included_flags)
    for f in catalog.fields_of(agency):
        parts = f.split(".")
        paths.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return frozenset(paths)


def create_agency_app(
    kind: str,
    citizens: Iterable[Citizen],
    *,
    faults: SandboxFaults | None = None,
    observations: SandboxObservations | None = None,
    catalog: Catalog | None = None,
) -> FastAPI:
    """The sandbox service for every catalog agency whose adapter kind is ``kind``."""
    catalog = catalog or load_catalog()
    if kind == "brp":
        # The BRP speaks Haal Centraal BRP Bevragen 2.x itself (adapters/sandbox/brp.py).
        from adapters.sandbox.brp import create_brp_app, loket_afnemer

        return create_brp_app(
            citizens,
            faults=faults,
            observations=observations,
            default_afnemer=loket_afnemer(catalog),
            catalog=catalog,
        )
    agencies = sorted(a.id for a in catalog.agencies.values() if a.adapter == kind)
    if not agencies:
        raise ValueError(f"no catalog agency has adapter kind {kind!r}")
    faults = faults if faults is not None else SandboxFaults()
    selectable = {a: _selectable_paths(catalog, a) for a in agencies}
    flags = catalog.always_included_flags
    records: dict[str, dict[str, dict[str, Any]]] = {a: {} for a in agencies}
    for citizen in citizens:
        for agency, record in citizen.records.items():
            if agency in records:
                records[agency][citizen.bsn] = _without_nulls(record)

    app = FastAPI(title=f"Loket sandbox agency ({kind})", docs_url=None, redoc_url=None)
    app.state.kind = kind
    app.state.faults = faults

    if "schuldhulp" in records:
        install_signal_feed(app, "schuldhulp", records["schuldhulp"])

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "kind": kind, "agencies": agencies}

    @app.post("/{agency}/personen")
    async def personen(agency: str, request: Request) -> Response:
        if agency not in records:
            return _problem(
                404,
                "unknown-agency",
                "Onbekende instantie",
                "This service does not serve that agency.",
            )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
            return _problem(413, "too-large", "Verzoek te groot", "The request body is too large.")
        body = await request.body()
        if len(body) > MAX_REQUEST_BYTES:
            return _problem(413, "too-large", "Verzoek te groot", "The request body is too large.")
        try:
            doc = json.loads(body)
        except ValueError:
            return _problem(400, "bad-request", "Ongeldig verzoek", "The body is not JSON.")
        checked = _check_query(doc, selectable[agency])
        if isinstance(checked, JSONResponse):
            return checked
        bsns, requested = checked
        if observations is not None:
            observations.add(
                ObservedRequest(
                    agency=agency,
                    url=str(request.url.path)
                    + (f"?{request.url.query}" if request.url.query else ""),
                    fields=requested,
                    bsn_count=len(bsns),
                    traceparent=request.headers.get("traceparent"),
                )
            )

        if faults.delay_s > 0:
            await asyncio.sleep(faults.delay_s)
        if faults.status_code is not None:
            return _problem(faults.status_code, "fault", "Storing", "Injected fault.")
        if faults.malformed_body:
            return Response(b'{"personen": [{"naam": ', media_type="application/json")
        if faults.oversized_body:
            return StreamingResponse(
                _oversized(faults.oversized_bytes), media_type="application/json"
            )

        found = [records[agency][b] for b in bsns if b in records[agency]]
        personen: list[dict[str, Any]] = []
        for record in found:
            if faults.extra_fields:
                person = json.loads(json.dumps(record))  # everything, asked for or not
                person["interneNotitie"] = "alleen voor intern gebruik"
            else:
                person = minimise(record, (*requested, *flags))
            for flag in flags:
                person.setdefault(flag, bool(record.get(flag, False)))
            personen.append(person)
        logger.info(
            "agency %s answered: %d field(s) asked, %d person(s) found",
            agency,
            len(requested),
            len(personen),
        )
        return JSONResponse({"personen": personen})

    mount_requests(app, records, faults=faults)  # two-way requests (adapters/sandbox/requests.py)
    return app


def _check_query(
    doc: Any, selectable: frozenset[str]
) -> tuple[list[str], tuple[str, ...]] | JSONResponse:
    """Validate a Haal Centraal query; the problem never echoes a BSN."""
    if not isinstance(doc, dict) or doc.get("type") != QUERY_TYPE:
        return _problem(400, "bad-request", "Ongeldig verzoek", f"type must be {QUERY_TYPE}.")
    bsns = doc.get("burgerservicenummer")
    if (
        not isinstance(bsns, list)
        or not 1 <= len(bsns) <= MAX_BSNS_PER_REQUEST
        or not all(isinstance(b, str) and _passes_elfproef(b) for b in bsns)
    ):
        return _problem(
            400,
            "invalid-bsn",
            "Ongeldig burgerservicenummer",
            "burgerservicenummer must hold 1 to 20 valid BSNs.",
            invalidParams=[
                {"name": "burgerservicenummer", "code": "invalid", "reason": "Geen geldig BSN."}
            ],
        )
    requested = doc.get("fields")
    if not isinstance(requested, list) or not 1 <= len(requested) <= MAX_FIELDS_PER_REQUEST:
        return _problem(
            400,
            "bad-request",
            "Ongeldig verzoek",
            "fields must be a list of 1 to 128 field paths.",
            invalidParams=[
                {"name": "fields", "code": "required", "reason": "Parameter is verplicht."}
            ],
        )
    invalid = []
    for i, f in enumerate(requested):
        try:
            ok = isinstance(f, str) and bool(parse_path(f)) and f in selectable
        except FieldPathError:
            ok = False
        if not ok:
            reason = f"Onbekend veld: {str(f)[:80]}"
            invalid.append({"name": f"fields[{i}]", "code": "field", "reason": reason})
    if invalid:
        return _problem(
            400,
            "unknown-field",
            "Een of meerdere parameters zijn niet correct.",
            "Unknown field path(s).",
            invalidParams=invalid,
        )
    return bsns, tuple(dict.fromkeys(requested))


async def _oversized(total_bytes: int) -> AsyncIterator[bytes]:
    # Streamed slowly, without Content-Length, so only a client that counts while reading
    # (and stops) gets out before its deadline.
    yield b'{"personen": [{"opvulling": "'
    chunk = b"x" * 65536
    for _ in range(max(1, total_bytes // len(chunk))):
        yield chunk
        await asyncio.sleep(0.005)
    yield b'"}]}'
