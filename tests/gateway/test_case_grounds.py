"""A case exists only with a ground the casemanager did not give themself (issue 16).

Three grounds lead to a case — the citizen's aanmelding (API and the "Ik wil hulp" page), a
vroegsignalering signal from the schuldhulp agency, a coordinator's toewijzing — and every way
around them is refused with a record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.core.context import Loket
from tests import cases
from tests.conftest import bearer
from tests.web.conftest import eva_bsn, login_citizen, post_form

PURPOSE = "student_in_crisis"


def denied(loket: Loket, actor: str) -> list[Any]:
    return [s.record for s in loket.audit.find(AuditFilter(kind=AuditEventKind.ACCESS_DENIED))
            if s.record.actor_sub == actor]


def test_a_casemanager_cannot_open_a_case_for_a_bsn_of_their_choice(
        client: TestClient, loket: Loket, sandbox: Any, token: Callable[..., str]) -> None:
    cm = bearer(token(sub="cm-evil"))
    only_bsn = client.post("/v1/cases", json={"burgerservicenummer": eva_bsn(sandbox), "purpose": "wmo_na_ziekte"},
                           headers=cm)
    assert only_bsn.status_code == 403 and only_bsn.json()["type"].endswith("/wrong-role"), only_bsn.text
    as_if_coordinator = client.post("/v1/cases", json=cases.toewijzing(eva_bsn(sandbox), PURPOSE, "cm-evil"),
                                    headers=cm)
    assert as_if_coordinator.status_code == 403
    assert as_if_coordinator.json()["type"].endswith("/wrong-role")
    assert loket.audit.count(AuditFilter(kind=AuditEventKind.CASE_OPENED)) == 0
    assert len(denied(loket, "cm-evil")) == 2, "both refusals are in the log"


def test_toewijzing_opens_a_case_for_the_assigned_casemanager_of_the_team(
        client: TestClient, loket: Loket, sandbox: Any, token: Callable[..., str]) -> None:
    r = client.post("/v1/cases", json=cases.toewijzing(eva_bsn(sandbox), PURPOSE, "cm-001"),
                    headers=cases.coordinator_headers(client))
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["casemanager"] == "cm-001" and case["ground_type"] == "toewijzing" and case["team"] == "team-centrum"
    assert client.get(f"/v1/cases/{case['id']}/dossier", headers=bearer(token(sub="cm-001"))).status_code == 200
    other_team = bearer(token(sub="cm-001", team="team-noord"))
    assert client.get(f"/v1/cases/{case['id']}/dossier", headers=other_team).status_code == 404
    (opened,) = [s.record for s in loket.audit.find(AuditFilter(kind=AuditEventKind.CASE_OPENED))]
    assert opened.actor_sub == cases.COORDINATOR and opened.actor_role == "coordinator"
    assert opened.extra["ground_type"] == "toewijzing" and opened.extra["casemanager"] == "cm-001"
    assert cases.REASON not in json.dumps(opened.to_dict()), "the written reason is hashed, never logged"


def test_aanmelding_through_the_api_leads_to_a_case(
        client: TestClient, loket: Loket, sandbox: Any, token: Callable[..., str]) -> None:
    citizen = bearer(token(role="citizen", sub="burger-eva", bsn=eva_bsn(sandbox)))
    made = client.post("/v1/me/aanmeldingen", json={"purpose": PURPOSE, "message": "Ik ben ziek."},
                       headers=citizen)
    assert made.status_code == 201, made.text
    co = cases.coordinator_headers(client)
    waiting = client.get("/v1/aanmeldingen", headers=co).json()
    assert [a["id"] for a in waiting] == [made.json()["id"]]
    assert eva_bsn(sandbox) not in json.dumps(waiting), "a coordinator sees no BSN"
    body = {"ground": {"type": "aanmelding", "id": made.json()["id"], "casemanager": "cm-002"}}
    r = client.post("/v1/cases", json=body, headers=co)
    assert r.status_code == 201, r.text
    assert r.json()["purpose"] == PURPOSE and r.json()["ground_type"] == "aanmelding"
    again = client.post("/v1/cases", json=body, headers=co)
    assert again.status_code == 409, "one aanmelding, one case"
    assert client.get("/v1/aanmeldingen", headers=co).json() == []
    assert client.get("/v1/me/aanmeldingen", headers=citizen).json()[0]["status"] == "assigned"
    assert client.get(f"/v1/cases/{r.json()['id']}/dossier", headers=bearer(token(sub="cm-002"))).status_code == 200


def test_aanmelding_through_the_citizen_page_leads_to_a_case(
        client: TestClient, loket: Loket, sandbox: Any) -> None:
    web = client
    login_citizen(web, eva_bsn(sandbox))
    assert "Ik wil hulp" in web.get("/burger").text
    r = post_form(web, "/burger/hulp", "/burger/hulp", {"purpose": PURPOSE, "message": "Ik kom er niet uit."})
    assert r.status_code == 303
    assert "wij zoeken een casemanager" in web.get("/burger/hulp").text.lower()
    (a,) = web.get("/v1/aanmeldingen", headers=cases.coordinator_headers(web)).json()
    case = web.post("/v1/cases", json={"ground": {"type": "aanmelding", "id": a["id"], "casemanager": "cm-001"}},
                    headers=cases.coordinator_headers(web))
    assert case.status_code == 201, case.text
    assert "een casemanager helpt u" in web.get("/burger/hulp").text


def test_a_signal_from_the_schuldhulp_agency_leads_to_a_case(
        client: TestClient, loket: Loket, token: Callable[..., str]) -> None:
    co = cases.coordinator_headers(client)
    imported = client.post("/v1/signals/import", headers=co)
    assert imported.status_code == 200, imported.text
    signals = imported.json()
    assert signals and all(s["status"] == "open" for s in signals)
    assert loket.audit.count(AuditFilter(kind=AuditEventKind.SIGNAL_RECEIVED)) == len(signals)
    assert client.post("/v1/signals/import", headers=co).json() == [], "importing twice stores each signal once"
    r = client.post("/v1/cases", headers=co, json={
        "purpose": "schuldhulp_intake", "ground": {"type": "signaal", "id": signals[0]["id"], "casemanager": "cm-003"}})
    assert r.status_code == 201, r.text
    assert r.json()["ground_type"] == "signaal"
    assert len(client.get("/v1/signals", headers=co).json()) == len(signals) - 1
    assert client.get(f"/v1/cases/{r.json()['id']}/dossier", headers=bearer(token(sub="cm-003"))).status_code == 200


@pytest.mark.parametrize(("body", "status", "code"), [
    (lambda bsn: cases.toewijzing(bsn, PURPOSE, cases.COORDINATOR), 403, "self-assignment"),
    (lambda bsn: cases.toewijzing(bsn, PURPOSE, reason="kort"), 400, "reason-required"),
    (lambda bsn: cases.toewijzing(bsn, "vroegsignalering_achterstand"), 422, "ground-not-allowed"),
    (lambda bsn: {"ground": {"type": "aanmelding", "id": "00000000-0000-4000-8000-000000000000",
                             "casemanager": "cm-001"}}, 404, "not-found"),
    (lambda bsn: cases.toewijzing(bsn, PURPOSE, casemanager="999 99 4001"), 400, "bsn-in-free-text"),
    (lambda bsn: cases.toewijzing(bsn, PURPOSE, casemanager="<b>cm-1</b>"), 400, "bad-casemanager"),
])
def test_a_bad_ground_is_refused_with_a_record(client: TestClient, loket: Loket, sandbox: Any,
                                               body: Callable[[str], dict[str, Any]], status: int,
                                               code: str) -> None:
    r = client.post("/v1/cases", json=body(eva_bsn(sandbox)), headers=cases.coordinator_headers(client))
    assert r.status_code == status, r.text
    assert r.json()["type"].endswith(f"/{code}")
    assert loket.audit.count(AuditFilter(kind=AuditEventKind.CASE_OPENED)) == 0
    assert [d.outcome for d in denied(loket, cases.COORDINATOR)] == [code]


def test_a_coordinator_cannot_read_a_dossier(client: TestClient, loket: Loket, sandbox: Any,
                                            token: Callable[..., str]) -> None:
    case_id = cases.open_case(client, token(sub="cm-001"), eva_bsn(sandbox), PURPOSE)
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=cases.coordinator_headers(client))
    assert r.status_code == 403
    assert loket.audit.count(AuditFilter(kind=AuditEventKind.DOSSIER_READ)) == 0
    assert denied(loket, cases.COORDINATOR), "the attempt is recorded"


def test_break_glass_on_a_purpose_without_one_is_a_recorded_403(
        client: TestClient, loket: Loket, sandbox: Any, token: Callable[..., str]) -> None:
    cm = token(sub="cm-001")
    case_id = cases.open_case(client, cm, eva_bsn(sandbox), PURPOSE)
    r = client.post(f"/v1/cases/{case_id}/dossier/break-glass", headers=bearer(cm),
                    json={"justification": "Dringend: uitzetting morgen, de burger is onbereikbaar."})
    assert r.status_code == 403 and r.json()["type"].endswith("/break-glass-refused")
    (refused,) = [s.record for s in loket.audit.find(AuditFilter(kind=AuditEventKind.DOSSIER_REFUSED))]
    assert refused.extra["break_glass_requested"] == "refused" and not refused.disclosed
    assert loket.audit.count(AuditFilter(kind=AuditEventKind.DOSSIER_BREAK_GLASS)) == 0


def test_any_user_id_a_token_may_carry_can_be_assigned(client: TestClient, sandbox: Any,
                                                       token: Callable[..., str]) -> None:
    """The assignee is checked by the token subject's own rule (identity/auth.is_user_id), so a
    casemanager whose identity provider issues ``urn:…|…`` subjects can be given a case and read it."""
    sub = "urn:nl:gemeente:0363|cm+7"
    r = client.post("/v1/cases", json=cases.toewijzing(eva_bsn(sandbox), PURPOSE, casemanager=sub),
                    headers=cases.coordinator_headers(client))
    assert r.status_code == 201, r.text
    assert client.get(f"/v1/cases/{r.json()['id']}/dossier", headers=bearer(token(sub=sub))).status_code == 200
