"""Consent requests: a casemanager asks the citizen for consent; the citizen answers per category.

A request names categories as ``agency.category``. Each must be in the scope of the case's
purpose (a consent outside the purpose could never be used: purpose binding) and must not be
covered by a legal basis already (asking consent where the law already allows it misleads a
citizen who depends on the authority — the AP's warning in DOMAIN.md). The items stored on the
request say exactly which fields would be shared, so the citizen sees what they agree to.

The free-text message is shown to the citizen and is never written to the audit log; it may not
carry a BSN. Answering is a compare-and-set from ``open`` to ``answered``, so two answers to one
request can never both create consents.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from adapters.catalog import Catalog
from gateway.cases.service import load_own_case
from gateway.core.errors import BadInput, Conflict, NotFound
from gateway.core.models import Case, ConsentRequest, utcnow
from gateway.identity.auth import Principal
from gateway.identity.free_text import check_free_text

MAX_ITEMS_PER_REQUEST = 16
MAX_MESSAGE_CHARS = 2000
DEFAULT_VALID_DAYS = 90
MAX_VALID_DAYS = 366  # gateway.consents.grants.MAX_CONSENT_DAYS

APPROVE, DECLINE = "approve", "decline"
OPEN, ANSWERED = "open", "answered"

@dataclass(frozen=True)
class RequestItem:
    """One category the casemanager asks consent for, with exactly the fields it would share."""

    agency: str
    category: str
    fields: tuple[str, ...]
    special: bool  # AVG art. 9 category: the consent must be explicit
    valid_days: int

    @property
    def key(self) -> str:
        return f"{self.agency}.{self.category}"

    def to_json(self) -> dict[str, Any]:
        return {"agency": self.agency, "category": self.category, "fields": list(self.fields),
                "special": self.special, "valid_days": self.valid_days}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestItem:
        return cls(agency=str(data["agency"]), category=str(data["category"]),
                   fields=tuple(str(f) for f in data.get("fields", ())),
                   special=bool(data.get("special", False)),
                   valid_days=int(data.get("valid_days", DEFAULT_VALID_DAYS)))


def items_of(request: ConsentRequest) -> list[RequestItem]:
    return [RequestItem.from_json(i) for i in request.items]


def purpose_scope(purposes: Mapping[str, Any], purpose: str) -> dict[tuple[str, str], Mapping[str, Any]]:
    info = purposes.get(purpose)
    scope = info.get("scope", {}) if isinstance(info, Mapping) else {}
    return {(a, c): spec for a, cats in scope.items() for c, spec in cats.items()}


def parse_request_items(raw: Sequence[str], *, purpose: str, purposes: Mapping[str, Any],
                        catalog: Catalog, valid_days: int) -> list[RequestItem]:
    """``agency.category`` strings → items, checked against the catalog and the case purpose."""
    if not raw:
        raise BadInput("name at least one category", code="no-categories")
    if len(raw) > MAX_ITEMS_PER_REQUEST:
        raise BadInput(f"at most {MAX_ITEMS_PER_REQUEST} categories per request", code="too-many-categories")
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise BadInput(f"valid_days must be between 1 and {MAX_VALID_DAYS}", code="bad-validity", param="valid_days")
    scope = purpose_scope(purposes, purpose)
    items: list[RequestItem] = []
    for entry in raw:
        agency, _, category = entry.partition(".")
        agency_def = catalog.agencies.get(agency)
        if agency_def is None or category not in agency_def.categories:
            raise BadInput("unknown agency or category", code="unknown-category")
        spec = scope.get((agency, category))
        if spec is None:
            raise BadInput("this category is not needed for the purpose of the case",
                           code="not-needed-for-purpose")
        if spec.get("basis"):
            raise BadInput("a legal basis already covers this category; do not ask for consent",
                           code="basis-covers-category")
        if any(i.agency == agency and i.category == category for i in items):
            continue
        items.append(RequestItem(agency=agency, category=category,
                                 fields=tuple(spec.get("fields", ())),
                                 special=agency_def.categories[category].special,
                                 valid_days=valid_days))
    return items


def create_consent_request(session: Session, principal: Principal, case_id: str, *,
                           categories: Sequence[str], message: str, valid_days: int,
                           purposes: Mapping[str, Any], catalog: Catalog) -> tuple[ConsentRequest, Case]:
    """Only the casemanager of the case may ask (someone else's case is 404, as everywhere)."""
    case = load_own_case(session, principal, case_id)
    items = parse_request_items(categories, purpose=case.purpose, purposes=purposes,
                                catalog=catalog, valid_days=valid_days)
    text = check_free_text(message, max_chars=MAX_MESSAGE_CHARS, what="message")
    request = ConsentRequest(
        id=str(uuid.uuid4()), case_id=case.id, citizen_pseudonym=case.citizen_pseudonym,
        casemanager_sub=principal.sub, items=[i.to_json() for i in items], message=text,
        status=OPEN,
    )
    session.add(request)
    return request, case


def requests_for_case(session: Session, principal: Principal, case_id: str) -> list[ConsentRequest]:
    case = load_own_case(session, principal, case_id)
    stmt = (select(ConsentRequest).where(ConsentRequest.case_id == case.id)
            .order_by(ConsentRequest.created_at.desc()))
    return list(session.scalars(stmt))


def requests_of_citizen(session: Session, pseudonym: str, *, only_open: bool = True) -> list[ConsentRequest]:
    stmt = select(ConsentRequest).where(ConsentRequest.citizen_pseudonym == pseudonym)
    if only_open:
        stmt = stmt.where(ConsentRequest.status == OPEN)
    return list(session.scalars(stmt.order_by(ConsentRequest.created_at.desc())))


def load_citizens_request(session: Session, pseudonym: str, request_id: str) -> tuple[ConsentRequest, Case]:
    """A request of this citizen; another citizen's request is reported as not found (no IDOR)."""
    request = session.get(ConsentRequest, request_id)
    if request is None or request.citizen_pseudonym != pseudonym:
        raise NotFound("no such consent request")
    case = session.get(Case, request.case_id)
    if case is None:
        raise NotFound("no such consent request")
    return request, case


def normalise_answers(request: ConsentRequest, answers: Mapping[str, str]) -> dict[str, str]:
    """Every item needs exactly one answer, approve or decline; nothing else is accepted."""
    keys = [i.key for i in items_of(request)]
    unknown = set(answers) - set(keys)
    if unknown:
        raise BadInput("answer names a category that was not asked for", code="category-not-asked")
    missing = [k for k in keys if k not in answers]
    if missing:
        raise BadInput("answer every category of the request", code="answer-incomplete")
    out: dict[str, str] = {}
    for k in keys:
        value = answers[k]
        if value not in (APPROVE, DECLINE):
            raise BadInput("each answer is 'approve' or 'decline'", code="bad-answer")
        out[k] = value
    return out


def mark_answered(session: Session, request_id: str, pseudonym: str,
                  answers: Mapping[str, str]) -> None:
    """Compare-and-set open → answered: a second answer (double submit, two tabs) is a 409."""
    result = session.execute(
        update(ConsentRequest)
        .where(ConsentRequest.id == request_id, ConsentRequest.citizen_pseudonym == pseudonym,
               ConsentRequest.status == OPEN)
        .values(status=ANSWERED, answers=dict(answers), answered_at=utcnow())
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict("this consent request was already answered", code="already-answered")


def valid_until(item: RequestItem, start: datetime) -> datetime:
    return start.astimezone(UTC) + timedelta(days=item.valid_days)
