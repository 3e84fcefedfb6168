"""The published contract as an integrator meets it: the Logius API Design Rules linter
(vendored ruleset, pinned Spectral) reports no errors on /openapi.json, and the document says
what the gateway really does (API-Version everywhere, CORS on the document, operationIds, roles,
problem responses)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.openapi import API_VERSION, _api_routes
from gateway.core.problems import PROBLEM_BASE, PROBLEM_TYPES
from tests.conftest import bearer

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "tests" / "contract" / "logius" / "linter.yaml"
#: Warnings the ruleset still gives, each explained in docs/contracts.md ("Logius linter").
EXPLAINED_WARNINGS: set[str] = set()


def spectral_bin() -> str:
    """The pinned Spectral CLI (.ci/spectral.sh installs it once into .tools/)."""
    r = subprocess.run(["bash", str(ROOT / ".ci" / "spectral.sh")], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot install Spectral: {r.stderr[-500:]}")
        pytest.skip(f"Spectral not available (npm missing?): {r.stderr[-200:]}")
    return r.stdout.strip().splitlines()[-1]


def lint(doc: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    src, out = tmp_path / "openapi.json", tmp_path / "spectral.json"
    src.write_text(json.dumps(doc, indent=1))
    r = subprocess.run([spectral_bin(), "lint", "-r", str(RULESET), "-f", "json", "-o", str(out),
                        "--fail-severity", "error", str(src)], capture_output=True, text=True, timeout=300)
    assert out.exists(), r.stderr
    results: list[dict[str, Any]] = json.loads(out.read_text() or "[]")
    return results


@pytest.mark.slow  # Spectral is a Node process (~15 s); CI runs it in the marked step
def test_logius_ruleset_reports_no_errors(document: dict[str, Any], tmp_path: Path) -> None:
    results = lint(document, tmp_path)
    errors = [f"{r['code']} at {'.'.join(map(str, r['path']))}: {r['message']}" for r in results if r["severity"] == 0]
    assert errors == []
    warnings = {r["code"] for r in results if r["severity"] == 1}
    assert warnings <= EXPLAINED_WARNINGS, f"explain these in docs/contracts.md: {warnings - EXPLAINED_WARNINGS}"


@pytest.mark.slow
def test_the_linter_sees_what_the_issue_reported_without_the_contract_shaping(tmp_path: Path,
                                                                              api: TestClient) -> None:
    """The gate is real: FastAPI's unshaped document fails the same ruleset."""
    from fastapi.openapi.utils import get_openapi

    raw = get_openapi(title="Loket", version="0.1.0", routes=api.app.routes)  # type: ignore[attr-defined]
    codes = {r["code"] for r in lint(raw, tmp_path) if r["severity"] == 0}
    assert {"nlgov:missing-header", "nlgov:use-problem-schema", "info-contact", "oas3-api-servers"} <= codes


@pytest.mark.parametrize("path", ["/v1/purposes", "/health", "/v1/nope", "/v1/cases", "/openapi.json",
                                  "/.well-known/loket-audit-key", "/burger"])
def test_every_response_carries_the_full_api_version(api: TestClient, path: str) -> None:
    r = api.get(path, follow_redirects=False)
    assert r.headers["API-Version"] == API_VERSION
    assert re.fullmatch(r"\d+\.\d+\.\d+", API_VERSION)


def test_the_document_is_public_cross_origin_at_both_locations(api: TestClient) -> None:
    a = api.get("/openapi.json", headers={"Origin": "https://zaaksysteem.example"})
    b = api.get("/v1/openapi.json", headers={"Origin": "https://zaaksysteem.example"})
    assert a.status_code == b.status_code == 200
    assert a.headers["Access-Control-Allow-Origin"] == b.headers["Access-Control-Allow-Origin"] == "*"
    assert a.json() == b.json()
    assert a.json()["info"]["version"] == API_VERSION
    # Only the document: the API itself is not opened to other origins.
    assert "Access-Control-Allow-Origin" not in api.get("/v1/purposes").headers


def test_operation_ids_are_camel_case_unique_and_tagged(document: dict[str, Any]) -> None:
    ops = [op for item in document["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in ops]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+([A-Z][a-z0-9]*)*", i) for i in ids), ids
    assert {"getDossier", "createConsent", "createCase", "listCases", "answerConsentRequest"} <= set(ids)
    assert all(len(op["tags"]) == 1 for op in ops)
    assert document["servers"] == [{"url": "/v1", "description": document["servers"][0]["description"]}]
    assert set(document["info"]["contact"]) >= {"name", "url", "email"}


