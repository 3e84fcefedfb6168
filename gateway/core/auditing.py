"""Building audit records for the gateway's events (Logboek Dataverwerkingen + Loket fields).

One function per event kind, so every place that discloses or changes something writes the
same shape. Records carry no BSN and no data content: the citizen is a pseudonym, the
break-glass justification is a SHA-256 of its text.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import quote

from adapters.base import AgencyAnswer
from audit.pseudonym import DATA_SUBJECT_ID_TYPE
from audit.record import STATUS_ERROR, STATUS_OK, AuditEventKind, AuditRecord, Disclosure, ForeignOperation, Refusal
from gateway.core.tracing import TraceContext
from gateway.dossier.decisions import Decision
from gateway.dossier.disclosure import FilteredDossier
from gateway.identity.auth import Principal
from gateway.register import load_register

PROCESSING_ACTIVITY_BASE = "https://loket.example/register/verwerkingen/"
SERVICE_NAME = "loket-gateway"


@lru_cache(maxsize=1)
def service_resource() -> dict[str, str]:
    """Logboek Dataverwerkingen ``resource``: which application wrote the line (OpenTelemetry
    resource attribute names, as the standard's own example uses)."""
    try:
        version = importlib.metadata.version("loket")
    except importlib.metadata.PackageNotFoundError:  # a bare checkout on PYTHONPATH
        version = "0+unknown"
    return {"service.name": SERVICE_NAME, "service.version": version}


def caller_entity(principal: Principal) -> str:
    """The URI of the calling party for ``foreign_operation.entity``: its organisation as the
    token names it, else its role (a casemanager's own application inside the municipality)."""
    if principal.organisation:
        return "urn:loket:organisatie:" + quote(principal.organisation, safe="")
    return "urn:loket:rol:" + principal.role.value


def foreign_operation(trace: TraceContext, principal: Principal) -> ForeignOperation | None:
    """Filled exactly when the caller sent a valid ``traceparent`` (``trace.foreign``: the
    caller's trace and span, kept by core/tracing.py only for a header that parsed)."""
    if trace.foreign is None:
        return None
    return ForeignOperation(trace_id=trace.foreign.trace_id, span_id=trace.foreign.parent_id,
                            entity=caller_entity(principal))


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def processing_activity(purpose: str | None, purposes: Mapping[str, object],
                        kind: AuditEventKind | None = None) -> str:
    """The versioned register id of the activity this event belongs to (gateway/register)."""
    register = load_register()
    # An event kind with an activity of its own (the FG's supervision, answering another
    # gateway) belongs to that activity whatever the purpose; the rest to their purpose's.
    activity = register.for_kind(kind.value) if kind is not None else None
    if activity is None and purpose:
        activity = register.for_purpose(purpose)
    if activity is not None:
        return activity.id
    info = purposes.get(purpose or "")
    if isinstance(info, Mapping) and isinstance(info.get("processing_activity"), str):
        return str(info["processing_activity"])
    return PROCESSING_ACTIVITY_BASE + (purpose or "onbekend")


def agency_activity(agency: str) -> str:
    activity = load_register().for_agency(agency)
    return activity.id if activity is not None else PROCESSING_ACTIVITY_BASE + "opvragen_" + agency


def justification_hash(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None


def event_record(
    *,
    kind: AuditEventKind,
    principal: Principal,
    trace: TraceContext,
    started: datetime,
    status_code: int,
    outcome: str,
    purposes: Mapping[str, object],
    purpose: str | None = None,
    case_id: str | None = None,
    data_subject: str | None = None,
    decision: Decision | None = None,
    filtered: FilteredDossier | None = None,
    break_glass: bool = False,
    justification: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> AuditRecord:
    disclosed: tuple[Disclosure, ...] = ()
    if filtered is not None:
        disclosed = tuple(
            Disclosure(
                agency=d.grant.agency,
                category=d.grant.category,
                fields=d.fields,
                basis_type=d.grant.basis.type,
                basis_id=d.grant.basis.id,
            )
            for d in filtered.disclosed
        )
    refused: tuple[Refusal, ...] = ()
    if decision is not None:
        refused = tuple(Refusal(agency=r.agency, category=r.category, code=r.code) for r in decision.refusals)
        refused += tuple(Refusal(agency="*", category="*", code=r.code) for r in decision.reasons)
    return AuditRecord(
        record_id=str(uuid.uuid4()),
        kind=kind,
        trace_id=trace.trace_id,
        span_id=trace.span_id,
        start_time=rfc3339(started),
        end_time=rfc3339(datetime.now(UTC)),
        status_code=status_code,
        processing_activity_id=processing_activity(purpose, purposes, kind),
        data_subject_id=data_subject,
        data_subject_id_type=DATA_SUBJECT_ID_TYPE if data_subject else None,
        receiver=f"{principal.role.value}:{principal.sub}",
        actor_sub=principal.sub,
        actor_role=principal.role.value,
        case_id=case_id,
        purpose=purpose,
        decision_id=decision.decision_id if decision else None,
        policy_revision=decision.policy_revision if decision else None,
        break_glass=break_glass,
        justification_sha256=justification_hash(justification),
        disclosed=disclosed,
        refused=refused,
        unavailable=tuple(u.agency for u in filtered.unavailable) if filtered else (),
        outcome=outcome,
        extra=dict(extra or {}),
        foreign_operation=foreign_operation(trace, principal),
        resource=service_resource(),
    )


def agency_call_record(parent: AuditRecord, answer: AgencyAnswer, span_id: str) -> AuditRecord:
    """The child span of a dossier for its call to one agency (Logboek Dataverwerkingen 0.8:
    one line per processing action; ``parent_span_id`` is the dossier's span).

    Same trace, subject, actor, case and decision as the dossier; its own processing activity
    (asking that agency) and status; the disclosures of that agency only. Times are the call's
    own: it ended when the answer was retrieved and took ``duration_ms``.
    """
    end = answer.retrieved_at.astimezone(UTC)
    start = end - timedelta(milliseconds=max(answer.duration_ms, 0.0))
    start_s = max(rfc3339(start), parent.start_time)
    end_s = max(rfc3339(end), start_s)
    ok = answer.status == "ok"
    return AuditRecord(
        kind=AuditEventKind.DOSSIER_AGENCY_CALL,
        trace_id=parent.trace_id,
        span_id=span_id,
        parent_span_id=parent.span_id,
        start_time=start_s,
        end_time=end_s,
        status_code=STATUS_OK if ok else STATUS_ERROR,
        processing_activity_id=agency_activity(answer.agency),
        data_subject_id=parent.data_subject_id,
        data_subject_id_type=parent.data_subject_id_type,
        receiver=parent.receiver,
        actor_sub=parent.actor_sub,
        actor_role=parent.actor_role,
        case_id=parent.case_id,
        purpose=parent.purpose,
        decision_id=parent.decision_id,
        policy_revision=parent.policy_revision,
        break_glass=False,  # the dossier's own line carries the flag and the review
        disclosed=tuple(d for d in parent.disclosed if d.agency == answer.agency),
        unavailable=() if ok else (answer.agency,),
        outcome="answered" if ok else f"unavailable:{answer.error_code}",
        extra={"agency": answer.agency, "duration_ms": str(round(answer.duration_ms))},
        resource=parent.resource,
    )
