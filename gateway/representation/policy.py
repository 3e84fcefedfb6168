"""Deciding a representation with the gateway's own bundle: ``data.loket.representation.decision``
(policies/loket/representation.rego), on the embedded engine or the OPA server, as the agency
requests do (gateway/workspace/request_policy.py). Fail closed: an engine that cannot answer,
or an answer off the contract, is a PolicyEngineError (503) and nothing is done.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from gateway.core.context import Loket
from gateway.dossier.decisions import RequestReason, parse_rule_answer
from gateway.policy.bundle import policies_root
from gateway.policy.entrypoints import query_decision

ENTRYPOINT = "loket/representation/decision"
ADL_ENTRYPOINT = "data.loket.representation.decision"  # as the decision log names it


@dataclass(frozen=True)
class RepresentationDecision:
    allow: bool
    reasons: tuple[RequestReason, ...]
    scope: tuple[str, ...]
    policy_revision: str


@lru_cache(maxsize=1)
def representation_data() -> Mapping[str, Any]:
    """policies/loket_data/representation/data.json: kinds, domains, actions, reasons (cached)."""
    node = policies_root().joinpath("loket_data").joinpath("representation").joinpath("data.json")
    data: Mapping[str, Any] = json.loads(node.read_text("utf-8"))
    return data


def evaluate(loket: Loket, value: Mapping[str, Any]) -> tuple[Any, RepresentationDecision]:
    """The engine's raw answer (what the decision log keeps, for replay) and its reading."""
    # fail-closed: an engine error or an answer off the contract means the action is not done (503)
    raw = query_decision(loket, "loket/representation", value)
    allow, reasons, scope = parse_rule_answer(raw, "scope", "representation")
    return raw, RepresentationDecision(allow=allow, reasons=reasons, scope=scope,
                                       policy_revision=loket.policy.revision)
