"""The privacy officer's integrity view: latest signed checkpoint, its signature, full verification.

Full verification reads every leaf from the database and recomputes every leaf hash and the
root at every signed checkpoint (``audit.verify.verify_leaf_stream``), then checks that the
log head's root is the recomputed one. It runs in a background thread so a page can show
progress; jobs live in this process's memory (a job started behind a load balancer is polled
at the process that runs it — see docs/pages.md).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from audit.checkpoint import SignedCheckpoint, open_checkpoints
from audit.log import AuditLog
from audit.record import LEAF_PREFIX
from audit.verify import verify_leaf_stream
from gateway.errors import IntegrityError, NotFound

MAX_JOBS_KEPT = 20
PROGRESS_EVERY_RECORDS = 256


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


def _leaves(log: AuditLog, stop: int, progress: VerifyJob | None = None) -> Iterator[tuple[int, bytes, bytes | None]]:
    for n, stored in enumerate(log.iter_records(stop=stop), start=1):
        if not stored.leaf.startswith(LEAF_PREFIX):
            raise IntegrityError(f"record {stored.index}: not a loket-audit-v1 leaf")
        yield stored.index, stored.leaf[len(LEAF_PREFIX):], stored.leaf_hash
        if progress is not None and n % PROGRESS_EVERY_RECORDS == 0:
            progress.checked = n


def verify_full(log: AuditLog, job: VerifyJob | None = None) -> FullReport:
    """Recompute the whole log from its leaves; raise IntegrityError naming where it broke."""
    if log.verifier is None:
        raise IntegrityError("this gateway has no log key to verify checkpoints with")
    started = time.perf_counter()
    head = log.head()
    if job is not None:
        job.total = head.tree_size
    # The whole chain at once, as `loket audit verify` does: a key-rotation transition links
    # the old and the new key (audit/checkpoint.py, docs/security.md).
    checkpoints = open_checkpoints(log.checkpoints(up_to=head.tree_size), log.verifier, origin=log.origin)
    size, root = verify_leaf_stream(_leaves(log, head.tree_size, progress=job), checkpoints,
                                    expected_size=head.tree_size)
    if root != head.root_hash:
        raise IntegrityError(f"log head at size {size}: stored root differs from the recomputed root")
    if job is not None:
        job.checked = size
    return FullReport(size, len(checkpoints), root.hex(), time.perf_counter() - started)


@dataclass
class VerifyJob:
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


class VerifyJobs:
    """In-memory registry of verification runs (one per process)."""

    def __init__(self) -> None:
        self._jobs: dict[str, VerifyJob] = {}
        self._lock = threading.Lock()

    def start(self, log: AuditLog, started_by: str) -> VerifyJob:
        job = VerifyJob(id=secrets.token_urlsafe(12), started_by=started_by)
        with self._lock:
            self._jobs[job.id] = job
            for old in sorted(self._jobs.values(), key=lambda j: j.started_at)[:-MAX_JOBS_KEPT]:
                self._jobs.pop(old.id, None)
        threading.Thread(target=self._run, args=(log, job), daemon=True, name="loket-verify").start()
        return job

    @staticmethod
    def _run(log: AuditLog, job: VerifyJob) -> None:
        try:
            job.report = verify_full(log, job)
            job.state = "ok"
        except IntegrityError as e:
            job.error = str(e)
            job.state = "failed"
        except Exception as e:  # noqa: BLE001 -- a crash is a failed verification, never a silent pass
            job.error = f"verificatie kon niet worden uitgevoerd ({type(e).__name__})"
            job.state = "failed"

    def get(self, job_id: str) -> VerifyJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound("no such verification run")
        return job


def jobs_of(extra: dict[str, object]) -> VerifyJobs:
    jobs = extra.get("verify_jobs")
    if not isinstance(jobs, VerifyJobs):
        jobs = VerifyJobs()
        extra["verify_jobs"] = jobs
    return jobs
