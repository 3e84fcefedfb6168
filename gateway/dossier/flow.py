"""One dossier request, top to bottom:

authenticate → load case → build policy input → decide → fetch allowed fields → filter →
audit → respond.

Every step is a call into the module that owns it. The fail-closed rules live here and only
here: an engine error, an unparseable decision, or a failed audit write means no data
leaves; an agency that fails is reported as unavailable, never as partial silent data.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import anyio
from sqlalchemy import Connection, insert

from adapters.registry import fetch_all
from audit.log import AppendReceipt, Companion
from audit.record import AuditEventKind, AuditRecord
from gateway.cases.service import load_own_case_facts
from gateway.consents.grants import consent_facts
from gateway.core.auditing import agency_call_record, event_record, processing_activity
from gateway.core.context import Loket
from gateway.core.errors import AuditWriteError, BadInput, PolicyEngineError
from gateway.core.models import BreakGlassEvent, utcnow
from gateway.core.tracing import TraceContext
from gateway.dossier.adl import adl_record, engine_info, outcome_of
from gateway.dossier.decision_log import record_decision
from gateway.dossier.decisions import Decision, build_policy_input, parse_decision
from gateway.dossier.disclosure import FilteredDossier, filter_answers
from gateway.identity.auth import Principal
from gateway.identity.bsn import contains_bsn

MIN_JUSTIFICATION_CHARS = 20


@dataclass(frozen=True)
class DossierResult:
    case_id: str
    purpose: str
    decision: Decision
    filtered: FilteredDossier
    audit_index: int
    audit_record_id: str
    trace: TraceContext


def check_justification(text: str | None, max_chars: int) -> str:
    """A break-glass justification must say something, fit the limit, and hold no BSN."""
    if text is None or len(text.strip()) < MIN_JUSTIFICATION_CHARS:
        raise BadInput(
            f"a break-glass request needs a written justification of at least "
            f"{MIN_JUSTIFICATION_CHARS} characters",
            code="justification-required",
        )
    if len(text) > max_chars:
        raise BadInput(f"justification longer than {max_chars} characters", code="justification-too-long")
    if contains_bsn(text):
        raise BadInput("the justification must not contain a BSN", code="bsn-in-free-text", param="justification")
    return text.strip()


def parse_categories(raw: Sequence[str] | None, loket: Loket) -> list[tuple[str, str]] | None:
    """``agency.category`` strings, checked against the catalog (unknown → 422)."""
    if not raw:
        return None
    out: list[tuple[str, str]] = []
    for item in raw:
        agency, _, category = item.partition(".")
        agency_def = loket.catalog.agencies.get(agency)
        if agency_def is None or category not in agency_def.categories:
            raise BadInput("unknown agency or category requested", code="unknown-category")
        if (agency, category) not in out:
            out.append((agency, category))
    return out


async def _append(loket: Loket, records: Sequence[AuditRecord],
                  companion: Companion | None = None) -> AppendReceipt:
    """Append the records of one processing (the dossier span first, then its child spans) as
    consecutive leaves in one transaction with ``companion``; the receipt of the first."""
    try:
        receipts = await anyio.to_thread.run_sync(
            partial(loket.audit.append_group, records, companion=companion))
    except AuditWriteError:
        raise
    except Exception as e:  # any other failure of the log is a failed write too
        raise AuditWriteError("audit record could not be written") from e
    return receipts[0]


def _adl(loket: Loket, *, decision_id: str, trace: TraceContext, revision: str, purpose: str,
         policy_input: dict[str, object], decision: Decision | None,
         error_code: str | None = None) -> dict[str, object]:
    s = loket.settings
    return adl_record(
        decision_id=decision_id, decided_at=datetime.now(UTC), trace_id=trace.trace_id,
        span_id=trace.span_id, policy_revision=revision, policy_input=policy_input,
        decision=decision, engine=engine_info(s.policy_engine, s.opa_url if s.policy_engine == "opa" else None),
        action="dossier:read", traceparent=trace.traceparent(),
        processing_activity_id=processing_activity(purpose, loket.purposes), error_code=error_code,
    )


def load_case_input(
    loket: Loket, principal: Principal, case_id: str, *, now: datetime, break_glass: bool,
    categories: list[tuple[str, str]] | None,
) -> tuple[str, str, str, bytes, dict[str, object]]:
    """The caller's own case and the policy input for it (case id, purpose, citizen pseudonym,
    sealed BSN, input). Raises NotFound/Forbidden for a case that is not the caller's."""
    with loket.db.connect() as conn:
        case = load_own_case_facts(conn, principal, case_id)
        facts = consent_facts(conn, case.citizen_pseudonym, case.purpose)
        policy_input = build_policy_input(
            now=now,
            subject_sub=principal.sub,
            subject_role=principal.role.value,
            case_id=case.id,
            case_purpose=case.purpose,
            case_casemanager=case.casemanager_sub,
            citizen_pseudonym=case.citizen_pseudonym,
            consents=facts,
            break_glass=break_glass,
            justification_given=break_glass,
            categories=categories,
            subject_team=principal.team,
            case_team=case.team,
            case_ground=case.ground_type,
            pilot_unverified_bases=loket.settings.pilot_unverified_bases,
        )
        return case.id, case.purpose, case.citizen_pseudonym, case.citizen_bsn_sealed, policy_input


