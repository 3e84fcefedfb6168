"""Deciding a representation with the gateway's own bundle: ``data.loket.representation.decision``
(policies/loket/representation.rego), on the embedded engine or the OPA server, as the agency
requests do (gateway/workspace/request_policy.py). Fail closed: an engine that cannot answer,
or an answer off the contract, is a PolicyEngineError (503) and nothing is done.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from gateway.core.context import Loket
from gateway.core.errors import PolicyEngineError
from gateway.policy.bundle import policies_root

ENTRYPOINT = "loket/representation/decision"
ADL_ENTRYPOINT = "data.loket.representation.decision"  # as the decision log names it
_lock = threading.Lock()


@dataclass(frozen=True)
class Reason:
    code: str
    reason_nl: str


@dataclass(frozen=True)
class RepresentationDecision:
    allow: bool
    reasons: tuple[Reason, ...]
    scope: tuple[str, ...]
    policy_revision: str


@lru_cache(maxsize=1)
def representation_data() -> Mapping[str, Any]:
    """policies/loket_data/representation/data.json: kinds, domains, actions, reasons (cached)."""
    node = policies_root().joinpath("loket_data").joinpath("representation").joinpath("data.json")
    data: Mapping[str, Any] = json.loads(node.read_text("utf-8"))
    return data


def _embedded(loket: Loket, bundle: Any) -> Any:
    from gateway.policy.embedded import EmbeddedPolicyEngine

    key = f"representation_engine:{loket.policy.revision}"
    with _lock:
        engine = loket.extra.get(key)
        if engine is None:
            engine = EmbeddedPolicyEngine(bundle, entrypoints=(ENTRYPOINT,))
            loket.extra[key] = engine
    return engine


def _raw(loket: Loket, value: Mapping[str, Any]) -> Any:
    from gateway.policy.opa import OpaServerPolicyEngine

    if isinstance(loket.policy, OpaServerPolicyEngine):
        try:
            response = loket.policy._client.query_rule(
                input_data=dict(value), package_path="loket/representation", rule_name="decision",
                query_params={"strict-builtin-errors": "true"})
        except Exception as e:
            raise PolicyEngineError(f"OPA request failed: {type(e).__name__}") from e
        if not isinstance(response, dict) or "result" not in response:
            raise PolicyEngineError("OPA answered undefined for data.loket.representation.decision")
        return response["result"]
    bundle = getattr(loket.policy, "bundle", None)
    if bundle is not None:
        return _embedded(loket, bundle).query(ENTRYPOINT, value)
    raise PolicyEngineError("this policy engine cannot decide representations")


def evaluate(loket: Loket, value: Mapping[str, Any]) -> tuple[Any, RepresentationDecision]:
    """The engine's raw answer (what the decision log keeps, for replay) and its reading."""
    # fail-closed: an engine error or an answer off the contract means the action is not done (503)
    raw = _raw(loket, value)
    try:
        allow = raw["allow"]
        reasons = tuple(Reason(str(r["code"]), str(r["reason_nl"])) for r in raw["reasons"])
        scope = tuple(str(s) for s in raw["scope"])
    except (KeyError, TypeError) as e:
        raise PolicyEngineError("representation decision does not parse") from e
    if allow is not True and allow is not False:
        raise PolicyEngineError("representation decision: allow is not a boolean")
    if allow and reasons:
        raise PolicyEngineError("representation decision allows with reasons")
    return raw, RepresentationDecision(allow=allow, reasons=reasons, scope=scope,
                                       policy_revision=loket.policy.revision)
