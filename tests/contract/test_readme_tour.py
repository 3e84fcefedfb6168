"""The README tour's error block and contract headers print what the gateway answers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from gateway.api.openapi import API_VERSION
from tests import cases
from tests.conftest import bearer
from tests.security.helpers import eva_bsn, open_case

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _printed(after: str) -> dict[str, Any]:
    """The JSON line the README prints right after the command that contains ``after``."""
    m = re.search(re.escape(after) + r"[^\n]*\n(\{[^\n]*\})\n", README)
    assert m, f"README no longer shows {after!r}"
    printed: dict[str, Any] = json.loads(m.group(1))
    return printed


def test_the_tour_prints_the_errors_the_gateway_gives(api: TestClient, sandbox: Any,
                                                      mint: Callable[..., str]) -> None:
    tok = mint(sub="cm-001")
    r = api.post("/v1/cases", json=cases.toewijzing("123456789", "schuldhulp_intake", reason="Melding aan de balie."),
                 headers=cases.coordinator_headers(api))
    assert r.json() == _printed("\"reason\":\"Melding aan de balie.\"}}' http://127.0.0.1:8000/v1/cases")
    case_id = open_case(api, tok, eva_bsn(sandbox))
    assert api.get(f"/v1/cases/{case_id}/dossier").json() == _printed("curl -s http://127.0.0.1:8000/v1/cases/$CASE/dossier")
    other = api.get(f"/v1/cases/{case_id}/dossier", headers=bearer(mint(sub="cm-002")))
    assert other.json() == _printed("loket token --sub cm-002)\" http://127.0.0.1:8000/v1/cases/$CASE/dossier")


def test_the_tour_prints_the_contract_headers(api: TestClient) -> None:
    r = api.get("/openapi.json")
    assert f"api-version: {r.headers['api-version']}" in README and r.headers["api-version"] == API_VERSION
    assert f"access-control-allow-origin: {r.headers['access-control-allow-origin']}" in README
