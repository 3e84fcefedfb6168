"""Cases and the dossier: the casemanager's API."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, Response

from audit.record import AuditEventKind
from gateway.api.deps import CaseManager, Coordinator, LoketDep, TraceDep
from gateway.api.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, cut, links
from gateway.api.schemas import (
    AuditRef,
    BasisPublic,
    BreakGlassRequest,
    CaseCreate,
    CasePublic,
    DossierPublic,
    FieldPublic,
    FlagPublic,
    RefusalPublic,
    UnavailablePublic,
)
from gateway.cases import service as cases
from gateway.cases.grounds import Ground, GroundType
from gateway.core.auditing import event_record
from gateway.core.context import Loket
from gateway.core.errors import BadInput, Forbidden, NotFound
from gateway.core.models import Case
from gateway.core.refusals import mark_recorded
from gateway.core.tracing import TraceContext
from gateway.dossier.flow import DossierResult, request_dossier
from gateway.identity.auth import Principal

router = APIRouter(prefix="/v1/cases", tags=["cases"])


def _public(case: Case, loket: Loket) -> CasePublic:
    info = loket.purposes.get(case.purpose) or {}
    return CasePublic(
        id=case.id,
        purpose=case.purpose,
        purpose_label=info.get("label_nl") if isinstance(info, dict) else None,
        casemanager=case.casemanager_sub,
        status=case.status,
        created_at=case.created_at,
        team=case.team,
        ground_type=case.ground_type,
    )


@router.post("", status_code=201, response_model=CasePublic)
async def create_case(body: CaseCreate, loket: LoketDep, principal: Coordinator,
                      trace: TraceDep, response: Response) -> CasePublic:
    """A coordinator opens a case on a ground (aanmelding, signaal or toewijzing) and assigns it
    to a casemanager of their team. A casemanager cannot open a case (403, recorded)."""
    ground = Ground(type=GroundType(body.ground.type), casemanager=body.ground.casemanager,
                    id=body.ground.id, reason=body.ground.reason)
    case = await anyio.to_thread.run_sync(partial(
        cases.open_case, loket, principal, trace, ground=ground, bsn=body.burgerservicenummer,
        purpose=body.purpose))
    response.headers["Location"] = f"/v1/cases/{case.id}"
    return _public(case, loket)


class CasePage(Page[CasePublic]):
    """One page of the casemanager's own cases, newest first."""


@router.get("", response_model=CasePage)
async def list_cases(request: Request, loket: LoketDep, principal: CaseManager,
                     cursor: CursorQuery = None, limit: LimitQuery = DEFAULT_LIMIT) -> CasePage:
    """The cases assigned to me, newest first, one page at a time."""
    page, nxt = cut(await anyio.to_thread.run_sync(cases.my_cases, loket, principal), list_name="cases",
                    cursor=cursor, limit=limit, key=lambda c: [c.created_at.isoformat(), c.id], descending=True)
    return CasePage(items=[_public(c, loket) for c in page], next_cursor=nxt, links=links(request, nxt))


@router.get("/{case_id}", response_model=CasePublic)
async def get_case(case_id: str, loket: LoketDep, principal: CaseManager, trace: TraceDep) -> CasePublic:
    started = datetime.now(UTC)

    try:
        case = await anyio.to_thread.run_sync(cases.my_case, loket, principal, case_id)
    except (NotFound, Forbidden) as e:
        await audit_denied(loket, principal, trace, started, case_id, e)
        raise
    return _public(case, loket)


