"""Authorisation and IDOR: every actor reaches only their own cases, consents and records.

A casemanager probing another casemanager's case gets the same 404 as for a case that does not
exist (ids cannot be probed) and the probe is in the log as ``access:denied``; a citizen cannot
touch another citizen's consents or proofs; roles cannot use each other's areas.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.core.context import Loket
from tests import cases
from tests.conftest import bearer
from tests.security.helpers import (
    PURPOSE,
    agency_requests_seen,
    assert_problem,
    eva_bsn,
    open_case,
    other_bsn,
    random_sub,
)

JUSTIFICATION = "Dreigende uitzetting morgenochtend, huurachterstand moet vandaag in beeld."


def denied_records(loket: Loket, sub: str) -> list[Any]:
    return [s.record for s in loket.audit.find(AuditFilter(actor_sub=sub, kind=AuditEventKind.ACCESS_DENIED))]


@pytest.mark.parametrize("method, suffix, body", [
    ("GET", "/dossier", None),
    ("GET", "/dossier?categories=brp.adres", None),
    ("POST", "/dossier/break-glass", {"justification": JUSTIFICATION}),
])
def test_casemanager_b_on_a_case_of_a_gets_404_and_is_logged(
        api: TestClient, shared_loket: Loket, sandbox: Any, mint: Callable[..., str],
        method: str, suffix: str, body: Any) -> None:
    owner, intruder = random_sub(), random_sub()
    case_id = open_case(api, mint(sub=owner), eva_bsn(sandbox))
    agency_before = agency_requests_seen(sandbox)
    r = api.request(method, f"/v1/cases/{case_id}{suffix}", headers=bearer(mint(sub=intruder)), json=body)
    assert_problem(r, 404, "not-found")
    assert agency_requests_seen(sandbox) == agency_before, "no agency may be asked for B's probe"
    denied = denied_records(shared_loket, intruder)
    assert len(denied) == 1
    rec = denied[0]
    assert rec.status_code == 2 and not rec.disclosed and rec.data_subject_id is None
    assert rec.extra["requested_case"] == case_id
    # The owner's case shows no read, refusal or break-glass by anyone.
    kinds = {s.record.kind for s in shared_loket.audit.find(AuditFilter(case_id=case_id))}
    assert kinds == {AuditEventKind.CASE_OPENED}
    # No break-glass event reached the FG queue for someone else's case.
    fg = mint(role="privacy_officer", sub="fg-audit")
    queue = api.get("/v1/fg/break-glass", params={"status": "all"}, headers=bearer(fg)).json()["items"]
    assert case_id not in {e["case_id"] for e in queue}


def test_probe_of_a_foreign_case_looks_exactly_like_a_missing_case(
        api: TestClient, sandbox: Any, mint: Callable[..., str]) -> None:
    owner, intruder = random_sub(), random_sub()
    case_id = open_case(api, mint(sub=owner), eva_bsn(sandbox))
    tok = mint(sub=intruder)
    foreign = api.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    missing = api.get(f"/v1/cases/{uuid.uuid4()}/dossier", headers=bearer(tok))
    garbage = api.get("/v1/cases/not-a-uuid/dossier", headers=bearer(tok))
    for r in (foreign, missing, garbage):
        assert_problem(r, 404, "not-found")
    assert foreign.json() == missing.json() == garbage.json()
    # GET of the case itself and the case list do not reveal it either.
    assert_problem(api.get(f"/v1/cases/{case_id}", headers=bearer(tok)), 404, "not-found")
    assert case_id not in {c["id"] for c in api.get("/v1/cases", headers=bearer(tok)).json()["items"]}


def test_get_of_a_foreign_case_is_logged_as_denied(
        api: TestClient, shared_loket: Loket, sandbox: Any, mint: Callable[..., str]) -> None:
    owner, intruder = random_sub(), random_sub()
    case_id = open_case(api, mint(sub=owner), eva_bsn(sandbox))
    assert_problem(api.get(f"/v1/cases/{case_id}", headers=bearer(mint(sub=intruder))), 404, "not-found")
    denied = denied_records(shared_loket, intruder)
    assert [d.extra["requested_case"] for d in denied] == [case_id]


def test_casemanager_b_cannot_ask_consent_on_a_case_of_a(
        api: TestClient, shared_loket: Loket, sandbox: Any, mint: Callable[..., str]) -> None:
    owner, intruder = random_sub(), random_sub()
    case_id = open_case(api, mint(sub=owner), eva_bsn(sandbox))
    tok = mint(sub=intruder)
    r = api.post(f"/v1/cases/{case_id}/consent-requests", headers=bearer(tok),
                 json={"categories": ["duo.studieschuld"], "message": "graag toestemming"})
    assert_problem(r, 404, "not-found")
    assert_problem(api.get(f"/v1/cases/{case_id}/consent-requests", headers=bearer(tok)), 404, "not-found")
    citizen = mint(role="citizen", sub="burger-eva-authz", bsn=eva_bsn(sandbox))
    mine = api.get("/v1/me/consent-requests", params={"all": True}, headers=bearer(citizen)).json()["items"]
    assert case_id not in {x["case_id"] for x in mine}, "the citizen never saw B's request"


def _grant(api: TestClient, tok: str, category: tuple[str, str] = ("duo", "studieschuld")) -> str:
    r = api.post("/v1/me/consents", headers=bearer(tok), json={
        "purpose": PURPOSE, "agency": category[0], "category": category[1],
        "team": "team-centrum", "valid_until": (datetime.now(UTC) + timedelta(days=30)).isoformat(), "explicit": True})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_citizen_cannot_revoke_or_see_another_citizens_consent(
        api: TestClient, shared_loket: Loket, sandbox: Any, mint: Callable[..., str]) -> None:
    alice = mint(role="citizen", sub="burger-alice", bsn=eva_bsn(sandbox))
    mallory = mint(role="citizen", sub="burger-mallory", bsn=other_bsn(sandbox))
    consent_id = _grant(api, alice)
    revoked_before = shared_loket.audit.count(AuditFilter(kind=AuditEventKind.CONSENT_REVOKED))

    assert_problem(api.delete(f"/v1/me/consents/{consent_id}", headers=bearer(mallory)), 404, "not-found")
    assert_problem(api.delete(f"/v1/me/consents/{uuid.uuid4()}", headers=bearer(mallory)), 404, "not-found")
    assert consent_id not in {c["id"] for c in api.get("/v1/me/consents", headers=bearer(mallory)).json()}
    # Alice's consent is untouched and no revocation was logged.
    alice_view = {c["id"]: c for c in api.get("/v1/me/consents", headers=bearer(alice)).json()}
    assert alice_view[consent_id]["revoked_at"] is None and alice_view[consent_id]["status"] == "geldig"
    assert shared_loket.audit.count(AuditFilter(kind=AuditEventKind.CONSENT_REVOKED)) == revoked_before


def test_casemanager_cannot_grant_or_revoke_consent_for_a_citizen(
        api: TestClient, sandbox: Any, mint: Callable[..., str]) -> None:
    alice = mint(role="citizen", sub="burger-alice-2", bsn=eva_bsn(sandbox))
    consent_id = _grant(api, alice, ("uwv", "inkomen"))
    cm = mint(sub=random_sub())
    assert_problem(api.delete(f"/v1/me/consents/{consent_id}", headers=bearer(cm)), 403, "wrong-role")
    r = api.post("/v1/me/consents", headers=bearer(cm), json={
        "purpose": PURPOSE, "agency": "duo", "category": "studieschuld",
        "team": "team-centrum", "valid_until": (datetime.now(UTC) + timedelta(days=3)).isoformat()})
    assert_problem(r, 403, "wrong-role")


def test_citizen_cannot_fetch_a_proof_of_another_citizens_record(
        api: TestClient, shared_loket: Loket, sandbox: Any, mint: Callable[..., str]) -> None:
    cm = mint(sub=random_sub())
    case_id = open_case(api, cm, eva_bsn(sandbox))
    read = api.get(f"/v1/cases/{case_id}/dossier", headers=bearer(cm)).json()
    index = read["audit"]["index"]
    eva = mint(role="citizen", sub="burger-eva-proof", bsn=eva_bsn(sandbox))
    mallory = mint(role="citizen", sub="burger-mallory-proof", bsn=other_bsn(sandbox))
    assert api.get(f"/v1/me/accesses/{index}/proof", headers=bearer(eva)).status_code == 200
    assert_problem(api.get(f"/v1/me/accesses/{index}/proof", headers=bearer(mallory)), 404, "not-found")
    assert_problem(api.get("/v1/me/accesses/999999999/proof", headers=bearer(mallory)), 404, "not-found")
    mine = api.get("/v1/me/accesses", headers=bearer(mallory)).json()["items"]
    assert index not in {a.get("index") for a in mine}
    assert case_id not in str(mine)


FG_ENDPOINTS = [
    ("POST", "/v1/fg/search", {}),
    ("POST", "/v1/fg/export", {}),
    ("GET", "/v1/fg/break-glass", None),
    ("GET", f"/v1/fg/break-glass/{uuid.uuid4()}", None),
    ("POST", f"/v1/fg/break-glass/{uuid.uuid4()}/reviews", {"verdict": "justified", "note": "ok"}),
    ("GET", "/v1/fg/integrity", None),
    ("POST", "/v1/fg/integrity/verify", None),
    ("GET", "/v1/fg/integrity/verify/abc", None),
    ("GET", "/v1/fg/patterns", None),
]
CASEMANAGER_ENDPOINTS = [
    ("GET", "/v1/cases", None),
    ("POST", "/v1/cases", {"burgerservicenummer": "999993847", "purpose": PURPOSE}),
    ("GET", f"/v1/cases/{uuid.uuid4()}/dossier", None),
    ("POST", f"/v1/cases/{uuid.uuid4()}/dossier/break-glass", {"justification": JUSTIFICATION}),
    ("POST", f"/v1/cases/{uuid.uuid4()}/consent-requests", {"categories": ["duo.studieschuld"]}),
]
CITIZEN_ENDPOINTS = [
    ("GET", "/v1/me/consents", None),
    ("DELETE", f"/v1/me/consents/{uuid.uuid4()}", None),
    ("GET", "/v1/me/accesses", None),
    ("GET", "/v1/me/consent-requests", None),
]
ROLE_TOKENS: dict[str, dict[str, Any]] = {
    "casemanager": {"role": "casemanager", "sub": "cm-matrix"},
    "citizen": {"role": "citizen", "sub": "burger-matrix", "bsn": "999993847"},
    "privacy_officer": {"role": "privacy_officer", "sub": "fg-matrix"},
    "admin": {"role": "admin", "sub": "admin-matrix"},
}
MATRIX = (
    [(r, *e) for r in ("casemanager", "citizen", "admin") for e in FG_ENDPOINTS]
    + [(r, *e) for r in ("citizen", "privacy_officer", "admin") for e in CASEMANAGER_ENDPOINTS]
    + [(r, *e) for r in ("casemanager", "privacy_officer", "admin") for e in CITIZEN_ENDPOINTS]
)


@pytest.mark.parametrize("role, method, path, body", MATRIX,
                         ids=[f"{m[0]}-{m[1]}-{m[2].split('/')[2]}-{i}" for i, m in enumerate(MATRIX)])
def test_each_role_is_refused_outside_its_own_area(
        api: TestClient, mint: Callable[..., str], role: str, method: str, path: str, body: Any) -> None:
    r = api.request(method, path, headers=bearer(mint(**ROLE_TOKENS[role])), json=body)
    assert_problem(r, 403, "wrong-role")


def test_citizen_cannot_open_a_case_even_about_themselves(
        api: TestClient, shared_loket: Loket, sandbox: Any, mint: Callable[..., str]) -> None:
    bsn = eva_bsn(sandbox)
    before = shared_loket.audit.count(AuditFilter(kind=AuditEventKind.CASE_OPENED))
    tok = mint(role="citizen", sub="burger-self", bsn=bsn)
    assert_problem(api.post("/v1/cases", headers=bearer(tok),
                            json=cases.toewijzing(bsn, PURPOSE)), 403, "wrong-role")
    assert shared_loket.audit.count(AuditFilter(kind=AuditEventKind.CASE_OPENED)) == before


# --- pages ---------------------------------------------------------------------------------


def _has_page(api: TestClient, path: str) -> bool:
    return api.get(path, follow_redirects=False).status_code == 200


@pytest.mark.parametrize("path", ["/fg", "/fg/zoeken", "/fg/noodtoegang", "/fg/integriteit", "/fg/patronen"])
def test_fg_pages_refuse_a_casemanager_bearer_token_and_a_citizen_session(
        api: TestClient, sandbox: Any, mint: Callable[..., str], path: str) -> None:
    if not _has_page(api, "/fg/inloggen"):
        pytest.skip("FG pages not installed in this build")
    with TestClient(api.app) as browser:
        r = browser.get(path, headers=bearer(mint(sub="cm-pages")), follow_redirects=False)
        assert r.status_code in (303, 401, 403), r.status_code
        if r.status_code == 303:
            assert r.headers["location"].endswith("/fg/inloggen")
        # A citizen logged in on the citizen pages is not an FG either.
        page = browser.get("/burger/inloggen")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        login = browser.post("/burger/inloggen", data={"bsn": eva_bsn(sandbox), "csrf_token": token},
                             follow_redirects=False)
        assert login.status_code == 303 and login.headers["location"] == "/burger"
        r = browser.get(path, follow_redirects=False)
        assert r.status_code in (303, 401, 403), r.status_code
        if r.status_code == 303:
            assert r.headers["location"].endswith("/fg/inloggen")
        assert "Toegangslog" not in r.text
