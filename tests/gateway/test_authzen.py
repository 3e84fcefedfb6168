"""The AuthZEN evaluation endpoint: Loket's policy for another gateway, logged like a dossier."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.core.context import Loket
from gateway.core.errors import PolicyEngineError
from gateway.core.models import LoggedDecisionRow
from gateway.register import load_register
from tests.conftest import bearer
from tests.gateway.test_dossier_flow import PURPOSE, eva_bsn, open_case

URL = "/access/v1/evaluation"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def ask(case_id: str, sub: str = "cm-001", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": {"type": "casemanager", "id": sub},
        "resource": {"type": "dossier", "id": case_id},
        "action": {"name": "dossier:read"},
        "context": {"time": "2026-12-01T10:00:00Z", "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"},
    }
    for key, value in extra.items():
        body[key] = value
    return body


def decision_rows(loket: Loket) -> list[LoggedDecisionRow]:
    with loket.sessions() as session:
        return list(session.scalars(select(LoggedDecisionRow).order_by(LoggedDecisionRow.created_at)))


def test_a_casemanager_s_gateway_gets_the_policy_s_answer_and_it_is_logged(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    r = client.post(URL, headers=bearer(tok), json=ask(case_id))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] is True
    ctx = body["context"]
    assert ctx["outcome"] == "partly_allowed" and ctx["purpose"] == PURPOSE
    granted = {(g["agency"], g["category"]) for g in ctx["granted"]}
    assert ("brp", "identiteit") in granted and all(g["basis"]["type"] for g in ctx["granted"])
    assert any(x["code"].startswith("consent") and "toestemming" in x["reason_nl"].lower()
               for x in ctx["refused"])
    assert "value" not in json.dumps(body)  # an answer about data, never data

    (row,) = decision_rows(loket)
    assert row.decision_id == ctx["decision_id"] and row.trace_id == TRACE
    adl = json.loads(row.adl_json or "{}")
    assert adl["endpoint"] == "evaluation" and adl["response"]["decision"] is True
    assert adl["request"]["action"]["properties"]["processing_activity_id"] == ctx["processing_activity_id"]

    (record,) = [s.record for s in loket.audit.iter_records(AuditFilter(kind=AuditEventKind.AUTHZEN_EVALUATED))]
    assert record.decision_id == row.decision_id and record.trace_id == TRACE
    assert record.foreign_operation is not None and record.foreign_operation.span_id == "00f067aa0ba902b7"
    assert record.disclosed == ()  # nothing was disclosed
    assert record.processing_activity_id == load_register().for_kind("authzen:evaluated").id  # type: ignore[union-attr]
    assert record.extra["caller_time"] == "2026-12-01T10:00:00Z"

    # The citizen sees that another gateway asked about their data.
    citizen = token(role="citizen", sub="burger-eva", bsn=eva_bsn(sandbox))
    kinds = [a["kind"] for a in client.get("/v1/me/accesses", headers=bearer(citizen)).json()["items"]]
    assert "authzen:evaluated" in kinds


def test_the_evaluation_grants_what_the_dossier_would(loket: Loket, client: TestClient, sandbox: Any,
                                                      token: Callable[..., str]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    evaluated = client.post(URL, headers=bearer(tok), json=ask(case_id)).json()["context"]["granted"]
    dossier = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).json()
    assert {(f["agency"], f["category"], f["field"]) for f in dossier["fields"]} <= {
        (g["agency"], g["category"], f) for g in evaluated for f in g["fields"]}


def test_only_consent_categories_are_a_false_decision(loket: Loket, client: TestClient, sandbox: Any,
                                                      token: Callable[..., str]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    body = ask(case_id, resource={"type": "dossier", "id": case_id,
                                  "properties": {"categories": ["duo.studieschuld"]}})
    r = client.post(URL, headers=bearer(tok), json=body)
    assert r.status_code == 200, r.text
    assert r.json()["decision"] is False and r.json()["context"]["outcome"] == "denied"
    assert [x.outcome for x in decision_rows(loket)] == ["denied"]


@pytest.mark.parametrize("change, status", [
    ({"subject": {"type": "casemanager", "id": "cm-other"}}, 403),  # asking about someone else
    ({"subject": {"type": "citizen", "id": "cm-001"}}, 403),
    ({"resource": {"type": "account", "id": "x"}}, 400),
    ({"action": {"name": "can_delete"}}, 400),
    ({"subject": None}, 400),
])
def test_requests_this_pdp_does_not_decide_are_refused_without_a_decision(
        change: dict[str, Any], status: int, loket: Loket, client: TestClient, sandbox: Any,
        token: Callable[..., str]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    body = {k: v for k, v in ask(case_id, **change).items() if v is not None}
    r = client.post(URL, headers=bearer(tok), json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert decision_rows(loket) == []


def test_authentication_and_role_are_required(client: TestClient, token: Callable[..., str]) -> None:
    assert client.post(URL, json=ask("x")).status_code == 401
    assert client.post(URL, headers=bearer(token(role="citizen", sub="b-1", bsn="999993847")),
                       json=ask("x")).status_code == 403


def test_someone_else_s_case_is_an_audited_refusal(loket: Loket, client: TestClient, sandbox: Any,
                                                  token: Callable[..., str]) -> None:
    case_id = open_case(client, token(sub="cm-002"), eva_bsn(sandbox))
    r = client.post(URL, headers=bearer(token()), json=ask(case_id))
    assert r.status_code in (403, 404)
    assert decision_rows(loket) == []
    assert loket.audit.count(AuditFilter(kind=AuditEventKind.ACCESS_DENIED, actor_sub="cm-001")) == 1


def test_an_engine_error_is_a_503_and_an_error_decision(loket: Loket, client: TestClient, sandbox: Any,
                                                        token: Callable[..., str]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))

    class Down:
        revision = loket.policy.revision

        def evaluate(self, _input: Any) -> Any:
            raise PolicyEngineError("engine down")

    real, loket.policy = loket.policy, Down()  # type: ignore[assignment]
    try:
        r = client.post(URL, headers=bearer(tok), json=ask(case_id))
    finally:
        loket.policy = real
    assert r.status_code == 503
    assert [x.outcome for x in decision_rows(loket)] == ["error"]


def test_pdp_metadata_points_at_the_endpoint(client: TestClient) -> None:
    meta = client.get("/.well-known/authzen-configuration").json()
    assert meta["access_evaluation_endpoint"].endswith(URL)
