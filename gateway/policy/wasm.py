"""In-process Rego compiled by OPA itself: the policy as WebAssembly, run on wasmtime.

`opa build -t wasm -e loket/decision` (the pinned OPA) compiles the bundle's Rego to a Wasm module
whose semantics are OPA's (docs/adr/0006); this module is the host that runs it through OPA's
Wasm ABI (openpolicyagent.org/docs/wasm, "ABI 1.x"), kept small on purpose:

* imports: ``env.memory`` (bounded by ``max_memory_bytes``), ``env.opa_abort`` and the
  ``env.opa_builtin0..4`` dispatchers. The policy needs no host builtins (the module's
  ``builtins()`` map is checked to be empty at load); a dispatcher that is called anyway raises,
  so an unexpected builtin is an error, never a silent undefined.
* data: the bundle's base document is parsed into the instance once (``opa_json_parse``), per
  bundle revision; the heap pointer after it is the reset point of every evaluation.
* one call per decision: the input JSON is copied to the reset point and ``opa_eval`` (ABI 1.2)
  evaluates it with the heap starting right after the input, so every decision starts from the
  same heap (nothing accumulates) and returns the result set as JSON.
* fail closed: a trap (``opa_abort``, out of memory, a host error), the timeout (wasmtime epoch
  interruption, ``timeout_s``), an undefined decision or a result that is not an object raise
  ``PolicyEngineError``. An instance that trapped is thrown away and rebuilt from the module and
  the data, so no half-finished heap survives into the next decision.

Concurrency: a wasmtime ``Store`` must not be entered by two threads at once. The engine keeps a
small pool of instances (``instances``, one per concurrently deciding thread); a call takes one
for its duration. wasmtime-py calls into native code through ctypes, which releases the GIL.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import math
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import wasmtime

from gateway.core.errors import PolicyEngineError
from gateway.policy.bundle import LoadedBundle, PolicyBundle
from gateway.policy.wasm_module import WasmModule

_PAGE = 65536
_ABI_MAJOR = 1
_ABI_MINOR_ONE_CALL_EVAL = 2  # opa_eval appeared in ABI 1.2
_FORMAT_JSON = 0

# Security limits (named, with units): one decision never takes more memory or time than this.
DEFAULT_MAX_MEMORY_BYTES = 64 * 1024 * 1024
EPOCH_TICK_S = 0.005  # resolution of the timeout; the ticker is one daemon thread per process


_libc = ctypes.CDLL(None)
_memchr = _libc.memchr
_memchr.restype = ctypes.c_void_p
_memchr.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t)
_encode_json = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
# The decision (docs/contracts.md) holds strings, booleans, null, arrays and objects only, so
# orjson's faster parse (half the time of json.loads on a whole-scope decision) gives exactly
# the same value; other entrypoints (tests, snippets) may return numbers and use json.loads,
# which keeps integers beyond 64 bits exact.
_parse_decision: Callable[[bytes], Any] = orjson.loads


class _WasmFailure(Exception):
    """A host-side failure raised inside a wasm call (abort, unexpected builtin)."""


# --- Calling exports: i32 in, at most one i32 out ----------------------------------------------

I32Call = Callable[..., int]

try:  # wasmtime-py's own call path, without its per-call type objects (pinned major: pyproject)
    from wasmtime import _ffi as _wt_ffi
    from wasmtime._func import maybe_raise_last_exn as _raise_host_exception

    _RAW_CALL = callable(getattr(_wt_ffi, "wasmtime_func_call_unchecked", None))
except ImportError:  # pragma: no cover - another wasmtime-py layout: the public call below
    _RAW_CALL = False


def _bind(store: wasmtime.Store, func: wasmtime.Func, name: str, *, raw: bool = _RAW_CALL) -> I32Call:
    """A caller for an export whose params are all i32 and whose result is none or one i32.

    ``Func.__call__`` builds a FuncType and converts every value on each call (about 10 us, a
    tenth of a decision); the ABI's exports are i32 -> i32, so after checking the type once the
    call goes through ``wasmtime_func_call_unchecked`` with one reused argument buffer, and traps
    and host exceptions are raised exactly as ``Func.__call__`` raises them. Only one thread uses
    an instance (and so this buffer) at a time.
    """
    ty = func.type(store)
    i32 = wasmtime.ValType.i32()
    if any(p != i32 for p in ty.params) or len(ty.results) > 1 or any(r != i32 for r in ty.results):
        raise PolicyEngineError(f"ABI export {name} does not have an i32 signature")
    if not raw:
        return lambda *args: int(func(store, *args) or 0)
    n = max(len(ty.params), len(ty.results), 1)
    buf = (_wt_ffi.wasmtime_val_raw_t * n)()
    func_ref = ctypes.byref(func._func)
    call, context = _wt_ffi.wasmtime_func_call_unchecked, store._context
    trap_type = ctypes.POINTER(_wt_ffi.wasm_trap_t)

    def raw_call(*args: int) -> int:
        for i, a in enumerate(args):
            buf[i].i32 = a
        trap = trap_type()
        error = call(context(), func_ref, buf, n, ctypes.byref(trap))
        if error:
            _raise_host_exception()
            raise wasmtime.WasmtimeError._from_ptr(error)
        if trap:
            trap_obj = wasmtime.Trap._from_ptr(trap)
            _raise_host_exception()  # an exception of ours (opa_abort) wins over its trap
            raise trap_obj
        return int(buf[0].i32)

    return raw_call


# --- One wasmtime engine per process, with an epoch ticker for timeouts ------------------------

_engine_lock = threading.Lock()
_engine: wasmtime.Engine | None = None


def _ticker(engine_ref: weakref.ref[wasmtime.Engine]) -> None:
    stop = threading.Event()
    while not stop.wait(EPOCH_TICK_S):
        engine = engine_ref()
        if engine is None:
            return
        engine.increment_epoch()
        del engine


def wasm_engine() -> wasmtime.Engine:
    """The process's wasmtime engine (compiled code is cached per engine); epoch interruption on."""
    global _engine
    with _engine_lock:
        if _engine is None:
            config = wasmtime.Config()
            config.epoch_interruption = True
            # The decision needs no SIMD/threads/etc.; the defaults of wasmtime otherwise.
            _engine = wasmtime.Engine(config)
            threading.Thread(
                target=_ticker, args=(weakref.ref(_engine),), name="loket-wasm-epoch", daemon=True
            ).start()
        return _engine


