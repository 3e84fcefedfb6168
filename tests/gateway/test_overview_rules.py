"""The overview's ranking rules, as data (gateway/dossier/overview_rules.json), on their own:
pure functions over disclosed values, no HTTP, no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.dossier.overview import AskedBefore, action_items, arrears, build_overview, euro, load_rules

TODAY = date(2026, 11, 25)
MIX = {
    ("cjib", "boetes.openstaand"): "109.00", ("cjib", "boetes.betalingsregeling"): False,
    ("toeslagen", "terugvordering.bedrag"): "412.00", ("toeslagen", "terugvordering.betalingsregeling"): False,
    ("schuldhulp", "signalen.soort"): ["zorgverzekering", "huur", "energie"],
    ("schuldhulp", "signalen.achterstand"): ["412.50", "1350.00", "186.20"],
    ("schuldhulp", "signalen.datum"): ["2026-09-15", "2026-10-20", "2026-10-01"],
    ("uwv", "ww.einddatum"): "2027-01-31",
    ("belastingdienst", "belastingschuld.openstaand"): "0.00",
    ("cak", "wanbetaling.bestuursrechtelijkePremie"): True, ("cak", "wanbetaling.achterstand"): "240.00",
    ("duo", "studieschuld.aflosfase"): False,
}


def org(a: str) -> str:
    return a.upper()


def test_a_real_mix_is_ordered_threat_first() -> None:
    items = action_items(MIX, [], org, TODAY)
    assert [i.rule for i in items] == [
        "huur_achterstand", "energie_water_achterstand", "cjib_boete", "zorgverzekering_achterstand",
        "cak_bestuursrechtelijke_premie", "toeslagen_terugvordering", "cak_achterstand", "ww_einde"]
    eviction = items[0]
    assert "huisuitzetting" in eviction.title_nl and "€ 1.350,00" in eviction.title_nl
    assert all(i.why_nl and i.next_nl for i in items)
    assert items[-1].when == date(2027, 1, 31) and "31 januari 2027" in items[-1].title_nl


def test_rules_never_fire_on_fields_that_were_not_disclosed() -> None:
    assert action_items({}, [], org, TODAY) == []
    only_cjib = {k: v for k, v in MIX.items() if k[0] == "cjib"}
    assert {i.agency for i in action_items(only_cjib, [], org, TODAY)} == {"cjib"}


def test_a_payment_plan_or_nothing_owed_silences_the_rule() -> None:
    settled = {**MIX, ("cjib", "boetes.betalingsregeling"): True}
    assert "cjib_boete" not in [i.rule for i in action_items(settled, [], org, TODAY)]
    assert "belastingschuld" not in [i.rule for i in action_items(MIX, [], org, TODAY)]


def test_an_accepted_pause_moves_the_cjib_fine_down_and_says_until_when() -> None:
    paused = [AskedBefore("Invordering pauzeren bij CJIB", "Geaccepteerd.", agency="cjib",
                          request_type="pause_collection", status="accepted", until="2026-12-25")]
    items = action_items(MIX, paused, org, TODAY)
    cjib = next(i for i in items if i.rule == "cjib_boete")
    assert "gepauzeerd tot 25 december 2026" in cjib.title_nl and cjib.suggest == "payment_plan"
    assert [i.rule for i in items].index("cjib_boete") > [i.rule for i in items].index("toeslagen_terugvordering")


def test_an_earlier_refusal_is_shown_so_nobody_asks_blindly_again() -> None:
    refused = [AskedBefore("Betalingsregeling bij Toeslagen", "Geweigerd.", agency="toeslagen",
                           request_type="payment_plan", status="refused", reason="Er staat niets open.")]
    item = next(i for i in action_items(MIX, refused, org, TODAY) if i.rule == "toeslagen_terugvordering")
    assert item.note_nl == "Eerder gevraagd en geweigerd: Er staat niets open."


def test_dates_outside_the_horizon_or_past_are_not_deadlines() -> None:
    for when in ("2026-11-01", "2028-01-01"):
        assert "ww_einde" not in [i.rule for i in action_items({("uwv", "ww.einddatum"): when}, [], org, TODAY)]


def test_arrears_per_agency_with_total() -> None:
    lines, total = arrears(MIX, org)
    assert total == Decimal("109.00") + Decimal("412.00") + Decimal("412.50") + Decimal("1350.00") + \
        Decimal("186.20") + Decimal("240.00")
    assert lines[0].label_nl == "Achterstand huur" and lines[0].amount == Decimal("1350.00")
    assert {x.agency for x in lines} == {"cjib", "toeslagen", "schuldhulp", "cak"}
    assert euro(total) == "€ 2.709,70"


def test_every_rule_is_complete_and_ranks_are_unique() -> None:
    rules = load_rules()["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    assert len({r["rank"] for r in rules}) == len(rules)
    for r in rules:
        assert r["title_nl"] and r["why_nl"] and r["next_nl"], r["id"]
        assert sum(k in r for k in ("list", "flag", "date", "amount")) >= 1, r["id"]


def test_overview_lists_sections_in_the_agreed_order() -> None:
    ov = build_overview(values=MIX, not_seen=[], asked=[], contacts=[], organisation=org, today=TODAY)
    assert ov.sections == ("acties", "achterstanden", "vertegenwoordiging", "contact", "gevraagd")
    assert "bewindvoerder" in ov.representatives_nl


def test_signals_carry_creditor_months_and_the_announced_next_step() -> None:
    values = {("schuldhulp", "signalen.soort"): ["energie"], ("schuldhulp", "signalen.achterstand"): ["186.20"],
              ("schuldhulp", "signalen.schuldeiser"): ["Eneco"], ("schuldhulp", "signalen.maandenAchterstand"): [2],
              ("schuldhulp", "signalen.vervolgstap"): ["afsluiting aangekondigd"],
              ("schuldhulp", "signalen.vervolgstapDatum"): ["2026-12-02"],
              ("schuldhulp", "signalen.datum"): ["2026-10-01"]}
    (item,) = action_items(values, [], org, TODAY)
    assert item.when == date(2026, 12, 2)
    assert item.note_nl == ("Schuldeiser: Eneco. Achterstand van 2 maanden. "
                            "Aangekondigd: afsluiting aangekondigd op 2 december 2026.")
    (line,), _ = arrears(values, org)
    assert line.label_nl == "Achterstand energie (Eneco)" and line.months == 2


def test_next_steps_a_list_shorter_than_the_signals_is_not_lined_up_wrongly() -> None:
    values = {("schuldhulp", "signalen.soort"): ["zorgverzekering", "energie"],
              ("schuldhulp", "signalen.achterstand"): ["412.50", "186.20"],
              ("schuldhulp", "signalen.vervolgstap"): ["afsluiting aangekondigd"],  # only the energy signal has one
              ("schuldhulp", "signalen.vervolgstapDatum"): ["2026-12-02"]}
    assert all(i.note_nl is None or "Aangekondigd" not in i.note_nl for i in action_items(values, [], org, TODAY))


def test_the_cjib_fine_names_its_next_surcharge_and_date() -> None:
    values = {**MIX, ("cjib", "boetes.zaken.volgendeStap.datum"): ["2026-12-28"],
              ("cjib", "boetes.zaken.volgendeStap.soort"): ["tweede aanmaning (+100.00)"]}
    cjib = next(i for i in action_items(values, [], org, TODAY) if i.rule == "cjib_boete")
    assert cjib.when == date(2026, 12, 28)
    assert cjib.note_nl == "Volgende stap: tweede aanmaning (+100.00) op 28 december 2026."


def test_every_catalog_field_has_a_human_name() -> None:
    """The citizen never reads a raw path: every field the catalog knows has a B1 name."""
    from adapters.catalog import load_catalog
    from gateway.dossier.explain import field_labels_nl

    labels = field_labels_nl()
    missing = [f"{a.id}:{f}" for a in load_catalog().agencies.values() for c in a.categories.values()
               for f in c.fields if not labels.get(a.id, {}).get(f)]
    assert missing == []
