"""Authorization Decision Log records: exactly one per policy decision.

Shape from the Authorization Decision Log specification (Logius / VNG FTV, "Interface"):
``timestamp`` (RFC 3339), ``endpoint`` (the AuthZEN PDP endpoint key without ``_endpoint``:
``evaluation``), ``request`` and ``response`` in AuthZEN 1.0 form, ``policies`` (each policy
source with the version that decided: the bundle revision), ``information`` (the information
sources the decision used: the consent rows, the case and its ground, the clock), ``engine``
(type, version, hostname, configuration) and the W3C ``trace_id``/``span_id``. Additional
members are allowed by the specification and must not change the meaning of these; Loket adds
``decision_id`` and ``outcome`` (allowed | partly_allowed | denied | error).

The exact policy input stays beside the record in the decision log (``input_json``), so a
record is replayable; the AuthZEN ``request`` here is the readable summary of it and carries no
BSN (the citizen is a pseudonym, as everywhere in the log).

Pure: plain data in, plain data out.
"""

from __future__ import annotations

import importlib.metadata
import socket
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from gateway.dossier.decisions import Decision

ADL_FORMAT = "loket-adl-v1"
POLICY_SOURCE = "loket-policy-bundle"
ENTRYPOINT = "data.loket.decision"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    PARTLY_ALLOWED = "partly_allowed"
    DENIED = "denied"
    ERROR = "error"


def outcome_of(decision: Decision | None) -> Outcome:
    if decision is None:
        return Outcome.ERROR
    if not decision.grants:
        return Outcome.DENIED
    if decision.refusals or decision.reasons:
        return Outcome.PARTLY_ALLOWED
    return Outcome.ALLOWED


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@lru_cache(maxsize=16)
def engine_info(kind: str, opa_url: str | None = None, entrypoint: str = ENTRYPOINT) -> dict[str, Any]:
    """The engine block: enough to rebuild the PDP that decided (ADL "Engine"), with the
    entrypoint it was asked (``data.loket.decision`` for the dossier; replay reads it)."""
    if kind == "opa":
        return {
            "configuration": {"type": "opa", "entrypoint": entrypoint, "url": opa_url or ""},
            "version": {"opa": "as served by the sidecar (see its /health)"},
            "hostname": socket.gethostname(),
        }
    try:
        regopy = importlib.metadata.version("regopy")
    except importlib.metadata.PackageNotFoundError:
        regopy = "unknown"
    return {
        "configuration": {"type": "regopy", "entrypoint": entrypoint, "strict_built_in_errors": True},
        "version": {"regopy": regopy},
        "hostname": socket.gethostname(),
    }


def authzen_request(policy_input: Mapping[str, Any], *, action: str, traceparent: str,
                    processing_activity_id: str | None) -> dict[str, Any]:
    """The decision's input in AuthZEN 1.0 shape (subject, resource, action, context)."""
    subject = policy_input.get("subject") or {}
    case = policy_input.get("case") or {}
    req = policy_input.get("request") or {}
    action_props: dict[str, Any] = {"break_glass": bool(req.get("break_glass"))}
    if processing_activity_id:
        action_props["processing_activity_id"] = processing_activity_id  # NLGov profile
    resource_props: dict[str, Any] = {"purpose": case.get("purpose"), "citizen": case.get("citizen")}
    if req.get("categories") is not None:
        resource_props["categories"] = [f"{c['agency']}.{c['category']}" for c in req["categories"]]
    time_ns = policy_input.get("time_ns")
    context: dict[str, Any] = {"traceparent": traceparent}  # NLGov profile: W3C Trace Context
    if isinstance(time_ns, int):
        context["time"] = rfc3339(datetime.fromtimestamp(time_ns / 1e9, UTC))
    return {
        "subject": {"type": str(subject.get("role", "")), "id": str(subject.get("sub", ""))},
        "resource": {"type": "dossier", "id": str(case.get("id", "")), "properties": resource_props},
        "action": {"name": action, "properties": action_props},
        "context": context,
    }


