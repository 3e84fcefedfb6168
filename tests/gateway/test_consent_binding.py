"""A consent serves only its recipient: the case whose request it answers, or the team the citizen
named (issue 16: "a consent serves every casemanager"). A citizen's "no" is a refusal of its own.
An unverified legal basis releases nothing unless the operator's pilot switch is on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.app import create_app
from gateway.core.context import Loket
from gateway.policy.bundle import build_bundle
from gateway.policy.embedded import EmbeddedPolicyEngine
from tests import cases
from tests.conftest import bearer
from tests.policy.conftest import consent, make_input
from tests.web.conftest import CONSENT_ITEM, eva_bsn

PURPOSE = "student_in_crisis"
AGENCY, CATEGORY = CONSENT_ITEM.split(".")


def disclosed(client: TestClient, tok: str, case_id: str) -> set[str]:
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 200, r.text
    return {f"{f['agency']}.{f['category']}" for f in r.json()["fields"]}


def refusal_code(client: TestClient, tok: str, case_id: str) -> str:
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).json()
    return next(x["code"] for x in r["refused"] if f"{x['agency']}.{x['category']}" == CONSENT_ITEM)


def ask_and_answer(client: TestClient, cm: str, case_id: str, citizen: str, answer: str) -> None:
    r = client.post(f"/v1/cases/{case_id}/consent-requests", headers=bearer(cm),
                    json={"categories": [CONSENT_ITEM], "message": "Mag ik dit zien?"})
    assert r.status_code == 201, r.text
    a = client.post(f"/v1/me/consent-requests/{r.json()['id']}/answer", headers=bearer(citizen),
                    json={"answers": {CONSENT_ITEM: answer}})
    assert a.status_code == 200, a.text


def test_a_consent_for_one_case_never_serves_another_casemanagers_case(
        client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    eva = eva_bsn(sandbox)
    cm1, cm2 = token(sub="cm-001"), token(sub="cm-002", team="team-noord")
    citizen = token(role="citizen", sub="burger-eva", bsn=eva)
    case_x = cases.open_case(client, cm1, eva, PURPOSE)
    ask_and_answer(client, cm1, case_x, citizen, "approve")
    assert CONSENT_ITEM in disclosed(client, cm1, case_x)
    noord = cases.coordinator_headers(client, sub="co-noord", team="team-noord")
    r = client.post("/v1/cases", json=cases.toewijzing(eva, PURPOSE, "cm-002"), headers=noord)
    assert r.status_code == 201, r.text
    case_y = r.json()["id"]
    assert CONSENT_ITEM not in disclosed(client, cm2, case_y), "Eva's yes was for case X only"
    assert refusal_code(client, cm2, case_y) == "consent_required"
    # Even a second case of the same team does not inherit the case-bound consent.
    case_z = cases.open_case(client, token(sub="cm-004"), eva, PURPOSE)
    assert CONSENT_ITEM not in disclosed(client, token(sub="cm-004"), case_z)


def test_a_consent_given_to_a_team_serves_that_team_only(
        client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    eva = eva_bsn(sandbox)
    cm1 = token(sub="cm-001")
    citizen = bearer(token(role="citizen", sub="burger-eva", bsn=eva))
    case_x = cases.open_case(client, cm1, eva, PURPOSE)
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    body = {"purpose": PURPOSE, "agency": AGENCY, "category": CATEGORY, "valid_until": until}
    unknown = client.post("/v1/me/consents", headers=citizen, json=body | {"team": "team-noord"})
    assert unknown.status_code == 422 and unknown.json()["type"].endswith("/unknown-team")
    ok = client.post("/v1/me/consents", headers=citizen, json=body | {"team": "team-centrum"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["team"] == "team-centrum" and ok.json()["case_id"] is None
    assert CONSENT_ITEM in disclosed(client, cm1, case_x)
    noord = cases.coordinator_headers(client, sub="co-noord", team="team-noord")
    case_y = client.post("/v1/cases", json=cases.toewijzing(eva, PURPOSE, "cm-002"), headers=noord).json()["id"]
    assert CONSENT_ITEM not in disclosed(client, token(sub="cm-002", team="team-noord"), case_y)


def test_a_citizens_no_is_shown_as_a_no(client: TestClient, loket: Loket, sandbox: Any,
                                       token: Callable[..., str]) -> None:
    eva = eva_bsn(sandbox)
    cm = token(sub="cm-001")
    case_id = cases.open_case(client, cm, eva, PURPOSE)
    assert refusal_code(client, cm, case_id) == "consent_required", "not asked yet"
    ask_and_answer(client, cm, case_id, token(role="citizen", sub="burger-eva", bsn=eva), "decline")
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(cm)).json()
    (no,) = [x for x in r["refused"] if f"{x['agency']}.{x['category']}" == CONSENT_ITEM]
    assert no["code"] == "consent_declined" and "nee" in no["reason"]
    requests = client.get(f"/v1/cases/{case_id}/consent-requests", headers=bearer(cm)).json()["items"]
    assert requests[0]["consents_created"] == [] and requests[0]["items"][0]["answer"] == "decline"


def test_an_unverified_basis_releases_nothing_unless_the_pilot_switch_is_on(
        make_loket: Callable[..., Loket], sandbox: Any) -> None:
    eva = eva_bsn(sandbox)
    purpose = "schuldhulp_intake"  # its Wgs bases are marked verified: false (DOMAIN.md: check)
    results = {}
    for pilot in (False, True):
        loket = make_loket(pilot_unverified_bases=pilot)
        with TestClient(create_app(loket=loket)) as c:
            from tests.security.helpers import minter

            cm = minter(loket)(sub="cm-001")
            case_id = cases.open_case(c, cm, eva, purpose)
            body = c.get(f"/v1/cases/{case_id}/dossier", headers=bearer(cm)).json()
            (record,) = [s.record for s in loket.audit.find(AuditFilter(kind=AuditEventKind.DOSSIER_READ))]
            page = c.get("/burger/inloggen").text
        results[pilot] = (body, record, page)
    off, on = results[False], results[True]
    unverified = {f"{x['agency']}.{x['category']}" for x in off[0]["refused"] if x["code"] == "basis_unverified"}
    assert unverified, "the Wgs categories are refused without the pilot"
    assert all(f["basis"]["verified"] is True for f in off[0]["fields"])
    assert off[0]["pilot_unverified_bases"] is False and "pilot_unverified_bases" not in off[1].extra
    assert "Proefinstelling aan" not in off[2]
    on_disclosed = {f"{f['agency']}.{f['category']}" for f in on[0]["fields"]}
    assert unverified & on_disclosed, "with the pilot on, the unverified bases release their fields"
    assert on[0]["pilot_unverified_bases"] is True and on[1].extra["pilot_unverified_bases"] == "on"
    assert "Proefinstelling aan" in on[2], "the pilot is loud on every page"


@pytest.fixture(scope="module")
def engine() -> EmbeddedPolicyEngine:
    return EmbeddedPolicyEngine(build_bundle())


_CASES = st.sampled_from(["case-1", "case-2", None])
_TEAMS = st.sampled_from(["team-a", "team-b", None])


@settings(max_examples=150, deadline=None)
@given(bindings=st.lists(st.tuples(_CASES, _TEAMS, st.booleans(), st.booleans()), min_size=1, max_size=6),
       case_team=st.sampled_from(["team-a", "team-b"]))
def test_a_consent_never_discloses_outside_its_case_or_team(
        engine: EmbeddedPolicyEngine, bindings: list[tuple[str | None, str | None, bool, bool]],
        case_team: str) -> None:
    """Random consents × one case: every consent grant cites a consent of this case or team."""
    consents = [consent("cak", "eigen_bijdrage", id=f"k-{i}", case_id=c, team=t, declined=d, revoked=r)
                for i, (c, t, d, r) in enumerate(bindings)]
    d = engine.evaluate(make_input("schuldhulp_intake", [("cak", "eigen_bijdrage")], consents,
                                   team=case_team, case_team=case_team))
    usable = {c["id"] for c in consents
              if (c["case_id"] == "case-1" or c["team"] == case_team) and not c["declined"] and not c["revoked"]}
    cited = {g["basis"]["id"] for g in d["grants"] if g["basis"]["type"] == "consent"}
    assert cited <= usable
    assert bool(cited) == bool(usable)
