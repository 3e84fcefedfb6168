"""The sandbox agencies themselves, over real HTTP: Haal Centraal-style field selection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from adapters.catalog import load_catalog
from adapters.sandbox.citizens import BSN_EVA, BSN_GEHEIMHOUDING
from adapters.sandbox.runner import SandboxHandle, start_sandbox

UNKNOWN_BSN = "999990019"  # passes the elfproef, belongs to no synthetic citizen


@pytest.fixture
def http(agency_sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5.0) as client:
        yield client


def ask(
    http: httpx.Client, sandbox: SandboxHandle, agency: str, fields: Any, bsns: Any = None
) -> httpx.Response:
    body = {
        "type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": [BSN_EVA] if bsns is None else bsns,
        "fields": fields,
    }
    return http.post(f"{sandbox.agency_urls[agency]}/{agency}/personen", json=body)


def test_only_the_requested_fields_come_back(
    http: httpx.Client, agency_sandbox: SandboxHandle
) -> None:
    r = ask(http, agency_sandbox, "uwv", ["ao.uitkeringsType", "inkomen.brutoMaand"])
    assert r.status_code == 200
    assert r.json() == {
        "personen": [
            {
                "ao": {"uitkeringsType": "ZW"},
                "inkomen": {"brutoMaand": "612.40"},
                "geheimhoudingPersoonsgegevens": False,
                "inOnderzoek": False,
            }
        ]
    }


def test_a_group_path_returns_its_sub_fields_without_nulls(
    http: httpx.Client, agency_sandbox: SandboxHandle
) -> None:
    person = ask(http, agency_sandbox, "uwv", ["ao"]).json()["personen"][0]
    # einddatum is None in Eva's record: left out, as Haal Centraal leaves out empty values.
    assert person["ao"] == {"uitkeringsType": "ZW", "begindatum": "2026-06-15"}


def test_a_path_through_a_list_selects_in_every_element(
    http: httpx.Client, agency_sandbox: SandboxHandle
) -> None:
    person = ask(http, agency_sandbox, "schuldhulp", ["signalen.soort"]).json()["personen"][0]
    assert person["signalen"] == [{"soort": "zorgverzekering"}, {"soort": "energie"}]


@pytest.mark.parametrize(
    "fields",
    [["naam.roepnaam"], ["medisch"], ["naam.voornamen.eerste"], ["naam..x"], [""], [3], [], "naam"],
)
def test_an_unknown_or_malformed_field_is_a_400_problem(
    http: httpx.Client, agency_sandbox: SandboxHandle, fields: Any
) -> None:
    r = ask(http, agency_sandbox, "brp", fields)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 400 and problem["type"].startswith("https://")
    assert BSN_EVA not in r.text


@pytest.mark.parametrize(
    "bsns", [[], ["123456789"], ["99999384"], [999993847], "999993847", None, ["000000000"]]
)
def test_a_missing_or_invalid_bsn_is_a_400_that_does_not_echo_it(
    http: httpx.Client, agency_sandbox: SandboxHandle, bsns: Any
) -> None:
    body = {"type": "RaadpleegMetBurgerservicenummer", "fields": ["naam"]}
    if bsns is not None:
        body["burgerservicenummer"] = bsns
    r = http.post(f"{agency_sandbox.agency_urls['brp']}/personen", json=body)
    assert r.status_code == 400
    assert r.json()["code"] == "paramsValidation"
    assert r.json()["invalidParams"][0]["name"].startswith("burgerservicenummer")
    for b in bsns if isinstance(bsns, list) else [bsns]:
        if b:
            assert str(b) not in r.text


def test_a_wrong_query_type_or_non_json_body_is_a_400(
    http: httpx.Client, agency_sandbox: SandboxHandle
) -> None:
    url = f"{agency_sandbox.agency_urls['brp']}/personen"
    assert http.post(url, json={"type": "ZoekMetPostcode", "fields": ["naam"]}).status_code == 400
    json_type = {"Content-Type": "application/json"}
    assert http.post(url, content=b"{not json", headers=json_type).status_code == 400
    url = f"{agency_sandbox.agency_urls['uwv']}/uwv/personen"
    assert http.post(url, content=b"{not json").status_code == 400


def test_an_agency_of_another_kind_is_not_served_here(
    http: httpx.Client, agency_sandbox: SandboxHandle
) -> None:
    r = http.post(f"{agency_sandbox.kind_urls['brp']}/uwv/personen", json={})
    assert r.status_code == 404


def test_an_unknown_citizen_is_an_empty_list(
    http: httpx.Client, agency_sandbox: SandboxHandle
) -> None:
    r = ask(http, agency_sandbox, "svb", ["aow"])  # Eva has no SVB record
    assert r.status_code == 200 and r.json() == {"personen": []}
    r = ask(http, agency_sandbox, "brp", ["naam"], [UNKNOWN_BSN])
    assert r.json() == {"type": "RaadpleegMetBurgerservicenummer", "personen": []}


def test_the_brp_leaves_out_false_flags_and_sends_true_ones(
    http: httpx.Client, agency_sandbox: SandboxHandle
) -> None:
    eva = ask(http, agency_sandbox, "brp", ["geboorte.datum"]).json()["personen"][0]
    assert eva == {"geboorte": {"datum": {"type": "Datum", "datum": "2004-03-14", "langFormaat": "14 maart 2004"}}}
    secret = ask(http, agency_sandbox, "brp", ["naam.geslachtsnaam"], [BSN_GEHEIMHOUDING]).json()
    assert secret["personen"][0]["geheimhoudingPersoonsgegevens"] is True


@pytest.mark.parametrize("kind", sorted({a.adapter for a in load_catalog().agencies.values()}))
def test_every_kind_is_healthy_and_serves_its_catalog_agencies(
    http: httpx.Client, agency_sandbox: SandboxHandle, kind: str
) -> None:
    health = http.get(f"{agency_sandbox.kind_urls[kind]}/health").json()
    expected = sorted(a.id for a in load_catalog().agencies.values() if a.adapter == kind)
    assert health == {"status": "ok", "kind": kind, "agencies": expected}


def test_the_sandbox_starts_and_stops_cleanly() -> None:
    with start_sandbox(seed=2, n_citizens=5) as handle:
        url = handle.kind_urls["cjib"]
        assert httpx.get(f"{url}/health", trust_env=False).status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", trust_env=False, timeout=1.0)
