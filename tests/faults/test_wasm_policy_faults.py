"""The wasm engine's own failures, end to end: a runaway or aborting compiled policy means a 503,
no data, no agency asked and a ``dossier:error`` record — as for the other engines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.core.context import Loket
from gateway.policy.wasm import WasmPolicyEngine
from tests.faults.test_policy_faults import assert_failed_closed
from tests.policy.test_wasm_engine import fake_engine


def test_the_default_engine_is_the_wasm_engine(make_loket: Callable[..., Loket]) -> None:
    assert isinstance(make_loket().policy, WasmPolicyEngine)


def test_runaway_wasm_policy_is_interrupted_and_fails_closed(make_loket: Callable[..., Loket], sandbox: Any) -> None:
    loket = make_loket(policy_timeout_s=0.2)
    loket.policy = fake_engine(loket.policy.bundle, body="(loop $forever (br $forever))", timeout_s=0.2)
    with TestClient(create_app(loket=loket)) as client:
        body = assert_failed_closed(loket, client, sandbox, "policy-engine-unavailable", max_elapsed_s=2.0)
    # The 503's detail is fixed (API Design Rules: no engine internals to the caller); the
    # interruption itself is what the fail-closed assertion above proves (no data, in time).
    assert body["detail"] == "policy engine unavailable"


def test_aborting_wasm_policy_fails_closed(make_loket: Callable[..., Loket], sandbox: Any) -> None:
    loket = make_loket()
    loket.policy = fake_engine(
        loket.policy.bundle, body="(call $abort (i32.const 4000))"
    )
    with TestClient(create_app(loket=loket)) as client:
        assert_failed_closed(loket, client, sandbox, "policy-engine-unavailable")
