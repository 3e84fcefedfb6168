"""Authorization Decision Log: exactly one record per policy decision, denials and errors too."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.core.context import Loket
from gateway.core.errors import PolicyEngineError
from gateway.core.models import LoggedDecisionRow
from tests.conftest import bearer
from tests.gateway.test_dossier_flow import eva_bsn, open_case

runner = CliRunner()
ADL_FIELDS = {"timestamp", "endpoint", "request", "response", "policies", "information", "engine",
              "trace_id", "span_id"}


def rows(loket: Loket) -> list[LoggedDecisionRow]:
    with loket.sessions() as session:
        return list(session.scalars(select(LoggedDecisionRow).order_by(LoggedDecisionRow.created_at)))


class EngineDown:
    def __init__(self, revision: str) -> None:
        self.revision = revision

    def evaluate(self, _input: Any) -> Any:
        raise PolicyEngineError("engine down")


def test_one_adl_record_per_decision_including_denials_and_engine_errors(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    traces: list[str] = []

    def ask(params: dict[str, Any] | None = None, expect: int = 200) -> None:
        trace = f"{len(traces) + 1:032x}"
        r = client.get(f"/v1/cases/{case_id}/dossier", params=params or {},
                       headers={**bearer(tok), "traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
        assert r.status_code == expect, r.text
        traces.append(trace)

    ask()  # some categories by law, some need consent: partly allowed
    ask()
    ask({"categories": ["duo.studieschuld"]})  # consent needed and absent: denied
    ask({"categories": ["brp.identiteit"]})  # only what the law allows: allowed
    real = loket.policy
    loket.policy = EngineDown(real.revision)  # type: ignore[assignment]
    try:
        ask(expect=503)  # an engine error is a decision too
    finally:
        loket.policy = real
    # Not a policy decision: the case is not yours, refused before the policy is asked.
    assert client.get("/v1/cases/not-mine/dossier", headers=bearer(tok)).status_code == 404

    logged = rows(loket)
    assert len(logged) == len(traces) == 5
    assert [r.trace_id for r in logged] == traces
    assert [r.outcome for r in logged] == ["partly_allowed", "partly_allowed", "denied", "allowed", "error"]
    for row in logged:
        adl = json.loads(row.adl_json or "{}")
        assert ADL_FIELDS <= set(adl)
        assert adl["decision_id"] == row.decision_id and adl["trace_id"] == row.trace_id
        assert adl["endpoint"] == "evaluation"
        assert adl["policies"] == {"loket-policy-bundle": row.policy_revision}
        assert adl["engine"]["configuration"]["type"] == "regopy" and adl["engine"]["version"]["regopy"]
        assert adl["request"]["context"]["traceparent"].startswith(f"00-{row.trace_id}-")
        assert adl["request"]["subject"] == {"type": "casemanager", "id": "cm-001"}
        assert adl["information"]["loket.case"]["id"] == case_id
        assert isinstance(adl["response"]["decision"], bool)
    assert [json.loads(r.adl_json or "{}")["response"]["decision"] for r in logged] == [True, True, False, True, False]

    # Every decision's audit record names the same decision id (one decision, one record each).
    decided = {s.record.decision_id for s in loket.audit.iter_records() if s.record.decision_id}
    assert decided >= {r.decision_id for r in logged if r.outcome != "error"}


def test_the_consent_a_grant_rests_on_is_named_as_its_information_source(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    bsn = eva_bsn(sandbox)
    cm, citizen = token(), token(role="citizen", sub="burger-eva", bsn=bsn)
    case_id = open_case(client, cm, bsn)
    r = client.post("/v1/me/consents", headers=bearer(citizen), json={
        "purpose": "student_in_crisis", "agency": "duo", "category": "studieschuld", "team": "team-centrum",
        "valid_until": (datetime.now(UTC) + timedelta(days=30)).isoformat(), "explicit": True})
    assert r.status_code == 201, r.text
    consent_id = r.json()["id"]
    assert client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(cm)).status_code == 200
    info = json.loads(rows(loket)[-1].adl_json or "{}")["information"]["loket.consents"]
    assert consent_id in [c["id"] for c in info["presented"]]
    assert info["used"] == [consent_id]


def test_replay_by_trace_id_and_adl_export(loket: Loket, client: TestClient, sandbox: Any,
                                           token: Callable[..., str], monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    for _ in range(2):
        r = client.get(f"/v1/cases/{case_id}/dossier",
                       headers={**bearer(tok), "traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
        assert r.status_code == 200
    monkeypatch.setenv("LOKET_DATA_DIR", str(loket.settings.data_dir))

    r = runner.invoke(cli, ["policy", "replay", trace])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert body["trace_id"] == trace and body["identical"] is True and len(body["decisions"]) == 2
    assert runner.invoke(cli, ["policy", "replay", "f" * 32]).exit_code == 2  # no such trace

    out = tmp_path / "adl.jsonl"
    r = runner.invoke(cli, ["policy", "adl-export", "--out", str(out)])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in out.read_bytes().splitlines()]
    assert len(lines) == 2 and {x["trace_id"] for x in lines} == {trace}
    with loket.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LoggedDecisionRow)) == 2


def test_a_decision_is_ingested_once(loket: Loket, client: TestClient, sandbox: Any,
                                     token: Callable[..., str]) -> None:
    from sqlalchemy.exc import IntegrityError

    from gateway.dossier.decision_log import record_decision

    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    assert client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).status_code == 200
    (row,) = rows(loket)
    with pytest.raises(IntegrityError), loket.db.begin() as conn:
        record_decision(conn, decision_id=row.decision_id, case_id=case_id, policy_revision="x",
                        policy_input={}, result={}, trace_id=row.trace_id, outcome="allowed", adl={})
    assert len(rows(loket)) == 1
