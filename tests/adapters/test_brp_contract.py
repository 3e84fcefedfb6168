"""The BRP adapter's contract with Haal Centraal BRP Bevragen 2.x, against any base URL.

By default these run against the sandbox BRP. Point them at another implementation of the
published API (the RvIG proefomgeving, say) with

    LOKET_BRP_CONTRACT_URL=https://proefomgeving.haalcentraal.nl/haalcentraal/api/brp \\
    LOKET_BRP_CONTRACT_API_KEY=... CI=true python3 -m pytest -q tests/adapters/test_brp_contract.py

Everything asserted here holds for any server that follows the spec and knows the Haal Centraal
test persons of DOMAIN.md; tests that need the sandbox's own people or clock are in the second
half and are skipped against another URL. Every answer is validated against the vendored
OpenAPI (tests/adapters/spec/brp/openapi.json).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from adapters.catalog import load_catalog
from adapters.registry import aclose_adapters, build_adapters
from adapters.sandbox import brp as sandbox_brp
from adapters.sandbox.citizens import (
    BSN_BIJNA_18,
    BSN_EVA,
    BSN_MINDERJARIGE,
    BSN_OUDER_MINDERJARIGE,
    BSN_PARTNER_KINDEREN,
    BSN_SCHULDEN,
    generate_citizens,
)
from adapters.sandbox.runner import SandboxHandle
from tests.adapters.conftest import run
from tests.adapters.spec.brp_openapi import errors_in_response, spec_field_paths

CATALOG = load_catalog()
EXTERNAL_URL = os.environ.get("LOKET_BRP_CONTRACT_URL")
API_KEY = os.environ.get("LOKET_BRP_CONTRACT_API_KEY")
sandbox_only = pytest.mark.skipif(EXTERNAL_URL is not None, reason="needs the sandbox's own data or clock")
# A Haal Centraal test person (DOMAIN.md): parents, partner and children.
TEST_PERSON = BSN_PARTNER_KINDEREN


@pytest.fixture
def base_url(agency_sandbox: SandboxHandle) -> str:
    return (EXTERNAL_URL or agency_sandbox.agency_urls["brp"]).rstrip("/")


@pytest.fixture
def brp(base_url: str) -> Iterator[httpx.Client]:
    headers = {"X-API-KEY": API_KEY} if API_KEY else {}
    with httpx.Client(base_url=base_url, headers=headers, trust_env=False, timeout=10.0) as client:
        yield client


def post(client: httpx.Client, body: Any, **kw: Any) -> httpx.Response:
    r = client.post("/personen", json=body, **kw)
    try:
        doc = r.json()
    except ValueError:
        pytest.fail(f"answer {r.status_code} is not JSON")
    problems = errors_in_response(r.status_code, doc)
    assert not problems, problems
    return r


def query(fields: Any, bsns: Any = None) -> dict[str, Any]:
    return {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": bsns or [TEST_PERSON], "fields": fields}


def test_a_raadpleeg_answer_says_its_type_and_holds_the_person(brp: httpx.Client) -> None:
    r = post(brp, query(["burgerservicenummer", "naam.geslachtsnaam"]))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc["type"] == "RaadpleegMetBurgerservicenummer"
    (person,) = doc["personen"]
    assert person["burgerservicenummer"] == TEST_PERSON
    assert set(person) <= {"burgerservicenummer", "naam", "inOnderzoek", "geheimhoudingPersoonsgegevens"}


def test_a_date_comes_as_a_date_object_whichever_part_is_asked(brp: httpx.Client) -> None:
    for field in ("geboorte.datum", "geboorte.datum.langFormaat"):
        (person,) = post(brp, query([field])).json()["personen"]
        born = person["geboorte"]["datum"]
        assert born["type"] in ("Datum", "JaarDatum", "JaarMaandDatum", "DatumOnbekend")
        assert "langFormaat" in born


def test_partners_and_children_carry_a_naam_group(brp: httpx.Client) -> None:
    (person,) = post(brp, query(["partners.naam", "kinderen.naam"])).json()["personen"]
    for relative in (*person.get("partners", ()), *person.get("kinderen", ())):
        assert isinstance(relative["naam"], dict) and "geslachtsnaam" in relative["naam"]


@pytest.mark.parametrize(
    ("fields", "code", "name"),
    [
        (["bestaatNiet"], "fields", "fields[0]"),
        (["naam.geslachtsnaam", "naam.roepnaam"], "fields", "fields[1]"),
        (["inOnderzoek"], "fields", "fields[0]"),  # delivered automatically, may not be asked
        (["geheimhoudingPersoonsgegevens"], "fields", "fields[0]"),
        (["burger service nummer"], "pattern", "fields[0]"),
        ([], "minItems", "fields"),
        ("burgerservicenummer,geslacht", "array", "fields"),
        (None, "required", "fields"),
    ],
)
def test_bad_fields_are_a_400_with_invalid_params(brp: httpx.Client, fields: Any, code: str, name: str) -> None:
    body = query(fields)
    if fields is None:
        del body["fields"]
    r = post(brp, body)
    assert r.status_code == 400
    problem = r.json()
    assert problem["code"] == "paramsValidation"
    assert {"code": code, "name": name} in [{"code": p["code"], "name": p["name"]} for p in problem["invalidParams"]]
    assert TEST_PERSON not in r.text


@pytest.mark.parametrize("bsns", [["12345678"], ["99999384a"]])
def test_a_malformed_bsn_is_a_400_that_does_not_echo_it(brp: httpx.Client, bsns: list[str]) -> None:
    r = post(brp, query(["naam"], bsns))
    assert r.status_code == 400
    assert r.json()["invalidParams"][0] == {
        "name": "burgerservicenummer[0]",
        "code": "pattern",
        "reason": "Waarde voldoet niet aan patroon ^[0-9]{9}$.",
    }
    assert bsns[0] not in r.text


def test_an_unknown_search_type_is_a_400(brp: httpx.Client) -> None:
    r = post(brp, {"type": "ZoekMetIets", "fields": ["naam"]})
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "type"


def _fetch(base_url: str, fields: list[str], bsn: str = TEST_PERSON) -> Any:
    async def go() -> Any:
        adapters = build_adapters(
            {"brp": base_url},
            timeout_s=10,
            max_response_bytes=256 * 1024,
            credentials={"brp": API_KEY} if API_KEY else None,
        )
        try:
            return await adapters["brp"].fetch("brp", bsn, fields)
        finally:
            await aclose_adapters(adapters)

    return run(go())


@pytest.mark.parametrize("category", sorted(CATALOG.agencies["brp"].categories))
def test_the_adapter_asks_a_catalog_category_and_gets_only_it(base_url: str, category: str) -> None:
    fields = list(CATALOG.agencies["brp"].categories[category].fields)
    answer = _fetch(base_url, fields)
    assert answer.status == "ok", answer.error_code
    assert answer.extra_fields_dropped == ()
    flags = set(CATALOG.always_included_flags)
    for key in set(answer.data) - flags:
        assert any(f == key or f.startswith(key + ".") for f in fields), key
    assert isinstance(answer.data["inOnderzoek"], bool)
    assert isinstance(answer.data["geheimhoudingPersoonsgegevens"], bool)


def test_every_catalog_brp_field_is_a_field_of_the_spec() -> None:
    assert set(CATALOG.fields_of("brp")) <= spec_field_paths()


# -- the sandbox's own behaviour ----------------------------------------------------------


@sandbox_only
def test_the_sandbox_knows_exactly_the_spec_fields() -> None:
    assert sandbox_brp.spec_fields() == spec_field_paths()


@sandbox_only
def test_a_field_the_client_may_not_ask_is_a_403_unauthorized_field(brp: httpx.Client) -> None:
    restricted = {"X-API-KEY": sandbox_brp.BEPERKTE_AFNEMER_KEY}
    assert post(brp, query(["naam.geslachtsnaam"]), headers=restricted).status_code == 200
    r = post(brp, query(["naam.geslachtsnaam", "verblijfplaats"]), headers=restricted)
    assert r.status_code == 403
    assert r.json()["code"] == "unauthorizedField"
    assert r.json()["title"] == "U bent niet geautoriseerd voor één of meerdere opgegeven field waarden."
    assert post(brp, query(["naam"]), headers={"X-API-KEY": "onbekend"}).status_code == 401


@sandbox_only
def test_every_delivery_is_protocolled_without_the_bsn(brp: httpx.Client, agency_sandbox: SandboxHandle) -> None:
    protocol = agency_sandbox.protocollering
    assert protocol is not None
    protocol.clear()
    post(brp, query(["naam.voornamen", "geboorte.datum"], [BSN_EVA]))
    post(brp, query(["naam"], [BSN_EVA]), headers={"X-API-KEY": sandbox_brp.BEPERKTE_AFNEMER_KEY})
    first, second = protocol.records()
    assert (first.afnemer, first.fields, first.delivered) == ("000001", ("naam.voornamen", "geboorte.datum"), 1)
    assert second.afnemer == sandbox_brp.BEPERKTE_AFNEMER.id
    assert [r.afnemer for r in protocol.about(BSN_EVA)] == ["000001", "000002"]
    assert BSN_EVA not in repr(protocol.records())


@sandbox_only
def test_gezag_names_minor_and_parents_by_bsn(brp: httpx.Client) -> None:
    (noah,) = post(brp, query(["gezag.type"], [BSN_MINDERJARIGE])).json()["personen"]
    (gezag,) = noah["gezag"]  # asking one gezag field delivers the whole relation
    assert gezag["type"] == "GezamenlijkOuderlijkGezag"
    assert gezag["minderjarige"]["burgerservicenummer"] == BSN_MINDERJARIGE
    assert BSN_OUDER_MINDERJARIGE in [o["burgerservicenummer"] for o in gezag["ouders"]]
    (linda,) = post(brp, query(["gezag", "leeftijd"], [BSN_OUDER_MINDERJARIGE])).json()["personen"]
    assert [g["minderjarige"]["burgerservicenummer"] for g in linda["gezag"]] == [BSN_MINDERJARIGE]
    assert linda["leeftijd"] == 43


def _sandbox_on(day: date) -> TestClient:
    app = sandbox_brp.create_brp_app(
        generate_citizens(n=0), default_afnemer=sandbox_brp.loket_afnemer(), today=lambda: day
    )
    return TestClient(app)


@sandbox_only
def test_a_parents_authority_ends_on_the_childs_18th_birthday() -> None:
    # Jayden turns 18 on 20 December 2026; the gezag of his mother is delivered until then.
    for day, expected in ((date(2026, 12, 19), [BSN_BIJNA_18]), (date(2026, 12, 20), [])):
        with _sandbox_on(day) as client:
            r = client.post("/personen", json=query(["gezag", "leeftijd"], [BSN_SCHULDEN, BSN_BIJNA_18]))
            assert not errors_in_response(r.status_code, r.json())
            sandra, jayden = r.json()["personen"]
            minors = [g["minderjarige"]["burgerservicenummer"] for g in sandra.get("gezag", ())]
            assert (BSN_BIJNA_18 in minors) == bool(expected)
            assert jayden.get("gezag", []) == ([g for g in jayden["gezag"]] if expected else [])
            assert jayden["leeftijd"] == (17 if expected else 18)


@sandbox_only
def test_the_sandbox_brp_refuses_a_request_that_is_not_json(base_url: str) -> None:
    r = httpx.post(f"{base_url}/personen", content=b"naam", headers={"Content-Type": "text/plain"}, trust_env=False)
    assert r.status_code == 415 and r.json()["code"] == "unsupported"
    assert not errors_in_response(415, r.json())
