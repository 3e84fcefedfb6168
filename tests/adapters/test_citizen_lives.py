"""The synthetic lives hang together, for any seed (property tests) and for the demo personas."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.ccbr import SCOPE_BY_MEASURE
from adapters.sandbox import citizens as c
from adapters.sandbox.citizens import REFERENCE_DATE, Citizen, generate_citizens

REF = REFERENCE_DATE


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _cents(amount: str) -> int:
    euros, cents = amount.split(".")
    return int(euros) * 100 + int(cents)


def _born(person: Citizen) -> date:
    return date.fromisoformat(person.records["brp"]["geboorte"]["datum"]["datum"])


def check_life(person: Citizen) -> None:
    r: dict[str, Any] = person.records
    born = _born(person)
    brp = r["brp"]
    age = REF.year - born.year - ((REF.month, REF.day) < (born.month, born.day))
    for kind in brp.get("kinderen", ()):
        assert date.fromisoformat(kind["geboorte"]["datum"]["datum"]) > born + timedelta(days=365 * 15)
    for g in brp.get("gezag", ()):  # authority over minors only, and never by a deceased person
        minor = g["minderjarige"]["burgerservicenummer"]
        kids = {k["burgerservicenummer"]: k for k in brp.get("kinderen", ())}
        if minor in kids:
            kid_born = date.fromisoformat(kids[minor]["geboorte"]["datum"]["datum"])
            assert kid_born > date(REF.year - 18, REF.month, REF.day)
        assert "overlijden" not in brp or brp["overlijden"] is None
    if "uwv" in r:
        uwv = r["uwv"]
        jobs = uwv["dienstverbanden"]
        for job in jobs:
            assert _d(job["begindatum"]) >= born + timedelta(days=365 * 15)
            assert job["einddatum"] is None or _d(job["einddatum"]) >= _d(job["begindatum"])
        ww = uwv["ww"]
        if ww["status"] != "geen":
            ended = [_d(j["einddatum"]) for j in jobs if j["einddatum"]]
            assert _d(ww["begindatum"]) - timedelta(days=1) in ended  # WW starts the day after the job
            months = (_d(ww["einddatum"]) - _d(ww["begindatum"])).days / 30.4
            assert 2.5 <= months <= 24.5
            assert ww["status"] == ("lopend" if _d(ww["einddatum"]) > REF else "beëindigd")
        if uwv["ao"]["uitkeringsType"] == "ZW" and uwv["ao"]["einddatum"] is None:
            assert REF - _d(uwv["ao"]["begindatum"]) <= timedelta(weeks=104)
    if "duo" in r:
        sf, debt = r["duo"]["studiefinanciering"], r["duo"]["studieschuld"]
        end = _d(sf["einddatum"])
        assert sf["status"] == ("beëindigd" if end and end <= REF else "lopend")
        start = _d(debt["aanvangAflosfase"])
        if start:
            assert start.month == 1 and start.day == 1 and start > end + timedelta(days=365 * 2)
        assert debt["aflosfase"] == bool(start and start <= REF)
    if "svb" in r and r["svb"]["aow"]["status"] != "geen":
        assert _d(r["svb"]["aow"]["ingangsdatum"]) <= REF and age >= 65
    if "svb" in r:
        minors = [
            k for k in brp.get("kinderen", ()) if _d(k["geboorte"]["datum"]["datum"]) > date(REF.year - 18, 11, 1)
        ]
        assert r["svb"]["kinderbijslag"]["aantalKinderen"] == len(minors) or person.persona is not None
    if "cjib" in r:
        boetes = r["cjib"]["boetes"]
        assert boetes["aantal"] == len(boetes["zaken"])
        assert _cents(boetes["openstaand"]) == sum(_cents(z["openstaand"]) for z in boetes["zaken"])
        for zaak in boetes["zaken"]:
            beschikking = _d(zaak["beschikkingsdatum"])
            dates = [_d(v["datum"]) for v in zaak["verhogingen"]]
            assert dates == sorted(dates) and all(beschikking < x <= REF for x in dates)
            base = _cents(zaak["oorspronkelijkBedrag"]) - c.ADMINISTRATIEKOSTEN
            assert [_cents(v["bedrag"]) for v in zaak["verhogingen"]] == [base // 2, base][: len(dates)]
            assert _cents(zaak["openstaand"]) == _cents(zaak["oorspronkelijkBedrag"]) + sum(
                _cents(v["bedrag"]) for v in zaak["verhogingen"]
            )
            if zaak["volgendeStap"]:
                assert _d(zaak["volgendeStap"]["datum"]) > REF
    if "toeslagen" in r:
        t = r["toeslagen"]["terugvordering"]
        if _cents(t["bedrag"]):
            due = _d(t["uiterlijkeBetaaldatum"])
            assert due > _d(t["beschikkingsdatum"])
            if t["betalingsregeling"]:
                assert _cents(t["termijnbedrag"]) * 24 >= _cents(t["bedrag"]) and _d(t["volgendeTermijn"]) > REF
    if "schuldhulp" in r:
        for s in r["schuldhulp"]["signalen"]:
            assert s["maandenAchterstand"] >= 1 and _cents(s["achterstand"]) > 0
            assert _d(s["datum"]) <= REF
            if s["vervolgstapDatum"]:
                assert _d(s["vervolgstapDatum"]) > _d(s["datum"])
    if "curateleregister" in r:
        for m in r["curateleregister"]["maatregelen"]:
            assert set(m["reikwijdte"]) == SCOPE_BY_MEASURE[m["soort"]]
            assert _d(m["ingangsdatum"]) >= born + timedelta(days=365 * 18)
            v = m["vertegenwoordiger"]
            assert (v["kvkNummer"] is None) != (v["burgerservicenummer"] is None)
            if m["soort"] == "curatele" and m["einddatum"] is None:
                assert brp.get("indicatieCurateleRegister") is True


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_every_generated_life_is_consistent(seed: int) -> None:
    for person in generate_citizens(seed=seed, n=40):
        check_life(person)


def test_generated_bsns_never_collide_with_relatives() -> None:
    from adapters.sandbox.brp_records import referenced_bsns

    people = generate_citizens(seed=5, n=300)
    own = [p.bsn for p in people]
    assert len(own) == len(set(own))
    for p in people:
        others = referenced_bsns(p.records["brp"]) - {p.bsn}
        assert (
            not (others & set(own))
            - set(c.PERSONA_BSNS.values())
            - {b for q in people if q.persona for b in referenced_bsns(q.records["brp"])}
        )


def _persona(name: str) -> Citizen:
    return next(p for p in generate_citizens(n=0) if p.persona == name)


def test_the_demo_citizens_each_have_a_life_event() -> None:
    events = {p.life_event for p in generate_citizens(n=0) if p.life_event}
    assert {"ziekte", "baanverlies", "overlijden_partner", "schulden", "bijna_18"} <= events


def test_sandras_debts_escalate_on_known_dates() -> None:
    sandra = _persona("schulden").records
    fine = sandra["cjib"]["boetes"]["zaken"][0]
    assert [v["soort"] for v in fine["verhogingen"]] == ["eerste aanmaning", "tweede aanmaning"]
    assert fine["volgendeStap"]["soort"] == "dwangbevel (deurwaarder)"
    rent = next(s for s in sandra["schuldhulp"]["signalen"] if s["soort"] == "huur")
    assert (rent["maandenAchterstand"], rent["achterstand"]) == (4, "2900.00")
    assert "ontruiming" in rent["vervolgstap"]
    assert sandra["toeslagen"]["terugvordering"]["volgendeTermijn"] == "2026-11-24"
    assert sandra["cak"]["wanbetaling"]["bestuursrechtelijkePremie"] is True


def test_ahmeds_ww_runs_24_months_from_the_day_after_his_job() -> None:
    ww = _persona("ex_partners").records["uwv"]["ww"]
    assert (ww["status"], ww["begindatum"], ww["einddatum"]) == ("lopend", "2026-05-01", "2028-04-30")


def test_the_widow_gets_anw_after_her_partners_death() -> None:
    anneke = _persona("veel_kinderen").records
    (rob,) = anneke["brp"]["partners"]
    assert rob["ontbindingHuwelijkPartnerschap"]["datum"]["datum"] == "2026-08-14"
    assert anneke["svb"]["anw"]["ingangsdatum"] == "2026-09-01"


def test_everyone_is_checked_including_the_personas() -> None:
    for person in generate_citizens(seed=1, n=0):
        check_life(person)


def test_every_catalog_agency_has_a_professional_contact() -> None:
    from adapters.catalog import load_catalog

    for agency in load_catalog().agencies.values():
        assert agency.professionallijn is not None, agency.id
        assert agency.professionallijn.synthetisch is True
