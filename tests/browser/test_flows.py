"""Main flows in a real browser against a live gateway and the sandbox agencies."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from audit.verify import verify_proof_bundle
from gateway.core.context import Loket
from tests.browser.conftest import CONSENT_ITEM, eva, keys, login_citizen, login_fg

pytestmark = pytest.mark.browser


def test_citizen_answers_request_sees_access_verifies_proof_and_revokes(
        page_for: Callable[[], Any], cm: Callable[..., Any], sandbox: Any, loket: Loket) -> None:
    name, bsn = eva(sandbox)
    api = cm()
    case = api.open(bsn)
    assert CONSENT_ITEM in keys(api.dossier(case)["refused"])
    api.ask(case, [CONSENT_ITEM], "Om uw schulden goed te regelen wil ik uw studieschuld zien.")

    page = page_for()
    login_citizen(page, name)
    page.get_by_role("link", name="Bekijk en beantwoord", exact=True).click()  # the notice on the start page
    page.get_by_role("link", name="Bekijk en beantwoord deze vraag").click()
    page.get_by_role("heading", name="Uw casemanager vraagt toestemming").wait_for()
    page.get_by_label("Ja, dit mag").check()
    page.get_by_role("button", name="Verstuur mijn antwoord").click()
    page.get_by_text("Bedankt, uw antwoord is verstuurd").wait_for()

    dossier = api.dossier(case)
    assert CONSENT_ITEM in keys(dossier["fields"])

    # Who looked: the access is there, and its proof verifies on the page and offline.
    page.get_by_role("link", name="Wie bekeek mijn gegevens?").click()
    page.locator(f'a[href="/burger/toegang/{dossier["audit"]["index"]}"]').click()
    page.get_by_text("Ja, dit bewijs klopt.").wait_for()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download het bewijs").click()
    bundle = json.loads(Path(download_info.value.path()).read_bytes())
    assert loket.audit.verifier is not None
    report = verify_proof_bundle(bundle, loket.audit.verifier)
    assert report.index == dossier["audit"]["index"]

    # Revoke: the very next request refuses.
    page.get_by_role("link", name="Mijn toestemmingen").click()
    page.get_by_role("button", name="Intrekken").first.click()
    page.get_by_text("De toestemming is ingetrokken").wait_for()
    after = api.dossier(case)
    assert CONSENT_ITEM not in keys(after["fields"])
    assert any(r["code"] == "consent_revoked" for r in after["refused"])


def test_citizen_grants_consent_on_the_page(page_for: Callable[[], Any], cm: Callable[..., Any],
                                            sandbox: Any) -> None:
    name, bsn = eva(sandbox)
    api = cm()
    case = api.open(bsn)
    page = page_for()
    login_citizen(page, name)
    page.goto("/burger/toestemmingen")
    page.get_by_label("Studieschuld").first.check()
    page.get_by_label("Hoe lang?").first.select_option("3")
    page.get_by_role("button", name="Geef toestemming").first.click()
    page.get_by_text("Uw toestemming is vastgelegd").wait_for()
    assert page.get_by_role("cell", name="Geldig").count() == 1
    assert CONSENT_ITEM in keys(api.dossier(case)["fields"])


def test_dossier_access_appears_on_the_citizen_page_within_a_second(
        page_for: Callable[[], Any], cm: Callable[..., Any], sandbox: Any) -> None:
    name, bsn = eva(sandbox)
    api = cm()
    case = api.open(bsn)
    page = page_for()
    login_citizen(page, name)
    page.goto("/burger/toegang")
    index = api.dossier(case)["audit"]["index"]
    happened = time.monotonic()
    link = page.locator(f'a[href="/burger/toegang/{index}"]')
    while link.count() == 0:
        assert time.monotonic() - happened < 1.0, "the access did not show within a second"
        page.reload()
    assert time.monotonic() - happened < 1.0


def test_fg_searches_by_bsn_exports_reviews_and_verifies(
        page_for: Callable[[], Any], cm: Callable[..., Any], sandbox: Any, loket: Loket) -> None:
    _, bsn = eva(sandbox)
    api = cm()
    api.dossier(api.open(bsn))
    crisis = api.open(bsn, purpose="crisis_noodtoegang")
    api.break_glass(crisis, "Morgen uitzetting; de burger ligt in het ziekenhuis en is onbereikbaar.")
    pseudonym = loket.pseudonymiser.pseudonym_for(bsn)

    page = page_for()
    login_fg(page)
    page.get_by_label("Burgerservicenummer van de burger").fill(bsn)
    page.get_by_role("button", name="Zoeken", exact=True).click()
    page.get_by_role("heading", name="Gevonden regels").wait_for()
    assert pseudonym in page.content() and bsn not in page.content()
    assert page.locator('a[href^="/fg/records/"]').count() >= 4

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Exporteer deze selectie als CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8"))))
    assert rows and {r["dpl.core.data_subject_id"] for r in rows} == {pseudonym}
    assert all(r["trace_id"] and r["span_id"] and r["name"] for r in rows)

    page.get_by_role("link", name="Noodtoegang", exact=True).click()
    page.get_by_role("link", name="cm-001").first.click()
    page.get_by_label("Nee, niet terecht").check()
    page.get_by_label("Toelichting").fill("Er was geen spoed; de zitting is pas over een maand.")
    page.get_by_role("button", name="Oordeel vastleggen").click()
    page.get_by_text("Uw beoordeling is vastgelegd.").wait_for()
    assert "Wacht op beoordeling (0)" in page.content()

    page.get_by_role("link", name="Betrouwbaarheid").click()
    page.get_by_text("De handtekening klopt").or_(page.get_by_text("nog geen ondertekend checkpoint")).first.wait_for()
    page.get_by_role("button", name="Nu controleren").click()
    page.get_by_text("Het logboek klopt.").wait_for()
    assert "regels gecontroleerd" in page.content()
