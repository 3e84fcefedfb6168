"""The schema and the newer shared state on PostgreSQL, not only on SQLite: the migrations'
round trip and drift check, page sessions (revocable on every process) and the FG's verify
runs (reported by every process)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from gateway.core.context import Loket
from gateway.core.db import create_db_engine
from gateway.core.migrate import alembic_config
from tests.audit.conftest import record
from tests.gateway.test_migrations import _metadatas, _table_of

pytestmark = pytest.mark.postgres


def test_migrations_round_trip_and_match_the_models_on_postgresql(postgres_url: str) -> None:
    cfg = alembic_config(postgres_url)
    command.upgrade(cfg, "head")
    engine = create_db_engine(postgres_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"cases", "audit_records", "page_sessions", "verify_runs"} <= tables
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": False})
            diffs = [d for md in _metadatas() for d in compare_metadata(ctx, md) if _table_of(d) in md.tables]
        assert diffs == []
        command.downgrade(cfg, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(cfg, "head")
        assert set(inspect(engine).get_table_names()) == tables
    finally:
        engine.dispose()


def test_page_sessions_and_verify_runs_are_shared_on_postgresql(
        make_loket: Callable[..., Loket], tmp_path: Path, postgres_url: str, sandbox: Any) -> None:
    from gateway.identity import page_sessions
    from gateway.oversight.integrity import verify_runs
    from gateway.web.session import SESSION_LIMITS

    shared = tmp_path / "shared"
    a = make_loket(data_dir=shared, database_url=postgres_url)
    b = make_loket(data_dir=shared, database_url=postgres_url)

    now = datetime.now(UTC)
    sid = page_sessions.start(a.sessions, sub="fg-1", role="privacy_officer", now=now, limits=SESSION_LIMITS)
    assert page_sessions.lookup(b.sessions, sid, now, SESSION_LIMITS).session is not None
    page_sessions.revoke(a.sessions, sid, now)
    assert page_sessions.lookup(b.sessions, sid, now + timedelta(seconds=1), SESSION_LIMITS).session is None

    a.audit.append_many([record(i) for i in range(300)])
    a.audit.checkpoint(force=True)
    run = verify_runs(a).start(a.audit, "fg-1")
    deadline = time.monotonic() + 30
    while (job := verify_runs(b).get(run.id)).state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.state == "ok", job.error
    assert job.report is not None and job.report.tree_size == 300
