"""Audit store faults on the real SQLite file: a failing write, a database locked by another
process beyond the busy timeout, a full disk, and the connection lost before commit.

Whatever breaks, the caller sees 503 audit-unavailable and no data, and the log is never half
written: the number of records equals the head's tree size, it is the number before the failed
request, and the whole log still verifies.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, exc, text

from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.app import create_app
from gateway.core.context import Loket
from tests.conftest import bearer
from tests.security.helpers import assert_problem, eva_bsn, minter, open_case

BUSY_TIMEOUT_MS = 200


def db_file(loket: Loket) -> Path:
    return Path(loket.db.url.database or "")


def with_short_busy_timeout(loket: Loket) -> None:
    """The gateway waits 30 s for a lock; a test lowers that so 'beyond the timeout' is quick."""

    @event.listens_for(loket.db, "connect")
    def _short(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    loket.db.dispose()


def log_state(loket: Loket) -> tuple[int, int]:
    """(records stored, head tree size): equal unless something was half written."""
    return loket.audit.count(), loket.audit.head().tree_size


def assert_not_half_written(loket: Loket, before: tuple[int, int]) -> None:
    after = log_state(loket)
    assert after[0] == after[1], f"records {after[0]} vs head {after[1]}: half written"
    assert after == before, f"the failed request left records behind: {before} -> {after}"
    loket.audit.verify()


@pytest.fixture
def setup(make_loket: Callable[..., Loket], sandbox: Any) -> Iterator[tuple[Loket, TestClient, str, str]]:
    loket = make_loket()
    with TestClient(create_app(loket=loket)) as client:
        tok = minter(loket)()
        case_id = open_case(client, tok, eva_bsn(sandbox))
        # One good read first, so the log has a checkpointable history to stay consistent with.
        assert client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).status_code == 200
        loket.audit.checkpoint(force=True)
        yield loket, client, tok, case_id


def read_fails_closed(client: TestClient, tok: str, case_id: str) -> None:
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert_problem(r, 503, "audit-unavailable")


def test_audit_insert_rejected_by_the_database(setup: tuple[Loket, TestClient, str, str]) -> None:
    loket, client, tok, case_id = setup
    with loket.db.begin() as conn:  # the store refuses every new leaf (a constraint, a bad disk)
        conn.execute(text("CREATE TRIGGER refuse_leaf BEFORE INSERT ON audit_records "
                          "BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END"))
    before = log_state(loket)
    read_fails_closed(client, tok, case_id)
    assert_not_half_written(loket, before)
    with loket.db.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse_leaf"))
    assert client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).status_code == 200
    loket.audit.verify()


def test_database_locked_beyond_the_busy_timeout(setup: tuple[Loket, TestClient, str, str]) -> None:
    """Another process holds BEGIN EXCLUSIVE on the file while the record is appended."""
    loket, client, tok, case_id = setup
    with_short_busy_timeout(loket)
    real_append = loket.audit.append_group  # the dossier appends its spans as one group
    held: list[bool] = []

    def append_while_locked(record: Any, **kw: Any) -> Any:
        other = sqlite3.connect(db_file(loket), isolation_level=None, timeout=5)
        other.execute("BEGIN EXCLUSIVE")
        held.append(True)
        try:
            return real_append(record, **kw)
        finally:
            other.execute("ROLLBACK")
            other.close()

    before = log_state(loket)
    loket.audit.append_group = append_while_locked  # type: ignore[method-assign]
    try:
        read_fails_closed(client, tok, case_id)
    finally:
        loket.audit.append_group = real_append  # type: ignore[method-assign]
    assert held, "the lock was taken during the append"
    assert_not_half_written(loket, before)


def test_whole_database_locked_before_the_request(setup: tuple[Loket, TestClient, str, str]) -> None:
    loket, client, tok, case_id = setup
    with_short_busy_timeout(loket)
    before = log_state(loket)
    other = sqlite3.connect(db_file(loket), isolation_level=None, timeout=5)
    other.execute("BEGIN EXCLUSIVE")
    try:
        read_fails_closed(client, tok, case_id)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert_not_half_written(loket, before)


def test_disk_full_stops_disclosure_and_keeps_every_answer_accounted_for(
        setup: tuple[Loket, TestClient, str, str]) -> None:
    """SQLITE_FULL: the file may not grow by a single page (PRAGMA max_page_count)."""
    loket, client, tok, case_id = setup

    @event.listens_for(loket.db, "connect")
    def _full(dbapi_conn: Any, _record: Any) -> None:
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}")

    loket.db.dispose()
    before = log_state(loket)
    ok: list[dict[str, Any]] = []
    failed = 0
    for _ in range(40):  # a page or two of slack fills quickly; then every request must fail
        r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
        if r.status_code == 200:
            assert failed == 0, "a disclosure after the disk was full"
            ok.append(r.json())
            continue
        assert_problem(r, 503, "audit-unavailable")
        failed += 1
        if failed == 3:
            break
    assert failed == 3, "the disk never filled up"
    after = log_state(loket)
    assert after[0] == after[1] == before[0] + len(ok), "every 200 has exactly one record"
    for body in ok:
        stored = loket.audit.get_record(body["audit"]["index"])
        assert stored.record.record_id == body["audit"]["record_id"]
    event.remove(loket.db, "connect", _full)
    loket.db.dispose()
    loket.audit.verify()


def test_connection_lost_before_commit(setup: tuple[Loket, TestClient, str, str]) -> None:
    """The database connection dies after the leaf is inserted but before the commit."""
    loket, client, tok, case_id = setup
    armed: list[bool] = []
    real_append = loket.audit.append_group  # the dossier appends its spans as one group

    @event.listens_for(loket.db, "commit")
    def _lose_connection(conn: Any) -> None:
        if armed:
            armed.clear()
            conn.invalidate()
            raise exc.OperationalError("COMMIT", {}, sqlite3.OperationalError("connection lost"))

    def append_then_lose(record: Any, **kw: Any) -> Any:
        armed.append(True)
        return real_append(record, **kw)

    before = log_state(loket)
    loket.audit.append_group = append_then_lose  # type: ignore[method-assign]
    try:
        read_fails_closed(client, tok, case_id)
    finally:
        loket.audit.append_group = real_append  # type: ignore[method-assign]
        event.remove(loket.db, "commit", _lose_connection)
    assert not armed, "the commit was reached and failed"
    assert_not_half_written(loket, before)
    reads = loket.audit.count(AuditFilter(case_id=case_id, kind=AuditEventKind.DOSSIER_READ))
    assert reads == 1, "only the first, good read is in the log"
    assert client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).status_code == 200
