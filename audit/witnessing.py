"""The log's side of witnessing: submit the latest checkpoint to the witnesses of a policy and
publish their cosignatures with it (appended to the stored note as signature lines).

What a witness last saw is read from the stored notes themselves (the largest checkpoint that
carries its cosignature), so no other state is kept. A refusal (:class:`WitnessRefused`: the
witness holds a tree this log is not consistent with) or an answer without a valid cosignature
(:class:`BadCosignature`) is an alert for the FG, never retried silently; a witness that is
down is retried a bounded number of times (:class:`WitnessSubmitter`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import select, update

from audit.errors import IntegrityError, NotFound
from audit.log import AuditLog
from audit.models import audit_checkpoints
from audit.witness import BadCosignature, CosignerKey, WitnessPolicy, WitnessRefused, cosignature_time, submit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WitnessResult:
    witness: str
    tree_size: int
    outcome: str  # "cosigned" | "already" | "refused" | "bad-cosignature" | "unavailable"
    detail: str = ""

    @property
    def alert(self) -> bool:
        """The witness holds a tree this log is inconsistent with, or did not cosign validly."""
        return self.outcome in ALERT_OUTCOMES


ALERT_OUTCOMES = frozenset({"refused", "bad-cosignature"})


def last_witnessed(notes: list[str], policy: WitnessPolicy) -> dict[str, int]:
    """Witness name -> the largest tree size among ``notes`` (oldest first) it cosigned."""
    from audit.checkpoint import parse_checkpoint_body

    out: dict[str, int] = {}
    for note in notes:
        size = parse_checkpoint_body(note.rpartition("\n\n")[0] + "\n").tree_size
        for w in policy.witnesses:
            if cosignature_time(note, w.key) is not None:
                out[w.key.name] = max(out.get(w.key.name, 0), size)
    return out


def add_cosignature(audit: AuditLog, tree_size: int, line: str, key: CosignerKey | None = None) -> str:
    """Append a verified cosignature line to the stored checkpoint note at ``tree_size``; not
    when the note already carries one by ``key`` (two gateway workers submitting the same
    checkpoint get two cosignatures of it: one is kept)."""
    with audit.engine.begin() as conn:
        note = conn.execute(
            select(audit_checkpoints.c.note).where(audit_checkpoints.c.tree_size == tree_size)
        ).scalar()
        if note is None:
            raise NotFound(f"no checkpoint at tree size {tree_size}")
        if line in note or (key is not None and _cosigned(str(note), key)):
            return str(note)
        new = str(note) + line
        conn.execute(
            update(audit_checkpoints).where(audit_checkpoints.c.tree_size == tree_size).values(note=new)
        )
    return new


def _cosigned(note: str, key: CosignerKey) -> bool:
    try:
        return cosignature_time(note, key) is not None
    except IntegrityError:
        return False


def witness_latest(
    audit: AuditLog,
    policy: WitnessPolicy,
    *,
    post: Callable[[str, bytes], tuple[int, str]] | None = None,
    on_alert: Callable[[WitnessResult], None] | None = None,
) -> list[WitnessResult]:
    """Submit the latest signed checkpoint to every witness of ``policy`` that has not cosigned
    it yet; store the cosignatures. Returns one result per witness."""
    latest = audit.latest_checkpoint()
    if latest is None:
        raise NotFound("the audit log has no signed checkpoint yet")
    size, note = latest.tree_size, latest.note
    seen = last_witnessed(audit.checkpoints(), policy)
    results = []
    for w in policy.witnesses:
        name = w.key.name
        if cosignature_time(note, w.key) is not None:
            results.append(WitnessResult(name, size, "already"))
            continue
        try:
            line, _ = submit(
                w, note, size,
                lambda old, new: audit.consistency_proof(old, new).hashes,
                old_size=seen.get(name, 0), post=post,
            )
        except (WitnessRefused, BadCosignature) as e:
            r = WitnessResult(name, size, "refused" if isinstance(e, WitnessRefused) else "bad-cosignature",
                              e.detail)
            log.error("audit witness alert: %s", e.detail)
            if on_alert is not None:
                on_alert(r)
            results.append(r)
            continue
        except (IntegrityError, OSError, Exception) as e:  # noqa: BLE001 -- a witness being down is reported, not fatal
            results.append(WitnessResult(name, size, "unavailable", str(e)[:200]))
            continue
        note = add_cosignature(audit, size, line, w.key)
        results.append(WitnessResult(name, size, "cosigned"))
    return results


class WitnessSubmitter:
    """Submits each checkpoint the log signs to the policy's witnesses, from one background
    thread (never in the append path: a dossier answer never waits for a witness). Register
    it with ``start()``.

    A witness that is unavailable is tried again after ``retry_s``, doubling, at most
    ``max_attempts`` times per checkpoint (then at the next checkpoint). A refusal calls
    ``on_alert`` once per witness and kind until that witness cosigns again (the gateway: an
    audit record, a metric and the FG's integrity page), so a witness that keeps refusing does
    not grow the log with an alert per checkpoint."""

    def __init__(
        self,
        audit: AuditLog,
        policy: WitnessPolicy,
        *,
        on_alert: Callable[[WitnessResult], None] | None = None,
        post: Callable[[str, bytes], tuple[int, str]] | None = None,
        retry_s: float = 1.0,
        max_attempts: int = 5,
    ) -> None:
        if max_attempts < 1 or retry_s < 0:
            raise ValueError("max_attempts must be >= 1 and retry_s >= 0")
        self.audit, self.policy, self.on_alert, self._post = audit, policy, on_alert, post
        self.retry_s, self.max_attempts = retry_s, max_attempts
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._alerted: set[tuple[str, str]] = set()
        self.last_results: list[WitnessResult] = []
        self.rounds = 0  # submission rounds done (tests and the benchmark wait on it)

    def start(self) -> WitnessSubmitter:
        self.audit.checkpoint_listeners.append(self._on_checkpoint)
        self._thread = threading.Thread(target=self._run, name="loket-witness", daemon=True)
        self._thread.start()
        self._wake.set()  # the latest checkpoint may not be witnessed yet
        return self

    def _on_checkpoint(self, _cp: object) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        try:
            self.audit.checkpoint_listeners.remove(self._on_checkpoint)
        except ValueError:
            pass
        if self._thread is not None:
            self._thread.join(10)

    def _alert(self, r: WitnessResult) -> None:
        key = (r.witness, r.outcome)
        if key in self._alerted or self.on_alert is None:
            return
        self._alerted.add(key)
        try:
            self.on_alert(r)
        except Exception:  # noqa: BLE001 -- the alert is also logged; try again next round
            self._alerted.discard(key)
            log.exception("witness alert could not be recorded")

    def run_once(self) -> list[WitnessResult]:
        """One round for the latest checkpoint, with its bounded retries; returns the last results."""
        results: list[WitnessResult] = []
        delay = self.retry_s
        for attempt in range(self.max_attempts):
            results = witness_latest(self.audit, self.policy, post=self._post, on_alert=self._alert)
            for r in results:
                if r.outcome in ("cosigned", "already"):
                    self._alerted = {k for k in self._alerted if k[0] != r.witness}
            if not any(r.outcome == "unavailable" for r in results) or attempt == self.max_attempts - 1:
                break
            # A new checkpoint (set wake) or stop ends the wait early; the loop then resubmits.
            if self._stop.wait(delay) or self._wake.is_set():
                break
            delay = min(delay * 2, 60.0)
        self.last_results = results
        self.rounds += 1
        return results

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except NotFound:  # no checkpoint signed yet: the first one wakes this thread
                self.rounds += 1
            except Exception:  # noqa: BLE001 -- database down: next round
                log.exception("witness submission round failed")
                self.rounds += 1


# --- what the witnesses vouch for (the FG's and the citizen's pages) --------------------------


@dataclass(frozen=True)
class WitnessedCheckpoint:
    tree_size: int
    note: str
    cosigners: tuple[str, ...]


@dataclass(frozen=True)
class WitnessStatus:
    """Per witness the largest tree size it cosigned (0: none), and the newest checkpoint that
    carries the policy's quorum (None: nothing outside the log vouches for it yet)."""

    quorum: int
    cosigned: dict[str, int]
    witnessed: WitnessedCheckpoint | None


def _notes_newest_first(audit: AuditLog, batch: int = 64) -> Iterator[tuple[int, str]]:
    before: int | None = None
    while True:
        q = select(audit_checkpoints.c.tree_size, audit_checkpoints.c.note).order_by(
            audit_checkpoints.c.tree_size.desc()).limit(batch)
        if before is not None:
            q = q.where(audit_checkpoints.c.tree_size < before)
        with audit.engine.connect() as conn:
            rows = conn.execute(q).all()
        if not rows:
            return
        for size, note in rows:
            yield int(size), str(note)
        before = int(rows[-1][0])


def witness_status(audit: AuditLog, policy: WitnessPolicy, *, max_checkpoints: int = 100_000) -> WitnessStatus:
    """Read from the stored notes, newest first, stopping as soon as every witness and the
    quorum are found. Only cosignatures that verify with the policy's keys count; a note with
    a line under a witness's key id that does not verify counts for nobody (IntegrityError is
    not raised here: the page shows it as not witnessed, verification names it)."""
    names = list(dict.fromkeys(w.key.name for w in policy.witnesses))
    cosigned: dict[str, int] = {}
    witnessed: WitnessedCheckpoint | None = None
    for n, (size, note) in enumerate(_notes_newest_first(audit)):
        if n >= max_checkpoints or (witnessed is not None and len(cosigned) == len(names)):
            break
        try:
            who = policy.cosigners(note) if witnessed is None else tuple(
                w.key.name for w in policy.witnesses
                if w.key.name not in cosigned and cosignature_time(note, w.key) is not None)
        except IntegrityError:
            continue
        for name in who:
            cosigned.setdefault(name, size)
        if witnessed is None and len(who) >= policy.quorum and policy.quorum > 0:
            witnessed = WitnessedCheckpoint(size, note, who)
    if witnessed is None and policy.quorum == 0:
        latest = audit.latest_checkpoint()
        if latest is not None:
            witnessed = WitnessedCheckpoint(latest.tree_size, latest.note, ())
    return WitnessStatus(policy.quorum, {name: cosigned.get(name, 0) for name in names}, witnessed)
