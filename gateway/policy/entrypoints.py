"""The bundle's other decisions (``data.loket.<package>.decision``: agency requests,
representation), asked of whichever engine the gateway runs.

The OPA server answers them from the same loaded bundle; the in-process engines carry their
bundle, and regopy is compiled for each such entrypoint once per revision (the Wasm module is
compiled for ``loket/decision`` only, so these are decided by regopy over the same bundle and
the same revision). Fail closed: an engine that cannot answer, or an undefined answer, is a
PolicyEngineError (503) and the caller does nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from gateway.core.context import Loket
from gateway.core.errors import PolicyEngineError

_lock = threading.Lock()


def _regopy_for(loket: Loket, bundle: Any, entrypoint: str) -> Any:
    from gateway.policy.embedded import EmbeddedPolicyEngine

    key = f"entrypoint_engine:{entrypoint}:{loket.policy.revision}"
    with _lock:
        engine = loket.extra.get(key)
        if engine is None:
            engine = EmbeddedPolicyEngine(bundle, entrypoints=(entrypoint,))
            loket.extra[key] = engine
    return engine


def query_decision(loket: Loket, package: str, value: Mapping[str, Any]) -> Any:
    """The raw result of ``data.<package>.decision`` for ``value`` (``package``: ``loket/agency_request``)."""
    from gateway.policy.opa import OpaServerPolicyEngine

    entrypoint = f"{package}/decision"
    if isinstance(loket.policy, OpaServerPolicyEngine):
        try:
            response = loket.policy._client.query_rule(  # the same client and timeout as the dossier
                input_data=dict(value), package_path=package, rule_name="decision",
                query_params={"strict-builtin-errors": "true"})
        except Exception as e:
            raise PolicyEngineError(f"OPA request failed: {type(e).__name__}") from e
        if not isinstance(response, dict) or "result" not in response:
            raise PolicyEngineError(f"OPA answered undefined for data.{package.replace('/', '.')}.decision")
        return response["result"]
    bundle = getattr(loket.policy, "bundle", None)  # embedded regopy and Wasm both carry theirs
    if bundle is not None:
        return _regopy_for(loket, bundle, entrypoint).query(entrypoint, value)
    raise PolicyEngineError(f"this policy engine cannot decide data.{package.replace('/', '.')}.decision")
