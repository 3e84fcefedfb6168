"""A real OPA server (the pinned binary) serving the bundle that `loket policy bundle` writes, and
the same bundle on regopy and as OPA's compiled Wasm."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.policy.bundle import PolicyBundle, load_bundle_file
from gateway.policy.cli import policy_app
from gateway.policy.embedded import EmbeddedPolicyEngine
from gateway.policy.opa import OpaServer, OpaServerPolicyEngine, find_opa_binary, start_opa_server
from gateway.policy.wasm import WasmPolicyEngine
from gateway.policy.wasm_module import shipped_module


@pytest.fixture(scope="session")
def opa_bin() -> str:
    binary = find_opa_binary()
    if binary is None:
        # In CI a missing OPA is a failure, never a silent skip (issue 4).
        if os.environ.get("CI"):
            pytest.fail("opa binary not found in CI: run .ci/opa.sh and set LOKET_OPA_BIN")
        pytest.skip("opa binary not found (set LOKET_OPA_BIN or run .ci/opa.sh)")
    return binary


@pytest.fixture(scope="session")
def bundle_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "bundle.tar.gz"
    result = CliRunner().invoke(policy_app, ["bundle", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["path"] == str(out)
    return out


@pytest.fixture(scope="session")
def bundle(bundle_path: Path) -> PolicyBundle:
    return load_bundle_file(bundle_path)


@pytest.fixture(scope="session")
def opa_server(opa_bin: str, bundle_path: Path) -> Iterator[OpaServer]:
    with start_opa_server(bundle_path, opa_bin=opa_bin) as server:
        yield server


@pytest.fixture(scope="session")
def opa_engine(opa_server: OpaServer, bundle: PolicyBundle) -> Iterator[OpaServerPolicyEngine]:
    engine = OpaServerPolicyEngine(opa_server.url, timeout_s=5.0)
    assert engine.revision == bundle.revision  # OPA serves exactly this artifact
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def embedded_engine(bundle: PolicyBundle) -> EmbeddedPolicyEngine:
    return EmbeddedPolicyEngine(bundle)


@pytest.fixture(scope="session")
def wasm_engine(bundle: PolicyBundle) -> WasmPolicyEngine:
    """OPA's compiled module as shipped; it must be of the bundle the CLI writes."""
    module = shipped_module()
    assert module is not None, "policies/build/policy.wasm is missing: run `loket policy wasm`"
    return WasmPolicyEngine(module, bundle)