def authzen_response(decision: Decision | None, error_code: str | None = None) -> dict[str, Any]:
    """AuthZEN ``{"decision": bool, "context": {...}}``; ``true`` when anything was granted (the
    PEP then fetches only the granted fields)."""
    outcome = outcome_of(decision)
    if decision is None:
        return {"decision": False, "context": {"outcome": outcome.value, "error": error_code or "error"}}
    return {
        "decision": bool(decision.grants),
        "context": {
            "outcome": outcome.value,
            "decision_id": decision.decision_id,
            "break_glass": decision.break_glass,
            "review_required": decision.review_required,
            "granted": [
                {"agency": g.agency, "category": g.category, "fields": list(g.fields),
                 "basis": {"type": g.basis.type, "id": g.basis.id}}
                for g in decision.grants
            ],
            "refused": [{"agency": r.agency, "category": r.category, "code": r.code}
                        for r in decision.refusals],
            "reasons": [r.code for r in decision.reasons],
        },
    }


def information_sources(policy_input: Mapping[str, Any], decision: Decision | None) -> dict[str, Any]:
    """Which facts the decision was made on: consent rows (all presented, and those a grant
    rests on), the case with its ground when it has one, and the clock."""
    consents: Sequence[Mapping[str, Any]] = policy_input.get("consents") or ()
    used = sorted({g.basis.id for g in decision.grants if g.basis.type == "consent"}) if decision else []
    case = policy_input.get("case") or {}
    info: dict[str, Any] = {
        "loket.consents": {
            "presented": [{"id": c.get("id"), "revoked": bool(c.get("revoked"))} for c in consents],
            "used": used,
        },
        "loket.case": {"id": case.get("id"), "purpose": case.get("purpose"),
                       "ground": case.get("ground")},
    }
    time_ns = policy_input.get("time_ns")
    if isinstance(time_ns, int):  # ADL "Temporal source": the clock the policy was given
        info["clock"] = {"timestamp": rfc3339(datetime.fromtimestamp(time_ns / 1e9, UTC))}
    return info


def adl_record(
    *,
    decision_id: str,
    decided_at: datetime,
    trace_id: str,
    span_id: str,
    policy_revision: str,
    policy_input: Mapping[str, Any],
    decision: Decision | None,
    engine: Mapping[str, Any],
    action: str,
    traceparent: str,
    processing_activity_id: str | None = None,
    error_code: str | None = None,
    endpoint: str = "evaluation",
) -> dict[str, Any]:
    """One ADL record for one decision (``decision`` None means the engine failed)."""
    return {
        "format": ADL_FORMAT,
        "decision_id": decision_id,
        "timestamp": rfc3339(decided_at),
        "endpoint": endpoint,
        "request": authzen_request(policy_input, action=action, traceparent=traceparent,
                                   processing_activity_id=processing_activity_id),
        "response": authzen_response(decision, error_code),
        "outcome": outcome_of(decision).value,
        "policies": {POLICY_SOURCE: policy_revision},
        "information": information_sources(policy_input, decision),
        "engine": dict(engine),
        "trace_id": trace_id,
        "span_id": span_id,
    }


def rule_adl_record(
    *,
    decision_id: str,
    decided_at: datetime,
    trace_id: str,
    span_id: str,
    traceparent: str,
    policy_revision: str,
    engine: Mapping[str, Any],
    subject: Mapping[str, str],
    resource: Mapping[str, Any],
    action: str,
    allow: bool | None,
    reasons: Sequence[str],
    information: Mapping[str, Any],
    error_code: str | None = None,
) -> dict[str, Any]:
    """One ADL record for a yes/no rule of the bundle other than the dossier's (an agency
    request, a representation): ``allow`` None means the engine failed. The entrypoint is in
    ``engine.configuration.entrypoint``; the exact input stays beside it in the decision log."""
    context: dict[str, Any]
    if allow is None:
        outcome, context = Outcome.ERROR, {"outcome": Outcome.ERROR.value, "error": error_code or "error"}
    else:
        outcome = Outcome.ALLOWED if allow else Outcome.DENIED
        context = {"outcome": outcome.value, "decision_id": decision_id, "reasons": list(reasons)}
    return {
        "format": ADL_FORMAT,
        "decision_id": decision_id,
        "timestamp": rfc3339(decided_at),
        "endpoint": "evaluation",
        "request": {
            "subject": dict(subject),
            "resource": dict(resource),
            "action": {"name": action, "properties": {}},
            "context": {"traceparent": traceparent, "time": rfc3339(decided_at)},
        },
        "response": {"decision": bool(allow), "context": context},
        "outcome": outcome.value,
        "policies": {POLICY_SOURCE: policy_revision},
        "information": dict(information),
        "engine": dict(engine),
        "trace_id": trace_id,
        "span_id": span_id,
    }
