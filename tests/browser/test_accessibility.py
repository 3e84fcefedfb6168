"""axe-core on every page (WCAG 2.1 A/AA rules): no serious or critical violations.

With ``LOKET_SCREENSHOTS=<dir>`` the same walk also saves a full-page screenshot of each page
(``scripts/screenshots.py`` runs it for docs/screenshots/).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import AXE_JS, CONSENT_ITEM, eva, login_citizen, login_fg

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}
BLOCKING = {"serious", "critical"}


def check(page: Any, axe: Any, name: str, shots: Path | None, problems: list[str]) -> None:
    page.wait_for_load_state("load")
    results = axe.run(page, options=AXE_OPTIONS)
    for v in results.response["violations"]:
        if v.get("impact") in BLOCKING:
            targets = [n.get("target") for n in v.get("nodes", [])][:3]
            problems.append(f"{name} ({page.url}): {v['id']} [{v['impact']}] {v['help']} {targets}")
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def test_every_page_has_no_serious_or_critical_axe_violations(
        page_for: Callable[[], Any], cm: Callable[..., Any], sandbox: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe.from_file(AXE_JS)
    shots_env = os.environ.get("LOKET_SCREENSHOTS")
    shots = Path(shots_env) if shots_env else None
    problems: list[str] = []

    name, bsn = eva(sandbox)
    api = cm()
    case = api.open(bsn)
    index = api.dossier(case)["audit"]["index"]
    request_id = api.ask(case, [CONSENT_ITEM, "uwv.inkomen"],
                         "Beste Eva, om uw inkomen en schulden op een rij te zetten wil ik graag "
                         "uw studieschuld en uw inkomen zien. U mag ook nee zeggen.")
    crisis = api.open(bsn, purpose="crisis_noodtoegang")
    bg_index = api.break_glass(crisis, "Uitzetting morgen om 9 uur; de burger ligt in het ziekenhuis "
                                       "en kan nu geen toestemming geven.")["audit"]["index"]
    for sub in ("cm-002", "cm-003"):
        cm(sub).open(bsn)

    anon = page_for()
    for url, shot in (("/", "start"), ("/burger/inloggen", "burger-inloggen"), ("/fg/inloggen", "fg-inloggen"),
                      ("/toegankelijkheidsverklaring", "toegankelijkheidsverklaring")):
        anon.goto(url)
        check(anon, axe, shot, shots, problems)

    citizen = page_for()
    login_citizen(citizen, name)
    check(citizen, axe, "burger-overzicht", shots, problems)
    citizen.goto("/burger/toestemmingen")
    check(citizen, axe, "burger-toestemmingen", shots, problems)
    citizen.goto(f"/burger/verzoeken/{request_id}")
    check(citizen, axe, "burger-verzoek", shots, problems)
    citizen.get_by_label("Ja, dit mag").first.check()
    citizen.get_by_label("Nee, dit mag niet").nth(1).check()
    citizen.get_by_role("button", name="Verstuur mijn antwoord").click()
    citizen.get_by_text("Bedankt").wait_for()
    check(citizen, axe, "burger-toestemmingen-na-antwoord", shots, problems)
    citizen.goto("/burger/toegang")
    check(citizen, axe, "burger-toegang", shots, problems)
    citizen.goto(f"/burger/toegang/{index}")
    check(citizen, axe, "burger-bewijs", shots, problems)
    citizen.goto(f"/burger/toegang/{bg_index}")
    check(citizen, axe, "burger-bewijs-noodtoegang", shots, problems)
    citizen.goto("/burger/toegang/999999")
    check(citizen, axe, "burger-niet-gevonden", shots, problems)
    citizen.goto("/burger/vertegenwoordiging")
    check(citizen, axe, "burger-vertegenwoordiging", shots, problems)

    fg = page_for()
    login_fg(fg)
    check(fg, axe, "fg-zoeken", shots, problems)
    fg.get_by_label("Burgerservicenummer van de burger").fill(bsn)
    fg.get_by_role("button", name="Zoeken", exact=True).click()
    fg.get_by_role("heading", name="Gevonden regels").wait_for()
    check(fg, axe, "fg-zoeken-resultaat", shots, problems)
    fg.goto(f"/fg/records/{index}")
    check(fg, axe, "fg-logregel", shots, problems)
    fg.goto("/fg/noodtoegang")
    check(fg, axe, "fg-noodtoegang", shots, problems)
    fg.get_by_role("link", name="cm-001").first.click()
    check(fg, axe, "fg-noodtoegang-beoordelen", shots, problems)
    fg.goto("/fg/integriteit")
    check(fg, axe, "fg-integriteit", shots, problems)
    fg.get_by_role("button", name="Nu controleren").click()
    fg.get_by_text("Het logboek klopt.").wait_for()
    check(fg, axe, "fg-controle", shots, problems)
    fg.goto("/fg/patronen")
    check(fg, axe, "fg-patronen", shots, problems)

    assert not problems, "axe found serious/critical violations:\n" + "\n".join(problems)
