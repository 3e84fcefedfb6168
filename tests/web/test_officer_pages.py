"""The privacy officer's pages and API: search by BSN, export, break-glass review, integrity."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.core.context import Loket
from tests.conftest import bearer
from tests.web.conftest import csrf_of, eva_bsn, login_citizen, login_fg, other_bsn, post_form

JUSTIFICATION = "Dreigende uitzetting morgen, de burger is in het ziekenhuis en niet bereikbaar."


def test_fg_pages_need_the_fg_role(web: TestClient, sandbox: Any) -> None:
    assert web.get("/fg/zoeken", follow_redirects=False).headers["location"] == "/fg/inloggen"
    login_citizen(web, eva_bsn(sandbox))  # a citizen session is not an FG session
    assert web.get("/fg/noodtoegang", follow_redirects=False).status_code == 303


def test_fg_api_refuses_other_roles(web: TestClient, token: Callable[..., str]) -> None:
    r = web.post("/v1/fg/search", json={}, headers=bearer(token(role="casemanager")))
    assert r.status_code == 403


def test_fg_search_by_bsn_pseudonymises_and_never_keeps_the_bsn(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket, token: Callable[..., str]) -> None:
    cm = casemanager()
    eva, other = eva_bsn(sandbox), other_bsn(sandbox)
    cm.dossier(cm.open(eva))
    cm.dossier(cm.open(other))
    login_fg(web)
    r = post_form(web, "/fg/zoeken", "/fg/zoeken", {"bsn": eva})
    assert r.status_code == 200
    pseudonym = loket.pseudonymiser.pseudonym_for(eva)
    assert pseudonym in r.text and eva not in r.text
    assert loket.pseudonymiser.pseudonym_for(other) not in r.text
    assert r.text.count('href="/fg/records/') == 2  # case opened + dossier read, Eva's only

    api = web.post("/v1/fg/search", json={"bsn": eva}, headers=bearer(token(role="privacy_officer", sub="fg-1")))
    assert api.status_code == 200
    body = api.json()
    assert body["data_subject_id"] == pseudonym and eva not in api.text
    assert {rec["record"]["data_subject_id"] for rec in body["items"]} == {pseudonym}
    # The BSN is nowhere in the log or the gateway's tables.
    with loket.db.connect() as conn:
        for table in ("audit_records", "cases", "consents", "consent_requests", "break_glass_events"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                assert eva not in repr(row)


def test_fg_search_filters_by_agency_casemanager_and_pages_on(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket, token: Callable[..., str]) -> None:
    eva = eva_bsn(sandbox)
    a, b = casemanager("cm-a"), casemanager("cm-b")
    for _ in range(3):
        a.dossier(a.open(eva))
    b.dossier(b.open(eva))  # the coordinator opened the case; cm-b's own act is the look
    headers = bearer(token(role="privacy_officer", sub="fg-1"))
    by_cm = web.post("/v1/fg/search", json={"casemanager": "cm-b"}, headers=headers).json()["items"]
    assert {r["record"]["actor_sub"] for r in by_cm} == {"cm-b"} and len(by_cm) == 1
    duo = web.post("/v1/fg/search", json={"agency": "duo"}, headers=headers).json()["items"]
    assert len(duo) == 4 and all(r["record"]["kind"] == "dossier:read" for r in duo)
    first = web.post("/v1/fg/search", json={"limit": 2}, headers=headers).json()
    second = web.post("/v1/fg/search", json={"limit": 2, "cursor": first["next_cursor"]}, headers=headers).json()
    seen = [r["index"] for r in first["items"] + second["items"]]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 4


def test_export_has_logboek_fields_for_the_same_selection(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket) -> None:
    cm = casemanager()
    eva = eva_bsn(sandbox)
    cm.dossier(cm.open(eva))
    cm.dossier(cm.open(other_bsn(sandbox)))
    login_fg(web)
    pseudonym = loket.pseudonymiser.pseudonym_for(eva)
    r = post_form(web, "/fg/zoeken", "/fg/export", {"data_subject_id": pseudonym, "format": "csv"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    for col in ("trace_id", "span_id", "name", "start_time", "end_time", "status_code",
                "dpl.core.processing_activity_id", "dpl.core.data_subject_id", "dpl.core.data_subject_id_type"):
        assert all(row[col] for row in rows), col
    assert {row["dpl.core.data_subject_id"] for row in rows} == {pseudonym} and len(rows) == 2

    r = post_form(web, "/fg/zoeken", "/fg/export", {"data_subject_id": pseudonym, "format": "jsonl"})
    lines = [json.loads(x) for x in r.text.splitlines()]
    # The CSV export before it was about Eva's log too, so it is in her selection now (NEN 7513);
    # an export never contains its own record.
    assert lines[0]["complete"] is False and len(lines) == 4
    assert [line["record"]["kind"] for line in lines[1:]][-1] == "access_log:exported"
    assert all(line["record"]["data_subject_id"] == pseudonym and len(line["record"]["trace_id"]) == 32
               for line in lines[1:])


def test_break_glass_review_flow(web: TestClient, new_client: Callable[[], TestClient], sandbox: Any,
                                 casemanager: Any, loket: Loket, token: Callable[..., str]) -> None:
    eva = eva_bsn(sandbox)
    cm = casemanager()
    case = cm.open(eva, purpose="crisis_noodtoegang")
    result = cm.break_glass(case, JUSTIFICATION)
    assert result["break_glass"] is True
    login_fg(web)
    queue = web.get("/fg/noodtoegang").text
    assert JUSTIFICATION in queue
    event_id = queue.split('href="/fg/noodtoegang/', 1)[1].split('"', 1)[0]
    detail = web.get(f"/fg/noodtoegang/{event_id}").text
    assert "Uw oordeel" in detail and f"/fg/records/{result['audit']['index']}" in detail

    r = post_form(web, f"/fg/noodtoegang/{event_id}", f"/fg/noodtoegang/{event_id}",
                  {"verdict": "not_justified", "note": "Geen spoed: de zitting is pas over een maand."})
    assert r.headers["location"] == "/fg/noodtoegang"
    assert "Wacht op beoordeling (0)" in web.get("/fg/noodtoegang").text
    (reviewed,) = [s.record for s in loket.audit.find(AuditFilter(kind=AuditEventKind.BREAK_GLASS_REVIEWED))]
    assert reviewed.actor_sub == "fg-001" and reviewed.case_id == case
    assert reviewed.extra["verdict"] == "not_justified" and "zitting" not in json.dumps(reviewed.to_dict())

    again = web.post(f"/v1/fg/break-glass/{event_id}/reviews", json={"verdict": "justified", "note": "toch wel"},
                     headers=bearer(token(role="privacy_officer", sub="fg-2")))
    assert again.status_code == 409

    citizen = new_client()
    login_citizen(citizen, eva)
    page = citizen.get("/burger/toegang").text
    assert "Noodtoegang" in page and "niet terecht" in page


def test_review_note_must_not_hold_a_bsn(web: TestClient, sandbox: Any, casemanager: Any,
                                         token: Callable[..., str]) -> None:
    cm = casemanager()
    cm.break_glass(cm.open(eva_bsn(sandbox), purpose="crisis_noodtoegang"), JUSTIFICATION)
    headers = bearer(token(role="privacy_officer", sub="fg-1"))
    (item,) = web.get("/v1/fg/break-glass", headers=headers).json()["items"]
    r = web.post(f"/v1/fg/break-glass/{item['id']}/reviews",
                 json={"verdict": "justified", "note": "Gecontroleerd bij 999993847."}, headers=headers)
    assert r.status_code == 400 and "999993847" not in r.text


def _wait_for(web: TestClient, url: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        page = web.get(url).text
        if "De controle loopt nog" not in page or time.monotonic() > deadline:
            return page
        time.sleep(0.05)


def test_integrity_page_shows_checkpoint_and_verify_now_reports_records_checked(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket) -> None:
    cm = casemanager()
    cm.dossier(cm.open(eva_bsn(sandbox)))
    loket.audit.checkpoint(force=True)
    login_fg(web)
    page = web.get("/fg/integriteit").text
    assert "De handtekening klopt" in page
    r = post_form(web, "/fg/integriteit", "/fg/integriteit/controle", {})
    size = loket.audit.head().tree_size
    done = _wait_for(web, r.headers["location"])
    assert "Het logboek klopt" in done and f"{size} regels gecontroleerd" in done


def test_verify_now_finds_a_changed_record(web: TestClient, sandbox: Any, casemanager: Any, loket: Loket) -> None:
    cm = casemanager()
    cm.dossier(cm.open(eva_bsn(sandbox)))
    loket.audit.checkpoint(force=True)
    with loket.db.begin() as conn:
        leaf = conn.execute(text("SELECT leaf FROM audit_records WHERE idx = 1")).scalar_one()
        conn.execute(text("UPDATE audit_records SET leaf = :l WHERE idx = 1"),
                     {"l": bytes(leaf).replace(b"cm-001", b"cm-999")})
    login_fg(web)
    r = post_form(web, "/fg/integriteit", "/fg/integriteit/controle", {})
    done = _wait_for(web, r.headers["location"])
    assert "Het logboek klopt niet" in done and "record 1" in done


def test_patterns_page_lists_findings_with_their_records(web: TestClient, sandbox: Any, casemanager: Any) -> None:
    eva = eva_bsn(sandbox)
    for sub in ("cm-1", "cm-2", "cm-3"):
        casemanager(sub).open(eva)
    login_fg(web)
    page = web.get("/fg/patronen").text
    assert "3 casemanagers openden een zaak voor dezelfde burger" in page
    assert 'href="/fg/records/0"' in page and 'href="/fg/records/2"' in page


def test_csrf_token_is_checked_on_fg_forms(web: TestClient) -> None:
    login_fg(web)
    assert web.post("/fg/integriteit/controle", data={}, follow_redirects=False).status_code == 403
    assert web.post("/fg/zoeken", data={"bsn": "999993847", "csrf_token": "nope"}).status_code == 403
    token = csrf_of(web.get("/fg/zoeken").text)
    assert web.post("/fg/zoeken", data={"csrf_token": token}).status_code == 200
