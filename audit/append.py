"""Appends: the queue that gathers concurrent callers into one transaction, and the write.

Inside the database lock (audit.store.locked) an append reads the head (tree size +
frontier), adds the leaves, the perfect subtrees they complete, and the new head, and commits;
``append`` returns only after the commit. A process-local lock is used only to *gather*
concurrent appends from threads into one transaction (group commit, at most ``max_batch``
records), never as the guard.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, bindparam, insert, update

from audit import merkle
from audit.errors import AuditWriteError
from audit.models import audit_log_head, audit_records, audit_subtrees
from audit.record import AuditRecord, utc_timestamp
from audit.store import HEAD_ID, locked, read_head

_RECORD_COLUMNS = (
    "idx", "record_id", "leaf", "leaf_hash", "kind", "start_time", "actor_sub", "actor_role",
    "purpose", "case_id", "data_subject_id", "break_glass", "trace_id",
)
_INSERT_RECORDS_SQL = (
    f"INSERT INTO audit_records ({', '.join(_RECORD_COLUMNS)}) VALUES ({', '.join('?' * len(_RECORD_COLUMNS))})"  # noqa: S608 -- constant names
)
_INSERT_SUBTREES_SQL = "INSERT INTO audit_subtrees (node, hash) VALUES (?, ?)"
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
    committed transaction (None after a failed one), outside the database lock; ``committed``
    (if given) right after each commit with the first index written and each record's
    (data subject, leaf hash), so the subject map need not read its own appends back."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int,
        after_append: Callable[[int | None], None],
        committed: Callable[[int, list[tuple[str | None, bytes]]], None] | None = None,
    ) -> None:
        if not 1 <= max_batch <= 10_000:
            raise ValueError("checkpoint intervals and batch size must be positive")
        self.engine = engine
        self._dialect = engine.dialect.name
        self._committed = committed
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
            end = start + self.max_batch
            chunk = _Pending(tuple(records[start:end]), tuple(leaves[start:end]))
            try:
                receipts.extend(self._write((chunk,)))
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
        sha256 = hashlib.sha256
        with locked(self.engine) as conn:
            for p in batch:
                if p.companion is not None:
                    p.companion(conn)
            first, _root, frontier = read_head(conn, lock=True)
            size = first
            rows: list[tuple[object, ...]] = []
            nodes: list[tuple[int, bytes]] = []
            receipts: list[AppendReceipt] = []
            subjects: list[tuple[str | None, bytes]] = []
            for p in batch:
                for rec, leaf in zip(p.records, p.leaves, strict=True):
                    x = h = sha256(b"\x00" + leaf).digest()  # RFC 9162 leaf hash
                    # the frontier, incrementally: each trailing 1-bit of `size` is a perfect
                    # subtree the new leaf completes (merkle.frontier_append, inlined)
                    n, level = size, 0
                    while n & 1:
                        x = sha256(b"\x01" + frontier.pop() + x).digest()
                        n >>= 1
                        level += 1
                        nodes.append(((size >> level) << 6 | level, x))  # models.subtree_key
                    frontier.append(x)
                    rows.append((
                        size, rec.record_id, leaf, h, rec.kind._value_, rec.start_time,
                        rec.actor_sub, rec.actor_role, rec.purpose, rec.case_id,
                        rec.data_subject_id, rec.break_glass, rec.trace_id,
                    ))
                    receipts.append(AppendReceipt(size, h, rec.record_id))
                    subjects.append((rec.data_subject_id, h))
                    size += 1
            head = {
                "new_size": size,
                "new_root": merkle.frontier_root(frontier),
                "new_frontier": merkle.pack_frontier(frontier),
                "now": utc_timestamp(),
            }
            if self._dialect == "sqlite":  # the DBAPI directly: SQLAlchemy's executemany per
                raw = conn.connection.dbapi_connection  # row cost as much as the insert
                assert raw is not None
                cursor = raw.cursor()
                try:
                    cursor.executemany(_INSERT_RECORDS_SQL, rows)
                    if nodes:
                        cursor.executemany(_INSERT_SUBTREES_SQL, nodes)
                finally:
                    cursor.close()
            else:
                conn.execute(_INSERT_RECORDS, [dict(zip(_RECORD_COLUMNS, r, strict=True)) for r in rows])
                if nodes:
                    conn.execute(_INSERT_SUBTREES, [{"node": k, "hash": nh} for k, nh in nodes])
            conn.execute(_UPDATE_HEAD, head)
        # committed: the `with` block exited without error
        if self._committed is not None:
            self._committed(first, subjects)
        return receipts
