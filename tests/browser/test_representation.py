"""A representative in a real browser: a bewindvoerder signs in for Gerrit, gives consent on
money, is refused on health in B1 Dutch; Gerrit then sees both checks on his own page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adapters.sandbox.citizens import BSN_ONDER_BEWIND
from audit.record import AuditEventKind
from gateway.core.context import Loket
from tests.browser.conftest import CONSENT_ITEM, keys, login_citizen

pytestmark = pytest.mark.browser


def test_a_bewindvoerder_signs_in_and_gives_consent_for_gerrit(
        page_for: Callable[[], Any], cm: Callable[..., Any], loket: Loket) -> None:
    api = cm()
    case = api.open(BSN_ONDER_BEWIND)
    page = page_for()
    page.goto("/burger/inloggen")
    page.get_by_role("button", name="Bewindvoering Noord B.V., bewindvoerder van Gerrit Hoekstra").click()
    page.wait_for_url("**/burger")
    page.get_by_text("U handelt voor Gerrit Hoekstra.").wait_for()

    page.goto("/burger/toestemmingen")
    page.get_by_label("Studieschuld").first.check()
    page.get_by_role("button", name="Geef toestemming").first.click()
    page.get_by_text("Uw toestemming is vastgelegd").wait_for()
    # Gerrit never studied (DUO has no record), but the consent now counts: no longer refused.
    assert CONSENT_ITEM not in keys(api.dossier(case)["refused"])

    page.get_by_label("Gezondheidssituatie en beperkingen").first.check()
    page.get_by_role("button", name="Geef toestemming").first.click()
    page.get_by_text("Als bewindvoerder gaat u alleen over geldzaken.").wait_for()

    granted = [s.record for s in loket.audit.iter_records() if s.record.kind is AuditEventKind.CONSENT_GRANTED]
    assert [r.extra.get("acting_kind") for r in granted] == ["bewindvoerder"]

    gerrit = page_for()
    login_citizen(gerrit, "Gerrit Hoekstra")
    gerrit.get_by_role("link", name="Wie bekeek mijn gegevens?").first.click()
    gerrit.get_by_text("Dit mocht: toestemming geven over geldzaken.").first.wait_for()
    gerrit.get_by_text("Dit mocht niet: toestemming geven over zorg en behandeling.").first.wait_for()
    assert gerrit.get_by_text("Uw bewindvoerder").count() >= 2