def _refs(schema: Any) -> bool:
    return "$ref" in json.dumps(schema)


def test_every_v1_route_is_documented_and_declares_its_response(api: TestClient, document: dict[str, Any]) -> None:
    """Every route is in the document and every JSON success body has a named schema (a
    response model), never a bare ``object``."""
    documented = {(m, "/v1" + p) for p, item in document["paths"].items() for m in item}
    for path, route in _api_routes(api.app):  # type: ignore[arg-type]
        if route.include_in_schema and path.startswith("/v1/"):
            assert all((m.lower(), path) in documented for m in route.methods), path
        if route.include_in_schema and not path.startswith("/dev-issuer"):
            assert route.response_model is not None or route.response_class is not None, path
    for item in document["paths"].values():
        for op in item.values():
            for status, resp in op["responses"].items():
                media = resp.get("content", {}).get("application/json")
                if status.startswith("2") and media is not None:
                    assert _refs(media["schema"]), f"{op['operationId']} {status} has no response model"


def test_security_scheme_and_roles_match_what_the_gateway_enforces(
        api: TestClient, document: dict[str, Any], mint: Callable[..., str]) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    wrong = {"casemanager": "citizen", "citizen": "privacy_officer", "privacy_officer": "casemanager",
             "coordinator": "casemanager"}
    checked = 0
    for path, item in document["paths"].items():
        for method, op in item.items():
            roles = re.findall(r"Required role: `([a-z_]+)`", op["description"])
            if not op["security"]:
                assert not roles and "401" not in op["responses"]
                continue
            assert roles and {"401", "403"} <= set(op["responses"]), op["operationId"]
            url = "/v1" + re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path).replace(
                "00000000-0000-4000-8000-000000000000/proof", "0/proof")
            tok = mint(role=wrong[roles[0]], sub="contract-wrong", **(
                {"bsn": "999993847"} if wrong[roles[0]] == "citizen" else {}))
            r = api.request(method.upper(), url, headers=bearer(tok), json={} if method == "post" else None)
            assert r.status_code == 403 and r.json()["type"] == PROBLEM_BASE + "wrong-role", (url, r.text)
            assert api.request(method.upper(), url).status_code == 401
            checked += 1
    assert checked >= 20


def test_problem_responses_share_one_schema_and_known_types(document: dict[str, Any]) -> None:
    for item in document["paths"].values():
        for op in item.values():
            for status, resp in op["responses"].items():
                if status.startswith(("4", "5")):
                    media = resp["content"]["application/problem+json"]
                    assert media["schema"] == {"$ref": "#/components/schemas/Problem"}
                    assert media["example"]["type"].removeprefix(PROBLEM_BASE) in PROBLEM_TYPES
                    assert media["example"]["status"] == int(status)


def test_every_body_has_an_example_with_synthetic_data_only(document: dict[str, Any]) -> None:
    """Spectral checks each example against its schema (oas3-valid-media-example); here: that
    there is one for every request and success body, and that no BSN outside the 9999xxxxx
    test range appears anywhere in the document."""
    from gateway.identity.bsn import is_valid_bsn

    for item in document["paths"].values():
        for op in item.values():
            for media in op.get("requestBody", {}).get("content", {}).values():
                assert "example" in media, op["operationId"]
            for status, resp in op["responses"].items():
                for media in resp.get("content", {}).values():
                    assert "example" in media, (op["operationId"], status)
    text = json.dumps(document)
    bsns = {m for m in re.findall(r"(?<![0-9])[0-9]{9}(?![0-9])", text) if is_valid_bsn(m)}
    assert bsns and all(b.startswith("9999") for b in bsns), bsns


def test_api_version_also_on_responses_made_outside_the_routes(contract_loket: Any) -> None:
    """A 413 from the body limit and a 500 from the last-resort handler carry it too."""
    from gateway.app import create_app

    app = create_app(loket=contract_loket)

    @app.get("/v1/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("unexpected")

    with TestClient(app, raise_server_exceptions=False) as c:
        too_big = c.post("/v1/cases", content=b"x" * (contract_loket.settings.max_request_body_bytes + 1),
                         headers={"Content-Type": "application/json"})
        assert too_big.status_code == 413 and too_big.headers["API-Version"] == API_VERSION
        r = c.get("/v1/boom")
        assert r.status_code == 500 and r.headers["API-Version"] == API_VERSION
        assert r.json()["type"] == PROBLEM_BASE + "internal-error"
