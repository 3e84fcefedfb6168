"""In-process Rego via regopy (rego-cpp), loading the same OPA bundle that OPA serves.

Concurrency: a regopy ``Interpreter`` holds the input as mutable state (``set_input_term`` then
``query_bundle_entrypoint``), so two threads must never share one unguarded. FastAPI calls sync
code from a thread pool. Two safe modes:

* ``lock`` (default): one interpreter + compiled bundle behind a lock;
* ``thread_local``: each thread compiles its own interpreter once (about 20 ms) and reuses it.

Measured with benchmarks/policy_bench.py on the 2-core CI machine (4 client threads, parity
corpus): lock 430 decisions/s vs thread-local 368/s (and 309 vs 238 in a second run) — rego-cpp
work does not overlap well enough to pay for the extra interpreters, so the lock wins here.
Re-measure on bigger machines; the mode is a constructor argument (docs/adr/0002).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any, Literal

import regopy

from gateway.errors import PolicyEngineError
from gateway.policy.bundle import ENTRYPOINT, PolicyBundle

ConcurrencyMode = Literal["thread_local", "lock"]


class _Compiled:
    """One interpreter with the bundle compiled for the decision entrypoint."""

    def __init__(self, bundle: PolicyBundle, entrypoints: tuple[str, ...]) -> None:
        interp = regopy.Interpreter()
        # Unsupported or failing builtins must raise, not silently become undefined (issue 4).
        interp.strict_built_in_errors = True
        try:
            for path, source in sorted(bundle.modules.items()):
                interp.add_module(path, source)
            interp.add_data_json(json.dumps(bundle.data))
            compiled = interp.build(None, list(entrypoints))
        except regopy.RegoError as e:
            raise PolicyEngineError(f"policy bundle does not compile in regopy: {e}") from e
        if not compiled.ok():
            raise PolicyEngineError("policy bundle does not compile in regopy")
        self.interp = interp
        self.compiled = compiled

    def query(self, entrypoint: str, input_json: str) -> Any:
        try:
            self.interp.set_input_term(input_json)
            output = self.interp.query_bundle_entrypoint(self.compiled, entrypoint)
        except regopy.RegoError as e:
            raise PolicyEngineError(f"regopy evaluation failed: {e}") from e
        if not output.ok():
            raise PolicyEngineError(f"regopy evaluation failed: {output}")
        # "undefined" parses to no expressions: fail closed (the default rule should prevent it).
        if len(output) != 1 or not output[0].expressions:
            raise PolicyEngineError("policy decision is undefined")
        return output[0].expressions[0]


class EmbeddedPolicyEngine:
    """PolicyEngine over regopy. Safe for concurrent calls from many threads."""

    def __init__(
        self,
        bundle: PolicyBundle,
        *,
        mode: ConcurrencyMode = "lock",
        entrypoints: tuple[str, ...] = (ENTRYPOINT,),
    ) -> None:
        self._bundle = bundle
        self._mode = mode
        self._entrypoints = entrypoints
        self._local = threading.local()
        self._lock = threading.Lock()
        # Compile once now so a bundle regopy cannot handle fails at start-up, not per request.
        self._shared = _Compiled(bundle, entrypoints)
        self._local.compiled = self._shared

    @property
    def revision(self) -> str:
        return self._bundle.revision

    @property
    def bundle(self) -> PolicyBundle:
        return self._bundle

    def _compiled(self) -> _Compiled:
        compiled: _Compiled | None = getattr(self._local, "compiled", None)
        if compiled is None:
            compiled = _Compiled(self._bundle, self._entrypoints)
            self._local.compiled = compiled
        return compiled

    def query(self, entrypoint: str, policy_input: Mapping[str, Any]) -> Any:
        try:
            input_json = json.dumps(policy_input, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise PolicyEngineError(f"policy input is not JSON: {e}") from e
        if self._mode == "lock":
            with self._lock:
                return self._shared.query(entrypoint, input_json)
        return self._compiled().query(entrypoint, input_json)

    def evaluate(self, policy_input: Mapping[str, Any]) -> dict[str, Any]:
        result = self.query(ENTRYPOINT, policy_input)
        if not isinstance(result, dict):
            raise PolicyEngineError("policy decision is not an object")
        return result
