"""The decision-log write overlaps the agency fetch (benchmarks, issue 7); a failed write
must still mean no data and no disclosure record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.log import AuditFilter
from gateway.context import Loket
from tests.conftest import bearer
from tests.gateway.test_dossier_flow import eva_bsn, open_case


def test_decision_log_write_failure_gives_503_and_no_data(loket: Loket, client: TestClient, sandbox: Any,
                                                         token: Callable[..., str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))

    def fail(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("decision log table is gone")

    monkeypatch.setattr("gateway.dossier.record_decision", fail)
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "fields" not in r.json()
    kinds = {s.record.kind.value for s in loket.audit.find(AuditFilter(case_id=case_id))}
    assert "dossier:read" not in kinds


def test_dossier_after_the_overlap_still_logs_the_decision(loket: Loket, client: TestClient, sandbox: Any,
                                                           token: Callable[..., str]) -> None:
    from gateway.decision_log import get_logged_decision

    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 200
    with loket.sessions() as session:
        logged = get_logged_decision(session, r.json()["decision_id"])
    assert logged.policy_revision == r.json()["policy_revision"]
