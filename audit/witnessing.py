"""The log's side of witnessing: submit the latest checkpoint to the witnesses of a policy and
publish their cosignatures with it (appended to the stored note as signature lines).

What a witness last saw is read from the stored notes themselves (the largest checkpoint that
carries its cosignature), so no other state is kept. A refusal (:class:`WitnessRefused`: the
witness holds a tree this log is not consistent with) is an alert for the FG, never retried.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from audit.errors import IntegrityError, NotFound
from audit.log import AuditLog
from audit.models import audit_checkpoints
from audit.witness import WitnessPolicy, WitnessRefused, cosignature_time, submit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WitnessResult:
    witness: str
    tree_size: int
    outcome: str  # "cosigned" | "already" | "refused" | "unavailable"
    detail: str = ""


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


def add_cosignature(audit: AuditLog, tree_size: int, line: str) -> str:
    """Append a verified cosignature line to the stored checkpoint note at ``tree_size``."""
    with audit.engine.begin() as conn:
        note = conn.execute(
            select(audit_checkpoints.c.note).where(audit_checkpoints.c.tree_size == tree_size)
        ).scalar()
        if note is None:
            raise NotFound(f"no checkpoint at tree size {tree_size}")
        if line in note:
            return str(note)
        new = str(note) + line
        conn.execute(
            update(audit_checkpoints).where(audit_checkpoints.c.tree_size == tree_size).values(note=new)
        )
    return new


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
        except WitnessRefused as e:
            r = WitnessResult(name, size, "refused", e.detail)
            log.error("audit witness alert: %s", e.detail)
            if on_alert is not None:
                on_alert(r)
            results.append(r)
            continue
        except (IntegrityError, OSError, Exception) as e:  # noqa: BLE001 -- a witness being down is reported, not fatal
            results.append(WitnessResult(name, size, "unavailable", str(e)[:200]))
            continue
        note = add_cosignature(audit, size, line)
        results.append(WitnessResult(name, size, "cosigned"))
    return results


class WitnessSubmitter:
    """Submits each checkpoint the log signs to the policy's witnesses, from one background
    thread (never in the append path). Register it with ``start()``; a refusal calls
    ``on_alert`` (the gateway: a metric and the FG's integrity page)."""

    def __init__(
        self,
        audit: AuditLog,
        policy: WitnessPolicy,
        *,
        on_alert: Callable[[WitnessResult], None] | None = None,
        post: Callable[[str, bytes], tuple[int, str]] | None = None,
    ) -> None:
        self.audit, self.policy, self.on_alert, self._post = audit, policy, on_alert, post
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_results: list[WitnessResult] = []

    def start(self) -> WitnessSubmitter:
        self.audit.checkpoint_listeners.append(lambda _cp: self._wake.set())
        self._thread = threading.Thread(target=self._run, name="loket-witness", daemon=True)
        self._thread.start()
        self._wake.set()  # the latest checkpoint may not be witnessed yet
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.last_results = witness_latest(
                    self.audit, self.policy, post=self._post, on_alert=self.on_alert
                )
            except Exception:  # noqa: BLE001 -- no checkpoint yet, database down: next round
                log.exception("witness submission round failed")
