"""Policy engine faults: error, timeout, undefined answer, OPA server down.

Each must fail closed: 503 problem+json, no data, no agency asked, and the refusal itself in the
log as a ``dossier:error`` record (status 2, nothing disclosed) — and the log still verifies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.app import create_app
from gateway.core.context import Loket
from gateway.core.errors import PolicyEngineError
from gateway.policy.bundle import PolicyBundle
from gateway.policy.embedded import EmbeddedPolicyEngine
from tests.conftest import bearer
from tests.security.helpers import agency_requests_seen, assert_problem, eva_bsn, minter, open_case
from tests.servers import free_port


class SleepyEngine:
    """An engine whose evaluate outlives ``policy_timeout_s`` (a hung OPA, a runaway rule)."""

    def __init__(self, inner: Any, sleep_s: float) -> None:
        self.inner, self.sleep_s = inner, sleep_s

    @property
    def revision(self) -> str:
        return str(self.inner.revision)

    def evaluate(self, policy_input: Mapping[str, Any]) -> dict[str, Any]:
        time.sleep(self.sleep_s)
        return dict(self.inner.evaluate(policy_input))


class CrashingEngine:
    revision = "crashing"

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def evaluate(self, policy_input: Mapping[str, Any]) -> dict[str, Any]:
        raise self.exc


def undefined_engine() -> EmbeddedPolicyEngine:
    """The real regopy engine on a bundle whose ``data.loket.decision`` is undefined."""
    rego = "package loket\n\ndecision := {\"allow\": true} if { input.never_set == 42 }\n"
    return EmbeddedPolicyEngine(PolicyBundle(revision="undefined-test", roots=("loket",),
                                             modules={"loket/undefined.rego": rego}, data={}, raw=b""))


def assert_failed_closed(loket: Loket, client: TestClient, sandbox: Any, code: str,
                         *, max_elapsed_s: float = 10.0) -> dict[str, Any]:
    tok = minter(loket)()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    asked_before = agency_requests_seen(sandbox)
    started = time.monotonic()
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    elapsed = time.monotonic() - started
    body = assert_problem(r, 503, code)
    assert elapsed < max_elapsed_s, elapsed
    assert agency_requests_seen(sandbox) == asked_before, "no agency may be asked without a decision"
    records = [s.record for s in loket.audit.find(AuditFilter(case_id=case_id))]
    assert [x.kind for x in records] == [AuditEventKind.CASE_OPENED, AuditEventKind.DOSSIER_ERROR]
    error = records[-1]
    assert error.status_code == 2 and not error.disclosed and error.outcome == body["type"].rsplit("/", 1)[1]
    assert error.decision_id is None
    # The problem detail names no citizen, input or engine internals that identify anyone.
    assert error.data_subject_id not in r.text and eva_bsn(sandbox) not in r.text
    loket.audit.verify()
    return body


@pytest.mark.parametrize("exc", [
    PolicyEngineError("regopy evaluation failed: boom"),
    RuntimeError("segfault-ish"),
    MemoryError(),
    ValueError("bad json"),
], ids=lambda e: type(e).__name__)
def test_engine_error_fails_closed_and_is_audited(make_loket: Callable[..., Loket], sandbox: Any,
                                                  exc: BaseException) -> None:
    loket = make_loket()
    loket.policy = CrashingEngine(exc)
    with TestClient(create_app(loket=loket), raise_server_exceptions=False) as client:
        tok = minter(loket)()
        case_id = open_case(client, tok, eva_bsn(sandbox))
        asked = agency_requests_seen(sandbox)
        r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    # A domain error is a 503; anything else must still be a problem without data, never a leak.
    assert r.status_code in (500, 503)
    assert_problem(r, r.status_code)
    assert agency_requests_seen(sandbox) == asked
    kinds = [s.record.kind for s in loket.audit.find(AuditFilter(case_id=case_id))]
    assert AuditEventKind.DOSSIER_READ not in kinds
    if isinstance(exc, PolicyEngineError):
        assert kinds[-1] is AuditEventKind.DOSSIER_ERROR
    loket.audit.verify()


def test_engine_timeout_fails_closed_within_the_bound(make_loket: Callable[..., Loket], sandbox: Any) -> None:
    loket = make_loket(policy_timeout_s=0.2)
    loket.policy = SleepyEngine(loket.policy, sleep_s=3.0)
    with TestClient(create_app(loket=loket)) as client:
        # The gateway waits policy_timeout_s plus a 1 s grace for the engine's own timeout.
        assert_failed_closed(loket, client, sandbox, "policy-timeout", max_elapsed_s=0.2 + 1.0 + 1.0)


def test_undefined_decision_fails_closed(make_loket: Callable[..., Loket], sandbox: Any,
                                         caplog: pytest.LogCaptureFixture) -> None:
    """The caller reads "policy engine unavailable"; the engine's own words go to the log only."""
    loket = make_loket()
    loket.policy = undefined_engine()
    with caplog.at_level("WARNING", logger="loket.problems"), TestClient(create_app(loket=loket)) as client:
        body = assert_failed_closed(loket, client, sandbox, "policy-engine-unavailable")
    assert body["detail"] == "policy engine unavailable"
    assert any("undefined" in r.getMessage() for r in caplog.records)


def test_opa_server_down_fails_closed(make_loket: Callable[..., Loket], sandbox: Any) -> None:
    port = free_port()  # nothing listens here
    loket = make_loket(policy_engine="opa", opa_url=f"http://127.0.0.1:{port}", policy_timeout_s=0.5)
    with TestClient(create_app(loket=loket)) as client:
        body = assert_failed_closed(loket, client, sandbox, "policy-engine-unavailable", max_elapsed_s=3.0)
    # Neither the engine's URL nor the HTTP library's error text reaches the caller.
    assert body["detail"] == "policy engine unavailable"
    assert str(port) not in json.dumps(body)


def test_engine_recovers_after_the_fault(make_loket: Callable[..., Loket], sandbox: Any) -> None:
    """Fail closed is per request: once the engine answers again, so does the gateway."""
    loket = make_loket()
    real = loket.policy
    loket.policy = CrashingEngine(PolicyEngineError("down"))
    with TestClient(create_app(loket=loket)) as client:
        tok = minter(loket)()
        case_id = open_case(client, tok, eva_bsn(sandbox))
        assert client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).status_code == 503
        loket.policy = real
        r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 200 and r.json()["fields"]
    records = [s.record for s in loket.audit.find(AuditFilter(case_id=case_id))]
    kinds = [r.kind for r in records if r.parent_span_id is None]  # the agency calls are child spans
    assert kinds == [AuditEventKind.CASE_OPENED, AuditEventKind.DOSSIER_ERROR, AuditEventKind.DOSSIER_READ]
    assert {r.kind for r in records if r.parent_span_id} == {AuditEventKind.DOSSIER_AGENCY_CALL}
