"""The register of processing activities: every purpose and agency has one, ids are versioned."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.catalog import load_catalog
from gateway.policy import load_policy_data
from gateway.policy.bundle import policies_root
from gateway.register import load_register, parse_register, unregistered


def register_doc() -> dict[str, Any]:
    node = policies_root().joinpath("register").joinpath("verwerkingen.json")
    return dict(json.loads(node.read_text("utf-8")))


def test_every_purpose_and_agency_has_a_processing_activity() -> None:
    purposes = load_policy_data().purposes
    agencies = {a for p in load_policy_data().raw_purposes.values() for a in p["scope"]}
    assert set(load_catalog().agencies) >= agencies
    assert unregistered(load_register(), purposes, agencies) == []


def test_a_changed_activity_gets_a_new_id_and_the_old_one_keeps_resolving() -> None:
    doc = register_doc()
    before = parse_register(doc)
    old = before.current("schuldhulp_intake")
    assert old is not None and old.id.startswith(doc["base_uri"] + "schuldhulp_intake/v1-")

    changed = copy.deepcopy(doc)
    v2 = dict(changed["activities"]["schuldhulp_intake"][-1], version=2, valid_from="2027-01-01")
    v2["categorieen_persoonsgegevens"] = [*v2["categorieen_persoonsgegevens"], "cak.eigen_bijdrage"]
    changed["activities"]["schuldhulp_intake"].append(v2)
    after = parse_register(changed)
    new = after.current("schuldhulp_intake")
    assert new is not None and new.id != old.id and new.tag.startswith("v2-")
    assert after.for_purpose("schuldhulp_intake") == new
    assert after.by_id(old.id) == old  # a logged id still points at its own version


def test_an_edit_without_a_version_bump_still_changes_the_id() -> None:
    doc = register_doc()
    edited = copy.deepcopy(doc)
    edited["activities"]["schuldhulp_intake"][-1]["doel_nl"] += " (aangepast)"
    assert parse_register(edited).current("schuldhulp_intake").id != parse_register(doc).current(  # type: ignore[union-attr]
        "schuldhulp_intake").id


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(base_uri="ftp://x/"), "base_uri"),
    (lambda d: d["activities"]["schuldhulp_intake"].append(
        dict(d["activities"]["schuldhulp_intake"][0])), "versions must increase"),
    (lambda d: d["activities"]["schuldhulp_intake"][0].pop("name_nl"), "name_nl"),
    (lambda d: d["activities"].update({"bad key!": [{"version": 1}]}), "ASCII"),
])
def test_an_inconsistent_register_is_refused(mutate: Any, message: str) -> None:
    doc = copy.deepcopy(register_doc())
    mutate(doc)
    with pytest.raises(ValueError, match=message):
        parse_register(doc)


def test_the_register_is_served_read_only_with_every_version(client: TestClient) -> None:
    r = client.get("/v1/register/verwerkingen")
    assert r.status_code == 200
    listed = {a["key"]: a for a in r.json()["activities"]}
    current = load_register().current("student_in_crisis")
    assert current is not None and listed["student_in_crisis"]["id"] == current.id
    r = client.get(f"/v1/register/verwerkingen/student_in_crisis/{current.tag}")
    assert r.status_code == 200 and r.json()["id"] == current.id
    assert client.get("/v1/register/verwerkingen/student_in_crisis").json()["current"] == current.id
    assert client.get("/v1/register/verwerkingen/student_in_crisis/v9-000000000000").status_code == 404
    assert client.get("/v1/register/verwerkingen/geen_activiteit").status_code == 404
    assert client.post("/v1/register/verwerkingen").status_code == 405


def test_purposes_name_the_register_id_their_log_lines_carry(client: TestClient) -> None:
    purposes = client.get("/v1/purposes").json()
    register = load_register()
    for pid, info in purposes.items():
        assert info["processing_activity_id"] == register.for_purpose(pid).id  # type: ignore[union-attr]
