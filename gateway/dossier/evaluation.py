"""Loket's policy as an AuthZEN access evaluation (OpenID AuthZEN 1.0, NLGov profile).

Another gateway, acting as the policy enforcement point for a casemanager, asks "may this
subject read this dossier (these categories)?" and gets ``{"decision": bool, "context": …}``.
The answer comes from the same ``data.loket.decision`` over the same input the dossier flow
builds, and it is logged the same way: one audit record (``authzen:evaluated``) and one
decision-log row with its Authorization Decision Log record, in one transaction. No data
leaves: the answer says what would be granted, never a value.

Trust: the subject must be the authenticated casemanager and the case theirs (the dossier's
own rules); ``context.time`` is recorded but never decides — the policy gets the server's clock,
so a caller cannot evaluate against a clock of its choosing. ``context.traceparent`` (NLGov
profile: request identifiers MUST be included) continues the caller's trace.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import anyio
from sqlalchemy import Connection

from audit.record import STATUS_ERROR, STATUS_OK, AuditEventKind
from gateway.core.auditing import event_record, processing_activity
from gateway.core.context import Loket
from gateway.core.errors import AuditWriteError, BadInput, Forbidden, PolicyEngineError
from gateway.core.tracing import TraceContext
from gateway.dossier.adl import adl_record, authzen_response, engine_info, outcome_of
from gateway.dossier.decision_log import record_decision
from gateway.dossier.decisions import Decision
from gateway.dossier.flow import _append, decide, load_case_input, parse_categories
from gateway.identity.auth import Principal

READ_ACTIONS = frozenset({"dossier:read", "can_read"})


def check_request(principal: Principal, subject: Mapping[str, Any], resource: Mapping[str, Any],
                  action: Mapping[str, Any]) -> tuple[str, list[str] | None]:
    """The case id and the categories asked for; raise for anything this PDP does not decide."""
    if subject.get("type") != principal.role.value or subject.get("id") != principal.sub:
        raise Forbidden("a casemanager may only ask about themself", code="authzen-subject-mismatch")
    if resource.get("type") != "dossier" or not isinstance(resource.get("id"), str):
        raise BadInput("resource must be {type: dossier, id: <case id>}", code="authzen-unknown-resource")
    if action.get("name") not in READ_ACTIONS:
        raise BadInput("this decision point answers dossier:read only", code="authzen-unknown-action")
    props = resource.get("properties") or {}
    categories = props.get("categories") if isinstance(props, Mapping) else None
    if categories is not None and not (isinstance(categories, list)
                                       and all(isinstance(c, str) for c in categories)):
        raise BadInput("resource.properties.categories is a list of agency.category", code="bad-categories")
    return str(resource["id"]), categories


async def evaluate_access(
    loket: Loket, principal: Principal, trace: TraceContext, *, case_id: str,
    categories: Sequence[str] | None, context_time: str | None = None,
) -> dict[str, Any]:
    started = datetime.now(UTC)
    wanted = parse_categories(categories, loket)
    case_id, purpose, pseudonym, _sealed, policy_input = await anyio.to_thread.run_sync(
        partial(load_case_input, loket, principal, case_id, now=started, break_glass=False,
                categories=wanted))
    decision_id = str(uuid.uuid4())
    revision = loket.policy.revision
    s = loket.settings
    engine = engine_info(s.policy_engine, s.opa_url if s.policy_engine == "opa" else None)
    activity = processing_activity(purpose, loket.purposes, AuditEventKind.AUTHZEN_EVALUATED)
    extra = {"caller_time": context_time[:40]} if context_time else {}

    error: PolicyEngineError | None = None
    decision: Decision | None = None
    try:
        raw, decision = await decide(loket, policy_input, decision_id=decision_id, revision=revision)
    except PolicyEngineError as err:  # an error decision: logged like any other, then a 503
        raw, error = {"error": err.code}, err
    adl = adl_record(
        decision_id=decision_id, decided_at=datetime.now(UTC), trace_id=trace.trace_id,
        span_id=trace.span_id, policy_revision=revision, policy_input=policy_input,
        decision=decision, engine=engine, action="dossier:read", traceparent=trace.traceparent(),
        processing_activity_id=activity, error_code=error.code if error else None,
    )
    record = event_record(
        kind=AuditEventKind.AUTHZEN_EVALUATED, principal=principal, trace=trace, started=started,
        status_code=STATUS_ERROR if error else STATUS_OK, outcome=outcome_of(decision).value,
        purposes=loket.purposes, purpose=purpose, case_id=case_id, data_subject=pseudonym,
        decision=decision, extra=extra,
    )

    def decision_row(conn: Connection) -> None:
        record_decision(conn, decision_id=decision_id, case_id=case_id, policy_revision=revision,
                        policy_input=policy_input, result=raw, trace_id=trace.trace_id,
                        outcome=outcome_of(decision).value, adl=adl)

    try:
        await _append(loket, (record,), companion=decision_row)
    except AuditWriteError:
        if error is None:
            raise
        # fail closed either way; the engine error is what the caller is told
    if error is not None:
        raise error
    response = authzen_response(decision)
    response["context"]["purpose"] = purpose
    response["context"]["processing_activity_id"] = activity
    if decision is not None:  # the B1 Dutch reason a casemanager reads, per refused category
        response["context"]["refused"] = [
            {"agency": r.agency, "category": r.category, "code": r.code, "reason_nl": r.reason_nl}
            for r in decision.refusals
        ]
    return response
