"""Deciding a request to an agency with the same Rego bundle as the dossier decision:
``data.loket.agency_request.decision`` (policies/loket/agency_request.rego), on the embedded
engine or the OPA server, whichever the gateway runs. Fail closed: an engine that cannot answer,
or an answer that does not parse, is a PolicyEngineError and nothing is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.core.context import Loket
from gateway.core.tracing import TraceContext
from gateway.dossier.adl import engine_info, rule_adl_record
from gateway.dossier.decision_log import PendingDecision
from gateway.dossier.decisions import RequestReason, parse_rule_answer
from gateway.policy.entrypoints import query_decision

ENTRYPOINT = "loket/agency_request/decision"
ADL_ENTRYPOINT = "data.loket.agency_request.decision"  # as the decision log names it


@dataclass(frozen=True)
class RequestDecision:
    allow: bool
    reasons: tuple[RequestReason, ...]
    sends: tuple[str, ...]
    policy_revision: str


def policy_input(*, sub: str, role: str, purpose: str, casemanager: str, ground: str | None,
                 request_type: str, agency: str) -> dict[str, Any]:
    return {"subject": {"sub": sub, "role": role},
            "case": {"purpose": purpose, "casemanager": casemanager, "ground": ground},
            "request": {"type": request_type, "agency": agency}}


def evaluate(loket: Loket, value: Mapping[str, Any]) -> tuple[Any, RequestDecision]:
    """The engine's raw answer (what the decision log keeps, for replay) and its reading."""
    # fail-closed: an engine error or an answer off the contract means the request is not sent (503)
    raw = query_decision(loket, "loket/agency_request", value)
    allow, reasons, sends = parse_rule_answer(raw, "sends", "agency request")
    return raw, RequestDecision(allow=allow, reasons=reasons, sends=sends if allow else (),
                                policy_revision=loket.policy.revision)


def logged_decision(loket: Loket, trace: TraceContext, value: Mapping[str, Any], *, case_id: str,
                    revision: str, raw: Any, decision: RequestDecision | None,
                    error_code: str | None = None) -> PendingDecision:
    """The decision-log row with its ADL record (``decision`` None: the engine failed). The
    information sources are the case and its ground; the request type and the agency asked."""
    decision_id = str(uuid.uuid4())
    s = loket.settings
    case = value.get("case") or {}
    req = value.get("request") or {}
    subject = value.get("subject") or {}
    adl = rule_adl_record(
        decision_id=decision_id, decided_at=datetime.now(UTC), trace_id=trace.trace_id,
        span_id=trace.span_id, traceparent=trace.traceparent(), policy_revision=revision,
        engine=engine_info(s.policy_engine, s.opa_url if s.policy_engine == "opa" else None, ADL_ENTRYPOINT),
        subject={"type": str(subject.get("role", "")), "id": str(subject.get("sub", ""))},
        resource={"type": "agency_request", "id": case_id,
                  "properties": {"agency": req.get("agency"), "request_type": req.get("type"),
                                 "purpose": case.get("purpose")}},
        action="agency_request:send", allow=None if decision is None else decision.allow,
        reasons=[r.code for r in decision.reasons] if decision else [],
        information={"loket.case": {"id": case_id, "purpose": case.get("purpose"),
                                    "ground": case.get("ground"), "casemanager": case.get("casemanager")},
                     "loket.agency_request": {"agency": req.get("agency"), "type": req.get("type")}},
        error_code=error_code,
    )
    return PendingDecision(decision_id=decision_id, policy_revision=revision, input=dict(value), result=raw,
                           trace_id=trace.trace_id, outcome=str(adl["outcome"]), adl=adl, case_id=case_id)