def _dossier_public(result: DossierResult, pilot: bool) -> DossierPublic:
    d = result.decision
    basis_of = {(g.agency, g.category): g.basis for g in d.grants}
    fields = [
        FieldPublic(agency=v.agency, category=v.category, field=v.field, value=v.value,
                    source=v.source, retrieved_at=v.retrieved_at,
                    basis=BasisPublic(**vars(basis_of[(v.agency, v.category)])))
        for v in result.filtered.values
    ]
    refused = [RefusalPublic(agency=r.agency, category=r.category, code=r.code, reason=r.reason_nl)
               for r in d.refusals]
    refused += [RefusalPublic(agency="*", category="*", code=r.code, reason=r.reason_nl) for r in d.reasons]
    return DossierPublic(
        case_id=result.case_id, purpose=result.purpose, decision_id=d.decision_id,
        policy_revision=d.policy_revision, trace_id=result.trace.trace_id,
        break_glass=d.break_glass, review_required=d.review_required, fields=fields,
        pilot_unverified_bases=pilot,
        flags=[FlagPublic(agency=f.agency, flag=f.flag, value=f.value) for f in result.filtered.flags],
        refused=refused,
        unavailable=[UnavailablePublic(agency=u.agency, error_code=u.error_code)
                     for u in result.filtered.unavailable],
        audit=AuditRef(record_id=result.audit_record_id, index=result.audit_index),
    )


async def _audited_dossier(loket: Loket, principal: Principal, case_id: str, trace: TraceContext,
                           categories: list[str] | None, justification: str | None) -> DossierPublic:
    started = datetime.now(UTC)
    try:
        result = await request_dossier(loket, principal, case_id, trace=trace,
                                       categories=categories, justification=justification)
    except (NotFound, Forbidden) as e:
        await audit_denied(loket, principal, trace, started, case_id, e)
        raise
    return _dossier_public(result, loket.settings.pilot_unverified_bases)


async def audit_denied(loket: Loket, principal: Principal, trace: TraceContext, started: datetime,
                        case_id: str, e: NotFound | Forbidden) -> None:
    """A look at a case that is not yours is itself an event the FG must be able to see."""
    record = event_record(kind=AuditEventKind.ACCESS_DENIED, principal=principal, trace=trace,
                          started=started, status_code=2, outcome=e.code,
                          purposes=loket.purposes, case_id=None,
                          extra={"requested_case": _loggable_case_id(case_id)})
    await anyio.to_thread.run_sync(loket.audit.append, record)
    mark_recorded(e)


def _loggable_case_id(case_id: str) -> str:
    """The probed id as the log may hold it: a case id as is, anything else as a hash (a
    caller-chosen string may be a BSN or hold a newline, which an audit record refuses)."""
    try:
        return str(uuid.UUID(case_id)) if len(case_id) == 36 else _hashed(case_id)
    except ValueError:
        return _hashed(case_id)


def _hashed(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@router.get("/{case_id}/dossier", response_model=DossierPublic)
async def get_dossier(
    case_id: str, loket: LoketDep, principal: CaseManager, trace: TraceDep,
    categories: Annotated[list[str] | None, Query(
        max_length=64, description="agency.category; repeat the parameter (`?categories=a.b&categories=c.d`) "
                                   "or separate with commas (`?categories=a.b,c.d`).")] = None,
) -> DossierPublic:
    """The citizen's dossier view for this case: only the fields the purpose allows."""
    return await _audited_dossier(loket, principal, case_id, trace, split_categories(categories), None)


def split_categories(raw: list[str] | None) -> list[str] | None:
    """``?categories=a.b,c.d`` and the repeated form mean the same (at most 64 in all)."""
    if raw is None:
        return None
    out = [part.strip() for item in raw for part in item.split(",")]
    if "" in out:
        raise BadInput("unknown agency or category requested (an empty item)", code="unknown-category")
    if len(out) > 64:
        raise BadInput("at most 64 categories per request", code="too-many-categories")
    return out


@router.post("/{case_id}/dossier/break-glass", response_model=DossierPublic)
async def break_glass_dossier(case_id: str, body: BreakGlassRequest, loket: LoketDep,
                              principal: CaseManager, trace: TraceDep) -> DossierPublic:
    """Emergency access: needs a written justification; flagged and queued for FG review. A refused
    break-glass (a purpose without one) is a 403, recorded as a refused dossier request."""
    result = await _audited_dossier(loket, principal, case_id, trace, body.categories, body.justification)
    if not result.break_glass:
        refused = Forbidden("break-glass is not possible for this case",
                            code="break-glass-refused")
        mark_recorded(refused)  # the dossier:refused record with its reasons is already written
        raise refused
    return result
