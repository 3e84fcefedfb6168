"""Building audit records for the gateway's events (Logboek Dataverwerkingen + Loket fields).

One function per event kind, so every place that discloses or changes something writes the
same shape. Records carry no BSN and no data content: the citizen is a pseudonym, the
break-glass justification is a SHA-256 of its text.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from audit.pseudonym import DATA_SUBJECT_ID_TYPE
from audit.record import AuditEventKind, AuditRecord, Disclosure, Refusal
from gateway.core.tracing import TraceContext
from gateway.dossier.decisions import Decision
from gateway.dossier.disclosure import FilteredDossier
from gateway.identity.auth import Principal

PROCESSING_ACTIVITY_BASE = "https://loket.example/register/verwerkingen/"


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def processing_activity(purpose: str | None, purposes: Mapping[str, object]) -> str:
    info = purposes.get(purpose or "")
    if isinstance(info, Mapping) and isinstance(info.get("processing_activity"), str):
        return str(info["processing_activity"])
    return PROCESSING_ACTIVITY_BASE + (purpose or "onbekend")


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
        processing_activity_id=processing_activity(purpose, purposes),
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
    )
