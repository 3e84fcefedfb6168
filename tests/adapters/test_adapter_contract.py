"""One contract test set per agency, run against the real sandbox agency on localhost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.base import AgencyAdapter
from adapters.catalog import load_catalog
from adapters.fields import leaf_paths, minimise
from adapters.registry import ADAPTER_KINDS, aclose_adapters, build_adapters
from adapters.sandbox.citizens import (
    BSN_EVA,
    BSN_GEHEIMHOUDING,
    BSN_NIET_NEDERLANDS,
    generate_citizens,
)
from adapters.sandbox.runner import SandboxHandle
from tests.adapters.conftest import DEFAULT_TIMEOUT_S, FetchOne, run, without_nulls

CATALOG = load_catalog()
FLAGS = CATALOG.always_included_flags
PEOPLE = generate_citizens(seed=1, n=50)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _someone_known_at(agency: str) -> str:
    return next(p.bsn for p in PEOPLE if agency in p.records)


def _someone_with(agency: str, fields: list[str]) -> str:
    """A citizen with a value for every one of ``fields`` (no empty lists to hide behind)."""
    return next(
        p.bsn
        for p in PEOPLE
        if agency in p.records
        and leaf_paths(minimise(without_nulls(p.records[agency]), fields)) >= set(fields)
    )


# The BRP speaks the published BRP API 2.x and has its own suite (test_brp_contract.py).
LOKET_STYLE = sorted(a for a in CATALOG.agencies if a != "brp")
AGENCY_CATEGORIES = [
    (agency, category)
    for agency, a in sorted(CATALOG.agencies.items())
    if agency != "brp"
    for category in sorted(a.categories)
]


@pytest.mark.parametrize(("agency", "category"), AGENCY_CATEGORIES)
def test_only_the_requested_category_comes_back(
    fetch: FetchOne, agency_sandbox: SandboxHandle, agency: str, category: str
) -> None:
    fields = list(CATALOG.agencies[agency].categories[category].fields)
    bsn = _someone_with(agency, fields)
    answer = fetch(agency, fields, bsn)

    assert answer.status == "ok" and answer.error_code is None
    assert answer.extra_fields_dropped == ()
    record = without_nulls(agency_sandbox.citizen(bsn).records[agency])
    expected = minimise(record, fields)
    assert {k: v for k, v in answer.data.items() if k not in FLAGS} == expected
    assert leaf_paths(answer.data) == set(fields) | set(FLAGS)
    for flag in FLAGS:  # always along, so the rest can be read correctly
        assert answer.data[flag] is record[flag]
    # What went over the wire was exactly what was asked for.
    (seen,) = agency_sandbox.observations[CATALOG.agencies[agency].adapter].requests()
    assert seen.fields == tuple(fields) and seen.bsn_count == 1


@pytest.mark.parametrize("agency", LOKET_STYLE)
def test_a_group_path_returns_its_sub_fields(fetch: FetchOne, agency: str) -> None:
    bsn = _someone_known_at(agency)
    category = next(iter(CATALOG.agencies[agency].categories.values()))
    group = category.fields[0].split(".")[0]
    answer = fetch(agency, [group], bsn)
    assert answer.status == "ok"
    assert set(answer.data) <= {group, *FLAGS}
    leaves = {p for p in leaf_paths(answer.data) if p not in FLAGS}
    assert leaves and all(p.startswith(group + ".") for p in leaves)


@pytest.mark.parametrize("agency", sorted(CATALOG.agencies))
def test_an_unknown_field_makes_the_agency_unavailable_with_http_400(
    fetch: FetchOne, agency: str
) -> None:
    answer = fetch(agency, ["bestaatNiet.veld"], _someone_known_at(agency))
    assert (answer.status, answer.error_code, answer.data) == ("unavailable", "http_400", {})


def test_a_citizen_unknown_at_the_agency_is_ok_with_no_data(fetch: FetchOne) -> None:
    answer = fetch("svb", ["aow.status"], BSN_EVA)
    assert (answer.status, answer.data, answer.error_code, answer.known) == ("ok", {}, None, False)


def test_the_brp_adapter_makes_absent_flags_explicit(fetch: FetchOne) -> None:
    eva = fetch("brp", ["naam.geslachtsnaam"], BSN_EVA)
    assert eva.data == {
        "naam": {"geslachtsnaam": "Boer"},
        "geheimhoudingPersoonsgegevens": False,
        "inOnderzoek": False,
    }
    assert fetch("brp", ["naam"], BSN_GEHEIMHOUDING).data["geheimhoudingPersoonsgegevens"] is True
    # The spec marks the group; the gateway gets one flag per agency.
    address = fetch("brp", ["verblijfplaats.verblijfadres.postcode"], BSN_NIET_NEDERLANDS)
    assert address.data == {
        "verblijfplaats": {"verblijfadres": {"postcode": "2624AL"}},
        "geheimhoudingPersoonsgegevens": False,
        "inOnderzoek": True,
    }
    assert address.extra_fields_dropped == ()


def test_an_answer_carries_its_retrieval_time_in_utc_and_its_duration(fetch: FetchOne) -> None:
    before = datetime.now(UTC)
    answer = fetch("duo", ["studiefinanciering.status"])
    assert answer.retrieved_at.utcoffset() == timedelta(0)
    assert before <= answer.retrieved_at <= datetime.now(UTC)
    assert 0 < answer.duration_ms < DEFAULT_TIMEOUT_S * 1000


def test_the_traceparent_is_passed_through(fetch: FetchOne, agency_sandbox: SandboxHandle) -> None:
    fetch("cjib", ["boetes"], traceparent=TRACEPARENT)
    (seen,) = agency_sandbox.observations["cjib"].requests()
    assert seen.traceparent == TRACEPARENT


@pytest.mark.parametrize(
    "bad", ["00-xyz", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX: 1"]
)
def test_a_malformed_traceparent_is_dropped_not_forwarded(
    fetch: FetchOne, agency_sandbox: SandboxHandle, bad: str
) -> None:
    answer = fetch("cjib", ["boetes"], traceparent=bad)
    assert answer.status == "ok"
    (seen,) = agency_sandbox.observations["cjib"].requests()
    assert seen.traceparent is None


def test_the_bsn_goes_only_in_the_body_never_in_the_url(
    fetch: FetchOne, agency_sandbox: SandboxHandle
) -> None:
    for agency in CATALOG.agencies:
        fetch(agency, [next(iter(CATALOG.fields_of(agency)))])
    seen = [r for obs in agency_sandbox.observations.values() for r in obs.requests()]
    assert len(seen) == len(CATALOG.agencies)
    for request in seen:
        assert request.url == ("/personen" if request.agency == "brp" else f"/{request.agency}/personen")
        assert BSN_EVA not in request.url and request.bsn_count == 1


def test_duplicate_and_nested_fields_are_folded_before_sending(
    fetch: FetchOne, agency_sandbox: SandboxHandle
) -> None:
    answer = fetch("brp", ["naam", "naam.voornamen", "naam", "geboorte.datum"])
    assert answer.data["naam"] == {
        "voornamen": "Eva Maria",
        "voorvoegsel": "de",
        "geslachtsnaam": "Boer",
        "voorletters": "E.M.",
        "volledigeNaam": "Eva Maria de Boer",
    }
    (seen,) = agency_sandbox.observations["brp"].requests()
    assert seen.fields == ("naam", "geboorte.datum")


def test_every_catalog_kind_has_an_adapter() -> None:
    assert {a.adapter for a in CATALOG.agencies.values()} == set(ADAPTER_KINDS)


def test_one_adapter_and_client_per_kind(agency_sandbox: SandboxHandle) -> None:
    adapters = build_adapters(agency_sandbox.agency_urls, timeout_s=1, max_response_bytes=1024)
    assert adapters["belastingdienst"] is adapters["toeslagen"]
    assert adapters["gemeente_wmo"] is adapters["schuldhulp"] is adapters["gemeente_participatie"]
    assert len({id(a) for a in adapters.values()}) == len(ADAPTER_KINDS)
    for agency, adapter in adapters.items():
        assert isinstance(adapter, AgencyAdapter)
        assert adapter.kind == CATALOG.agencies[agency].adapter

    async def clients_then_close() -> list[bool]:
        clients = {id(a): a.client for a in adapters.values()}
        await aclose_adapters(adapters)
        return [c.closed for c in clients.values()]

    assert all(run(clients_then_close()))


def test_a_passed_in_client_is_shared_and_left_open_for_its_owner(
    agency_sandbox: SandboxHandle,
) -> None:
    async def fetch_close_and_look() -> tuple[str, bool, bool]:
        async with AgencyAdapter.new_client(timeout_s=2) as client:
            adapters = build_adapters(
                agency_sandbox.agency_urls, timeout_s=2, max_response_bytes=65536, client=client
            )
            answer = await adapters["duo"].fetch("duo", BSN_EVA, ["studieschuld.bedrag"])
            shared = all(a.client is client for a in adapters.values())
            await aclose_adapters(adapters)
            return answer.status, shared, client.closed

    assert run(fetch_close_and_look()) == ("ok", True, False)


@pytest.mark.parametrize(
    ("urls", "message"),
    [
        ({"nope": "http://127.0.0.1:1"}, "not in the catalog"),
        ({"brp": "ftp://127.0.0.1:1"}, "http"),
        ({"brp": "127.0.0.1:1"}, "http"),
        ({"brp": "http://127.0.0.1:port"}, "http"),
        ({"brp": "http://[::1"}, "http"),
        ({"brp": "http://127.0.0.1\n.evil:1"}, "http"),
    ],
)
def test_bad_agency_configuration_fails_at_build_time(urls: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_adapters(urls, timeout_s=1, max_response_bytes=1024)


def test_an_adapter_used_from_a_new_event_loop_gets_a_fresh_client(
    agency_sandbox: SandboxHandle,
) -> None:
    # The gateway builds adapters once and may serve from several loops (tests, demo).
    adapters = build_adapters(agency_sandbox.agency_urls, timeout_s=2, max_response_bytes=65536)
    for _ in range(2):
        answer = run(adapters["duo"].fetch("duo", BSN_EVA, ["studieschuld.bedrag"]))
        assert answer.status == "ok", answer.error_code
        run(aclose_adapters(adapters))
