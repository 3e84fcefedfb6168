"""The citizen's pages and API: sessions, CSRF, isolation between citizens, consent flows, proofs."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from audit.cli import audit_app
from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.api.pagination import encode_cursor
from gateway.core.context import Loket
from tests.conftest import bearer
from tests.web.conftest import CONSENT_ITEM, csrf_of, eva_bsn, login_citizen, other_bsn, post_form


def refused_keys(dossier: dict[str, Any]) -> set[str]:
    return {f"{r['agency']}.{r['category']}" for r in dossier["refused"]}


def disclosed_keys(dossier: dict[str, Any]) -> set[str]:
    return {f"{f['agency']}.{f['category']}" for f in dossier["fields"]}


def consent_count(loket: Loket) -> int:
    from sqlalchemy import func, select

    from gateway.core.models import Consent

    with loket.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Consent)) or 0)


# --- sessions and CSRF ----------------------------------------------------------------------


def test_login_requires_a_session_and_redirects_to_login(web: TestClient) -> None:
    r = web.get("/burger/toegang", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/burger/inloggen"


def test_form_post_without_csrf_token_is_rejected(web: TestClient, sandbox: Any, casemanager: Any,
                                                  loket: Loket) -> None:
    bsn = eva_bsn(sandbox)
    casemanager().open(bsn)
    login_citizen(web, bsn)
    form = {"purpose": "student_in_crisis", "team": "team-centrum", "item": CONSENT_ITEM, "days": "30"}
    assert web.post("/burger/toestemmingen", data=form, follow_redirects=False).status_code == 403
    bad = {**form, "csrf_token": "x" * 43}
    assert web.post("/burger/toestemmingen", data=bad, follow_redirects=False).status_code == 403
    assert consent_count(loket) == 0
    # the right token works, which shows the two refusals were about the token
    assert post_form(web, "/burger/toestemmingen", "/burger/toestemmingen", form).status_code == 303
    assert consent_count(loket) == 1


def test_form_post_from_a_foreign_origin_is_rejected(web: TestClient, sandbox: Any, casemanager: Any,
                                                     loket: Loket) -> None:
    bsn = eva_bsn(sandbox)
    casemanager().open(bsn)
    login_citizen(web, bsn)
    token = csrf_of(web.get("/burger/toestemmingen").text)
    r = web.post("/burger/toestemmingen", headers={"Origin": "https://evil.example"}, follow_redirects=False,
                 data={"purpose": "student_in_crisis", "team": "team-centrum", "item": CONSENT_ITEM, "days": "30",
                       "csrf_token": token})
    assert r.status_code == 403
    assert consent_count(loket) == 0


def test_login_form_itself_needs_the_csrf_token(web: TestClient, sandbox: Any) -> None:
    web.get("/burger/inloggen")
    r = web.post("/burger/inloggen", data={"bsn": eva_bsn(sandbox)}, follow_redirects=False)
    assert r.status_code == 403
    assert web.get("/burger/toegang", follow_redirects=False).status_code == 303


def _set_cookie(r: Any) -> str:
    cookies = [v for k, v in r.headers.multi_items() if k.lower() == "set-cookie" and v.startswith("loket_session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_session_cookie_is_httponly_samesite_and_holds_no_bsn(web: TestClient, sandbox: Any) -> None:
    bsn = eva_bsn(sandbox)
    page = web.get("/burger/inloggen")
    r = web.post("/burger/inloggen", data={"bsn": bsn, "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    header = _set_cookie(r)
    flags = {p.strip().lower() for p in header.split(";")}
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags  # tests run with secure_cookies=False, like the demo
    value = header.split(";", 1)[0].split("=", 1)[1]
    payload = value.split(".", 1)[0]
    decoded = base64.b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert bsn not in decoded and bsn not in header
    # only the session id, the CSRF token and the display name; pseudonym and sealed BSN stay on the server
    assert set(json.loads(decoded)) == {"sid", "csrf", "name"}


def test_session_cookie_is_secure_when_configured(make_loket: Callable[..., Loket], sandbox: Any) -> None:
    from gateway.app import create_app

    loket = make_loket(secure_cookies=True)
    with TestClient(create_app(loket=loket), base_url="https://testserver") as c:
        page = c.get("/burger/inloggen")
        r = c.post("/burger/inloggen", data={"bsn": eva_bsn(sandbox), "csrf_token": csrf_of(page.text)},
                   follow_redirects=False)
        assert "secure" in {p.strip().lower() for p in _set_cookie(r).split(";")}


def test_login_rotates_the_csrf_token(web: TestClient, sandbox: Any) -> None:
    before = csrf_of(web.get("/burger/inloggen").text)
    login_citizen(web, eva_bsn(sandbox))
    assert csrf_of(web.get("/burger/toestemmingen").text) != before


def test_invalid_bsn_cannot_log_in(web: TestClient) -> None:
    r = post_form(web, "/burger/inloggen", "/burger/inloggen", {"bsn": "123456789"})
    assert r.headers["location"] == "/burger/inloggen"
    assert "geen geldig burgerservicenummer" in web.get("/burger/inloggen").text


# --- who looked at my data ------------------------------------------------------------------


def test_dossier_access_shows_on_the_citizen_page_with_a_verifiable_proof(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket, tmp_path: Any) -> None:
    bsn = eva_bsn(sandbox)
    cm = casemanager()
    dossier = cm.dossier(cm.open(bsn))
    index = dossier["audit"]["index"]
    login_citizen(web, bsn)
    page = web.get("/burger/toegang").text
    assert "Bekeek gegevens van" in page and "Student in een crisis" in page
    assert f'href="/burger/toegang/{index}"' in page
    assert "DUO" in page  # the organisation that shared, by name

    proof_page = web.get(f"/burger/toegang/{index}")
    assert proof_page.status_code == 200 and "Ja, dit bewijs klopt" in proof_page.text

    download = web.get(f"/burger/toegang/{index}/bewijs.json")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    path = tmp_path / "bewijs.json"
    path.write_bytes(download.content)
    assert loket.audit.verifier is not None
    result = CliRunner().invoke(audit_app, ["verify-proof", str(path), "--pubkey", loket.audit.verifier.vkey()])
    assert result.exit_code == 0, result.output

    # Tampering with the downloaded record makes the offline check fail.
    bundle = json.loads(download.content)
    bundle["record"]["actor_sub"] = "someone-else"
    path.write_text(json.dumps(bundle))
    result = CliRunner().invoke(audit_app, ["verify-proof", str(path), "--pubkey", loket.audit.verifier.vkey()])
    assert result.exit_code != 0


def test_accesses_api_lists_newest_first_with_basis_and_proof_link(
        web: TestClient, sandbox: Any, casemanager: Any, token: Callable[..., str]) -> None:
    bsn = eva_bsn(sandbox)
    cm = casemanager()
    case = cm.open(bsn)
    first = cm.dossier(case)["audit"]["index"]
    second = cm.dossier(case)["audit"]["index"]
    r = web.get("/v1/me/accesses", headers=bearer(token(role="citizen", sub="eva", bsn=bsn)))
    assert r.status_code == 200
    rows = r.json()["items"]
    indexes = [a["index"] for a in rows]
    assert indexes == sorted(indexes, reverse=True) and indexes[:2] == [second, first]
    read = rows[0]
    assert read["purpose_label"] == "Student in een crisis"
    assert read["shared"] and all(s["basis"] and s["organisation"] for s in read["shared"])
    assert read["proof"] == f"/v1/me/accesses/{second}/proof"
    assert any(x["code"].startswith("consent") for x in read["refused"])


def test_citizen_cannot_see_another_citizens_records(web: TestClient, sandbox: Any, casemanager: Any,
                                                     token: Callable[..., str]) -> None:
    cm = casemanager()
    other_index = cm.dossier(cm.open(other_bsn(sandbox)))["audit"]["index"]
    eva = eva_bsn(sandbox)
    cm.dossier(cm.open(eva))
    login_citizen(web, eva)
    assert web.get(f"/burger/toegang/{other_index}").status_code == 404
    assert web.get(f"/burger/toegang/{other_index}/bewijs.json").status_code == 404
    assert f"/burger/toegang/{other_index}\"" not in web.get("/burger/toegang").text
    headers = bearer(token(role="citizen", sub="eva", bsn=eva))
    assert web.get(f"/v1/me/accesses/{other_index}/proof", headers=headers).status_code == 404
    assert other_index not in [a["index"] for a in web.get("/v1/me/accesses", headers=headers).json()["items"]]


def test_citizen_cannot_revoke_or_answer_for_another_citizen(
        web: TestClient, new_client: Callable[[], TestClient], sandbox: Any, casemanager: Any, loket: Loket) -> None:
    cm = casemanager()
    other = other_bsn(sandbox)
    case = cm.open(other, purpose="student_in_crisis")
    request_id = cm.ask(case, [CONSENT_ITEM]).json()["id"]
    # The other citizen grants a consent in their own browser.
    theirs = new_client()
    login_citizen(theirs, other)
    post_form(theirs, "/burger/toestemmingen", "/burger/toestemmingen",
              {"purpose": "student_in_crisis", "team": "team-centrum", "item": CONSENT_ITEM, "days": "30"})
    from sqlalchemy import select

    from gateway.core.models import Consent

    with loket.sessions() as s:
        consent_id = s.scalars(select(Consent.id)).one()

    login_citizen(web, eva_bsn(sandbox))
    r = post_form(web, "/burger/toestemmingen", f"/burger/toestemmingen/{consent_id}/intrekken", {})
    assert r.status_code == 303
    assert "Dit hebben wij niet gevonden" in web.get("/burger/toestemmingen").text
    with loket.sessions() as s:
        assert s.get(Consent, consent_id).revoked_at is None
    assert web.get(f"/burger/verzoeken/{request_id}").status_code == 404
    post_form(web, "/burger/toestemmingen", f"/burger/verzoeken/{request_id}",
              {f"antwoord:{CONSENT_ITEM}": "approve"})
    assert consent_count(loket) == 1  # only the other citizen's own consent


# --- consents and consent requests ----------------------------------------------------------


def test_grant_then_revoke_on_the_page_changes_the_next_dossier(
        web: TestClient, sandbox: Any, casemanager: Any) -> None:
    bsn = eva_bsn(sandbox)
    cm = casemanager()
    case = cm.open(bsn)
    assert CONSENT_ITEM in refused_keys(cm.dossier(case))
    login_citizen(web, bsn)
    post_form(web, "/burger/toestemmingen", "/burger/toestemmingen",
              {"purpose": "student_in_crisis", "team": "team-centrum", "item": CONSENT_ITEM, "days": "3"})
    assert CONSENT_ITEM in disclosed_keys(cm.dossier(case))
    page = web.get("/burger/toestemmingen").text
    action = page.split('action="/burger/toestemmingen/', 1)[1].split('"', 1)[0]
    post_form(web, "/burger/toestemmingen", f"/burger/toestemmingen/{action}", {})
    after = cm.dossier(case)
    assert CONSENT_ITEM not in disclosed_keys(after)
    assert any(r["code"] == "consent_revoked" for r in after["refused"]
               if f"{r['agency']}.{r['category']}" == CONSENT_ITEM)


@pytest.mark.parametrize("answer, shared", [("approve", True), ("decline", False)])
def test_consent_request_answer_changes_the_next_dossier(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket, answer: str, shared: bool) -> None:
    bsn = eva_bsn(sandbox)
    cm = casemanager()
    case = cm.open(bsn)
    r = cm.ask(case, [CONSENT_ITEM], "Voor uw schuldhulp wil ik uw studieschuld zien.")
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    login_citizen(web, bsn)
    page = web.get(f"/burger/verzoeken/{request_id}").text
    assert "DUO" in page and "studieschuld.bedrag" in page and "Student in een crisis" in page
    r = post_form(web, f"/burger/verzoeken/{request_id}", f"/burger/verzoeken/{request_id}",
                  {f"antwoord:{CONSENT_ITEM}": answer})
    assert r.headers["location"] == "/burger/toestemmingen"
    assert (CONSENT_ITEM in disclosed_keys(cm.dossier(case))) is shared
    kinds = [s.record.kind for s in loket.audit.find(AuditFilter(case_id=case), limit=100)]
    assert AuditEventKind.CONSENT_REQUEST_CREATED in kinds and AuditEventKind.CONSENT_REQUEST_ANSWERED in kinds
    assert (AuditEventKind.CONSENT_GRANTED in [s.record.kind for s in loket.audit.find(limit=1000)]) is shared
    # a second answer is refused
    again = web.post(f"/v1/me/consent-requests/{request_id}/answer",
                     json={"answers": {CONSENT_ITEM: "approve"}},
                     headers=bearer(_citizen_token(loket, bsn)))
    assert again.status_code == 409


def _citizen_token(loket: Loket, bsn: str) -> str:
    from gateway.identity.auth import Role, mint_token

    assert loket.dev_issuer_key is not None
    return mint_token(loket.dev_issuer_key, issuer=loket.settings.jwt_issuer,
                      audience=loket.settings.jwt_audience, sub="eva", role=Role.CITIZEN, bsn=bsn)


def test_consent_request_api_shows_what_with_whom_and_why(web: TestClient, sandbox: Any, casemanager: Any,
                                                         loket: Loket) -> None:
    bsn = eva_bsn(sandbox)
    cm = casemanager()
    cm.ask(cm.open(bsn), [CONSENT_ITEM, "gemeente_wmo.gezondheid"])
    r = web.get("/v1/me/consent-requests", headers=bearer(_citizen_token(loket, bsn)))
    (req,) = r.json()["items"]
    assert req["purpose_label"] == "Student in een crisis" and req["purpose_description"]
    items = {i["key"]: i for i in req["items"]}
    assert items[CONSENT_ITEM]["organisation"] and items[CONSENT_ITEM]["category_label"]
    assert "studieschuld.bedrag" in items[CONSENT_ITEM]["fields"]
    assert items["gemeente_wmo.gezondheid"]["special"] is True


@pytest.mark.parametrize("categories, message, code, status", [
    (["duo.studieschuld"], "Uw BSN is 999993847, klopt dat?", "bsn-in-free-text", 400),
    (["cjib.boetes"], "", "not-needed-for-purpose", 422),
    (["duo.studiefinanciering"], "", "basis-covers-category", 422),
    (["nergens.iets"], "", "unknown-category", 400),
])
def test_consent_request_is_validated(casemanager: Any, sandbox: Any, categories: list[str], message: str,
                                      code: str, status: int) -> None:
    cm = casemanager()
    r = cm.ask(cm.open(eva_bsn(sandbox)), categories, message)
    assert r.status_code == status and r.json()["type"].endswith(code), r.text
    assert "999993847" not in r.text


def test_only_the_casemanager_of_the_case_can_ask(casemanager: Any, sandbox: Any) -> None:
    case = casemanager("cm-001").open(eva_bsn(sandbox))
    assert casemanager("cm-002").ask(case, [CONSENT_ITEM]).status_code == 404


@pytest.mark.parametrize("url, status", [
    ("/v1/me/accesses/99999999999999999999/proof", 404),
    ("/v1/me/accesses?cursor=" + encode_cursor("accesses", [99999999999999999999]), 400),  # not one we gave
])
def test_out_of_range_log_index_is_not_a_crash(web: TestClient, sandbox: Any, loket: Loket, url: str,
                                               status: int) -> None:
    r = web.get(url, headers=bearer(_citizen_token(loket, eva_bsn(sandbox))))
    assert r.status_code == status


def test_fg_search_with_an_out_of_range_cursor_still_answers(web: TestClient, token: Callable[..., str]) -> None:
    r = web.post("/v1/fg/search", json={"cursor": encode_cursor("fg-search", [2**70])},
                 headers=bearer(token(role="privacy_officer", sub="fg")))
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "cursor"
    from tests.web.conftest import login_fg

    login_fg(web)
    assert post_form(web, "/fg/zoeken", "/fg/zoeken", {"before": str(2**70)}).status_code == 200
