"""The case overview (action first) and two-way requests to agencies, through the API against
the real sandbox agencies."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from adapters.sandbox.requests import DESK
from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.core.context import Loket
from gateway.core.models import AgencyRequest
from tests.conftest import bearer
from tests.web.conftest import eva_bsn, login_citizen

DEBT = "schuldhulp_intake"

# The debt-help legal bases (Wgs) are still ``verified: false``: a pilot (tests/conftest.py).
pytestmark = [pytest.mark.pilot, pytest.mark.usefixtures("quick_agencies")]


def _records(loket: Loket, kind: AuditEventKind) -> list[Any]:
    return [s.record for s in loket.audit.find(AuditFilter(kind=kind), limit=100)]


def _wait_for_answer(web: TestClient, cm: Any, case: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while True:
        rows = web.get(f"/v1/cases/{case}/requests", headers=cm.headers).json()["requests"]
        if all(r["status"] != "sent" for r in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_overview_orders_action_first_and_is_audited_as_a_look(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket) -> None:
    cm = casemanager()
    case = cm.open(eva_bsn(sandbox), purpose=DEBT)
    r = web.get(f"/v1/cases/{case}/overview", headers=cm.headers)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    ov = r.json()
    rules = [i["rule"] for i in ov["deadlines_and_threats"]]
    assert rules.index("energie_water_achterstand") < rules.index("cjib_boete") < rules.index(
        "toeslagen_terugvordering")
    assert ov["arrears"]["total"] == "1169.70"
    assert ov["representatives"]["known"] is False
    assert any(c["agency"] == "cjib" and c["phone"] for c in ov["contacts"])
    (record,) = [s.record for s in loket.audit.find(AuditFilter(case_id=case, kind=AuditEventKind.DOSSIER_READ))]
    assert record.decision_id == ov["decision_id"]


def test_overview_never_shows_what_the_decision_refused_and_says_what_it_could_not_see(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket) -> None:
    cm = casemanager()
    case = cm.open(eva_bsn(sandbox), purpose="student_in_crisis")
    ov = web.get(f"/v1/cases/{case}/overview", headers=cm.headers).json()
    (record,) = [s.record for s in loket.audit.find(AuditFilter(case_id=case, kind=AuditEventKind.DOSSIER_READ))]
    disclosed = {d.agency for d in record.disclosed}
    shown = {i["agency"] for i in ov["deadlines_and_threats"]} | {a["agency"] for a in ov["arrears"]["per_agency"]}
    assert shown <= disclosed
    refused = {(x.agency, x.category) for x in record.refused}
    assert ("duo", "studieschuld") in refused  # consent only for this purpose
    assert not any("studieschuld" in i["title"].lower() or i["rule"] == "duo_aflossen"
                   for i in ov["deadlines_and_threats"])
    assert any(n["organisation"] == "Dienst Uitvoering Onderwijs" and n["reason"] for n in ov["could_not_see"])


def test_refused_agency_request_writes_a_record_and_sends_nothing(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket) -> None:
    cm = casemanager()
    case = cm.open(eva_bsn(sandbox), purpose=DEBT)
    seen = len(DESK.seen)
    r = web.post(f"/v1/cases/{case}/requests", json={"type": "warm_handover", "agency": "uwv"}, headers=cm.headers)
    assert r.status_code == 403 and "niet aan deze organisatie" in r.json()["detail"]
    (refusal,) = _records(loket, AuditEventKind.AGENCY_REQUEST_REFUSED)
    assert refusal.case_id == case and "request_type_not_allowed" in refusal.extra["reasons"]
    assert len(DESK.seen) == seen
    assert _records(loket, AuditEventKind.AGENCY_REQUEST_SENT) == []
    with loket.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AgencyRequest)) == 0
    other = casemanager("cm-002")
    assert web.post(f"/v1/cases/{case}/requests", json={"type": "pause_collection", "agency": "cjib"},
                    headers=other.headers).status_code == 404


def test_pause_request_sends_only_the_minimum_and_its_answer_changes_the_overview(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket) -> None:
    cm = casemanager()
    case = cm.open(eva_bsn(sandbox), purpose=DEBT)
    r = web.post(f"/v1/cases/{case}/requests", json={"type": "pause_collection", "agency": "cjib", "until_days": 30},
                 headers=cm.headers)
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["status"] == "sent" and set(sent["sent"]) == {"type", "reference", "until"}  # no BSN kept
    assert DESK.seen[-1] == ("cjib", "pause_collection", ("burgerservicenummer", "reference", "type", "until"))
    (record,) = _records(loket, AuditEventKind.AGENCY_REQUEST_SENT)
    assert record.extra["sent_fields"] == "burgerservicenummer,reference,type,until"
    (row,) = _wait_for_answer(web, cm, case)
    assert row["status"] == "accepted" and "pauzeren de invordering" in row["reason"]
    assert len(_records(loket, AuditEventKind.AGENCY_REQUEST_ANSWERED)) == 1
    ov = web.get(f"/v1/cases/{case}/overview", headers=cm.headers).json()
    cjib = next(i for i in ov["deadlines_and_threats"] if i["rule"] == "cjib_boete")
    assert "gepauzeerd" in cjib["title"] and cjib["suggested_request"] == "payment_plan"
    assert any("Invordering pauzeren" in a["what"] and a["status"] == "accepted" for a in ov["already_asked"])


def test_agency_refusal_with_a_reason_and_the_citizen_sees_request_and_answer(
        web: TestClient, new_client: Callable[[], TestClient], sandbox: Any, casemanager: Any,
        token: Callable[..., str]) -> None:
    bsn = eva_bsn(sandbox)
    cm = casemanager()
    case = cm.open(bsn, purpose=DEBT)
    # Eva owes the Belastingdienst nothing: the agency refuses, with its reason.
    r = web.post(f"/v1/cases/{case}/requests", json={"type": "payment_plan", "agency": "belastingdienst",
                                                    "monthly_amount": "25"}, headers=cm.headers)
    assert r.status_code == 201 and r.json()["sent"]["monthly_amount"] == "25.00"
    (row,) = _wait_for_answer(web, cm, case)
    assert row["status"] == "refused" and "niets open" in row["reason"]
    mine = web.get("/v1/me/agency-requests", headers=bearer(token(role="citizen", sub="eva", bsn=bsn))).json()
    assert mine["requests"][0]["status"] == "refused" and "burgerservicenummer" not in mine["requests"][0]["sent"]
    citizen = new_client()
    login_citizen(citizen, bsn)
    page = citizen.get("/burger/toegang").text
    assert "Wat uw casemanager voor u vroeg" in page and "Betalingsregeling bij Belastingdienst" in page
    assert "Geweigerd." in page and "niets open" in page


def test_request_to_an_agency_that_does_not_answer_is_marked_failed_with_a_record(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket) -> None:
    cm = casemanager()
    case = cm.open(eva_bsn(sandbox), purpose=DEBT)
    sandbox.faults["cak"].status_code = 503
    try:
        r = web.post(f"/v1/cases/{case}/requests", json={"type": "pause_collection", "agency": "cak"},
                     headers=cm.headers)
    finally:
        sandbox.faults["cak"].reset()
    assert r.status_code == 201 and r.json()["status"] == "failed"
    (answer,) = _records(loket, AuditEventKind.AGENCY_REQUEST_ANSWERED)
    assert answer.outcome == "failed" and answer.extra["failure"] == "http_503"


def test_policy_engine_failure_sends_no_agency_request(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.core.errors import PolicyEngineError
    from gateway.workspace import request_policy

    def broken(*_: Any) -> Any:
        raise PolicyEngineError("engine down")

    cm = casemanager()
    case = cm.open(eva_bsn(sandbox), purpose=DEBT)
    seen = len(DESK.seen)
    monkeypatch.setattr(request_policy, "query_decision", broken)
    r = web.post(f"/v1/cases/{case}/requests", json={"type": "pause_collection", "agency": "cjib"}, headers=cm.headers)
    assert r.status_code == 503
    assert len(DESK.seen) == seen and _records(loket, AuditEventKind.AGENCY_REQUEST_SENT) == []
