"""Authorization Decision Log for every policy decision, not only the dossier's: agency requests
(data.loket.agency_request.decision) and representation checks (data.loket.representation.decision)
log exactly one row each with its ADL record — allowed, denied and engine errors — and replay
by trace id or decision id evaluates the rule that made them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from adapters.sandbox.citizens import BSN_ONDER_BEWIND
from audit.record import AuditEventKind
from gateway.cli import app as cli
from gateway.core.context import Loket
from gateway.core.errors import PolicyEngineError
from gateway.core.models import LoggedDecisionRow
from tests.cases import open_case
from tests.conftest import bearer
from tests.web.conftest import eva_bsn

pytestmark = [pytest.mark.pilot, pytest.mark.usefixtures("quick_agencies")]

runner = CliRunner()
DEBT = "schuldhulp_intake"
BEWINDVOERDER_KVK = "90000017"
ADL_FIELDS = {"timestamp", "endpoint", "request", "response", "policies", "information", "engine",
              "trace_id", "span_id", "decision_id", "outcome"}
DOSSIER, AGENCY, REPRESENTATION = ("data.loket.decision", "data.loket.agency_request.decision",
                                   "data.loket.representation.decision")


def rows(loket: Loket) -> list[LoggedDecisionRow]:
    with loket.sessions() as session:
        return list(session.scalars(select(LoggedDecisionRow).order_by(LoggedDecisionRow.created_at)))


def adl(row: LoggedDecisionRow) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(row.adl_json or "{}")
    return value


def entrypoint(row: LoggedDecisionRow) -> str:
    return str(adl(row)["engine"]["configuration"]["entrypoint"])


def _consent(agency: str, category: str) -> dict[str, Any]:
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    return {"purpose": DEBT, "agency": agency, "category": category, "team": "team-centrum", "valid_until": until}


class EngineDown:
    def __init__(self, revision: str) -> None:
        self.revision = revision

    def evaluate(self, _input: Any) -> Any:
        raise PolicyEngineError("engine down")


def _broken(*_: Any) -> Any:
    raise PolicyEngineError("engine down")


class Run:
    """Requests, each with its own trace id; ``expected`` is (trace, entrypoint, outcome) per decision."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.expected: list[tuple[str, str, str]] = []
        self.calls = 0

    def call(self, method: str, url: str, headers: dict[str, str], expect: int,
             decided: list[tuple[str, str]], json_body: Any = None) -> str:
        self.calls += 1
        trace = f"{self.calls:032x}"
        r = self.client.request(method, url, json=json_body,
                                headers={**headers, "traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
        assert r.status_code == expect, r.text
        self.expected += [(trace, e, o) for e, o in decided]
        return trace


@pytest.fixture
def mixed(loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str],
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """Dossiers, agency requests and representation checks: allowed, refused and engine errors."""
    from gateway.representation import policy as representation_policy
    from gateway.workspace import request_policy

    run = Run(client)
    cm = bearer(token())
    case = open_case(client, token(), eva_bsn(sandbox), DEBT, loket=loket)
    open_case(client, token(), BSN_ONDER_BEWIND, DEBT, loket=loket)
    rep = bearer(token("citizen", sub=f"kvk-{BEWINDVOERDER_KVK}", kvk=BEWINDVOERDER_KVK, act_for=BSN_ONDER_BEWIND))

    run.call("GET", f"/v1/cases/{case}/dossier", cm, 200, [(DOSSIER, "partly_allowed")])
    real = loket.policy
    loket.policy = EngineDown(real.revision)  # type: ignore[assignment]
    try:
        run.call("GET", f"/v1/cases/{case}/dossier", cm, 503, [(DOSSIER, "error")])
    finally:
        loket.policy = real
    requests = f"/v1/cases/{case}/requests"
    run.call("POST", requests, cm, 201, [(AGENCY, "allowed")],
             {"type": "pause_collection", "agency": "cjib", "until_days": 30})
    run.call("POST", requests, cm, 403, [(AGENCY, "denied")], {"type": "warm_handover", "agency": "uwv"})
    with monkeypatch.context() as m:
        m.setattr(request_policy, "query_decision", _broken)
        run.call("POST", requests, cm, 503, [(AGENCY, "error")], {"type": "pause_collection", "agency": "cjib"})
    # Not a policy decision: a case that is not yours is refused before the policy is asked.
    run.call("POST", "/v1/cases/not-mine/requests", cm, 404, [], {"type": "pause_collection", "agency": "cjib"})

    run.call("POST", "/v1/me/consents", rep, 201, [(REPRESENTATION, "allowed")], _consent("cjib", "boetes"))
    run.call("POST", "/v1/me/consents", rep, 403, [(REPRESENTATION, "denied")],
             _consent("gemeente_wmo", "gezondheid"))
    run.call("GET", "/v1/me/consents", rep, 200, [(REPRESENTATION, "allowed")])  # reading is checked too
    with monkeypatch.context() as m:
        m.setattr(representation_policy, "query_decision", _broken)
        run.call("POST", "/v1/me/consents", rep, 503, [(REPRESENTATION, "error")], _consent("cjib", "boetes"))
    yield run


def test_one_adl_record_per_decision_across_dossiers_agency_requests_and_representation(
        loket: Loket, mixed: Run) -> None:
    logged = rows(loket)
    assert len(logged) == len(mixed.expected) == 9
    assert [(r.trace_id, entrypoint(r), r.outcome) for r in logged] == mixed.expected
    for row in logged:
        record = adl(row)
        assert ADL_FIELDS <= set(record)
        assert record["decision_id"] == row.decision_id and record["trace_id"] == row.trace_id
        assert record["outcome"] == row.outcome
        assert record["policies"] == {"loket-policy-bundle": row.policy_revision}
        assert record["engine"]["configuration"]["type"] == "regopy" and record["engine"]["version"]["regopy"]
        assert record["request"]["context"]["traceparent"].startswith(f"00-{row.trace_id}-")
        assert record["response"]["decision"] is (row.outcome in ("allowed", "partly_allowed"))
        if row.outcome == "error":
            assert json.loads(row.result_json) == {"error": "policy-engine-unavailable"}

    agency = [r for r in logged if entrypoint(r) == AGENCY]
    for row in agency:  # the case and its ground are the information sources
        info = adl(row)["information"]
        assert info["loket.case"]["id"] == row.case_id and "ground" in info["loket.case"]
        assert info["loket.agency_request"]["agency"] in ("cjib", "uwv")
    assert "request_type_not_allowed" in adl(agency[1])["response"]["context"]["reasons"]

    representation = [r for r in logged if entrypoint(r) == REPRESENTATION]
    gerrit = loket.pseudonymiser.pseudonym_for(BSN_ONDER_BEWIND)
    for row in representation:  # the register, kind, scope, when it was read and the clock
        record = adl(row)
        reg = record["information"]["loket.representation"]
        assert (reg["source"], reg["kind"], reg["scope"]) == ("ccbr", "bewindvoerder", ["financieel"])
        assert reg["checked_at"] and record["information"]["clock"]["date"]
        assert record["request"]["resource"] == {"type": "citizen", "id": gerrit,
                                                 "properties": {"domain": record["request"]["resource"]
                                                                ["properties"]["domain"]}}
    assert adl(representation[1])["response"]["context"]["reasons"] == ["out_of_scope"]

    # Each row is named by the audit record it committed with.
    named: set[str] = set()
    for s in loket.audit.iter_records():
        r = s.record
        if r.kind in (AuditEventKind.AGENCY_REQUEST_SENT, AuditEventKind.AGENCY_REQUEST_REFUSED):
            named.add(r.extra["decision_id"])
        if r.kind is AuditEventKind.REPRESENTATION_CHECKED:
            named.update(r.extra["decision_ids"].split(","))
    assert named == {r.decision_id for r in agency + representation}
    errors = [s.record for s in loket.audit.iter_records()
              if s.record.kind is AuditEventKind.REPRESENTATION_CHECKED and s.record.outcome == "error"]
    assert len(errors) == 1 and errors[0].extra["reasons"] == "policy-engine-unavailable"

    # No BSN in clear in the decision log.
    text = " ".join(r.input_json + r.result_json + (r.adl_json or "") for r in logged)
    assert BSN_ONDER_BEWIND not in text and BEWINDVOERDER_KVK not in text.replace(f"kvk-{BEWINDVOERDER_KVK}", "")


def test_replay_and_export_cover_agency_requests_and_representation(
        loket: Loket, mixed: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOKET_DATA_DIR", str(loket.settings.data_dir))
    logged = rows(loket)
    for kind in (AGENCY, REPRESENTATION):
        mine = [r for r in logged if entrypoint(r) == kind]
        allowed, denied, error = (next(r for r in mine if r.outcome == o) for o in ("allowed", "denied", "error"))
        for row in (allowed, denied):  # by trace id and by decision id
            r = runner.invoke(cli, ["policy", "replay", str(row.trace_id)])
            assert r.exit_code == 0, r.output
            body = json.loads(r.output)
            assert body["identical"] is True
            assert [(d["decision_id"], d["entrypoint"]) for d in body["decisions"]] == [(row.decision_id, kind)]
            r = runner.invoke(cli, ["policy", "replay", row.decision_id])
            assert r.exit_code == 0, r.output
            assert json.loads(r.output)["identical"] is True
        # An engine error has nothing to compare with: replay shows what the rule says now.
        r = runner.invoke(cli, ["policy", "replay", error.decision_id])
        assert r.exit_code == 0, r.output
        body = json.loads(r.output)
        assert body["identical"] is None and body["logged_error"] == "policy-engine-unavailable"
        assert body["replayed"]["allow"] in (True, False) and body["entrypoint"] == kind
        # Replay really evaluates that rule: a result that is not what it says now differs (exit 1).
        tampered = {"decision_id": denied.decision_id, "policy_revision": denied.policy_revision,
                    "input": json.loads(denied.input_json), "entrypoint": kind,
                    "result": {**json.loads(denied.result_json), "allow": True}}
        path = tmp_path / f"{kind}.json"
        path.write_text(json.dumps(tampered), "utf-8")
        assert runner.invoke(cli, ["policy", "replay", "--from-file", str(path)]).exit_code == 1
        path.write_text(json.dumps({**tampered, "result": json.loads(denied.result_json)}), "utf-8")
        assert runner.invoke(cli, ["policy", "replay", "--from-file", str(path)]).exit_code == 0

    out = tmp_path / "adl.jsonl"
    r = runner.invoke(cli, ["policy", "adl-export", "--out", str(out)])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in out.read_bytes().splitlines()]
    assert [x["decision_id"] for x in lines] == [r.decision_id for r in logged]
    assert [x["engine"]["configuration"]["entrypoint"] for x in lines] == [e for _, e, _ in mixed.expected]


def test_a_decision_row_commits_only_with_its_audit_record(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import text

    from gateway.dossier.decision_log import PendingDecision

    cm = bearer(token())
    case = open_case(client, token(), eva_bsn(sandbox), DEBT, loket=loket)
    open_case(client, token(), BSN_ONDER_BEWIND, DEBT, loket=loket)
    rep = bearer(token("citizen", sub=f"kvk-{BEWINDVOERDER_KVK}", kvk=BEWINDVOERDER_KVK, act_for=BSN_ONDER_BEWIND))
    calls: list[tuple[str, Any]] = [
        (f"/v1/cases/{case}/requests", {"type": "pause_collection", "agency": "cjib", "until_days": 30}),
        (f"/v1/cases/{case}/requests", {"type": "warm_handover", "agency": "uwv"}),
        ("/v1/me/consents", _consent("cjib", "boetes")),
        ("/v1/me/consents", _consent("gemeente_wmo", "gezondheid")),
    ]

    # The audit write fails: no decision-log row either (and nothing sent, nothing granted).
    with loket.db.begin() as conn:
        conn.execute(text("CREATE TRIGGER refuse_leaf BEFORE INSERT ON audit_records "
                          "BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END"))
    try:
        for url, body in calls:
            assert client.post(url, json=body, headers=rep if "me" in url else cm).status_code == 503
    finally:
        with loket.db.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_leaf"))
    assert rows(loket) == []

    # The decision-log write fails: no audit record either.
    def fail(self: PendingDecision, conn: Any) -> None:
        raise RuntimeError("decision log table is gone")

    monkeypatch.setattr(PendingDecision, "write", fail)
    for url, body in calls:
        assert client.post(url, json=body, headers=rep if "me" in url else cm).status_code == 503
    kinds = {s.record.kind for s in loket.audit.iter_records()}
    assert not kinds & {AuditEventKind.AGENCY_REQUEST_SENT, AuditEventKind.AGENCY_REQUEST_REFUSED,
                        AuditEventKind.REPRESENTATION_CHECKED, AuditEventKind.CONSENT_GRANTED}
    assert rows(loket) == []
