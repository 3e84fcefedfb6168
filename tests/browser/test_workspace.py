"""The casemanager's day and the citizen's "Ik herken dit niet", in Chromium, with axe on every
new page (WCAG 2.1 A/AA: no serious or critical violations). ``LOKET_SCREENSHOTS=<dir>`` saves
each page too (scripts/screenshots.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import AXE_JS, eva, login_citizen, login_fg
from tests.browser.test_accessibility import check

pytestmark = [pytest.mark.browser, pytest.mark.pilot, pytest.mark.usefixtures("quick_agencies")]

AGENCY_ANSWER_S = 0.3  # the page shows the request waiting first


@pytest.fixture
def axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe.from_file(AXE_JS)


def _shots() -> Path | None:
    value = os.environ.get("LOKET_SCREENSHOTS")
    return Path(value) if value else None


def test_casemanager_goes_from_my_cases_through_the_overview_to_a_pause_request_and_asks_consent(
        page_for: Callable[[], Any], cm: Callable[..., Any], sandbox: Any, axe: Any) -> None:
    shots, problems = _shots(), []
    _, bsn = eva(sandbox)
    case = cm("cm-001").open(bsn, purpose="schuldhulp_intake")
    page = page_for()
    page.goto("/casemanager/inloggen")
    check(page, axe, "casemanager-inloggen", shots, problems)
    page.get_by_role("button", name="Inloggen als Sanne Visser").click()
    page.get_by_role("heading", name="Mijn zaken").wait_for()
    check(page, axe, "casemanager-mijn-zaken", shots, problems)

    page.get_by_role("link", name=f"Zaak {case[:8]}").click()
    page.get_by_role("heading", name="1. Termijnen en dreigingen").wait_for()
    check(page, axe, "casemanager-overzicht", shots, problems)
    page.get_by_role("button", name="Invordering pauzeren: vraag het Centraal Justitieel Incassobureau").click()
    page.get_by_text("Verzoek verstuurd: invordering pauzeren bij Centraal Justitieel Incassobureau").wait_for()

    time.sleep(0.4)  # the sandbox CJIB answers after a delay
    page.get_by_role("link", name="Verzoeken aan organisaties").click()
    page.get_by_role("cell", name="Geaccepteerd.").wait_for()
    check(page, axe, "casemanager-verzoeken", shots, problems)
    page.get_by_role("link", name="Overzicht", exact=True).click()
    page.get_by_text("invordering gepauzeerd tot").first.wait_for()

    page.get_by_role("link", name="Dossier en herkomst").click()
    page.get_by_role("heading", name="Niet gedeeld").wait_for()
    check(page, axe, "casemanager-dossier", shots, problems)
    page.get_by_label("Gezondheidssituatie en beperkingen", exact=False).check()
    page.get_by_role("button", name="Vraag toestemming").click()
    page.get_by_text("Uw vraag om toestemming is naar de burger gestuurd").wait_for()
    assert page.get_by_text("Toestemming gevraagd aan de burger voor").count() == 1

    page.get_by_role("link", name="Noodtoegang").click()
    check(page, axe, "casemanager-noodtoegang", shots, problems)
    assert not problems, "axe found serious/critical violations:\n" + "\n".join(problems)


def test_ik_herken_dit_niet_goes_to_the_fg_queue_and_back(
        page_for: Callable[[], Any], cm: Callable[..., Any], sandbox: Any, axe: Any) -> None:
    shots, problems = _shots(), []
    name, bsn = eva(sandbox)
    api = cm("cm-007")
    case = api.open(bsn, purpose="schuldhulp_intake")
    for _ in range(10):
        api.dossier(case)
    citizen = page_for()
    login_citizen(citizen, name)
    citizen.goto("/burger/toegang")
    check(citizen, axe, "burger-toegang", shots, problems)
    looks = citizen.locator("article.loket-look")
    assert looks.count() == 11  # ten looks and the case opening
    top = looks.nth(0).bounding_box()
    bottom = looks.nth(9).bounding_box()
    assert top is not None and bottom is not None
    assert bottom["y"] + bottom["height"] - top["y"] <= 1.5 * 900, "ten looks take more than 1.5 screens"

    citizen.get_by_role("link", name="Ik herken dit niet").first.click()
    citizen.get_by_role("heading", name="Ik herken dit niet").wait_for()
    check(citizen, axe, "burger-melden", shots, problems)
    citizen.get_by_label("Wat herkent u niet?").fill("Ik ken Thomas de Graaf niet.")
    citizen.get_by_role("button", name="Melding versturen").click()
    citizen.get_by_text("U meldde: ik herken dit niet.").wait_for()

    fg = page_for()
    login_fg(fg)
    fg.get_by_role("link", name="Meldingen").click()
    fg.get_by_role("heading", name="Wacht op antwoord (1)").wait_for()
    check(fg, axe, "fg-meldingen", shots, problems)
    fg.get_by_role("link", name="Melding van").first.click()
    check(fg, axe, "fg-melding", shots, problems)
    fg.get_by_label("Uw antwoord aan de burger").fill(
        "Thomas de Graaf is casemanager van Team Jongeren en werkte aan uw aanvraag schuldhulp.")
    fg.get_by_role("button", name="Antwoord versturen").click()
    fg.get_by_role("heading", name="Wacht op antwoord (0)").wait_for()

    citizen.reload()
    citizen.get_by_text("heeft uw melding beantwoord").wait_for()
    citizen.get_by_text("werkte aan uw aanvraag schuldhulp").wait_for()
    citizen.locator("summary", has_text="Welke gegevens?").first.click()
    citizen.locator("summary", has_text="Waarom mocht dit?").first.click()
    check(citizen, axe, "burger-toegang-details", shots, problems)
    fg.goto("/fg/patronen")
    check(fg, axe, "fg-patronen", shots, problems)
    assert not problems, "axe found serious/critical violations:\n" + "\n".join(problems)