async def _decide_in_thread(loket: Loket, policy_input: dict[str, object]) -> dict[str, object]:
    try:
        with anyio.fail_after(loket.settings.policy_timeout_s + 1.0):
            # abandon_on_cancel: without it the deadline waits for the thread, and a late
            # answer was used as if it had come in time (tests/faults/test_policy_faults.py).
            raw: dict[str, object] = await anyio.to_thread.run_sync(loket.policy.evaluate, policy_input,
                                                                    abandon_on_cancel=True)
    except TimeoutError as e:
        raise PolicyEngineError("policy engine timed out", code="policy-timeout") from e
    return raw


async def decide(loket: Loket, policy_input: dict[str, object], *, decision_id: str,
                 revision: str) -> tuple[dict[str, object], Decision]:
    """One policy decision. Raises PolicyEngineError (a timeout included): the caller records
    that as an error decision and gives no data."""
    # An engine that bounds its own time (wasm: epoch deadline) decides on the loop when it has
    # a free instance: no thread hop (issue 17). Every other engine decides in a thread.
    if getattr(loket.policy, "decides_on_loop", False):
        raw: dict[str, object] = loket.policy.evaluate(policy_input)
    else:
        raw = await _decide_in_thread(loket, policy_input)
    decision = parse_decision(raw, decision_id=decision_id, policy_revision=revision, catalog=loket.catalog)
    return raw, decision


