"""The FG's "verify now" runs live in the database: a run started by one gateway process is
reported by any other (behind a load balancer the polls land anywhere), and a run whose process
stopped is reported failed, never running forever and never passed."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text, update

from gateway.core.context import Loket
from gateway.core.models import VerifyRun
from gateway.oversight.integrity import MAX_JOBS_KEPT, VerifyJob, verify_runs
from tests.audit.conftest import record


def _two_processes(make_loket: Callable[..., Loket], tmp_path: Path) -> tuple[Loket, Loket]:
    shared = tmp_path / "shared"
    first = make_loket(data_dir=shared)
    first.audit.append_many([record(i) for i in range(600)])
    first.audit.checkpoint(force=True)
    return first, make_loket(data_dir=shared)


def _wait(loket: Loket, run_id: str) -> VerifyJob:
    deadline = time.monotonic() + 20
    while True:
        job = verify_runs(loket).get(run_id)
        if job.state != "running" or time.monotonic() > deadline:
            return job
        time.sleep(0.02)


def test_a_run_started_in_one_process_is_reported_by_another(make_loket: Callable[..., Loket],
                                                             tmp_path: Path) -> None:
    a, b = _two_processes(make_loket, tmp_path)
    started = verify_runs(a).start(a.audit, "fg-1")
    seen_by_b = verify_runs(b).get(started.id)
    assert seen_by_b.started_by == "fg-1" and seen_by_b.state in ("running", "ok")
    done = _wait(b, started.id)
    assert done.state == "ok", done.error
    assert done.report is not None and done.report.tree_size == a.audit.head().tree_size == 600
    assert done.as_json()["root"] == a.audit.head().root_hash.hex()
    assert done.checked == done.total == 600


def test_a_broken_log_fails_for_every_process(make_loket: Callable[..., Loket], tmp_path: Path) -> None:
    a, b = _two_processes(make_loket, tmp_path)
    with a.db.begin() as conn:
        conn.execute(text("UPDATE audit_records SET leaf = leaf || x'20' WHERE idx = 17"))
    done = _wait(b, verify_runs(a).start(a.audit, "fg-1").id)
    assert done.state == "failed" and done.report is None
    assert "17" in (done.error or "")


def test_a_run_whose_process_stopped_is_reported_failed(loket: Loket) -> None:
    run = verify_runs(loket).start(loket.audit, "fg-1")
    assert _wait(loket, run.id).state == "ok"
    # A run left "running" by a process that died: no progress written for minutes.
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    with loket.sessions.begin() as session:
        session.execute(update(VerifyRun).where(VerifyRun.id == run.id)
                        .values(state="running", updated_at=long_ago, tree_size=None))
    job = verify_runs(loket).get(run.id)
    assert job.state == "failed" and job.report is None
    assert "afgebroken" in (job.error or "")


def test_only_the_latest_runs_are_kept(loket: Loket) -> None:
    ids = [verify_runs(loket).start(loket.audit, "fg-1").id for _ in range(MAX_JOBS_KEPT + 5)]
    for run_id in ids[-3:]:
        _wait(loket, run_id)
    with loket.sessions() as session:
        assert session.scalar(select(func.count()).select_from(VerifyRun)) == MAX_JOBS_KEPT
    assert verify_runs(loket).get(ids[-1]).id == ids[-1]
