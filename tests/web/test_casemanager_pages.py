"""The casemanager's pages: sign in, "Mijn zaken", the overview, the dossier with provenance and
refusals, "vraag toestemming" from a refusal, agency requests with status, break-glass."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.core.context import Loket
from tests.web.conftest import csrf_of, eva_bsn, post_form

JUSTIFICATION = "Uitzetting dreigt morgen, verhuurder heeft de deurwaarder gebeld."

# The debt-help legal bases (Wgs) are still ``verified: false``: a pilot (tests/conftest.py).
pytestmark = [pytest.mark.pilot, pytest.mark.usefixtures("quick_agencies")]


def login_cm(client: TestClient, sub: str = "cm-001") -> None:
    page = client.get("/casemanager/inloggen")
    assert "Inloggen als Sanne Visser" in page.text
    r = client.post("/casemanager/inloggen", data={"casemanager": sub, "csrf_token": csrf_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/casemanager/zaken", r.text


def test_pages_need_a_casemanager_session(web: TestClient) -> None:
    for url in ("/casemanager", "/casemanager/zaken", "/casemanager/zaken/x/dossier"):
        r = web.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/casemanager/inloggen", url
    r = post_form(web, "/casemanager/inloggen", "/casemanager/inloggen", {"casemanager": "cm-evil"})
    assert r.headers["location"] == "/casemanager/inloggen"


def test_from_my_cases_through_the_overview_to_a_pause_request_and_a_consent_request(
        web: TestClient, sandbox: Any, casemanager: Any, loket: Loket) -> None:
    cm = casemanager("cm-001")
    case = cm.open(eva_bsn(sandbox), purpose="schuldhulp_intake")
    other = casemanager("cm-002").open(eva_bsn(sandbox), purpose="schuldhulp_intake")
    login_cm(web)
    cases = web.get("/casemanager/zaken").text
    assert f"/casemanager/zaken/{case}" in cases and other not in cases
    assert "Nieuw aan u toegewezen (1)" in cases and "Toegewezen door de teamleider" in cases
    assert web.get(f"/casemanager/zaken/{other}").status_code == 404

    overview = web.get(f"/casemanager/zaken/{case}").text
    assert "Eva Maria de Boer" in overview
    first, second = overview.index("1. Termijnen en dreigingen"), overview.index("2. Openstaande achterstanden")
    assert first < overview.index("Boete van € 159,00 bij het CJIB") < second
    assert "Waarom dit telt:" in overview and "Volgende stap:" in overview and "€ 1.169,70" in overview
    assert "Invordering pauzeren: vraag het Centraal Justitieel Incassobureau" in overview

    r = post_form(web, f"/casemanager/zaken/{case}", f"/casemanager/zaken/{case}/verzoeken",
                  {"verzoek": "pause_collection:cjib", "terug": "overzicht"})
    assert r.headers["location"] == f"/casemanager/zaken/{case}"
    time.sleep(0.3)
    requests_page = web.get(f"/casemanager/zaken/{case}/verzoeken").text
    assert "Invordering pauzeren bij Centraal Justitieel Incassobureau" in requests_page
    assert "Geaccepteerd." in requests_page
    assert "gepauzeerd tot" in web.get(f"/casemanager/zaken/{case}").text
    assert "Mijn lopende zaken (1)" in web.get("/casemanager/zaken").text  # looked at: no longer new

    dossier = web.get(f"/casemanager/zaken/{case}/dossier").text
    assert "Opgehaald op" in dossier and "bruto inkomen per maand" in dossier
    assert 'value="gemeente_wmo.gezondheid"' in dossier  # refused, consent can lift it
    r = post_form(web, f"/casemanager/zaken/{case}/dossier", f"/casemanager/zaken/{case}/toestemming",
                  {"categorie": "gemeente_wmo.gezondheid", "bericht": "Mag ik dit zien voor uw plan?"})
    assert r.headers["location"] == f"/casemanager/zaken/{case}"
    assert "Toestemming gevraagd aan de burger voor" in web.get(f"/casemanager/zaken/{case}").text


def test_a_request_the_policy_refuses_is_explained_on_the_page(
        web: TestClient, sandbox: Any, casemanager: Any) -> None:
    case = casemanager().open(eva_bsn(sandbox), purpose="schuldhulp_intake")
    login_cm(web)
    r = post_form(web, f"/casemanager/zaken/{case}/verzoeken", f"/casemanager/zaken/{case}/verzoeken",
                  {"verzoek": "warm_handover:uwv"})
    assert r.status_code == 303
    assert "niet aan deze organisatie sturen" in web.get(f"/casemanager/zaken/{case}/verzoeken").text


def test_break_glass_form_needs_a_reason_and_shows_the_emergency_set(
        web: TestClient, sandbox: Any, casemanager: Any) -> None:
    case = casemanager().open(eva_bsn(sandbox), purpose="crisis_noodtoegang")
    login_cm(web)
    assert "Waarom is dit een noodgeval?" in web.get(f"/casemanager/zaken/{case}/noodtoegang").text
    r = post_form(web, f"/casemanager/zaken/{case}/noodtoegang", f"/casemanager/zaken/{case}/noodtoegang",
                  {"reden": "te kort"})
    assert r.status_code == 303 and r.headers["location"].endswith("/noodtoegang")
    page = web.get(f"/casemanager/zaken/{case}/noodtoegang").text
    r = web.post(f"/casemanager/zaken/{case}/noodtoegang", data={"reden": JUSTIFICATION, "csrf_token": csrf_of(page)})
    assert r.status_code == 200 and "Dossier met noodtoegang" in r.text


def test_my_cases_shows_a_new_aanmelding_in_the_citizens_words(
        web: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    from tests.cases import coordinator_headers
    from tests.conftest import bearer

    bsn = eva_bsn(sandbox)
    r = web.post("/v1/me/aanmeldingen", json={"purpose": "schuldhulp_intake",
                                             "message": "Ik krijg de rekeningen niet meer betaald."},
                 headers=bearer(token(role="citizen", sub="eva", bsn=bsn)))
    assert r.status_code == 201, r.text
    ground = {"type": "aanmelding", "id": r.json()["id"], "casemanager": "cm-001"}
    r = web.post("/v1/cases", json={"burgerservicenummer": bsn, "purpose": "schuldhulp_intake", "ground": ground},
                 headers=coordinator_headers(web))
    assert r.status_code == 201, r.text
    login_cm(web)
    page = web.get("/casemanager/zaken").text
    assert "Nieuw aan u toegewezen (1)" in page and "Aanmelding door de burger" in page
    assert "Ik krijg de rekeningen niet meer betaald." in page
