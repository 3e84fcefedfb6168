"""The wasm engine decides on the event loop when an instance is free (no thread hop, issue 17);
when every instance is busy, and for every other engine, the decision goes to a thread as before.
Failing closed is the same on both paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
import pytest

from gateway.core.context import Loket
from gateway.core.errors import PolicyEngineError
from gateway.dossier import flow
from gateway.policy.wasm import WasmPolicyEngine
from tests.policy.conftest import make_input


def _count_hops(monkeypatch: pytest.MonkeyPatch, before_hop: Callable[[], None] = lambda: None) -> list[Any]:
    hops: list[Any] = []
    real = anyio.to_thread.run_sync

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(fn)
        before_hop()
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return hops


def _decide(loket: Loket, policy_input: dict[str, Any]) -> tuple[dict[str, object], Any]:
    async def run() -> tuple[dict[str, object], Any]:
        return await flow.decide(loket, policy_input, decision_id="d-1", revision=loket.policy.revision)

    return anyio.run(run)


def test_wasm_decides_without_a_thread_hop_and_hops_when_busy(
        make_loket: Callable[..., Loket], monkeypatch: pytest.MonkeyPatch) -> None:
    loket = make_loket(policy_engine="wasm")
    engine = loket.policy
    assert isinstance(engine, WasmPolicyEngine)
    taken: list[Any] = []
    hops = _count_hops(monkeypatch, before_hop=lambda: [engine._put(i) for i in taken if i is not None])
    policy_input = make_input("schuldhulp_intake")
    raw, decision = _decide(loket, policy_input)
    assert hops == [] and decision.grants
    # Every instance taken (other threads deciding): the loop does not wait for one, it hops
    # (and the instances come back while the thread waits).
    taken += [engine._take() for _ in range(engine._size)]
    assert not engine.decides_on_loop
    raw_busy, _ = _decide(loket, policy_input)
    assert len(hops) == 1 and raw_busy == raw


def test_other_engines_still_decide_in_a_thread(make_loket: Callable[..., Loket],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    loket = make_loket(policy_engine="embedded")
    assert not getattr(loket.policy, "decides_on_loop", False)
    hops = _count_hops(monkeypatch)
    _decide(loket, make_input("schuldhulp_intake"))
    assert len(hops) == 1


def test_an_inline_engine_error_fails_closed(make_loket: Callable[..., Loket]) -> None:
    loket = make_loket(policy_engine="wasm")
    with pytest.raises(PolicyEngineError):
        _decide(loket, {"not": {"a": "valid input"}, "bad": float("nan")})