async def request_dossier(
    loket: Loket,
    principal: Principal,
    case_id: str,
    *,
    trace: TraceContext,
    categories: Sequence[str] | None = None,
    justification: str | None = None,
) -> DossierResult:
    started = datetime.now(UTC)
    break_glass = justification is not None
    if break_glass:
        justification = check_justification(justification, loket.settings.max_justification_chars)
    wanted = parse_categories(categories, loket)

    case_id, purpose, pseudonym, sealed_bsn, policy_input = await anyio.to_thread.run_sync(
        partial(load_case_input, loket, principal, case_id, now=started, break_glass=break_glass,
                categories=wanted))
    decision_id = str(uuid.uuid4())
    revision = loket.policy.revision

    # Decide. Any failure here is a refusal that is itself audited, then a 503.
    try:
        raw, decision = await decide(loket, policy_input, decision_id=decision_id, revision=revision)
    # fail-closed: a policy error, timeout or malformed decision means no data (503, dossier:error)
    except PolicyEngineError as e:
        err = e
        record = event_record(
            kind=AuditEventKind.DOSSIER_ERROR, principal=principal, trace=trace, started=started,
            status_code=2, outcome=err.code, purposes=loket.purposes, purpose=purpose,
            case_id=case_id, data_subject=pseudonym, break_glass=break_glass,
            justification=justification,
        )
        # An engine error is a decision too (ADL: one record per decision, errors included).
        error_adl = _adl(loket, decision_id=decision_id, trace=trace, revision=revision,
                         purpose=purpose, policy_input=policy_input, decision=None,
                         error_code=err.code)

        def error_row(conn: Connection) -> None:
            record_decision(conn, decision_id=decision_id, case_id=case_id,
                            policy_revision=revision, policy_input=policy_input,
                            result={"error": err.code}, trace_id=trace.trace_id,
                            outcome=str(error_adl["outcome"]), adl=error_adl)

        try:
            await _append(loket, (record,), companion=error_row)
        except AuditWriteError:
            pass  # still no data; the 503 below is what the caller gets
        raise err from e

    # Fetch only what was granted, from only the agencies that were granted.
    answers = []
    wanted_fields = decision.fields_by_agency()
    # Each agency call is its own action (Logboek Dataverwerkingen 0.8): its own span, a child
    # of the dossier's, sent to that agency as its traceparent so its log links back to ours.
    calls = {agency: trace.child() for agency in wanted_fields}
    if wanted_fields:
        bsn = loket.vault.open(sealed_bsn, pseudonym)
        answers = await fetch_all(
            loket.adapters, list(wanted_fields.items()), bsn, traceparent=trace.traceparent(),
            traceparents={agency: call.traceparent() for agency, call in calls.items()},
        )
        del bsn
    filtered = filter_answers(
        decision,
        answers,
        source_names={a: d.organisation for a, d in loket.catalog.agencies.items()},
        flag_names=loket.catalog.always_included_flags,
    )

    if decision.break_glass:
        kind = AuditEventKind.DOSSIER_BREAK_GLASS
    elif filtered.disclosed:
        kind = AuditEventKind.DOSSIER_READ
    else:
        kind = AuditEventKind.DOSSIER_REFUSED
    extra = {"dropped_fields": str(len(filtered.dropped))} if filtered.dropped else {}
    if loket.settings.pilot_unverified_bases:
        extra["pilot_unverified_bases"] = "on"  # loud: this decision could use unverified bases
    if break_glass and not decision.break_glass:
        # Asked for break-glass and refused (a purpose without one, say): a plain refusal that
        # says it was asked; the justification's hash belongs to a break-glass record only.
        extra["break_glass_requested"] = "refused"
    record = event_record(
        kind=kind, principal=principal, trace=trace, started=started, status_code=1,
        outcome="disclosed" if filtered.disclosed else "nothing_disclosed",
        purposes=loket.purposes, purpose=purpose, case_id=case_id, data_subject=pseudonym,
        decision=decision, filtered=filtered, break_glass=decision.break_glass,
        justification=justification if decision.break_glass else None, extra=extra,
    )
    children = [agency_call_record(record, a, calls[a.agency].span_id) for a in answers]
    adl = _adl(loket, decision_id=decision_id, trace=trace, revision=revision, purpose=purpose,
               policy_input=policy_input, decision=decision)

    def decision_rows(conn: Connection) -> None:
        record_decision(conn, decision_id=decision_id, case_id=case_id,
                        policy_revision=revision, policy_input=policy_input, result=raw,
                        trace_id=trace.trace_id, outcome=outcome_of(decision).value, adl=adl)
        if break_glass and decision.break_glass:
            conn.execute(insert(BreakGlassEvent), {
                "id": str(uuid.uuid4()), "case_id": case_id, "decision_id": decision_id,
                "casemanager_sub": principal.sub, "citizen_pseudonym": pseudonym,
                "justification": justification or "", "review_status": "pending",
                "created_at": utcnow(),
            })

    # fail-closed: no data leaves before its record (and decision-log row) committed (503 otherwise)
    # No disclosure without a durable record: the append returns only after commit, and the
    # decision-log entry (and a break-glass review item) commits in the same transaction, so
    # a failed write of either means no data.
    receipt = await _append(loket, (record, *children), companion=decision_rows)
    return DossierResult(
        case_id=case_id,
        purpose=purpose,
        decision=decision,
        filtered=filtered,
        audit_index=receipt.index,
        audit_record_id=record.record_id,
        trace=trace,
    )
