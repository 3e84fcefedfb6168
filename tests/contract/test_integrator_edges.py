"""Rough edges an integrator hit (issue 14), each held in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests import cases
from tests.conftest import bearer
from tests.security.helpers import eva_bsn, open_case


def _fields(r: Any) -> set[str]:
    assert r.status_code == 200, r.text
    return {f"{f['agency']}.{f['category']}" for f in r.json()["fields"]}


def test_comma_separated_and_repeated_categories_mean_the_same(api: TestClient, sandbox: Any,
                                                               mint: Callable[..., str]) -> None:
    tok = mint(sub="cm-edges-cat")
    case_id = open_case(api, tok, eva_bsn(sandbox))
    url = f"/v1/cases/{case_id}/dossier"
    repeated = _fields(api.get(url, params=[("categories", "brp.adres"), ("categories", "brp.identiteit")],
                               headers=bearer(tok)))
    commas = _fields(api.get(url, params={"categories": "brp.adres,brp.identiteit"}, headers=bearer(tok)))
    assert repeated == commas == {"brp.adres", "brp.identiteit"}


@pytest.mark.parametrize("value", ["brp.adres,", "brp.adres,,brp.identiteit", "brp.adres,nergens.iets"])
def test_a_bad_item_in_a_comma_list_is_a_clear_400(api: TestClient, sandbox: Any, mint: Callable[..., str],
                                                   value: str) -> None:
    tok = mint(sub="cm-edges-cat400")
    case_id = open_case(api, tok, eva_bsn(sandbox))
    r = api.get(f"/v1/cases/{case_id}/dossier", params={"categories": value}, headers=bearer(tok))
    assert r.status_code == 400 and r.json()["type"].endswith("/unknown-category")
    assert r.json()["invalidParams"][0]["name"] == "categories"


def test_consents_created_is_filled_when_the_casemanager_reads_the_requests(
        api: TestClient, sandbox: Any, mint: Callable[..., str]) -> None:
    tok = mint(sub="cm-edges-cr")
    case_id = open_case(api, tok, eva_bsn(sandbox))
    r = api.post(f"/v1/cases/{case_id}/consent-requests",
                 json={"categories": ["duo.studieschuld", "uwv.inkomen"]}, headers=bearer(tok))
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    citizen = bearer(mint(role="citizen", sub="burger-edges", bsn=eva_bsn(sandbox)))
    answered = api.post(f"/v1/me/consent-requests/{request_id}/answer", headers=citizen,
                        json={"answers": {"duo.studieschuld": "approve", "uwv.inkomen": "decline"}})
    assert answered.status_code == 200, answered.text
    created = answered.json()["consents_created"]
    assert len(created) == 1
    (listed,) = [x for x in api.get(f"/v1/cases/{case_id}/consent-requests", headers=bearer(tok)).json()["items"]
                 if x["id"] == request_id]
    assert listed["consents_created"] == created and listed["status"] == "answered"
    mine = api.get("/v1/me/consent-requests", params={"all": "true"}, headers=citizen).json()["items"]
    assert next(x for x in mine if x["id"] == request_id)["consents_created"] == created


@pytest.mark.parametrize("change", [
    {"999993847": "x"},                          # an unknown key shaped like a BSN
    {"burgerservicenummer": ["999993847"]},      # wrong type
    {"burgerservicenummer": "999993847" * 4},    # too long
])
def test_invalid_params_never_echo_a_value_or_a_bsn_shaped_key(api: TestClient, change: dict[str, Any]) -> None:
    body = cases.toewijzing("999993847", "student_in_crisis", "cm-edges-echo") | change
    r = api.post("/v1/cases", json=body, headers=cases.coordinator_headers(api))
    assert r.status_code == 400 and r.json()["invalidParams"], r.text
    assert "99999384" not in r.text
    assert all(set(p) == {"name", "code", "reason"} for p in r.json()["invalidParams"])


def test_a_bsn_in_free_text_names_the_field_not_the_value(api: TestClient, sandbox: Any,
                                                           mint: Callable[..., str]) -> None:
    tok = mint(sub="cm-edges-free")
    case_id = open_case(api, tok, eva_bsn(sandbox))
    r = api.post(f"/v1/cases/{case_id}/consent-requests", headers=bearer(tok),
                 json={"categories": ["duo.studieschuld"], "message": "Gaat over 999993847, klopt dat?"})
    assert r.status_code == 400 and r.json()["type"].endswith("/bsn-in-free-text"), r.text
    assert [p["name"] for p in r.json()["invalidParams"]] == ["message"] and "999993847" not in r.text
