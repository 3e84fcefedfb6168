"""Deciding a request to an agency with the same Rego bundle as the dossier decision:
``data.loket.agency_request.decision`` (policies/loket/agency_request.rego), on the embedded
engine or the OPA server, whichever the gateway runs. Fail closed: an engine that cannot answer,
or an answer that does not parse, is a PolicyEngineError and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.core.context import Loket
from gateway.core.errors import PolicyEngineError
from gateway.policy.entrypoints import query_decision

ENTRYPOINT = "loket/agency_request/decision"


@dataclass(frozen=True)
class RequestReason:
    code: str
    reason_nl: str


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


def decide(loket: Loket, value: Mapping[str, Any]) -> RequestDecision:
    # fail-closed: an engine error or an answer off the contract means the request is not sent (503)
    raw = query_decision(loket, "loket/agency_request", value)
    try:
        allow = raw["allow"]
        reasons = tuple(RequestReason(str(r["code"]), str(r["reason_nl"])) for r in raw["reasons"])
        sends = tuple(str(s) for s in raw["sends"])
    except (KeyError, TypeError) as e:
        raise PolicyEngineError("agency request decision does not parse") from e
    if allow is not True and allow is not False:
        raise PolicyEngineError("agency request decision: allow is not a boolean")
    if allow and reasons:
        raise PolicyEngineError("agency request decision allows with reasons")
    return RequestDecision(allow=allow and not reasons, reasons=reasons, sends=sends if allow else (),
                           policy_revision=loket.policy.revision)
