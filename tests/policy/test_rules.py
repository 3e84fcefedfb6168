"""The 1 Loket rule set, evaluated by the embedded engine exactly as the gateway calls it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from adapters.catalog import load_catalog
from gateway.policy import load_policy_data
from gateway.policy.bundle import build_bundle, policies_root
from gateway.policy.embedded import EmbeddedPolicyEngine
from tests.policy.conftest import NOW, consent, grant, make_input, refusal

Decide = Callable[..., dict[str, Any]]
DATA = load_policy_data()
CATALOG = load_catalog()
PURPOSES = sorted(DATA.raw_purposes)

DECISION_KEYS = {
    "allow",
    "purpose",
    "purpose_known",
    "break_glass",
    "review_required",
    "grants",
    "refusals",
    "reasons",
}


# --- The data itself ---------------------------------------------------------------------------


def test_at_least_ten_purposes_with_labels_and_register_uri() -> None:
    assert len(DATA.purposes) >= 10
    for pid, p in DATA.purposes.items():
        assert p.label_nl and p.description_nl
        assert p.processing_activity == f"https://loket.example/register/verwerkingen/{pid}"


@pytest.mark.parametrize("purpose", PURPOSES)
def test_purpose_scope_is_within_the_catalog(purpose: str) -> None:
    scope = DATA.raw_purposes[purpose]["scope"]
    for agency, cats in scope.items():
        for cat, item in cats.items():
            catalog_fields = CATALOG.agencies[agency].categories[cat].fields
            assert item["fields"] and set(item["fields"]) <= set(catalog_fields)
            if "basis" in item:
                assert item["basis"] in DATA.legal_bases


def test_unverified_bases_are_the_ones_domain_md_marks_check() -> None:
    unverified = {k for k, v in DATA.legal_bases.items() if not v["verified"]}
    assert {"wgs_vroegsignalering", "wgs_schuldhulp", "wmo_5_1_1_lid1_gezondheid"} <= unverified
    assert DATA.legal_bases["pw_64_1_b"]["verified"] is True


def test_special_categories_only_under_art9_bases_or_consent() -> None:
    for p in DATA.raw_purposes.values():
        for agency, cats in p["scope"].items():
            for cat, item in cats.items():
                if CATALOG.agencies[agency].categories[cat].special and "basis" in item:
                    assert DATA.legal_bases[item["basis"]]["special_category"] is True


# --- Per purpose -------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", PURPOSES)
def test_each_purpose_grants_exactly_its_legal_basis_scope(decide: Decide, purpose: str) -> None:
    """With the pilot switch on, every named basis of the purpose grants its scope."""
    d = decide(purpose, pilot=True)
    assert set(d) == DECISION_KEYS
    assert d["purpose"] == purpose and d["purpose_known"] is True and d["reasons"] == []
    scope = DATA.raw_purposes[purpose]["scope"]
    expected = {
        (a, c): sorted(item["fields"])
        for a, cats in scope.items()
        for c, item in cats.items()
        if "basis" in item
        and (
            not CATALOG.agencies[a].categories[c].special
            or DATA.legal_bases[item["basis"]]["special_category"]
        )
    }
    got = {(g["agency"], g["category"]): g["fields"] for g in d["grants"]}
    assert got == expected
    assert all(g["basis"]["type"] == "legal_basis" for g in d["grants"])
    assert d["allow"] is bool(d["grants"])
    # Everything else in scope is refused with a consent reason, never silently dropped.
    in_scope = {(a, c) for a, cats in scope.items() for c in cats}
    assert {(r["agency"], r["category"]) for r in d["refusals"]} == in_scope - set(expected)
    # Output is sorted by agency/category in both engines.
    keys = [f"{g['agency']}/{g['category']}" for g in d["grants"]]
    assert keys == sorted(keys)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_an_unverified_basis_releases_nothing_without_the_pilot_switch(decide: Decide, purpose: str) -> None:
    off, on = decide(purpose), decide(purpose, pilot=True)
    unverified = {(g["agency"], g["category"]) for g in on["grants"] if g["basis"]["verified"] is False}
    assert all(g["basis"]["verified"] is True for g in off["grants"] if g["basis"]["type"] == "legal_basis")
    assert {(r["agency"], r["category"]) for r in off["refusals"] if r["code"] == "basis_unverified"} == unverified
    assert [g for g in on["grants"] if (g["agency"], g["category"]) not in unverified] == off["grants"]


def test_grant_cites_law_and_article(decide: Decide) -> None:
    g = grant(decide("bijstand_na_baanverlies", [("uwv", "ww")]), "uwv", "ww")
    assert g == {
        "agency": "uwv",
        "category": "ww",
        "fields": ["ww.bedragMaand", "ww.begindatum", "ww.einddatum", "ww.status"],
        "basis": {
            "type": "legal_basis",
            "id": "pw_64_1_b",
            "citation": "Participatiewet art. 64 lid 1 onder b",
            "verified": True,
        },
    }


# --- Request-level reasons ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "codes"),
    [
        ({"role": "citizen"}, ["role_not_allowed"]),
        ({"role": "privacy_officer"}, ["role_not_allowed"]),
        ({"purpose": "nieuwsgierigheid"}, ["unknown_purpose"]),
        ({"casemanager": "cm-002"}, ["case_not_assigned"]),
        ({"break_glass": True, "justification_given": True}, ["break_glass_not_allowed"]),
        ({"purpose": "crisis_noodtoegang", "break_glass": True}, ["justification_required"]),
        ({"role": "admin", "purpose": "x"}, ["role_not_allowed", "unknown_purpose"]),
    ],
)
def test_request_level_reasons_deny_everything(
    decide: Decide, kwargs: dict[str, Any], codes: list[str]
) -> None:
    d = decide(**kwargs)
    assert [r["code"] for r in d["reasons"]] == codes
    assert d["grants"] == [] and d["refusals"] == [] and d["allow"] is False
    for r in d["reasons"]:
        assert r["reason_nl"] == DATA.request_reasons[r["code"]]["reason_nl"]


@pytest.mark.parametrize(
    "policy_input",
    [
        {},
        {"time_ns": "nu"},
        {"nothing": True},
        make_input(categories=[("uwv", "ww")]) | {"consents": None},
        make_input() | {"request": {"categories": "alles"}},
    ],
)
def test_malformed_input_gets_the_default_deny(
    engine: EmbeddedPolicyEngine, policy_input: Any
) -> None:
    d = engine.evaluate(policy_input)
    assert d["allow"] is False and d["grants"] == []
    assert [r["code"] for r in d["reasons"]] == ["invalid_input"]
    assert d["reasons"][0]["reason_nl"] == DATA.request_reasons["invalid_input"]["reason_nl"]


# --- Refusals per agency/category --------------------------------------------------------------


def test_not_needed_for_purpose(decide: Decide) -> None:
    d = decide("ww_warme_overdracht", [("cjib", "boetes")])
    assert refusal(d, "cjib", "boetes") == "not_needed_for_purpose"
    assert d["allow"] is False


def test_unknown_category(decide: Decide) -> None:
    assert (
        refusal(decide("ww_warme_overdracht", [("uwv", "geheim")]), "uwv", "geheim")
        == "unknown_category"
    )


def test_consent_required_has_the_b1_text(decide: Decide) -> None:
    d = decide("schuldhulp_intake", [("cak", "eigen_bijdrage")])
    assert d["refusals"] == [
        {
            "agency": "cak",
            "category": "eigen_bijdrage",
            "code": "consent_required",
            "reason_nl": "Hiervoor is toestemming van de burger nodig.",
        }
    ]


def test_every_refusal_code_has_dutch_text() -> None:
    for code, entry in {**DATA.refusal_reasons, **DATA.request_reasons}.items():
        assert entry["reason_nl"].endswith(".") and len(entry["reason_nl"]) < 120, code


# --- Consent states ----------------------------------------------------------------------------

CAK = ("cak", "eigen_bijdrage")


@pytest.mark.parametrize(
    ("consent_kwargs", "expected"),
    [
        ({}, "grant"),
        ({"valid_until_ns": NOW}, "consent_expired"),
        ({"valid_from_ns": NOW + 1}, "consent_not_yet_valid"),
        ({"valid_from_ns": NOW}, "grant"),
        ({"revoked": True}, "consent_revoked"),
        ({"purpose": "bijstand_na_baanverlies"}, "consent_required"),
        ({"valid_from_ns": 0, "valid_until_ns": 0}, "consent_expired"),
    ],
)
def test_consent_states(decide: Decide, consent_kwargs: dict[str, Any], expected: str) -> None:
    d = decide("schuldhulp_intake", [CAK], [consent(*CAK, **consent_kwargs)])
    if expected == "grant":
        g = grant(d, *CAK)
        assert g is not None and g["basis"]["type"] == "consent" and g["basis"]["id"] == "k-1"
    else:
        assert refusal(d, *CAK) == expected


def test_consent_for_wrong_agency_or_category_does_not_count(decide: Decide) -> None:
    d = decide(
        "schuldhulp_intake",
        [CAK],
        [consent("cak", "wanbetaling"), consent("cjib", "eigen_bijdrage")],
    )
    assert refusal(d, *CAK) == "consent_required"


def test_lowest_consent_id_is_cited_when_several_apply(decide: Decide) -> None:
    d = decide("schuldhulp_intake", [CAK], [consent(*CAK, id="k-b"), consent(*CAK, id="k-a")])
    assert grant(d, *CAK)["basis"]["id"] == "k-a"  # type: ignore[index]


def test_revoking_consent_changes_the_very_next_decision(decide: Decide) -> None:
    c = consent(*CAK)
    assert grant(decide("schuldhulp_intake", [CAK], [c]), *CAK) is not None
    assert (
        refusal(decide("schuldhulp_intake", [CAK], [c | {"revoked": True}]), *CAK)
        == "consent_revoked"
    )


MEDISCH = ("uwv", "medisch")


@pytest.mark.parametrize(
    ("explicit", "expected"), [(False, "explicit_consent_required"), (True, "grant")]
)
def test_special_category_needs_explicit_consent(
    decide: Decide, explicit: bool, expected: str
) -> None:
    c = consent(*MEDISCH, purpose="ziekte_zw_wia_status", explicit=explicit)
    d = decide("ziekte_zw_wia_status", [MEDISCH], [c])
    if expected == "grant":
        assert grant(d, *MEDISCH)["basis"]["citation"].startswith("Uitdrukkelijke toestemming")  # type: ignore[index]
    else:
        assert refusal(d, *MEDISCH) == expected


def test_special_category_without_any_consent(decide: Decide) -> None:
    assert (
        refusal(decide("ziekte_zw_wia_status", [MEDISCH]), *MEDISCH) == "explicit_consent_required"
    )


# --- Break-glass -------------------------------------------------------------------------------


def test_break_glass_with_justification_grants_only_the_narrow_set(decide: Decide) -> None:
    d = decide("crisis_noodtoegang", break_glass=True, justification_given=True)
    assert d["break_glass"] is True and d["review_required"] is True
    bg = {
        (g["agency"], g["category"]): g["fields"]
        for g in d["grants"]
        if g["basis"]["type"] == "break_glass"
    }
    assert bg == {
        ("cak", "wanbetaling"): ["wanbetaling.achterstand"],
        ("gemeente_participatie", "bijstand"): ["bijstand.status"],
        ("toeslagen", "toeslagen"): ["toeslagen.huurtoeslag", "toeslagen.zorgtoeslag"],
        ("uwv", "inkomen"): ["inkomen.brutoMaand"],
        ("uwv", "ww"): ["ww.bedragMaand", "ww.status"],
    }
    assert refusal(d, "gemeente_wmo", "gezondheid") == "explicit_consent_required"


def test_break_glass_without_justification_grants_nothing(decide: Decide) -> None:
    d = decide("crisis_noodtoegang", break_glass=True, justification_given=False)
    assert d["grants"] == [] and d["break_glass"] is False
    assert [r["code"] for r in d["reasons"]] == ["justification_required"]


def test_crisis_purpose_without_break_glass_is_ordinary(decide: Decide) -> None:
    d = decide("crisis_noodtoegang")
    assert d["break_glass"] is False and refusal(d, "cak", "wanbetaling") == "consent_required"


def test_break_glass_does_not_override_a_revoked_consent(decide: Decide) -> None:
    c = consent("cak", "wanbetaling", purpose="crisis_noodtoegang", revoked=True)
    d = decide(
        "crisis_noodtoegang",
        [("cak", "wanbetaling")],
        [c],
        break_glass=True,
        justification_given=True,
    )
    assert refusal(d, "cak", "wanbetaling") == "consent_revoked"


# --- Guards in the rules, checked against modified data ----------------------------------------


def _engine_with(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> EmbeddedPolicyEngine:
    root = tmp_path / "policies"
    shutil.copytree(str(policies_root()), root, ignore=shutil.ignore_patterns("__pycache__"))
    path = root / "loket_data" / "purposes" / "data.json"
    purposes = json.loads(path.read_text("utf-8"))
    edit(purposes)
    path.write_text(json.dumps(purposes), "utf-8")
    return EmbeddedPolicyEngine(build_bundle(root=root))


def test_ordinary_basis_never_reaches_a_special_category(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["wmo_na_ziekte"]["scope"]["gemeente_wmo"]["gezondheid"]["basis"] = "wmo_5_1_1_lid1"

    d = _engine_with(tmp_path, edit).evaluate(
        make_input("wmo_na_ziekte", [("gemeente_wmo", "gezondheid")])
    )
    assert refusal(d, "gemeente_wmo", "gezondheid") == "explicit_consent_required"


def test_granted_fields_never_wider_than_the_catalog(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["ww_warme_overdracht"]["scope"]["uwv"]["ww"]["fields"] = [
            "ww.status",
            "medisch.beperkingen",
        ]

    d = _engine_with(tmp_path, edit).evaluate(make_input("ww_warme_overdracht", [("uwv", "ww")]))
    assert grant(d, "uwv", "ww")["fields"] == ["ww.status"]  # type: ignore[index]


# --- Engine behaviour --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["thread_local", "lock"])
def test_concurrent_calls_from_many_threads_agree(bundle: Any, mode: str) -> None:
    engine = EmbeddedPolicyEngine(bundle, mode=mode)  # type: ignore[arg-type]
    inputs = [make_input(p, consents=[consent(*CAK, purpose=p)]) for p in PURPOSES] * 4
    expected = [engine.evaluate(i) for i in inputs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(engine.evaluate, inputs))
    assert got == expected


def test_input_that_is_not_json_fails_closed(engine: EmbeddedPolicyEngine) -> None:
    from gateway.core.errors import PolicyEngineError

    with pytest.raises(PolicyEngineError):
        engine.evaluate({"time_ns": float("nan")})


def test_an_undefined_entrypoint_fails_closed(bundle: Any) -> None:
    from gateway.core.errors import PolicyEngineError

    engine = EmbeddedPolicyEngine(bundle, entrypoints=("loket/decision", "loket/purpose"))
    with pytest.raises(PolicyEngineError, match="undefined"):
        engine.query("loket/purpose", make_input("onbekend"))  # no such purpose: undefined
