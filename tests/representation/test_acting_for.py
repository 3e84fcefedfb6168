"""Acting for someone (issue 12): bewindvoerder, mentor, parent, gemachtigde; every check recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from adapters.sandbox.citizens import (
    BSN_BIJNA_18,
    BSN_EVA,
    BSN_MINDERJARIGE,
    BSN_ONDER_BEWIND,
    BSN_OUDER_MINDERJARIGE,
    BSN_SCHULDEN,
)
from audit.record import AuditEventKind
from gateway.core.context import Loket
from tests.cases import open_case
from tests.conftest import bearer

AALTJE = "999935483"  # Gerrit's sister: his mentor (care), his bewindvoerder until 2021
BEWINDVOERDER_KVK = "90000017"  # Bewindvoering Noord B.V. (synthetic)
TEAM = "team-centrum"


def _consent(agency: str, category: str, purpose: str = "schuldhulp_intake") -> dict[str, Any]:
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    return {"purpose": purpose, "agency": agency, "category": category, "team": TEAM, "valid_until": until}


def _records(loket: Loket, kind: AuditEventKind) -> list[Any]:
    return [s.record for s in loket.audit.iter_records() if s.record.kind is kind]


def _case_for(client: TestClient, token: Callable[..., str], loket: Loket, bsn: str,
              purpose: str = "schuldhulp_intake") -> None:
    open_case(client, token(), bsn, purpose, loket=loket)


def test_a_bewindvoerder_grants_consent_on_money_and_is_refused_on_health(
        client: TestClient, token: Callable[..., str], loket: Loket) -> None:
    _case_for(client, token, loket, BSN_ONDER_BEWIND)
    rep = bearer(token("citizen", sub=f"kvk-{BEWINDVOERDER_KVK}", kvk=BEWINDVOERDER_KVK, act_for=BSN_ONDER_BEWIND))
    ok = client.post("/v1/me/consents", json=_consent("cjib", "boetes"), headers=rep)
    assert ok.status_code == 201, ok.text
    refused = client.post("/v1/me/consents", json=_consent("gemeente_wmo", "gezondheid"), headers=rep)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("representation-refused")
    detail = refused.json()["detail"]
    assert "Over dit onderwerp mag u niet" in detail and "Als bewindvoerder gaat u alleen over geldzaken" in detail

    # The consent is Gerrit's, and its record names who acted; both checks are in the log.
    gerrit = loket.pseudonymiser.pseudonym_for(BSN_ONDER_BEWIND)
    granted = _records(loket, AuditEventKind.CONSENT_GRANTED)
    assert [(r.data_subject_id, r.extra["acting_kind"], r.extra["acting_source"]) for r in granted] == [
        (gerrit, "bewindvoerder", "ccbr")]
    checks = _records(loket, AuditEventKind.REPRESENTATION_CHECKED)
    assert [(c.outcome, c.extra["domain"], c.extra["source"], c.extra.get("scope")) for c in checks] == [
        ("allowed", "financieel", "ccbr", "financieel"), ("refused", "zorg en behandeling", "ccbr", "financieel")]
    assert all(c.data_subject_id == gerrit and c.extra["checked_at"] for c in checks)
    assert granted[0].extra["acting_check"] == checks[0].record_id
    # ... and nothing changed for the refused one.
    mine = client.get("/v1/me/consents", headers=bearer(token("citizen", sub="gerrit", bsn=BSN_ONDER_BEWIND)))
    assert [(c["agency"], c["category"]) for c in mine.json()] == [("cjib", "boetes")]


def test_a_mentor_acts_on_care_only_and_an_ended_bewind_counts_for_nothing(
        client: TestClient, token: Callable[..., str], loket: Loket) -> None:
    _case_for(client, token, loket, BSN_ONDER_BEWIND)
    aaltje = bearer(token("citizen", sub="aaltje", bsn=AALTJE, act_for=BSN_ONDER_BEWIND))
    care = client.post("/v1/me/consents", json=_consent("gemeente_wmo", "gezondheid"), headers=aaltje)
    assert care.status_code == 201
    money = client.post("/v1/me/consents", json=_consent("cjib", "boetes"), headers=aaltje)
    assert money.status_code == 403
    assert "Als mentor gaat u alleen over zorg en behandeling" in money.json()["detail"]


def test_a_parent_acts_for_a_twelve_year_old_and_not_after_the_18th_birthday(
        client: TestClient, token: Callable[..., str], loket: Loket) -> None:
    _case_for(client, token, loket, BSN_MINDERJARIGE, "gezagscontrole_minderjarige")
    linda = bearer(token("citizen", sub="linda", bsn=BSN_OUDER_MINDERJARIGE, act_for=BSN_MINDERJARIGE))
    body = _consent("brp", "gezag", "gezagscontrole_minderjarige")
    assert client.post("/v1/me/consents", json=body, headers=linda).status_code == 201
    # Noah turns 18 on 2 June 2032: the clock goes into the policy input.
    loket.extra["representation_clock"] = lambda: datetime(2032, 6, 2, 9, 0, tzinfo=UTC)
    late = client.post("/v1/me/consents", json=body, headers=linda)
    assert late.status_code == 403
    assert "18 jaar of ouder" in late.json()["detail"]
    check = _records(loket, AuditEventKind.REPRESENTATION_CHECKED)[-1]
    assert (check.outcome, check.extra["reasons"], check.extra["source"]) == ("refused", "subject_adult", "brp")


def test_jaydens_mother_acts_until_the_day_before_he_turns_18(
        client: TestClient, token: Callable[..., str], loket: Loket) -> None:
    sandra = bearer(token("citizen", sub="sandra", bsn=BSN_SCHULDEN, act_for=BSN_BIJNA_18))
    loket.extra["representation_clock"] = lambda: datetime(2026, 12, 19, 12, 0, tzinfo=UTC)
    assert client.get("/v1/me/consents", headers=sandra).status_code == 200
    loket.extra["representation_clock"] = lambda: datetime(2026, 12, 20, 0, 1, tzinfo=UTC)
    assert client.get("/v1/me/consents", headers=sandra).status_code == 403


def test_a_revoked_machtiging_stops_the_next_action(
        client: TestClient, token: Callable[..., str], loket: Loket) -> None:
    _case_for(client, token, loket, BSN_EVA)
    eva = bearer(token("citizen", sub="eva", bsn=BSN_EVA))
    linda = bearer(token("citizen", sub="linda", bsn=BSN_OUDER_MINDERJARIGE, act_for=BSN_EVA))
    assert client.post("/v1/me/consents", json=_consent("cjib", "boetes"), headers=linda).status_code == 403
    until = (datetime.now(UTC) + timedelta(days=90)).isoformat()
    made = client.post("/v1/me/machtigingen", headers=eva, json={
        "gemachtigde_burgerservicenummer": BSN_OUDER_MINDERJARIGE, "naam": "Linda Bakker-Smit",
        "scope": ["financieel"], "valid_until": until})
    assert made.status_code == 201, made.text
    assert client.post("/v1/me/consents", json=_consent("cjib", "boetes"), headers=linda).status_code == 201
    # A gemachtigde cannot pass the machtiging on or manage it.
    assert client.get("/v1/me/machtigingen", headers=linda).json()["type"].endswith("representation-unchecked")
    assert client.delete(f"/v1/me/machtigingen/{made.json()['id']}", headers=eva).status_code == 200
    after = client.post("/v1/me/consents", json=_consent("cjib", "boetes"), headers=linda)
    assert after.status_code == 403 and after.json()["type"].endswith("representation-refused")
    kinds = [s.record.kind for s in loket.audit.iter_records()]
    assert AuditEventKind.MACHTIGING_GRANTED in kinds and AuditEventKind.MACHTIGING_REVOKED in kinds


def test_someone_who_is_not_a_representative_is_refused_and_recorded(
        client: TestClient, token: Callable[..., str], loket: Loket) -> None:
    stranger = bearer(token("citizen", sub="linda", bsn=BSN_OUDER_MINDERJARIGE, act_for=BSN_ONDER_BEWIND))
    r = client.get("/v1/me/consents", headers=stranger)
    assert r.status_code == 403 and "niet geregistreerd als vertegenwoordiger" in r.json()["detail"]
    check = _records(loket, AuditEventKind.REPRESENTATION_CHECKED)[-1]
    assert (check.outcome, check.extra["reasons"]) == ("refused", "no_representation")
    assert _records(loket, AuditEventKind.ACCESS_DENIED)


def test_the_citizen_sees_every_check_on_their_own_page(
        client: TestClient, token: Callable[..., str], loket: Loket) -> None:
    _case_for(client, token, loket, BSN_ONDER_BEWIND)
    rep = bearer(token("citizen", sub=f"kvk-{BEWINDVOERDER_KVK}", kvk=BEWINDVOERDER_KVK, act_for=BSN_ONDER_BEWIND))
    client.post("/v1/me/consents", json=_consent("cjib", "boetes"), headers=rep)
    client.post("/v1/me/consents", json=_consent("gemeente_wmo", "gezondheid"), headers=rep)
    page = client.get("/burger/inloggen")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/burger/inloggen", data={"csrf_token": csrf, "bsn": BSN_ONDER_BEWIND})
    html = client.get("/burger/toegang").text
    assert "Uw bewindvoerder" in html
    assert "Dit mocht: toestemming geven over geldzaken. Nagegaan in het curatele- en bewindregister." in html
    assert "Dit mocht niet: toestemming geven over zorg en behandeling." in html
    assert BSN_ONDER_BEWIND not in html


def test_the_casemanagers_overview_shows_who_may_act_for_the_citizen(
        client: TestClient, token: Callable[..., str], loket: Loket) -> None:
    cm = bearer(token())
    case = open_case(client, token(), BSN_ONDER_BEWIND, "schuldhulp_intake", loket=loket)
    before = client.get(f"/v1/cases/{case}/overview", headers=cm).json()["representatives"]
    assert before["known"] is False and before["people"] == []
    rep = bearer(token("citizen", sub=f"kvk-{BEWINDVOERDER_KVK}", kvk=BEWINDVOERDER_KVK, act_for=BSN_ONDER_BEWIND))
    assert client.post("/v1/me/consents", json=_consent("cjib", "boetes"), headers=rep).status_code == 201
    gerrit = bearer(token("citizen", sub="gerrit", bsn=BSN_ONDER_BEWIND))
    until = (datetime.now(UTC) + timedelta(days=90)).isoformat()
    assert client.post("/v1/me/machtigingen", headers=gerrit, json={
        "gemachtigde_burgerservicenummer": AALTJE, "naam": "Aaltje Hoekstra", "scope": ["persoonlijk"],
        "valid_until": until}).status_code == 201
    after = client.get(f"/v1/cases/{case}/overview", headers=cm).json()["representatives"]
    assert after["known"] is True
    assert [(r["kind"], r["source"], r["scope"]) for r in after["people"]] == [
        ("gemachtigde", "machtigingen", "persoonlijke zaken"), ("bewindvoerder", "ccbr", "geldzaken")]
    assert after["people"][0]["label"] == "Gemachtigde Aaltje Hoekstra"
    assert AALTJE not in str(after) and BSN_ONDER_BEWIND not in str(after)


def _page_login(client: TestClient, **fields: str) -> str:
    page = client.get("/burger/inloggen")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/burger/inloggen", data={"csrf_token": csrf, **fields})
    home = client.get("/burger")
    return home.text.split('name="csrf_token" value="')[1].split('"')[0] if 'name="csrf_token"' in home.text else ""


def test_the_citizen_gives_and_revokes_a_machtiging_on_the_page_and_a_gemachtigde_cannot(
        client: TestClient, token: Callable[..., str], loket: Loket) -> None:
    csrf = _page_login(client, bsn=BSN_EVA)
    r = client.post("/burger/vertegenwoordiging", data={
        "csrf_token": csrf, "naam": "Linda Bakker-Smit", "bsn": BSN_OUDER_MINDERJARIGE, "scope": ["financieel"],
        "days": "90"}, follow_redirects=True)
    assert "Uw machtiging is vastgelegd" in r.text and "Linda Bakker-Smit" in r.text and "geldzaken" in r.text
    assert BSN_OUDER_MINDERJARIGE not in r.text
    (m,) = [s.record for s in loket.audit.iter_records() if s.record.kind is AuditEventKind.MACHTIGING_GRANTED]
    r = client.post(f"/burger/vertegenwoordiging/{m.extra['machtiging_id']}/intrekken", data={"csrf_token": csrf},
                    follow_redirects=True)
    assert "De machtiging is ingetrokken" in r.text and "Ingetrokken of afgelopen" in r.text

    # Linda, signed in for Eva, acts within her scope but cannot manage Eva's machtigingen.
    client.cookies.clear()
    _page_login(client, bsn=BSN_OUDER_MINDERJARIGE, namens=BSN_MINDERJARIGE)
    home = client.get("/burger")
    assert "U handelt voor" in home.text and "/burger/vertegenwoordiging" not in home.text
    assert client.get("/burger/vertegenwoordiging").status_code == 403


def test_a_policy_answer_off_the_contract_does_nothing(
        client: TestClient, token: Callable[..., str], loket: Loket, monkeypatch: Any) -> None:
    import gateway.representation.policy as policy

    _case_for(client, token, loket, BSN_ONDER_BEWIND)
    off_contract = {"allow": "yes", "reasons": [], "scope": []}
    monkeypatch.setattr(policy, "query_decision", lambda loket, package, value: off_contract)
    rep = bearer(token("citizen", sub=f"kvk-{BEWINDVOERDER_KVK}", kvk=BEWINDVOERDER_KVK, act_for=BSN_ONDER_BEWIND))
    r = client.post("/v1/me/consents", json=_consent("cjib", "boetes"), headers=rep)
    assert r.status_code == 503
    assert _records(loket, AuditEventKind.CONSENT_GRANTED) == []


def test_registers_that_do_not_answer_mean_nothing_is_done(
        client: TestClient, token: Callable[..., str], loket: Loket, monkeypatch: Any) -> None:
    _case_for(client, token, loket, BSN_ONDER_BEWIND)
    monkeypatch.setattr(loket, "adapters", {})  # no BRP, no CCBR configured: both unavailable
    rep = bearer(token("citizen", sub=f"kvk-{BEWINDVOERDER_KVK}", kvk=BEWINDVOERDER_KVK, act_for=BSN_ONDER_BEWIND))
    r = client.post("/v1/me/consents", json=_consent("cjib", "boetes"), headers=rep)
    assert r.status_code == 502 and "konden nu niet nagaan" in r.json()["detail"]
    assert _records(loket, AuditEventKind.CONSENT_GRANTED) == []
    check = _records(loket, AuditEventKind.REPRESENTATION_CHECKED)[-1]
    assert (check.outcome, check.extra["reasons"], check.extra["unavailable"]) == (
        "refused", "unverifiable", "brp,ccbr")


def test_a_bewindvoerder_makes_an_aanmelding_for_debts_and_not_for_care(
        client: TestClient, token: Callable[..., str], loket: Loket) -> None:
    rep = bearer(token("citizen", sub=f"kvk-{BEWINDVOERDER_KVK}", kvk=BEWINDVOERDER_KVK, act_for=BSN_ONDER_BEWIND))
    r = client.post("/v1/me/aanmeldingen", json={"purpose": "schuldhulp_intake"}, headers=rep)
    assert r.status_code == 201, r.text
    care = client.post("/v1/me/aanmeldingen", json={"purpose": "wmo_na_ziekte"}, headers=rep)
    assert care.status_code == 403
    (made,) = _records(loket, AuditEventKind.AANMELDING_CREATED)
    assert made.data_subject_id == loket.pseudonymiser.pseudonym_for(BSN_ONDER_BEWIND)
    assert made.extra["acting_kind"] == "bewindvoerder"
    # The coordinator sees it as Gerrit's aanmelding.
    gerrit = bearer(token("citizen", sub="gerrit", bsn=BSN_ONDER_BEWIND))
    assert [a["purpose"] for a in client.get("/v1/me/aanmeldingen", headers=gerrit).json()] == ["schuldhulp_intake"]


def test_every_category_and_purpose_has_a_domain_and_every_kind_its_register() -> None:
    import json
    from pathlib import Path

    from gateway.representation.policy import representation_data

    root = Path(__file__).resolve().parents[2] / "policies"
    catalog = json.loads((root / "catalog" / "agencies.json").read_text("utf-8"))["agencies"]
    purposes = json.loads((root / "loket_data" / "purposes" / "data.json").read_text("utf-8"))
    data = representation_data()
    assert {f"{a}.{c}" for a, spec in catalog.items() for c in spec["categories"]} == set(data["category_domains"])
    assert set(purposes) == set(data["purpose_domains"])
    assert set(data["category_domains"].values()) | set(data["purpose_domains"].values()) <= set(data["domains"])
    assert set(data["measures"]) == {"curatele", "beschermingsbewind", "mentorschap"}
    from adapters.brp import GEZAG_TYPES
    from adapters.ccbr import SCOPE_BY_MEASURE

    assert set(data["gezag_kinds"]) == GEZAG_TYPES
    sources = {m: data["kinds"][k]["source"] for m, k in data["measures"].items()}
    assert sources == dict.fromkeys(SCOPE_BY_MEASURE, "ccbr")
