"""The wasm engine: OPA's compiled policy in process, failing closed like the other engines.

The real module (shipped under policies/build/) decides like regopy here; OPA-free fault tests
use small hand-written modules that speak OPA's Wasm ABI (opa_eval returns a fixed result set,
loops, or aborts), so every fail-closed path is exercised without a Go toolchain.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import wasmtime

from gateway.core.errors import ConfigurationError, IntegrityError, PolicyEngineError
from gateway.core.settings import Settings
from gateway.policy import create_policy_engine
from gateway.policy.bundle import PolicyBundle, build_bundle, store_dir_for
from gateway.policy.embedded import EmbeddedPolicyEngine
from gateway.policy.wasm import WasmPolicyEngine
from gateway.policy.wasm_module import (
    META_FILE,
    WASM_FILE,
    WasmModule,
    read_module_dir,
    resolve_module,
    shipped_module,
    stored_module,
)
from tests.parity.corpus import corpus
from tests.policy.conftest import consent, make_input


@pytest.fixture(scope="module")
def module() -> WasmModule:
    shipped = shipped_module()
    assert shipped is not None, "policies/build/policy.wasm is missing: run `loket policy wasm`"
    return shipped


@pytest.fixture(scope="module")
def wasm_engine(module: WasmModule, bundle: PolicyBundle) -> WasmPolicyEngine:
    return WasmPolicyEngine(module, bundle)


# --- The shipped module -----------------------------------------------------------------------


def test_shipped_module_is_built_from_the_current_policies(module: WasmModule, bundle: PolicyBundle) -> None:
    # A Rego or data change without `loket policy wasm` fails here, before any OPA is needed.
    assert module.revision == bundle.revision
    assert module.entrypoint == "loket/decision"
    assert module.opa_version == "1.22.2"


def test_wasm_decides_like_regopy_on_the_parity_corpus(
    wasm_engine: WasmPolicyEngine, engine: EmbeddedPolicyEngine
) -> None:
    mismatches = [i for i, p in enumerate(corpus()) if wasm_engine.evaluate(p) != engine.evaluate(p)]
    assert mismatches == []


def test_consent_grant_and_refusal_reach_the_caller(wasm_engine: WasmPolicyEngine) -> None:
    d = wasm_engine.evaluate(
        make_input("schuldhulp_intake", [("cak", "eigen_bijdrage")], [consent("cak", "eigen_bijdrage")])
    )
    assert [(g["agency"], g["category"], g["basis"]["type"]) for g in d["grants"]] == [
        ("cak", "eigen_bijdrage", "consent")
    ]
    assert wasm_engine.evaluate(make_input("schuldhulp_intake", [("cak", "eigen_bijdrage")]))["grants"] == []


def test_heap_does_not_grow_over_many_decisions(wasm_engine: WasmPolicyEngine) -> None:
    instance = wasm_engine._take()
    try:
        before = instance._memory.data_len(instance._store)
        for _ in range(2000):
            instance.evaluate(wasm_engine._entrypoints["loket/decision"], json.dumps(make_input()).encode())
        assert instance._memory.data_len(instance._store) == before
    finally:
        wasm_engine._put(instance)


def test_concurrent_decisions_are_correct(wasm_engine: WasmPolicyEngine, engine: EmbeddedPolicyEngine) -> None:
    inputs = corpus()[:120]
    expected = [engine.evaluate(p) for p in inputs]
    errors: list[int] = []

    def work() -> None:
        for i, p in enumerate(inputs):
            if wasm_engine.evaluate(p) != expected[i]:
                errors.append(i)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_input_that_is_not_json_fails_closed(wasm_engine: WasmPolicyEngine) -> None:
    with pytest.raises(PolicyEngineError, match="not JSON"):
        wasm_engine.evaluate({"time_ns": float("nan")})


def test_settings_select_the_wasm_engine_and_file_its_module(tmp_path: Path) -> None:
    engine = create_policy_engine(Settings(data_dir=tmp_path, policy_engine="wasm"))
    assert isinstance(engine, WasmPolicyEngine)
    stored = stored_module(store_dir_for(tmp_path), engine.revision)
    assert stored is not None and stored.wasm == engine.module.wasm  # replay finds it by revision


def test_the_shipped_module_needs_no_opa_or_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              bundle: PolicyBundle) -> None:
    # `pip install -e . && loket demo`: the shipped module is used; no compiler is looked for.
    def no_compiler(*_a: object, **_k: object) -> None:
        raise AssertionError("the shipped module must not need opa")

    monkeypatch.setattr("gateway.policy.wasm_module.pinned_opa_binary", no_compiler)
    monkeypatch.setattr("gateway.policy.wasm_module.build_module", no_compiler)
    assert resolve_module(bundle, tmp_path).revision == bundle.revision


# --- Stale, tampered, missing -----------------------------------------------------------------


def test_a_module_of_another_revision_is_refused(module: WasmModule, bundle: PolicyBundle) -> None:
    stale = WasmModule(revision="sha256:" + "0" * 64, entrypoint=module.entrypoint,
                       opa_version=module.opa_version, wasm=module.wasm)
    with pytest.raises(PolicyEngineError, match="stale"):
        WasmPolicyEngine(stale, bundle)


def test_a_tampered_module_fails_its_digest(module: WasmModule) -> None:
    flipped = bytearray(module.wasm)
    flipped[len(flipped) // 2] ^= 1
    with pytest.raises(IntegrityError, match="digest"):
        WasmModule.from_files(bytes(flipped), module.meta_json())


def test_a_bundle_without_its_module_does_not_start_without_opa(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another bundle (an edited policies/): the shipped module is stale, none is stored, and no
    # pinned OPA is found to build one -> the wasm engine refuses to start.
    root = tmp_path / "policies"
    import shutil

    from gateway.policy.bundle import policies_root

    shutil.copytree(str(policies_root()), root, ignore=shutil.ignore_patterns("build", "__pycache__"))
    (root / "loket" / "extra.rego").write_text("package loket\n\nimport rego.v1\n\nextra := 1\n")
    other = build_bundle(root=root)
    monkeypatch.setattr("gateway.policy.wasm_module.pinned_opa_binary", lambda *_a, **_k: None)
    with pytest.raises(ConfigurationError, match="no policy.wasm for bundle revision"):
        resolve_module(other, tmp_path / "store")


# --- Fail closed: hand-written modules that speak the ABI --------------------------------------

_FAKE = """
(module
  (import "env" "memory" (memory 2))
  (import "env" "opa_abort" (func $abort (param i32)))
  (global (export "opa_wasm_abi_version") i32 (i32.const 1))
  (global (export "opa_wasm_abi_minor_version") i32 (i32.const {minor}))
  (global $heap (mut i32) (i32.const 8192))
  (data (i32.const 1024) "{builtins}\\00")
  (data (i32.const 2048) "{{\\"loket/decision\\":0}}\\00")
  (data (i32.const 3072) "{result}\\00")
  (data (i32.const 4000) "boom\\00")
  (func (export "opa_malloc") (param i32) (result i32)
    (local $p i32) (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get 0))) (local.get $p))
  (func (export "opa_json_parse") (param i32 i32) (result i32) (i32.const 16))
  (func (export "opa_json_dump") (param i32) (result i32) (local.get 0))
  (func (export "opa_heap_ptr_get") (result i32) (global.get $heap))
  (func (export "builtins") (result i32) (i32.const 1024))
  (func (export "entrypoints") (result i32) (i32.const 2048))
  (func (export "opa_eval") (param i32 i32 i32 i32 i32 i32 i32) (result i32)
    {body}
    (i32.const 3072)))
