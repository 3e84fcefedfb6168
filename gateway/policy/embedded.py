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

Input: regopy's ``set_input_term`` parses a JSON text with the Rego term parser (about 0.13 ms
for a policy input); handing it the value through regopy's C input builder takes about 0.05 ms
(``_input_value``). Values the builder cannot carry exactly (floats, integers outside int64,
strings that JSON escapes, non-string keys) go through ``set_input_term`` as before: regopy's
``regoInputString`` does not escape, so ``"`` or ``\\`` in a string would otherwise give a
different document (and unparseable output JSON).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any, Literal

import regopy
from regopy import rego_shared

from gateway.core.errors import PolicyEngineError
from gateway.policy.bundle import ENTRYPOINT, LoadedBundle, PolicyBundle

ConcurrencyMode = Literal["thread_local", "lock"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_OK = 0  # rego_shared.Code.OK


class _NotBuildable(Exception):
    """The value holds something the C input builder would not carry exactly."""


def _input_value(value: Any) -> Any:
    """A regopy input handle (``regoNewInput``) for a JSON-shaped value; caller frees it.

    The builder is a stack machine: push scalars, then close arrays/objects by count. This is
    regopy's own ``rego_input_from_value`` without its per-call wrappers, limited to the JSON
    types; ``_NotBuildable`` for anything else.
    """
    lib = rego_shared.rego
    handle = lib.regoNewInput()
    if not handle:
        raise _NotBuildable("regoNewInput failed")
    push_str, push_int, push_bool = lib.regoInputString, lib.regoInputInt, lib.regoInputBoolean
    push_null, close_item = lib.regoInputNull, lib.regoInputObjectItem
    close_object, close_array = lib.regoInputObject, lib.regoInputArray

    def text(s: str) -> bytes:
        # regoInputString keeps the text as given, unescaped, where set_input_term keeps the
        # JSON token: a quote or backslash would even break the output JSON. Only strings that
        # JSON writes as they are (printable ASCII, no quote, no backslash) take this route.
        if not (s.isascii() and s.isprintable()) or '"' in s or "\\" in s:
            raise _NotBuildable("string needs JSON escaping")
        return s.encode("ascii")

    def add(v: Any) -> None:
        t = type(v)
        if t is str:
            code = push_str(handle, text(v))
        elif t is dict:
            for k, x in v.items():
                if type(k) is not str or push_str(handle, text(k)) != _OK:
                    raise _NotBuildable("object key")
                add(x)
                if close_item(handle) != _OK:
                    raise _NotBuildable("object item")
            code = close_object(handle, len(v))
        elif t is list:
            for x in v:
                add(x)
            code = close_array(handle, len(v))
        elif t is bool:
            code = push_bool(handle, v)
        elif t is int and _INT64_MIN <= v <= _INT64_MAX:
            code = push_int(handle, v)
        elif v is None:
            code = push_null(handle)
        else:
            raise _NotBuildable(f"type {t.__name__}")
        if code != _OK:
            raise _NotBuildable(f"builder code {code}")

    try:
        add(value)
    except (_NotBuildable, RecursionError):
        lib.regoFreeInput(handle)
        raise _NotBuildable("value") from None
    return handle


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

    def set_input(self, input_json: str) -> None:
        # The value as JSON would parse it (tuples become lists, subclasses plain types), so both
        # routes see the same document; the builder is tried first because it is faster.
        try:
            handle = _input_value(json.loads(input_json))
        except _NotBuildable:
            self.interp.set_input_term(input_json)
            return
        try:
            code = rego_shared.rego.regoSetInput(self.interp._impl, handle)
        finally:
            rego_shared.rego.regoFreeInput(handle)
        if code != _OK:
            raise regopy.RegoError(rego_shared.rego_get_error(self.interp._impl), code)

    def query(self, entrypoint: str, input_json: str) -> Any:
        try:
            self.set_input(input_json)
            output = self.interp.query_bundle_entrypoint(self.compiled, entrypoint)
        except regopy.RegoError as e:
            raise PolicyEngineError(f"regopy evaluation failed: {e}") from e
        if not output.ok():
            raise PolicyEngineError(f"regopy evaluation failed: {output}")
        # "undefined" parses to no expressions: fail closed (the default rule should prevent it).
        if len(output) != 1 or not output[0].expressions:
            # fail-closed: an undefined decision is an engine error, never an allow
            raise PolicyEngineError("policy decision is undefined")
        return output[0].expressions[0]


class EmbeddedPolicyEngine(LoadedBundle):
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
