"""The decision-log entry commits in the audit record's transaction (issue 7: one durable
write per dossier request, not two); a failed write of either means no data, and neither
is left without the other."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.log import AuditFilter
from gateway.core.context import Loket
from gateway.core.errors import AuditWriteError
from tests.conftest import bearer
from tests.gateway.test_dossier_flow import eva_bsn, open_case


def test_decision_log_write_failure_gives_503_and_no_data(loket: Loket, client: TestClient, sandbox: Any,
                                                         token: Callable[..., str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))

    def fail(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("decision log table is gone")

    monkeypatch.setattr("gateway.dossier.flow.record_decision", fail)
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "fields" not in r.json()
    kinds = {s.record.kind.value for s in loket.audit.find(AuditFilter(case_id=case_id))}
    assert "dossier:read" not in kinds


def test_a_dossier_logs_its_decision_with_its_audit_record(loket: Loket, client: TestClient, sandbox: Any,
                                                           token: Callable[..., str]) -> None:
    from gateway.dossier.decision_log import get_logged_decision

    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 200
    with loket.sessions() as session:
        logged = get_logged_decision(session, r.json()["decision_id"])
    assert logged.policy_revision == r.json()["policy_revision"]


def test_a_failed_audit_write_leaves_no_decision_log_entry(loket: Loket, client: TestClient, sandbox: Any,
                                                          token: Callable[..., str]) -> None:
    from sqlalchemy import func, select

    from gateway.core.models import LoggedDecisionRow

    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    real_append = loket.audit.append_group

    def fail_after_companion(records: Any, **kw: Any) -> Any:
        companion = kw.get("companion")
        with loket.db.begin() as conn:  # the companion's rows, then the write fails
            if companion is not None:
                companion(conn)
            raise AuditWriteError("disk full")

    def logged() -> int:
        with loket.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(LoggedDecisionRow)
                                      .where(LoggedDecisionRow.case_id == case_id)) or 0)

    loket.audit.append_group = fail_after_companion  # type: ignore[method-assign]
    try:
        r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    finally:
        loket.audit.append_group = real_append  # type: ignore[method-assign]
    assert r.status_code == 503
    assert "fields" not in r.json()
    assert logged() == 0
    assert client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).status_code == 200
    assert logged() == 1
