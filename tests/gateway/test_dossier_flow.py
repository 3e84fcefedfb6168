"""The dossier spine end to end: real HTTP, real sandbox agencies, real policy, real log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from audit.log import AuditFilter
from gateway.app import create_app
from gateway.core.context import Loket
from gateway.core.errors import AuditWriteError, PolicyEngineError
from tests import cases
from tests.cli import use_gateway_settings
from tests.conftest import bearer
from tests.servers import serve

PURPOSE = "student_in_crisis"
EVA_PURPOSE_CONSENT_CATEGORY = ("duo", "studieschuld")


def scope_of(loket: Loket, purpose: str) -> dict[tuple[str, str], dict[str, Any]]:
    scope = loket.purposes[purpose]["scope"]
    return {(a, c): spec for a, cats in scope.items() for c, spec in cats.items()}


def eva_bsn(sandbox: Any) -> str:
    from gateway.demo import _demo_citizen

    return _demo_citizen(sandbox.citizens)[1]


def open_case(client: Any, tok: str, bsn: str, purpose: str = PURPOSE, loket: Any = None) -> str:
    return cases.open_case(client, tok, bsn, purpose, loket=loket)


def test_casemanager_gets_only_allowed_fields_over_http(loket: Loket, sandbox: Any,
                                                        token: Callable[..., str]) -> None:
    tok = token()
    scope = scope_of(loket, PURPOSE)
    by_law = {k for k, spec in scope.items() if spec.get("basis")}
    with serve(create_app(loket=loket)) as base, httpx.Client(base_url=base) as http:
        case_id = open_case(http, tok, eva_bsn(sandbox), loket=loket)
        r = http.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["fields"], "a legal basis covers BRP and DUO study finance: data must come back"
    for f in body["fields"]:
        assert (f["agency"], f["category"]) in by_law
        assert f["field"] in scope[(f["agency"], f["category"])]["fields"]
        assert f["source"] and f["retrieved_at"]
        assert f["basis"]["type"] == "legal_basis"
    refused = {(x["agency"], x["category"]): x for x in body["refused"]}
    consent_refusal = refused[EVA_PURPOSE_CONSENT_CATEGORY]
    assert consent_refusal["code"].startswith("consent")
    assert "toestemming" in consent_refusal["reason"].lower()
    assert body["decision_id"] and body["policy_revision"]

    # The audit record exists, names what was disclosed, and the log verifies.
    record = loket.audit.get_record(body["audit"]["index"]).record
    assert record.record_id == body["audit"]["record_id"]
    assert record.decision_id == body["decision_id"]
    disclosed = {(d.agency, d.category, f) for d in record.disclosed for f in d.fields}
    assert disclosed == {(f["agency"], f["category"], f["field"]) for f in body["fields"]}
    assert {(x.agency, x.category) for x in record.refused} >= {EVA_PURPOSE_CONSENT_CATEGORY}
    assert record.data_subject_id and len(record.data_subject_id) == 64


def test_audit_record_is_committed_before_the_response(loket: Loket, client: TestClient,
                                                       sandbox: Any, token: Callable[..., str]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    seen: list[int] = []
    real_append = loket.audit.append_group  # a dossier appends its span and child spans

    def spy(records: Any, **kw: Any) -> Any:
        receipts = real_append(records, **kw)
        # Read them back through a fresh connection: durable, not just buffered.
        for receipt, record in zip(receipts, records, strict=True):
            seen.append(receipt.index)
            assert loket.audit.get_record(receipt.index).record.record_id == record.record_id
        return receipts

    loket.audit.append_group = spy  # type: ignore[method-assign]
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 200
    assert r.json()["audit"]["index"] in seen


def test_other_casemanager_gets_404_and_the_attempt_is_logged(loket: Loket, client: TestClient,
                                                             sandbox: Any, token: Callable[..., str]) -> None:
    case_id = open_case(client, token(sub="cm-001"), eva_bsn(sandbox))
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(token(sub="cm-002")))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "fields" not in r.json()
    denied = [s.record for s in loket.audit.find(AuditFilter(actor_sub="cm-002"))]
    assert any(rec.kind.value == "access:denied" for rec in denied)
    assert client.get(f"/v1/cases/{case_id}", headers=bearer(token(sub="cm-002"))).status_code == 404


@pytest.mark.parametrize("role", ["citizen", "privacy_officer"])
def test_other_roles_cannot_open_cases_or_read_dossiers(client: TestClient, sandbox: Any,
                                                        token: Callable[..., str], role: str) -> None:
    kw = {"bsn": eva_bsn(sandbox)} if role == "citizen" else {}
    tok = token(role=role, sub="x-1", **kw)
    r = client.post("/v1/cases", json=cases.toewijzing(eva_bsn(sandbox), PURPOSE), headers=bearer(tok))
    assert r.status_code == 403


@pytest.mark.parametrize("header", [
    None, "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer " + "a" * 10_000,
])
def test_bad_or_missing_token_gets_401_problem(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    r = client.get("/v1/cases", headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].startswith("https://loket.example/problems/")


def test_token_for_another_audience_gets_401(loket: Loket, client: TestClient) -> None:
    from gateway.identity.auth import mint_token

    assert loket.dev_issuer_key is not None
    tok = mint_token(loket.dev_issuer_key, issuer=loket.settings.jwt_issuer, audience="other",
                     sub="cm-001", role="casemanager")
    assert client.get("/v1/cases", headers=bearer(tok)).status_code == 401


@pytest.mark.parametrize("bsn", ["123456789", "000000000", "99999384", "9999938470", "99999384a",
                                 "", "999993848"])
def test_invalid_bsn_gets_400_without_echoing_it(client: TestClient, token: Callable[..., str],
                                                 bsn: str) -> None:
    r = client.post("/v1/cases", json=cases.toewijzing(bsn, PURPOSE), headers=cases.coordinator_headers(client))
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    if bsn:
        assert bsn not in r.text


def test_unknown_purpose_gets_400(client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    r = client.post("/v1/cases", json=cases.toewijzing(eva_bsn(sandbox), "nieuwsgierigheid"),
                    headers=cases.coordinator_headers(client))
    assert r.status_code == 400
    assert r.json()["type"].endswith("unknown-purpose")


def test_policy_engine_error_gives_503_and_no_data(loket: Loket, client: TestClient, sandbox: Any,
                                                   token: Callable[..., str]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))

    def broken(_input: Any) -> Any:
        raise PolicyEngineError("engine crashed")

    loket.policy.evaluate = broken  # type: ignore[method-assign]
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "fields" not in r.json()
    errors = [s.record for s in loket.audit.find(AuditFilter(case_id=case_id))
              if s.record.kind.value == "dossier:error"]
    assert len(errors) == 1 and errors[0].status_code == 2 and not errors[0].disclosed


@pytest.mark.parametrize("answer", [
    None, [], "allow", {"allow": True},
    {"allow": True, "purpose": PURPOSE, "purpose_known": True, "break_glass": False,
     "review_required": False, "refusals": [], "reasons": [],
     "grants": [{"agency": "uwv", "category": "inkomen", "fields": ["medisch.beperkingen"],
                 "basis": {"type": "legal_basis", "id": "x"}}]},
])
def test_unusable_decision_fails_closed(loket: Loket, client: TestClient, sandbox: Any,
                                        token: Callable[..., str], answer: Any) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    loket.policy.evaluate = lambda _input: answer  # type: ignore[method-assign]
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 503
    assert "fields" not in r.json()


def test_audit_write_failure_gives_503_and_no_data(loket: Loket, client: TestClient, sandbox: Any,
                                                   token: Callable[..., str]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))

    def fail(_record: Any, **_kw: Any) -> Any:
        raise AuditWriteError("disk full")

    loket.audit.append_group = fail  # type: ignore[method-assign]
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 503
    body = r.json()
    assert "fields" not in body and body["type"].endswith("audit-unavailable")


def test_revoked_consent_blocks_next_request(loket: Loket, client: TestClient, sandbox: Any,
                                             token: Callable[..., str]) -> None:
    bsn = eva_bsn(sandbox)
    cm, citizen = token(), token(role="citizen", sub="burger-eva", bsn=bsn)
    case_id = open_case(client, cm, bsn)
    agency, category = EVA_PURPOSE_CONSENT_CATEGORY
    r = client.post("/v1/me/consents", headers=bearer(citizen), json={
        "purpose": PURPOSE, "agency": agency, "category": category,
        "team": "team-centrum", "valid_until": (datetime.now(UTC) + timedelta(days=30)).isoformat(), "explicit": True})
    assert r.status_code == 201, r.text
    consent_id = r.json()["id"]

    body = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(cm)).json()
    granted = [f for f in body["fields"] if (f["agency"], f["category"]) == (agency, category)]
    assert granted and all(f["basis"] == {"type": "consent", "id": consent_id, "citation": None,
                                          "verified": None} or f["basis"]["id"] == consent_id
                           for f in granted)

    assert client.delete(f"/v1/me/consents/{consent_id}", headers=bearer(citizen)).status_code == 200
    body = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(cm)).json()
    assert not [f for f in body["fields"] if (f["agency"], f["category"]) == (agency, category)]
    assert (agency, category) in {(x["agency"], x["category"]) for x in body["refused"]}
    pseudonym = loket.pseudonymiser.pseudonym_for(bsn)
    kinds = [s.record.kind.value for s in loket.audit.find(AuditFilter(data_subject_id=pseudonym))]
    assert "consent:granted" in kinds and "consent:revoked" in kinds


def test_no_bsn_in_database_or_logs(loket: Loket, client: TestClient, sandbox: Any,
                                    token: Callable[..., str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    bsn = eva_bsn(sandbox)
    tok = token()
    case_id = open_case(client, tok, bsn)
    assert client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).status_code == 200
    client.post("/v1/cases", json=cases.toewijzing(bsn[:-1] + "0", PURPOSE), headers=cases.coordinator_headers(client))
    loket.db.dispose()
    files = [p for p in loket.settings.data_dir.iterdir() if p.name.startswith("loket.db")]
    assert files
    for p in files:
        assert bsn.encode() not in p.read_bytes(), p.name
    assert bsn not in caplog.text
    for stored in loket.audit.iter_records():
        assert bsn.encode() not in stored.leaf


def test_loket_audit_verify_passes_after_the_flow_and_fails_after_tampering(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from gateway.cli import app as cli

    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    assert client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).status_code == 200
    loket.audit.checkpoint(force=True)
    use_gateway_settings(monkeypatch, loket.settings)
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output

    from sqlalchemy import text

    with loket.db.begin() as conn:  # an insider edits one record in place
        conn.execute(text("UPDATE audit_records SET leaf = CAST(replace(CAST(leaf AS TEXT), "
                          "'dossier:read', 'dossier:refused') AS BLOB) "
                          "WHERE kind = 'dossier:read'"))
    bad = runner.invoke(cli, ["audit", "verify"])
    assert bad.exit_code == 1, bad.output
    assert "index" in bad.output.lower() or "record" in bad.output.lower()


def test_a_logged_decision_replays_identically_from_the_database(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from gateway.cli import app as cli

    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    decision_id = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).json()["decision_id"]
    monkeypatch.setenv("LOKET_DATA_DIR", str(loket.settings.data_dir))
    runner = CliRunner()
    r = runner.invoke(cli, ["policy", "replay", decision_id])
    assert r.exit_code == 0, r.output
    assert "identical" in r.output.lower()

    from sqlalchemy import text

    with loket.db.begin() as conn:  # a logged result that the revision would not give
        conn.execute(text("UPDATE decision_log SET result_json = replace(result_json, :a, :b) "
                          "WHERE decision_id = :d"),
                     {"a": '"allow":true', "b": '"allow":false', "d": decision_id})
    r = runner.invoke(cli, ["policy", "replay", decision_id])
    assert r.exit_code == 1, r.output
