"""The privacy officer's integrity view: latest signed checkpoint, its signature, full verification.

Full verification is ``AuditLog.verify``, the same code as ``loket audit verify``: every leaf
hash, the root at every signed checkpoint and at the head, every index column the pages read
and every cached subtree hash proofs are served from. It runs in a background thread so a page can show
progress; runs are kept in the database (``verify_runs``), so any gateway process can show a
run another process is doing.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import delete, select, update

from audit.checkpoint import SignedCheckpoint
from audit.log import AuditLog
from gateway.core.db import SessionFactory
from gateway.core.errors import IntegrityError, NotFound
from gateway.core.models import VerifyRun

if TYPE_CHECKING:
    from gateway.core.context import Loket


class Progress(Protocol):
    """Where ``verify_full`` reports how far it got."""

    total: int
    checked: int

MAX_JOBS_KEPT = 20
#: How often a run writes its progress to the database.
PROGRESS_WRITE_EVERY_S = 0.5
#: A running run without progress for this long belongs to a process that stopped.
STALE_AFTER_S = 60.0


@dataclass(frozen=True)
class CheckpointStatus:
    tree_size: int  # records in the log now
    checkpoint: SignedCheckpoint | None
    signature_ok: bool
    problem: str | None
    vkey: str | None

    @property
    def covered(self) -> int:
        return self.checkpoint.tree_size if self.checkpoint else 0


def checkpoint_status(log: AuditLog) -> CheckpointStatus:
    """The latest checkpoint with its signature checked against this log's public key."""
    size = log.head().tree_size
    vkey = log.verifier.vkey() if log.verifier is not None else None
    try:
        latest = log.latest_checkpoint()
    except IntegrityError as e:
        return CheckpointStatus(size, None, False, str(e), vkey)
    if latest is None:
        return CheckpointStatus(size, None, False, "er is nog geen ondertekend checkpoint", vkey)
    return CheckpointStatus(size, latest, log.verifier is not None, None, vkey)


@dataclass(frozen=True)
class FullReport:
    tree_size: int
    checkpoints_verified: int
    root_hex: str
    elapsed_s: float


def verify_full(log: AuditLog, job: Progress | None = None) -> FullReport:
    """``AuditLog.verify`` (the one verifier, as ``loket audit verify`` runs it), reporting
    progress to ``job``; raise IntegrityError naming where it broke."""
    if log.verifier is None:
        raise IntegrityError("this gateway has no log key to verify checkpoints with")
    if job is not None:
        job.total = log.head().tree_size

    def progress(checked: int) -> None:
        if job is not None:
            job.checked = checked

    report = log.verify(progress=progress)
    return FullReport(report.tree_size, report.checkpoints_verified, report.root_hash.hex(),
                      report.elapsed_s)


@dataclass
class VerifyJob:
    """A run as the pages and the API show it (read from the database)."""

    id: str
    started_by: str
    total: int = 0
    checked: int = 0
    state: str = "running"  # running | ok | failed
    report: FullReport | None = None
    error: str | None = None
    started_at: float = field(default_factory=time.time)

    @property
    def percent(self) -> int:
        if self.state != "running":
            return 100
        return int(100 * self.checked / self.total) if self.total else 0

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id, "state": self.state, "checked": self.checked,
                                  "total": self.total, "percent": self.percent, "error": self.error}
        if self.report is not None:
            out.update(tree_size=self.report.tree_size, checkpoints_verified=self.report.checkpoints_verified,
                       root=self.report.root_hex, elapsed_s=round(self.report.elapsed_s, 3))
        return out


class _Progress:
    """What ``verify_full`` reports to (``total``, ``checked``), written to the run's row at most
    every :data:`PROGRESS_WRITE_EVERY_S`: progress another process can read, without a database
    write per 256 records."""

    def __init__(self, runs: VerifyRuns, run_id: str) -> None:
        self._runs, self._id = runs, run_id
        self._total = self._checked = 0
        self._written_at = 0.0

    @property
    def total(self) -> int:
        return self._total

    @total.setter
    def total(self, value: int) -> None:
        self._total = value
        self._write(force=True)

    @property
    def checked(self) -> int:
        return self._checked

    @checked.setter
    def checked(self, value: int) -> None:
        self._checked = value
        self._write()

    def _write(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._written_at >= PROGRESS_WRITE_EVERY_S:
            self._written_at = now
            self._runs.update(self._id, total=self._total, checked=self._checked)


class VerifyRuns:
    """The FG's verification runs, kept in the database (``verify_runs``) so that any gateway
    process can show a run that another one started and is doing. A run whose process stopped
    (no progress written for :data:`STALE_AFTER_S`) is reported as failed, never as running
    forever and never as passed."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def start(self, log: AuditLog, started_by: str) -> VerifyJob:
        now = _utcnow()
        run = VerifyRun(id=secrets.token_urlsafe(12), started_by=started_by, state="running",
                        total=0, checked=0, started_at=now, updated_at=now)
        with self._sessions.begin() as session:
            session.add(run)
            keep = select(VerifyRun.id).order_by(VerifyRun.started_at.desc()).limit(MAX_JOBS_KEPT)
            session.flush()
            session.execute(delete(VerifyRun).where(VerifyRun.id.not_in(keep.scalar_subquery())))
        job = VerifyJob(id=run.id, started_by=started_by)
        threading.Thread(target=self._run, args=(log, run.id), daemon=True, name="loket-verify").start()
        return job

    def _run(self, log: AuditLog, run_id: str) -> None:
        progress = _Progress(self, run_id)
        try:
            report = verify_full(log, progress)
        except IntegrityError as e:
            self.update(run_id, state="failed", error=str(e))
        except Exception as e:  # noqa: BLE001 -- a crash is a failed verification, never a silent pass
            self.update(run_id, state="failed",
                        error=f"verificatie kon niet worden uitgevoerd ({type(e).__name__})")
        else:
            self.update(run_id, state="ok", total=report.tree_size, checked=report.tree_size,
                        tree_size=report.tree_size, checkpoints_verified=report.checkpoints_verified,
                        root_hex=report.root_hex, elapsed_s=report.elapsed_s)

    def update(self, run_id: str, **values: object) -> None:
        with self._sessions.begin() as session:
            session.execute(update(VerifyRun).where(VerifyRun.id == run_id)
                            .values(updated_at=_utcnow(), **values))

    def get(self, job_id: str) -> VerifyJob:
        with self._sessions() as session:
            run = session.get(VerifyRun, job_id)
            if run is None:
                raise NotFound("no such verification run")
            job = VerifyJob(id=run.id, started_by=run.started_by, total=run.total, checked=run.checked,
                            state=run.state, error=run.error, started_at=run.started_at.timestamp())
            if run.state == "ok" and run.tree_size is not None:
                job.report = FullReport(run.tree_size, run.checkpoints_verified or 0, run.root_hex or "",
                                        run.elapsed_s or 0.0)
            elif run.state == "running" and (_utcnow() - run.updated_at).total_seconds() > STALE_AFTER_S:
                job.state = "failed"
                job.error = "de controle is afgebroken (het proces dat haar uitvoerde is gestopt); start een nieuwe"
        return job


def verify_runs(loket: Loket) -> VerifyRuns:
    runs = loket.extra.get("verify_runs")
    if not isinstance(runs, VerifyRuns):
        runs = VerifyRuns(loket.sessions)
        loket.extra["verify_runs"] = runs
    return runs


def _utcnow() -> datetime:
    return datetime.now(UTC)
