"""Agencies that fail are reported as unavailable; answers are cut to what was granted."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.core.context import Loket
from tests.conftest import bearer
from tests.gateway.test_dossier_flow import eva_bsn, open_case


@pytest.fixture
def faults(sandbox: Any) -> Iterator[dict[str, Any]]:
    yield sandbox.faults
    sandbox.reset_faults()


@pytest.mark.parametrize("fault, value, code", [
    ("status_code", 500, "http_500"),
    ("malformed_body", True, "malformed"),
    ("delay_s", 3.0, "timeout"),
    ("oversized_body", True, "too_large"),
])
def test_failing_agency_is_unavailable_and_others_still_answer(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str],
        faults: dict[str, Any], fault: str, value: Any, code: str) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    setattr(faults["duo"], fault, value)
    started = time.monotonic()
    body = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).json()
    elapsed = time.monotonic() - started
    assert {u["agency"]: u["error_code"] for u in body["unavailable"]} == {"duo": code}
    assert not [f for f in body["fields"] if f["agency"] == "duo"]
    assert [f for f in body["fields"] if f["agency"] == "brp"], "BRP still answers"
    # A slow agency holds the request up to its timeout, not longer (a bound, not a benchmark).
    assert elapsed < loket.settings.agency_timeout_s + 2.0
    record = loket.audit.get_record(body["audit"]["index"]).record
    assert "duo" in record.unavailable
    assert not [d for d in record.disclosed if d.agency == "duo"]


def test_extra_fields_from_an_agency_are_dropped_and_counted(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str],
        faults: dict[str, Any]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    faults["brp"].extra_fields = True
    body = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).json()
    brp_fields = {f["field"] for f in body["fields"] if f["agency"] == "brp"}
    scope = loket.purposes["student_in_crisis"]["scope"]["brp"]
    assert brp_fields <= {f for c in scope.values() for f in c["fields"]}
    record = loket.audit.get_record(body["audit"]["index"]).record
    assert int(record.extra["dropped_fields"]) > 0
