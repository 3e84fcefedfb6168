"""Consent requests: the casemanager asks, the citizen sees exactly what and answers per category.

Every step is audited: ``consent_request:created`` (casemanager), ``consent:granted`` per
approved category (through the same grant path as a consent the citizen gives unasked) and
``consent_request:answered`` (citizen). The message text never goes into the log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from audit.record import AuditEventKind
from gateway.api.cases import audit_denied
from gateway.api.consents import citizen_pseudonym, grant
from gateway.api.deps import CaseManager, Citizen, LoketDep, TraceDep
from gateway.api.schemas import ConsentCreate, Strict
from gateway.consents.requests import (
    APPROVE,
    DEFAULT_VALID_DAYS,
    MAX_ITEMS_PER_REQUEST,
    MAX_MESSAGE_CHARS,
    MAX_VALID_DAYS,
    create_consent_request,
    items_of,
    load_citizens_request,
    mark_answered,
    normalise_answers,
    requests_for_case,
    requests_of_citizen,
    valid_until,
)
from gateway.core.auditing import event_record
from gateway.core.context import Loket
from gateway.core.errors import Forbidden, NotFound
from gateway.core.models import Case, ConsentRequest
from gateway.core.tracing import TraceContext
from gateway.dossier.explain import Explainer
from gateway.identity.auth import Principal

router = APIRouter(tags=["consent requests"])

_LOG_LIST_CHARS = 250  # audit record strings are at most 256 characters


class ConsentRequestCreate(Strict):
    categories: list[str] = Field(min_length=1, max_length=MAX_ITEMS_PER_REQUEST,
                                  description="agency.category, e.g. duo.studieschuld")
    message: str = Field(default="", max_length=MAX_MESSAGE_CHARS,
                         description="Shown to the citizen. Plain words; never a BSN.")
    valid_days: int = Field(default=DEFAULT_VALID_DAYS, ge=1, le=MAX_VALID_DAYS)


class RequestItemPublic(BaseModel):
    key: str
    agency: str
    organisation: str
    category: str
    category_label: str
    fields: list[str]
    special: bool
    valid_days: int
    answer: str | None = None


class ConsentRequestPublic(BaseModel):
    id: str
    case_id: str
    casemanager: str
    purpose: str
    purpose_label: str
    purpose_description: str
    message: str
    status: str
    items: list[RequestItemPublic]
    created_at: datetime
    answered_at: datetime | None
    consents_created: list[str] = []


class ConsentRequestAnswer(Strict):
    answers: dict[Annotated[str, Field(max_length=130)], Literal["approve", "decline"]] = Field(
        max_length=MAX_ITEMS_PER_REQUEST, description="agency.category → approve | decline")


def request_public(req: ConsentRequest, case: Case, ex: Explainer,
                   consents_created: list[str] | None = None) -> ConsentRequestPublic:
    answers = req.answers or {}
    return ConsentRequestPublic(
        id=req.id, case_id=req.case_id, casemanager=req.casemanager_sub, purpose=case.purpose,
        purpose_label=ex.purpose_label(case.purpose),
        purpose_description=ex.purpose_description(case.purpose), message=req.message,
        status=req.status, created_at=req.created_at, answered_at=req.answered_at,
        consents_created=consents_created or [],
        items=[RequestItemPublic(key=i.key, agency=i.agency, organisation=ex.organisation(i.agency),
                                 category=i.category, category_label=ex.category_label(i.agency, i.category),
                                 fields=list(i.fields), special=i.special, valid_days=i.valid_days,
                                 answer=answers.get(i.key))
               for i in items_of(req)],
    )


def _joined(keys: list[str]) -> str:
    text = ",".join(keys)
    return text if len(text) <= _LOG_LIST_CHARS else text[: _LOG_LIST_CHARS - 1] + "…"


def _answer_extra(request_id: str, approved: list[str], declined: list[str]) -> dict[str, str]:
    # Audit strings must be non-empty: an empty side is left out rather than logged as "".
    extra = {"consent_request_id": request_id}
    if approved:
        extra["approved"] = _joined(approved)
    if declined:
        extra["declined"] = _joined(declined)
    return extra


async def create_request(loket: Loket, principal: Principal, trace: TraceContext, case_id: str,
                         body: ConsentRequestCreate) -> ConsentRequestPublic:
    started = datetime.now(UTC)

    def create() -> tuple[ConsentRequest, Case]:
        with loket.sessions.begin() as session:
            req, case = create_consent_request(
                session, principal, case_id, categories=body.categories, message=body.message,
                valid_days=body.valid_days, purposes=loket.purposes, catalog=loket.catalog)
            session.flush()
            session.expunge_all()
            return req, case

    req, case = await anyio.to_thread.run_sync(create)
    record = event_record(kind=AuditEventKind.CONSENT_REQUEST_CREATED, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="requested", purposes=loket.purposes,
                          purpose=case.purpose, case_id=case.id, data_subject=case.citizen_pseudonym,
                          extra={"consent_request_id": req.id,
                                 "categories": _joined([i.key for i in items_of(req)])})
    await anyio.to_thread.run_sync(loket.audit.append, record)
    return request_public(req, case, Explainer.of(loket))


async def answer_request(loket: Loket, principal: Principal, trace: TraceContext, request_id: str,
                         answers: dict[str, str]) -> ConsentRequestPublic:
    """Mark answered first (compare-and-set), then grant each approved category."""
    started = datetime.now(UTC)
    pseudonym = citizen_pseudonym(loket, principal)

    def mark() -> tuple[ConsentRequest, Case, dict[str, str]]:
        with loket.sessions.begin() as session:
            req, case = load_citizens_request(session, pseudonym, request_id)
            normalised = normalise_answers(req, answers)
            mark_answered(session, req.id, pseudonym, normalised)
            session.refresh(req)
            session.expunge_all()
            return req, case, normalised

    req, case, normalised = await anyio.to_thread.run_sync(mark)
    created: list[str] = []
    for item in items_of(req):
        if normalised[item.key] != APPROVE:
            continue
        consent = await grant(loket, principal, trace, ConsentCreate(
            purpose=case.purpose, agency=item.agency, category=item.category,
            valid_from=started, valid_until=valid_until(item, started), explicit=True,
        ), consent_request_id=req.id)
        created.append(consent.id)
    approved = [k for k, v in normalised.items() if v == APPROVE]
    declined = [k for k, v in normalised.items() if v != APPROVE]
    record = event_record(kind=AuditEventKind.CONSENT_REQUEST_ANSWERED, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="answered", purposes=loket.purposes,
                          purpose=case.purpose, case_id=case.id, data_subject=pseudonym,
                          extra=_answer_extra(req.id, approved, declined))
    await anyio.to_thread.run_sync(loket.audit.append, record)
    return request_public(req, case, Explainer.of(loket), created)


async def open_requests(loket: Loket, principal: Principal, *, only_open: bool = True) -> list[ConsentRequestPublic]:
    pseudonym = citizen_pseudonym(loket, principal)

    def load() -> list[tuple[ConsentRequest, Case]]:
        with loket.sessions() as session:
            out = []
            for req in requests_of_citizen(session, pseudonym, only_open=only_open):
                case = session.get(Case, req.case_id)
                if case is not None:
                    out.append((req, case))
            session.expunge_all()
            return out

    ex = Explainer.of(loket)
    return [request_public(r, c, ex) for r, c in await anyio.to_thread.run_sync(load)]


@router.post("/v1/cases/{case_id}/consent-requests", status_code=201, response_model=ConsentRequestPublic)
async def post_consent_request(case_id: Annotated[str, Path(max_length=64)], body: ConsentRequestCreate,
                               loket: LoketDep, principal: CaseManager, trace: TraceDep) -> ConsentRequestPublic:
    """Ask the citizen of this case for consent for categories the purpose needs but no law covers."""
    started = datetime.now(UTC)
    try:
        return await create_request(loket, principal, trace, case_id, body)
    except (NotFound, Forbidden) as e:
        await audit_denied(loket, principal, trace, started, case_id, e)
        raise


@router.get("/v1/cases/{case_id}/consent-requests", response_model=list[ConsentRequestPublic])
async def list_case_consent_requests(case_id: Annotated[str, Path(max_length=64)], loket: LoketDep,
                                     principal: CaseManager, trace: TraceDep) -> list[ConsentRequestPublic]:
    """The requests of this case with the citizen's answers (the casemanager's own cases only)."""
    started = datetime.now(UTC)

    def load() -> list[tuple[ConsentRequest, Case]]:
        with loket.sessions() as session:
            reqs = requests_for_case(session, principal, case_id)
            case = session.get(Case, case_id)
            session.expunge_all()
            return [(r, case) for r in reqs if case is not None]

    try:
        loaded = await anyio.to_thread.run_sync(load)
    except (NotFound, Forbidden) as e:
        await audit_denied(loket, principal, trace, started, case_id, e)
        raise
    ex = Explainer.of(loket)
    return [request_public(r, c, ex) for r, c in loaded]


@router.get("/v1/me/consent-requests", response_model=list[ConsentRequestPublic])
async def my_consent_requests(loket: LoketDep, principal: Citizen,
                              include_answered: Annotated[bool, Query(alias="all")] = False,
                              ) -> list[ConsentRequestPublic]:
    """Open requests (``all=true``: answered ones too) with what would be shared, with whom, why."""
    return await open_requests(loket, principal, only_open=not include_answered)


@router.post("/v1/me/consent-requests/{request_id}/answer", response_model=ConsentRequestPublic)
async def answer_consent_request(request_id: Annotated[str, Path(max_length=64)], body: ConsentRequestAnswer,
                                 loket: LoketDep, principal: Citizen, trace: TraceDep) -> ConsentRequestPublic:
    """Approve or decline each category. An approval is a consent like any other: revocable."""
    return await answer_request(loket, principal, trace, request_id, dict(body.answers))