_compiled: dict[str, wasmtime.Module] = {}  # module sha256 -> compiled for wasm_engine()
_MAX_COMPILED = 4


def compiled_module(wasm: bytes) -> wasmtime.Module:
    """The module compiled once per process (compiling costs ~0.4 s; a Module is immutable and
    may be instantiated in many stores and threads). Raises WasmtimeError when it does not compile."""
    key = hashlib.sha256(wasm).hexdigest()
    with _engine_lock:
        module = _compiled.get(key)
    if module is None:
        module = wasmtime.Module(wasm_engine(), wasm)
        with _engine_lock:
            if len(_compiled) >= _MAX_COMPILED:
                _compiled.pop(next(iter(_compiled)))
            module = _compiled.setdefault(key, module)
    return module


def _deadline_ticks(timeout_s: float) -> int:
    # +1: the first tick may come right after the deadline is set.
    return max(1, math.ceil(timeout_s / EPOCH_TICK_S)) + 1


# --- One instance: module + memory + parsed data ----------------------------------------------


class _Instance:
    """One instantiated policy module with the bundle's data parsed into its memory."""

    def __init__(
        self,
        module: wasmtime.Module,
        data_json: bytes,
        max_memory_bytes: int,
        timeout_s: float,
        fast_calls: bool,
    ) -> None:
        engine = wasm_engine()
        self._store = store = wasmtime.Store(engine)
        self._ticks = _deadline_ticks(timeout_s)
        # Loading the data runs wasm code too; give it the same bound as a decision.
        store.set_epoch_deadline(self._ticks)
        min_pages = next(
            (
                i.type.limits.min
                for i in module.imports
                if i.name == "memory" and isinstance(i.type, wasmtime.MemoryType)
            ),
            2,
        )
        max_pages = max(min_pages, max_memory_bytes // _PAGE)
        self._memory = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(min_pages, max_pages)))
        self._abort_message: str | None = None

        def abort(addr: int) -> None:
            self._abort_message = self._read_cstring(addr).decode("utf-8", "replace")
            raise _WasmFailure(f"opa_abort: {self._abort_message}")

        def builtin(builtin_id: int, *_args: int) -> int:
            raise _WasmFailure(f"policy called host builtin {builtin_id}, which Loket does not provide")

        i32 = wasmtime.ValType.i32()
        imports: dict[str, Any] = {
            "memory": self._memory,
            "opa_abort": wasmtime.Func(store, wasmtime.FuncType([i32], []), abort),
        }
        for arity in range(5):
            imports[f"opa_builtin{arity}"] = wasmtime.Func(
                store, wasmtime.FuncType([i32] * (arity + 2), [i32]), builtin
            )
        ordered = []
        for imp in module.imports:
            if imp.module != "env" or imp.name not in imports:
                raise PolicyEngineError(f"policy module imports {imp.module}.{imp.name}, which the host lacks")
            ordered.append(imports[imp.name])
        try:
            instance = wasmtime.Instance(store, module, ordered)
        except (wasmtime.WasmtimeError, wasmtime.Trap, _WasmFailure) as e:
            raise PolicyEngineError(f"policy module does not instantiate: {e}") from e
        exports = instance.exports(store)

        def func(name: str) -> I32Call:
            f = exports.get(name)
            if not isinstance(f, wasmtime.Func):
                raise PolicyEngineError(f"policy module lacks the ABI export {name}")
            return _bind(store, f, name, raw=fast_calls and _RAW_CALL)

        def global_i32(name: str) -> int:
            g = exports.get(name)
            if not isinstance(g, wasmtime.Global):
                raise PolicyEngineError(f"policy module lacks the ABI global {name}")
            return int(g.value(store))

        abi = (global_i32("opa_wasm_abi_version"), global_i32("opa_wasm_abi_minor_version"))
        if abi[0] != _ABI_MAJOR or abi[1] < _ABI_MINOR_ONE_CALL_EVAL:
            raise PolicyEngineError(f"policy module has OPA Wasm ABI {abi[0]}.{abi[1]}; need 1.2+")
        self._malloc = func("opa_malloc")
        self._json_parse = func("opa_json_parse")
        self._json_dump = func("opa_json_dump")
        self._heap_ptr_get = func("opa_heap_ptr_get")
        self._eval = func("opa_eval")
        try:
            builtins = self._dump(func("builtins")())
            if builtins != {}:
                raise PolicyEngineError(f"policy module needs host builtins {sorted(builtins)}")
            entrypoints = self._dump(func("entrypoints")())
            if not isinstance(entrypoints, dict):
                raise PolicyEngineError("policy module lists no entrypoints")
            self.entrypoints: dict[str, int] = {str(k): int(v) for k, v in entrypoints.items()}
            # Data parsed once; everything allocated after it is scratch for one decision.
            self._data_addr = self._parse(data_json)
            self._heap_ptr = self._heap_ptr_get()
        except (wasmtime.WasmtimeError, wasmtime.Trap, _WasmFailure) as e:
            raise PolicyEngineError(f"policy module does not load the bundle data: {e}") from e

    # -- memory helpers ------------------------------------------------------------------------

    def _span(self) -> tuple[int, int]:
        """(address, size) of the linear memory now; memory.grow inside the module may move it."""
        return self._memory_base(), self._memory.data_len(self._store)

    def _memory_base(self) -> int:
        if _RAW_CALL:  # the same call as Memory.data_ptr, without its pointer wrapping
            ptr = _wt_ffi.wasmtime_memory_data(self._store._context(), ctypes.byref(self._memory._memory))
            return ctypes.cast(ptr, ctypes.c_void_p).value or 0
        return ctypes.cast(self._memory.data_ptr(self._store), ctypes.c_void_p).value or 0

    def _read_cstring(self, addr: int, span: tuple[int, int] | None = None) -> bytes:
        """The NUL-terminated string at ``addr``, never read past the end of the memory."""
        base, size = span or self._span()
        if not 0 < addr < size:
            raise _WasmFailure(f"string address {addr} outside memory")
        end = _memchr(base + addr, 0, size - addr)
        if not end:
            raise _WasmFailure("string without NUL terminator")
        return ctypes.string_at(base + addr, end - (base + addr))

    def _write(self, addr: int, raw: bytes) -> tuple[int, int]:
        base, size = self._span()
        need = addr + len(raw) - size
        if need > 0:
            try:
                self._memory.grow(self._store, -(-need // _PAGE))
            except wasmtime.WasmtimeError as e:
                raise PolicyEngineError("policy input does not fit the wasm memory limit") from e
            base, size = self._span()
        ctypes.memmove(base + addr, raw, len(raw))
        return base, size

    def _parse(self, raw: bytes) -> int:
        addr = self._malloc(len(raw))
        self._write(addr, raw)
        value = self._json_parse(addr, len(raw))
        if value == 0:
            raise PolicyEngineError("opa_json_parse rejected the bundle data")
        return value

    def _dump(self, value_addr: int) -> Any:
        return json.loads(self._read_cstring(self._json_dump(value_addr)))

    # -- one decision --------------------------------------------------------------------------

    def evaluate(self, entrypoint_id: int, input_json: bytes, loads: Callable[[bytes], Any] = json.loads) -> Any:
        """The result set of the entrypoint for this input, as parsed JSON."""
        input_addr = self._heap_ptr
        base, size = self._write(input_addr, input_json)
        self._store.set_epoch_deadline(self._ticks)
        result_addr = self._eval(
            0,  # reserved, must be 0
            entrypoint_id,
            self._data_addr,
            input_addr,
            len(input_json),
            input_addr + len(input_json),  # the heap of this decision starts after its input
            _FORMAT_JSON,
        )
        after = self._memory.data_len(self._store)
        return loads(self._read_cstring(result_addr, (base, size) if after == size else None))


# --- The engine --------------------------------------------------------------------------------


class WasmPolicyEngine(LoadedBundle):
    """PolicyEngine over OPA's compiled Wasm. Safe for concurrent calls from many threads."""

    def __init__(
        self,
        module: WasmModule,
        bundle: PolicyBundle,
        *,
        timeout_s: float = 2.0,
        instances: int = 2,
        max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
        extra_data: Mapping[str, Any] | None = None,
        fast_calls: bool = True,
    ) -> None:
        # A module and a bundle that do not belong together never make an engine (stale module:
        # fail closed at start-up). ``extra_data`` is for tests that add documents beside it.
        module.check_for(bundle)
        if instances < 1:
            raise ValueError("instances must be at least 1")
        self._bundle = bundle
        self._wasm = module
        self._timeout_s = timeout_s
        self._max_memory_bytes = max_memory_bytes
        self._fast_calls = fast_calls
        try:
            self._module = compiled_module(module.wasm)
        except wasmtime.WasmtimeError as e:
            raise PolicyEngineError(f"policy wasm module does not compile: {e}") from e
        data = {**bundle.data, **(extra_data or {})}
        # Parsed once per instance (per bundle revision), never per decision.
        self._data_json = json.dumps(data, separators=(",", ":"), allow_nan=False).encode("utf-8")
        self._idle: list[_Instance] = []
        self._size = instances
        self._cond = threading.Condition(threading.Lock())
        # One instance now, so a module that cannot run fails at start-up, not per request; the
        # others are made on first concurrent use.
        first = self._new_instance()
        self._created = 1
        self._entrypoints = dict(first.entrypoints)
        if module.entrypoint not in self._entrypoints:
            raise PolicyEngineError(f"policy module has no entrypoint {module.entrypoint}")
        self._idle.append(first)

    @property
    def module(self) -> WasmModule:
        return self._wasm

    @property
    def entrypoints(self) -> tuple[str, ...]:
        return tuple(sorted(self._entrypoints))

    def _new_instance(self) -> _Instance:
        return _Instance(self._module, self._data_json, self._max_memory_bytes, self._timeout_s, self._fast_calls)

    def _take(self) -> _Instance:
        """An idle instance, a new one while fewer than ``instances`` exist, else wait for one."""
        deadline: float | None = None
        with self._cond:
            while not self._idle:
                if self._created < self._size:
                    self._created += 1
                    break
                if deadline is None:
                    deadline = time.monotonic() + self._timeout_s
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._cond.wait(remaining) and not self._idle:
                    raise PolicyEngineError("no wasm policy instance free within the timeout")
            else:
                return self._idle.pop()
        try:
            return self._new_instance()
        except BaseException:
            self._discard()
            raise

    def _put(self, instance: _Instance) -> None:
        with self._cond:
            self._idle.append(instance)
            self._cond.notify()

    def _discard(self) -> None:
        """Forget an instance that trapped; a waiting caller may then make a fresh one."""
        with self._cond:
            self._created -= 1
            self._cond.notify()

    def query(
        self, entrypoint: str, policy_input: Mapping[str, Any], *, loads: Callable[[bytes], Any] = json.loads
    ) -> Any:
        """The value of ``entrypoint`` for this input; undefined raises PolicyEngineError."""
        entrypoint_id = self._entrypoints.get(entrypoint)
        if entrypoint_id is None:
            raise PolicyEngineError(f"policy module has no entrypoint {entrypoint}")
        try:
            input_json = _encode_json(policy_input).encode("utf-8")
        except (TypeError, ValueError) as e:
            raise PolicyEngineError(f"policy input is not JSON: {e}") from e
        instance = self._take()
        try:
            result_set = instance.evaluate(entrypoint_id, input_json, loads)
        except wasmtime.Trap as e:
            self._discard()  # its heap may be mid-evaluation: never reuse it
            if e.trap_code == wasmtime.TrapCode.INTERRUPT:
                raise PolicyEngineError(f"wasm policy did not decide within {self._timeout_s} s") from e
            raise PolicyEngineError(f"wasm policy trapped: {e.message}") from e
        except (wasmtime.WasmtimeError, _WasmFailure, PolicyEngineError, ValueError, orjson.JSONDecodeError) as e:
            self._discard()
            if isinstance(e, PolicyEngineError):
                raise
            raise PolicyEngineError(f"wasm policy evaluation failed: {e}") from e
        except BaseException:
            self._discard()
            raise
        self._put(instance)
        # OPA's result set: [] is undefined, else [{"result": <value of the entrypoint>}].
        if (
            not isinstance(result_set, list)
            or len(result_set) != 1
            or not isinstance(result_set[0], dict)
            or "result" not in result_set[0]
        ):
            raise PolicyEngineError("policy decision is undefined")
        return result_set[0]["result"]

    def evaluate(self, policy_input: Mapping[str, Any]) -> dict[str, Any]:
        result = self.query(self._wasm.entrypoint, policy_input, loads=_parse_decision)
        if not isinstance(result, dict):
            raise PolicyEngineError("policy decision is not an object")
        return result

    @property
    def decides_on_loop(self) -> bool:
        """Whether a caller on the event loop may call :meth:`evaluate` there, now: an instance
        is free, and a decision is ~0.1 ms and bounded by the epoch deadline (``timeout_s``)
        wherever it runs, so it saves the hop to a worker thread and back (issue 17). When
        every instance is busy the caller decides in a thread instead of waiting on the loop."""
        with self._cond:
            return bool(self._idle) or self._created < self._size
