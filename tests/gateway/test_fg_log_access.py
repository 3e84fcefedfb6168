"""The privacy officer's own searches and exports are audit events too (NEN 7513)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.core.context import Loket
from tests.conftest import bearer
from tests.gateway.test_dossier_flow import eva_bsn


def _records(loket: Loket, kind: AuditEventKind) -> list[Any]:
    return [s.record for s in loket.audit.find(AuditFilter(kind=kind))]


def test_search_for_a_citizen_is_logged_under_that_citizen_without_the_bsn(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    bsn = eva_bsn(sandbox)
    fg = token(role="privacy_officer", sub="fg-1")
    r = client.post("/v1/fg/search", json={"bsn": bsn, "purpose": "student_in_crisis"}, headers=bearer(fg))
    assert r.status_code == 200, r.text
    [rec] = _records(loket, AuditEventKind.ACCESS_LOG_SEARCHED)
    assert rec.actor_sub == "fg-1" and rec.actor_role == "privacy_officer"
    assert rec.data_subject_id == loket.pseudonymiser.pseudonym_for(bsn)
    assert rec.extra["filter_purpose"] == "student_in_crisis"
    assert bsn.encode() not in loket.audit.get_record(loket.audit.find_index(rec.record_id)).leaf


def test_export_is_logged_with_its_format(loket: Loket, client: TestClient,
                                          token: Callable[..., str]) -> None:
    fg = token(role="privacy_officer", sub="fg-1")
    r = client.post("/v1/fg/export?format=csv", json={}, headers=bearer(fg))
    assert r.status_code == 200
    [rec] = _records(loket, AuditEventKind.ACCESS_LOG_EXPORTED)
    assert rec.extra["format"] == "csv" and rec.data_subject_id is None


def test_web_search_and_export_are_logged(loket: Loket, client: TestClient) -> None:
    import re

    page = client.get("/fg/inloggen")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, "login form has a CSRF token"
    form = {"csrf_token": csrf.group(1)}
    from gateway.web.officer import DEV_OFFICERS

    officer = DEV_OFFICERS[0][0]
    login = client.post("/fg/inloggen", data={**form, "officer": officer, "role": "privacy_officer"},
                        headers={"Origin": "http://testserver"}, follow_redirects=True)
    assert login.status_code == 200
    zoeken = client.get("/fg/zoeken")
    token_m = re.search(r'name="csrf_token" value="([^"]+)"', zoeken.text)
    assert token_m
    r = client.post("/fg/zoeken", data={"csrf_token": token_m.group(1), "purpose": "student_in_crisis"},
                    headers={"Origin": "http://testserver"})
    assert r.status_code == 200
    assert [x.actor_sub for x in _records(loket, AuditEventKind.ACCESS_LOG_SEARCHED)] == [officer]
    r = client.post("/fg/export", data={"csrf_token": token_m.group(1), "format": "jsonl"},
                    headers={"Origin": "http://testserver"})
    assert r.status_code == 200
    assert [x.extra["format"] for x in _records(loket, AuditEventKind.ACCESS_LOG_EXPORTED)] == ["jsonl"]


def test_every_audit_event_kind_has_a_dutch_label_for_the_pages() -> None:
    from gateway.dossier.explain import KIND_LABELS_NL

    assert {k.value for k in AuditEventKind} <= set(KIND_LABELS_NL)


def test_consent_request_on_someone_elses_case_is_404_and_logged(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    from tests.gateway.test_dossier_flow import open_case

    case_id = open_case(client, token(sub="cm-001"), eva_bsn(sandbox))
    other = bearer(token(sub="cm-002"))
    r = client.post(f"/v1/cases/{case_id}/consent-requests", headers=other,
                    json={"categories": ["duo.studieschuld"], "message": "Mag ik uw studieschuld zien?"})
    assert r.status_code == 404
    assert client.get(f"/v1/cases/{case_id}/consent-requests", headers=other).status_code == 404
    denied = [s.record for s in loket.audit.find(AuditFilter(actor_sub="cm-002"))]
    assert [d.kind for d in denied] == [AuditEventKind.ACCESS_DENIED] * 2


def test_the_fgs_reads_are_logged_and_a_citizen_sees_the_search_for_them(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    from tests import cases

    bsn = eva_bsn(sandbox)
    cm, fg = token(sub="cm-001"), bearer(token(role="privacy_officer", sub="fg-1"))
    case_id = cases.open_case(client, cm, bsn, "crisis_noodtoegang")
    bg = client.post(f"/v1/cases/{case_id}/dossier/break-glass", headers=bearer(cm),
                     json={"justification": "Dringend: uitzetting morgen, de burger is onbereikbaar."})
    assert bg.status_code == 200, bg.text
    (item,) = client.get("/v1/fg/break-glass", headers=fg).json()["items"]
    assert client.get(f"/v1/fg/break-glass/{item['id']}", headers=fg).status_code == 200
    assert client.get("/v1/fg/patterns", headers=fg).status_code == 200
    client.post("/v1/fg/search", json={"bsn": bsn}, headers=fg)
    viewed = _records(loket, AuditEventKind.ACCESS_LOG_VIEWED)
    assert [v.extra["viewed"] for v in viewed] == ["break_glass", "patterns"]
    assert viewed[0].data_subject_id == loket.pseudonymiser.pseudonym_for(bsn) and viewed[1].data_subject_id is None
    mine = client.get("/v1/me/accesses", headers=bearer(token(role="citizen", sub="burger-eva", bsn=bsn))).json()
    actions = [a["action"] for a in mine["items"]]
    assert "De functionaris gegevensbescherming heeft uw gegevens in het logboek bekeken" in actions, actions
