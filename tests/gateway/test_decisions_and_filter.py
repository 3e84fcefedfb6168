"""Pure core: decision checking and the response filter (no HTTP, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.catalog import load_catalog
from gateway.core.errors import PolicyEngineError
from gateway.dossier.decisions import ConsentFact, build_policy_input, parse_decision
from gateway.dossier.disclosure import filter_answers

CAT = load_catalog()
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def decision(grants: list[dict[str, Any]], refusals: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"allow": bool(grants), "purpose": "p", "purpose_known": True, "break_glass": False,
            "review_required": False, "grants": grants, "refusals": refusals or [], "reasons": []}


def grant(agency: str, category: str, fields: list[str]) -> dict[str, Any]:
    return {"agency": agency, "category": category, "fields": fields,
            "basis": {"type": "legal_basis", "id": "b", "citation": "Wet art. 1", "verified": True}}


def parse(raw: Any) -> Any:
    return parse_decision(raw, decision_id="d", policy_revision="r", catalog=CAT)


def test_policy_input_has_no_bsn_and_flags_revoked_consents() -> None:
    consent = ConsentFact(id="c1", purpose="p", agency="duo", category="studieschuld",
                          valid_from=NOW, valid_until=NOW.replace(year=2027), revoked=True, explicit=True)
    doc = build_policy_input(now=NOW, subject_sub="cm", subject_role="casemanager", case_id="k",
                             case_purpose="p", case_casemanager="cm", citizen_pseudonym="a" * 64,
                             consents=[consent])
    assert doc["time_ns"] == int(NOW.timestamp()) * 10**9
    assert doc["consents"][0]["revoked"] is True
    assert doc["request"]["categories"] is None


@pytest.mark.parametrize("raw", [
    None, 1, "x", [], {},
    {**decision([]), "allow": True},  # allow without grants
    decision([grant("uwv", "inkomen", ["medisch.beperkingen"])]),  # field outside its category
    decision([grant("nope", "inkomen", ["inkomen.brutoMaand"])]),  # unknown agency
    decision([{**grant("uwv", "inkomen", ["inkomen.brutoMaand"]), "basis": {"type": "vibes", "id": "x"}}]),
    {**decision([grant("uwv", "inkomen", ["inkomen.brutoMaand"])]), "reasons": [{"code": "x", "reason_nl": "y"}]},
])
def test_malformed_or_overbroad_decisions_are_engine_errors(raw: Any) -> None:
    with pytest.raises(PolicyEngineError):
        parse(raw)


def answer(agency: str, data: dict[str, Any], status: str = "ok") -> Any:
    return SimpleNamespace(agency=agency, status=status, data=data, retrieved_at=NOW,
                           error_code=None if status == "ok" else "timeout")


def test_filter_keeps_only_granted_fields_and_reports_extras() -> None:
    street = "verblijfplaats.verblijfadres.officieleStraatnaam"
    d = parse(decision([grant("brp", "adres", [street])]))
    data = {"verblijfplaats": {"verblijfadres": {"officieleStraatnaam": "Dorpsstraat", "postcode": "1234AB"}},
            "naam": {"voornamen": "Eva"}, "geheimhoudingPersoonsgegevens": False}
    out = filter_answers(d, [answer("brp", data)], source_names={"brp": "BRP"},
                         flag_names=CAT.always_included_flags)
    assert [(v.field, v.value, v.source) for v in out.values] == [(street, "Dorpsstraat", "BRP")]
    assert set(out.dropped) == {("brp", "verblijfplaats.verblijfadres.postcode"), ("brp", "naam.voornamen")}
    assert [(f.flag, f.value) for f in out.flags] == [("geheimhoudingPersoonsgegevens", False)]


def test_unavailable_agency_is_reported_not_disclosed() -> None:
    d = parse(decision([grant("uwv", "inkomen", ["inkomen.brutoMaand"])]))
    out = filter_answers(d, [answer("uwv", {}, status="unavailable")], source_names={},
                         flag_names=())
    assert not out.values and not out.disclosed
    assert [(u.agency, u.error_code) for u in out.unavailable] == [("uwv", "timeout")]


def test_answer_from_an_agency_that_was_not_granted_is_dropped() -> None:
    d = parse(decision([grant("uwv", "inkomen", ["inkomen.brutoMaand"])]))
    out = filter_answers(d, [answer("uwv", {"inkomen": {"brutoMaand": 1}}),
                             answer("cak", {"wanbetaling": {"achterstand": 5}})],
                         source_names={}, flag_names=())
    assert {v.agency for v in out.values} == {"uwv"}
    assert ("cak", "wanbetaling.achterstand") in out.dropped


leaf = st.one_of(st.integers(), st.text(max_size=5), st.booleans())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["inkomen", "ww", "medisch", "extra"]),
                       st.dictionaries(st.sampled_from(["brutoMaand", "periode", "status", "beperkingen"]),
                                       leaf, max_size=4), max_size=4),
       st.sets(st.sampled_from(sorted(CAT.fields_of("uwv"))), max_size=6))
def test_filter_never_discloses_a_field_that_was_not_granted(data: dict[str, Any], granted: set[str]) -> None:
    grants = [grant("uwv", CAT.category_of_field("uwv", f) or "", [f]) for f in sorted(granted)]
    d = parse(decision(grants))
    out = filter_answers(d, [answer("uwv", data)], source_names={}, flag_names=())
    assert {v.field for v in out.values} <= granted