"""


def fake_engine(
    bundle: PolicyBundle,
    *,
    result: str = '[{"result":{"allow":true}}]',
    body: str = "",
    builtins: str = "{}",
    minor: int = 2,
    timeout_s: float = 2.0,
) -> WasmPolicyEngine:
    wat = _FAKE.format(
        result=result.replace('"', '\\"'), body=body, builtins=builtins.replace('"', '\\"'), minor=minor
    )
    module = WasmModule(revision=bundle.revision, entrypoint="loket/decision", opa_version="test",
                        wasm=wasmtime.wat2wasm(wat))
    return WasmPolicyEngine(module, bundle, timeout_s=timeout_s, instances=1)


def test_an_object_result_is_returned_as_is(bundle: PolicyBundle) -> None:
    assert fake_engine(bundle).evaluate(make_input()) == {"allow": True}


@pytest.mark.parametrize(
    "result", ["[]", '[{"result":"allow"}]', '[{"result":[1]}]', "[{}]", '{"result":{}}', "not json"]
)
def test_undefined_or_non_object_answer_fails_closed(bundle: PolicyBundle, result: str) -> None:
    with pytest.raises(PolicyEngineError):
        fake_engine(bundle, result=result).evaluate(make_input())


def test_abort_fails_closed_and_the_next_decision_works(bundle: PolicyBundle) -> None:
    # opa_abort when the input is longer than 100 bytes; a short input decides.
    engine = fake_engine(
        bundle, body="(if (i32.gt_u (local.get 4) (i32.const 100)) (then (call $abort (i32.const 4000))))"
    )
    with pytest.raises(PolicyEngineError, match="boom"):
        engine.evaluate(make_input())
    assert engine.evaluate({"x": 1}) == {"allow": True}  # a fresh instance replaced the aborted one


def test_a_runaway_policy_is_interrupted_by_the_timeout(bundle: PolicyBundle) -> None:
    engine = fake_engine(bundle, body="(loop $forever (br $forever))", timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(PolicyEngineError, match="within 0.2 s"):
        engine.evaluate(make_input())
    assert time.monotonic() - started < 2.0


def test_a_module_needing_host_builtins_is_refused(bundle: PolicyBundle) -> None:
    with pytest.raises(PolicyEngineError, match="host builtins"):
        fake_engine(bundle, builtins='{"http.send":0}')


def test_a_module_without_one_call_eval_is_refused(bundle: PolicyBundle) -> None:
    with pytest.raises(PolicyEngineError, match="ABI 1.1"):
        fake_engine(bundle, minor=1)


def test_an_input_beyond_the_memory_limit_fails_closed(bundle: PolicyBundle) -> None:
    module = fake_engine(bundle).module
    engine = WasmPolicyEngine(module, bundle, max_memory_bytes=4 * 65536, instances=1)
    with pytest.raises(PolicyEngineError, match="memory limit"):
        engine.evaluate({"blob": "x" * 300_000})


@pytest.mark.parametrize("fast_calls", [True, False])
def test_both_call_paths_fail_closed_alike(bundle: PolicyBundle, fast_calls: bool) -> None:
    # The ctypes fast path and wasmtime-py's public Func call give the same answers and errors.
    abort = "(if (i32.gt_u (local.get 4) (i32.const 100)) (then (call $abort (i32.const 4000))))"
    engine = fake_engine(bundle, body=abort)
    slow = WasmPolicyEngine(engine.module, bundle, instances=1, fast_calls=fast_calls)
    assert slow.evaluate({"x": 1}) == {"allow": True}
    with pytest.raises(PolicyEngineError, match="boom"):
        slow.evaluate(make_input())


def test_public_call_path_decides_like_the_fast_one(module: WasmModule, bundle: PolicyBundle,
                                                    wasm_engine: WasmPolicyEngine) -> None:
    slow = WasmPolicyEngine(module, bundle, instances=1, fast_calls=False)
    for p in corpus()[::40]:
        assert slow.evaluate(p) == wasm_engine.evaluate(p)


def test_read_module_dir_needs_both_files(tmp_path: Path, module: WasmModule) -> None:
    assert read_module_dir(tmp_path) is None
    (tmp_path / WASM_FILE).write_bytes(module.wasm)
    assert read_module_dir(tmp_path) is None
    (tmp_path / META_FILE).write_bytes(module.meta_json())
    assert read_module_dir(tmp_path) == module
