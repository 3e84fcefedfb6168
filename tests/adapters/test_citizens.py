"""The synthetic citizen generator: deterministic, valid BSNs, records shaped by the catalog."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.catalog import load_catalog
from adapters.fields import get_path
from adapters.sandbox import citizens as c
from adapters.sandbox.citizens import generate_citizens


def elfproef(bsn: str) -> bool:
    # Written out again on purpose: an independent check of the generator's own.
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return (
        len(bsn) == 9
        and bsn.isdigit()
        and bsn != "000000000"
        and sum(w * int(d) for w, d in zip(weights, bsn, strict=False)) % 11 == 0
    )


def _has_data(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_data(v) for v in value)
    return value is not None


def test_same_seed_gives_the_same_citizens() -> None:
    assert generate_citizens(seed=7, n=40) == generate_citizens(seed=7, n=40)


def test_another_seed_gives_other_citizens() -> None:
    a = [x.bsn for x in generate_citizens(seed=1, n=40)]
    b = [x.bsn for x in generate_citizens(seed=2, n=40)]
    assert a != b


def test_every_bsn_passes_the_elfproef_is_synthetic_and_unique() -> None:
    people = generate_citizens(seed=3, n=500)
    bsns = [p.bsn for p in people]
    assert len(set(bsns)) == len(bsns) == 500 + len(c.PERSONA_BSNS)
    assert all(elfproef(b) and b.startswith("9999") for b in bsns)


def test_personas_come_first_and_do_not_depend_on_the_seed() -> None:
    one, two = generate_citizens(seed=1, n=0), generate_citizens(seed=99, n=0)
    assert one == two
    assert {p.persona: p.bsn for p in one} == c.PERSONA_BSNS


def _person(bsn: str) -> c.Citizen:
    return next(p for p in generate_citizens(n=0) if p.bsn == bsn)


def test_haal_centraal_test_personas_have_their_story() -> None:
    gezin = _person(c.BSN_PARTNER_KINDEREN).records["brp"]
    assert len(gezin["partners"]) == 1 and len(gezin["kinderen"]) == 3
    names = {g["minderjarige"]["naam"]["volledigeNaam"] for g in gezin["gezag"]}
    assert names == {"Lotte de Vries", "Daan de Vries"}

    assert _person(c.BSN_OVERLEDEN).records["brp"]["overlijden"]["datum"]["datum"] == "2025-12-03"
    assert _person(c.BSN_GEHEIMHOUDING).records["brp"]["geheimhoudingPersoonsgegevens"] is True
    minor = _person(c.BSN_MINDERJARIGE).records["brp"]
    (gezag,) = minor["gezag"]
    assert gezag["type"] == "GezamenlijkOuderlijkGezag"
    assert gezag["minderjarige"]["burgerservicenummer"] == c.BSN_MINDERJARIGE
    assert c.BSN_OUDER_MINDERJARIGE in {o["burgerservicenummer"] for o in gezag["ouders"]}
    # BRP 2.x delivers only the current (or last dissolved) partner.
    assert len(_person(c.BSN_EX_PARTNERS).records["brp"]["partners"]) == 1
    assert len(_person(c.BSN_VEEL_KINDEREN).records["brp"]["kinderen"]) >= 4
    address = _person(c.BSN_NIET_NEDERLANDS).records["brp"]["verblijfplaats"]
    assert address["inOnderzoek"]["type"] is True


def test_eva_is_a_22_year_old_student_with_leukemia_known_where_her_story_says() -> None:
    eva = _person(c.BSN_EVA)
    assert eva.records["brp"]["geboorte"]["datum"] == {
        "type": "Datum",
        "datum": "2004-03-14",  # 22 on REFERENCE_DATE
        "langFormaat": "14 maart 2004",
    }
    assert {"duo", "uwv", "gemeente_wmo", "toeslagen", "schuldhulp", "cjib"} <= set(eva.records)
    assert "svb" not in eva.records  # unknown there: the sandbox answers "no record"
    assert eva.records["uwv"]["ao"]["uitkeringsType"] == "ZW"
    assert eva.records["duo"]["studiefinanciering"]["status"] == "lopend"
    assert "leukemie" in eva.records["gemeente_wmo"]["gezondheid"]["situatie"]


def test_records_hold_only_catalog_fields_and_the_flags() -> None:
    catalog = load_catalog()
    for person in generate_citizens(seed=1, n=200):
        for agency, record in person.records.items():
            if agency == "brp":
                continue  # the spec's model, checked against the OpenAPI in test_brp_contract.py
            allowed = catalog.fields_of(agency) | set(catalog.always_included_flags)
            groups = {f.rsplit(".", 1)[0] for f in catalog.fields_of(agency)}
            for key in record:
                assert key in allowed or key in {g.split(".")[0] for g in groups}, (agency, key)
            for field in catalog.fields_of(agency):
                present, _ = get_path(record, field)
                # Every catalog field is there, or its list is empty (no partners, ...).
                # (or an enclosing group is absent: no next step for a fine under a plan).
                parent_present, parent = get_path(record, field.rsplit(".", 1)[0])
                empty = parent == [] or (isinstance(parent, list) and None in parent)
                assert present or (parent_present and empty), (agency, field)
            for flag in catalog.always_included_flags:
                assert isinstance(record[flag], bool)


# Gezag types with a toelichting (TijdelijkGeenGezag, GezagNietTeBepalen) are not in the set.
NOT_IN_SYNTHETIC_DATA = {("brp", "gezag.toelichting")}


@pytest.mark.parametrize("agency", sorted(load_catalog().agencies))
def test_every_catalog_field_has_a_value_for_someone(agency: str) -> None:
    people = generate_citizens(seed=1, n=50)
    for field in load_catalog().fields_of(agency):
        if (agency, field) in NOT_IN_SYNTHETIC_DATA:
            continue
        assert any(
            _has_data(get_path(p.records[agency], field)[1]) for p in people if agency in p.records
        ), (agency, field)


def test_some_citizens_are_unknown_at_some_agencies() -> None:
    people = generate_citizens(seed=1, n=50)
    assert all("brp" in p.records for p in people)
    assert any(len(p.records) < len(load_catalog().agencies) for p in people)


def test_amounts_are_euro_strings_with_two_decimals() -> None:
    eva = _person(c.BSN_EVA)
    assert eva.records["toeslagen"]["toeslagen"]["zorgtoeslag"] == "131.00"
    assert eva.records["cak"]["eigenBijdrage"]["bedragMaand"] == "21.80"


def test_a_citizen_repr_does_not_show_the_bsn() -> None:
    eva = _person(c.BSN_EVA)
    assert c.BSN_EVA not in repr(eva)
