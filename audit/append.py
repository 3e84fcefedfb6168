"""Appends: the queue that gathers concurrent callers into one transaction, and the write.

Inside the database lock (audit.store.locked) an append reads the head (tree size +
frontier), adds the leaves, the perfect subtrees they complete, and the new head, and commits;
``append`` returns only after the commit. A process-local lock is used only to *gather*
concurrent appends from threads into one transaction (group commit, at most ``max_batch``
records), never as the guard.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, bindparam, insert, update

from audit import merkle
from audit.errors import AuditWriteError
from audit.models import audit_log_head, audit_records, audit_subtrees, subtree_key
from audit.record import AuditRecord, utc_timestamp
from audit.store import HEAD_ID, locked, read_head

_INSERT_RECORDS = insert(audit_records)
_INSERT_SUBTREES = insert(audit_subtrees)
_UPDATE_HEAD = (
    update(audit_log_head)
    .where(audit_log_head.c.id == HEAD_ID)
    .values(
        tree_size=bindparam("new_size"),
        root_hash=bindparam("new_root"),
        frontier=bindparam("new_frontier"),
        updated_at=bindparam("now"),
    )
)


@dataclass(frozen=True)
class AppendReceipt:
    """Proof of a durable append: the leaf index and hash of the record."""

    index: int
    leaf_hash: bytes
    record_id: str


#: Rows the caller must commit atomically with its audit record (the dossier's decision-log
#: entry, say): called with the log's write transaction, before the record is added.
Companion = Callable[[Connection], None]


@dataclass
class _Pending:
    """One caller's records (usually one), committed together, in order, with its companion."""

    records: tuple[AuditRecord, ...]
    leaves: tuple[bytes, ...]
    companion: Companion | None = None
    done: threading.Event = field(default_factory=threading.Event)
    receipts: list[AppendReceipt] = field(default_factory=list)
    error: BaseException | None = None


class Appender:
    """The log's write side. ``after_append`` is called with the new tree size after each
    committed transaction (None after a failed one), outside the database lock."""

    def __init__(
        self, engine: Engine, *, max_batch: int, after_append: Callable[[int | None], None]
    ) -> None:
        if not 1 <= max_batch <= 10_000:
            raise ValueError("checkpoint intervals and batch size must be positive")
        self.engine = engine
        self.max_batch = max_batch
        self._after_append = after_append
        self._queue: deque[_Pending] = deque()
        self._queue_lock = threading.Lock()
        self._flush_lock = threading.Lock()  # gathers a batch; NOT the append guard (the DB is)

    def append_group(
        self, records: Sequence[AuditRecord], *, companion: Companion | None = None
    ) -> list[AppendReceipt]:
        if not records or not all(isinstance(r, AuditRecord) for r in records):
            raise TypeError("append_group() takes one or more AuditRecords")
        pending = _Pending(tuple(records), tuple(r.to_leaf() for r in records), companion)
        with self._queue_lock:
            self._queue.append(pending)
        while not pending.done.is_set():
            with self._flush_lock:
                if pending.done.is_set():
                    break
                with self._queue_lock:
                    batch = [
                        self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))
                    ]
                self._flush(batch)
        if pending.error is not None:
            raise AuditWriteError("audit record could not be written") from pending.error
        assert len(pending.receipts) == len(records)
        return pending.receipts

    def append_many(self, records: Sequence[AuditRecord]) -> list[AppendReceipt]:
        for r in records:
            if not isinstance(r, AuditRecord):
                raise TypeError("append_many() takes AuditRecords")
        leaves = [r.to_leaf() for r in records]
        receipts: list[AppendReceipt] = []
        for start in range(0, len(records), self.max_batch):
            chunk = [
                _Pending((r,), (leaf,))
                for r, leaf in zip(records[start : start + self.max_batch], leaves[start:], strict=False)
            ]
            try:
                receipts.extend(self._write(chunk))
            except Exception as e:
                raise AuditWriteError("audit records could not be written") from e
        self._after_append(receipts[-1].index + 1 if receipts else None)
        return receipts

    def _flush(self, batch: list[_Pending]) -> None:
        if not batch:
            return
        try:
            receipts = self._write(batch)
        except Exception as e:  # noqa: BLE001 - handed to the waiting caller as AuditWriteError
            if len(batch) == 1:
                batch[0].error = e
                batch[0].done.set()
                return
            # One bad record (e.g. a duplicate record id) must not fail its neighbours.
            for p in batch:
                try:
                    p.receipts = self._write([p])
                except Exception as e1:  # noqa: BLE001 - handed to its caller as AuditWriteError
                    p.error = e1
                p.done.set()
            self._after_append(None)
            return
        it = iter(receipts)
        for p in batch:
            p.receipts = [next(it) for _ in p.records]
            p.done.set()
        self._after_append(receipts[-1].index + 1)

    def _write(self, batch: Sequence[_Pending]) -> list[AppendReceipt]:
        with locked(self.engine) as conn:
            for p in batch:
                if p.companion is not None:
                    p.companion(conn)
            size, _root, frontier = read_head(conn, lock=True)
            rows: list[dict[str, object]] = []
            nodes: list[dict[str, object]] = []
            receipts: list[AppendReceipt] = []
            for rec, leaf in ((r, lf) for p in batch for r, lf in zip(p.records, p.leaves, strict=True)):
                h = merkle.leaf_hash(leaf)
                frontier, completed = merkle.frontier_append(frontier, size, h)
                rows.append(
                    {
                        "idx": size,
                        "record_id": rec.record_id,
                        "leaf": leaf,
                        "leaf_hash": h,
                        "kind": rec.kind.value,
                        "start_time": rec.start_time,
                        "actor_sub": rec.actor_sub,
                        "actor_role": rec.actor_role,
                        "purpose": rec.purpose,
                        "case_id": rec.case_id,
                        "data_subject_id": rec.data_subject_id,
                        "break_glass": rec.break_glass,
                        "trace_id": rec.trace_id,
                    }
                )
                nodes.extend({"node": subtree_key(lvl, i), "hash": nh} for lvl, i, nh in completed)
                receipts.append(AppendReceipt(size, h, rec.record_id))
                size += 1
            conn.execute(_INSERT_RECORDS, rows)
            if nodes:
                conn.execute(_INSERT_SUBTREES, nodes)
            conn.execute(
                _UPDATE_HEAD,
                {
                    "new_size": size,
                    "new_root": merkle.frontier_root(frontier),
                    "new_frontier": merkle.pack_frontier(frontier),
                    "now": utc_timestamp(),
                },
            )
        return receipts  # committed: the `with` block exited without error
