"""The audit log on a database: durable appends, signed checkpoints, proofs, search.

Appends are serialised *by the database*, so several gateway processes can share one log:
SQLite takes the write lock up front (``BEGIN IMMEDIATE``; WAL, ``synchronous=FULL``),
PostgreSQL takes a transaction-scoped advisory lock and then ``SELECT … FOR UPDATE`` on the
single head row. Inside that lock an append reads the head (tree size + frontier), adds the
leaves, the perfect subtrees they complete, and the new head, and commits; ``append`` returns
only after the commit. A process-local lock is used only to *gather* concurrent appends from
threads into one transaction (group commit, at most ``max_batch`` records), never as the guard.

The log signs a checkpoint (C2SP) every ``checkpoint_every_records`` records or
``checkpoint_every_s`` seconds (checked after appends; call :meth:`AuditLog.maybe_checkpoint`
from a timer to cover idle periods) and on demand — and only after checking that the new tree
is consistent with the last checkpoint it signed (RFC 9162 §2.1.4).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from audit import merkle, subjects
from audit.checkpoint import (
    KEY_ROTATION_EXTENSION,
    Checkpoint,
    KeyChain,
    KeyTransition,
    NoteVerifier,
    RetiredKey,
    SignedCheckpoint,
    TrustedKeys,
    Verifier,
    open_checkpoint,
    open_transition,
    parse_checkpoint_body,
    sign_checkpoint_with,
    transition_checkpoint,
)
from audit.errors import AuditWriteError, IntegrityError, NotFound
from audit.merkle import ConsistencyProof, InclusionProof, NodeId, ProofError
from audit.models import (
    audit_checkpoints,
    audit_log_head,
    audit_records,
    audit_subtrees,
    subtree_key,
)
from audit.record import LEAF_FORMAT, LEAF_PREFIX, AuditEventKind, AuditRecord, utc_timestamp
from audit.subjects import SubjectIndex, SubjectMap
from audit.verify import VerifyReport, verify_leaf_stream

log = logging.getLogger(__name__)

HEAD_ID = 1
#: The largest leaf index a BIGINT column holds; bounds from callers are clamped to it.
MAX_INDEX = 2**63 - 1
# pg_advisory_xact_lock key for "the audit log head" (a fixed signed 64-bit number).
_PG_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"loket:audit_log_head").digest()[:8], "big", signed=True
)

# Built once: SQLAlchemy then skips building them and reuses their compiled form (appends and
# proofs are hot paths; building a statement costs as much as running it on SQLite).
_SELECT_HEAD = select(
    audit_log_head.c.tree_size, audit_log_head.c.root_hash, audit_log_head.c.frontier
).where(audit_log_head.c.id == HEAD_ID)
_SELECT_HEAD_FOR_UPDATE = _SELECT_HEAD.with_for_update()
_SELECT_TREE_SIZE = select(audit_log_head.c.tree_size).where(audit_log_head.c.id == HEAD_ID)
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
# Every node a proof needs in one round trip: subtree rows by key, leaf hashes (level 0) by
# index, the latter returned under the same key scheme (subtree_key(0, i) == i << 6).
_SELECT_NODES = union_all(
    select(audit_subtrees.c.node, audit_subtrees.c.hash).where(
        audit_subtrees.c.node.in_(bindparam("subtrees", expanding=True))
    ),
    select(
        (audit_records.c.idx * literal_column("64")).label("node"),
        audit_records.c.leaf_hash.label("hash"),
    ).where(audit_records.c.idx.in_(bindparam("leaves", expanding=True))),
)


@dataclass(frozen=True)
class AppendReceipt:
    """Proof of a durable append: the leaf index and hash of the record."""

    index: int
    leaf_hash: bytes
    record_id: str


@dataclass(frozen=True)
class StoredRecord:
    index: int
    leaf: bytes
    leaf_hash: bytes

    @property
    def record(self) -> AuditRecord:
        return AuditRecord.from_leaf(self.leaf)


@dataclass(frozen=True)
class AuditFilter:
    """The privacy officer's search. Times are RFC 3339 UTC ms strings; ``until`` is exclusive."""

    since: str | None = None
    until: str | None = None
    actor_sub: str | None = None
    purpose: str | None = None
    data_subject_id: str | None = None
    kind: AuditEventKind | None = None
    break_glass: bool | None = None
    case_id: str | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f) is None for f in self.__dataclass_fields__)

    def clauses(self) -> list[ColumnElement[bool]]:
        c = audit_records.c
        out: list[ColumnElement[bool]] = []
        if self.since is not None:
            out.append(c.start_time >= self.since)
        if self.until is not None:
            out.append(c.start_time < self.until)
        if self.actor_sub is not None:
            out.append(c.actor_sub == self.actor_sub)
        if self.purpose is not None:
            out.append(c.purpose == self.purpose)
        if self.data_subject_id is not None:
            out.append(c.data_subject_id == self.data_subject_id)
        if self.kind is not None:
            out.append(c.kind == AuditEventKind(self.kind).value)
        if self.break_glass is not None:
            out.append(c.break_glass == self.break_glass)
        if self.case_id is not None:
            out.append(c.case_id == self.case_id)
        return out


@dataclass(frozen=True)
class LogHead:
    tree_size: int
    root_hash: bytes


class SubtreeCache:
    """A bounded LRU map (level, index) -> hash of perfect subtrees read from committed rows.

    A perfect subtree's hash never changes once its row is committed (the log only appends), so
    proofs may be served from here instead of the database. Only the proof-serving path reads
    and fills it, and only with rows it read from the database; :meth:`AuditLog.checkpoint` and
    :meth:`AuditLog.verify` always read the tables, so a row edited underneath the log is still
    caught there. One cache per AuditLog, i.e. per database.
    """

    def __init__(self, max_entries: int) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must be >= 0")
        self.max_entries = max_entries
        self._nodes: OrderedDict[NodeId, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._nodes)

    def get_many(self, ids: set[NodeId]) -> tuple[dict[NodeId, bytes], set[NodeId]]:
        """The cached hashes among ``ids`` and the ids that are not cached."""
        found: dict[NodeId, bytes] = {}
        missing: set[NodeId] = set()
        with self._lock:
            nodes = self._nodes
            for node in ids:
                h = nodes.get(node)
                if h is None:
                    missing.add(node)
                else:
                    nodes.move_to_end(node)
                    found[node] = h
        return found, missing

    def put_many(self, committed: dict[NodeId, bytes]) -> None:
        """Remember hashes read from committed rows (never from an open write transaction)."""
        if not self.max_entries:
            return
        with self._lock:
            nodes = self._nodes
            nodes.update(committed)
            while len(nodes) > self.max_entries:
                nodes.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._nodes.clear()


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


class AuditLog:
    def __init__(
        self,
        engine: Engine,
        signing_key: Ed25519PrivateKey | None,
        *,
        origin: str,
        key_name: str,
        checkpoint_every_records: int = 256,
        checkpoint_every_s: float = 5.0,
        max_batch: int = 256,
        subtree_cache_entries: int = 32_768,
        retired_keys: Sequence[NoteVerifier | RetiredKey] = (),
        subject_map_key: bytes | None = None,
    ) -> None:
        if checkpoint_every_records < 1 or checkpoint_every_s <= 0 or not 1 <= max_batch <= 10_000:
            raise ValueError("checkpoint intervals and batch size must be positive")
        if subtree_cache_entries < 0:
            raise ValueError("subtree_cache_entries must be >= 0")
        Checkpoint(origin, 0, merkle.EMPTY_ROOT)  # validates the origin
        self.engine = engine
        self.origin = origin
        self.key_name = key_name
        self.checkpoint_every_records = checkpoint_every_records
        self.checkpoint_every_s = checkpoint_every_s
        self.max_batch = max_batch
        self._signing_key = signing_key
        # The keys checkpoints of this log are verified with: the current (signing) key and the
        # retired keys earlier checkpoints were signed with (see ``rotate_key``).
        self.verifier: TrustedKeys | None = (
            TrustedKeys(NoteVerifier.for_private_key(key_name, signing_key), tuple(retired_keys))
            if signing_key is not None
            else None
        )
        self._dialect = engine.dialect.name
        self._queue: deque[_Pending] = deque()
        self._queue_lock = threading.Lock()
        self._flush_lock = threading.Lock()  # gathers a batch; NOT the append guard (the DB is)
        self._last_cp_size: int | None = None  # process-local hint only
        self._last_cp_time = time.monotonic()
        self._cp_retry_at = 0.0  # after a failed checkpoint, appends wait this long to retry
        # ~150 bytes per entry: the default holds the top levels of any tree in ~5 MB.
        self.subtree_cache = SubtreeCache(subtree_cache_entries)
        # The per-subject map (audit/subjects.py, ADR 0005): a pure function of the committed
        # leaves, built here as checkpoints are signed (never in the append transaction), its
        # root signed in every checkpoint. Maps at recent checkpoint sizes are kept for proofs.
        self._subject_map_key = subject_map_key
        self._subjects = SubjectIndex(subject_map_key) if subject_map_key is not None else None
        self._subjects_lock = threading.Lock()
        self._subject_maps: OrderedDict[int, SubjectMap] = OrderedDict()
        #: Called with each newly signed checkpoint, after its commit (audit.witnessing).
        self.checkpoint_listeners: list[Callable[[SignedCheckpoint], None]] = []

    def __repr__(self) -> str:  # never show the key
        return f"AuditLog(origin={self.origin!r}, dialect={self._dialect!r})"

    def vkey(self) -> str:
        """The C2SP verifier key to publish (``loket audit pubkey``, well-known URL)."""
        if self.verifier is None:
            raise RuntimeError("this AuditLog has no signing key")
        return self.verifier.vkey()

    # --- the database lock --------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[Connection]:
        """A write transaction holding the log's database lock until commit."""
        with self.engine.connect() as conn:
            if self._dialect == "sqlite":
                conn.execution_options(sqlite_begin="IMMEDIATE")
            elif self._dialect == "postgresql":
                # Each statement must see what the previous lock holder committed.
                conn.execution_options(isolation_level="READ COMMITTED")
            with conn.begin():
                if self._dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                yield conn

    def _read_head(self, conn: Connection, *, lock: bool) -> tuple[int, bytes, list[bytes]]:
        row = conn.execute(_SELECT_HEAD_FOR_UPDATE if lock else _SELECT_HEAD).first()
        if row is None:
            if lock:
                conn.execute(
                    insert(audit_log_head).values(
                        id=HEAD_ID,
                        tree_size=0,
                        root_hash=merkle.EMPTY_ROOT,
                        frontier=b"",
                        updated_at=utc_timestamp(),
                    )
                )
            return 0, merkle.EMPTY_ROOT, []
        size = int(row.tree_size)
        frontier = merkle.unpack_frontier(_blob(row.frontier, "log head: frontier"), size)
        return size, _blob(row.root_hash, "log head: root hash"), frontier

    # --- appends ------------------------------------------------------------------------

    def append(self, record: AuditRecord, *, companion: Companion | None = None) -> AppendReceipt:
        """Durably append one record; concurrent callers share one transaction (group commit).

        Returns only after the commit. Raises AuditWriteError (chained) if the record could not
        be written; then none of the records of that transaction are in the log.

        ``companion`` writes the caller's own rows in the same transaction, so they and the
        record commit together or not at all. A companion that fails fails only its own
        append: the batch is retried one record at a time (see ``_flush``).
        """
        (receipt,) = self.append_group((record,), companion=companion)
        return receipt

    def append_group(
        self, records: Sequence[AuditRecord], *, companion: Companion | None = None
    ) -> list[AppendReceipt]:
        """:meth:`append` for several records of one processing (a dossier span and its child
        spans, say): consecutive leaves, committed in one transaction with ``companion``, all or
        nothing."""
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
        """Durably append records in order, in transactions of at most ``max_batch``.

        All-or-nothing per transaction; raises AuditWriteError on the first failure.
        """
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
        with self._locked() as conn:
            for p in batch:
                if p.companion is not None:
                    p.companion(conn)
            size, _root, frontier = self._read_head(conn, lock=True)
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

    # --- checkpoints --------------------------------------------------------------------

    def _after_append(self, new_size: int | None) -> None:
        if self._signing_key is None or new_size is None:
            return
        if self._last_cp_size is None:
            latest = self._latest_row()
            self._last_cp_size = 0 if latest is None else latest[0]
        due = new_size - self._last_cp_size >= self.checkpoint_every_records or (
            new_size > self._last_cp_size
            and time.monotonic() - self._last_cp_time >= self.checkpoint_every_s
        )
        if due and time.monotonic() >= self._cp_retry_at:
            try:
                self.checkpoint(force=True)
            except Exception:  # the records are committed; a late checkpoint is only late
                # A checkpoint that cannot be signed (e.g. the last one carries another key, or
                # the stored tree was tampered with) would fail on every append: retry once per
                # interval, not per append, so the failure costs neither throughput nor a flood
                # of tracebacks. The timer and `loket audit checkpoint` still retry it.
                self._cp_retry_at = time.monotonic() + self.checkpoint_every_s
                log.exception("audit checkpoint failed; next attempt in %.0f s", self.checkpoint_every_s)

    def maybe_checkpoint(self) -> SignedCheckpoint | None:
        """Sign a checkpoint if the tree grew and one is due (call this from a timer)."""
        if self._signing_key is None:
            return None
        return self.checkpoint(force=False)

    def checkpoint(self, force: bool = False) -> SignedCheckpoint:
        """Return the latest checkpoint, signing a new one for the current tree if it grew and
        ``force`` is set or one is due. Never signs a tree inconsistent with the last one."""
        return self._sign(force=force, new_key=None)

    def rotate_key(self, new_key: Ed25519PrivateKey) -> SignedCheckpoint:
        """Sign a transition checkpoint for the current tree with the current key *and*
        ``new_key``; its extension line names both vkeys (audit.checkpoint.transition_checkpoint).

        The same checks as :meth:`checkpoint` run first (the last checkpoint verifies with a
        trusted key, the tree is consistent with it). If the last checkpoint already covers the
        current tree, its stored note is replaced by the transition note: same origin, size and
        root, so the replaced note stays a valid, consistent checkpoint for whoever holds it.
        This log object keeps signing with its current key; open the log with ``new_key`` (and
        the old vkey among the retired keys) to sign with the new one.
        """
        if self.verifier is not None and self.verifier.current is not None:
            if NoteVerifier.for_private_key(self.key_name, new_key).key_id == self.verifier.current.key_id:
                raise ValueError("the new key is the current key")
        return self._sign(force=True, new_key=new_key)

    def _sign(self, *, force: bool, new_key: Ed25519PrivateKey | None) -> SignedCheckpoint:
        if self._signing_key is None:
            raise RuntimeError("this AuditLog has no signing key; it cannot sign checkpoints")
        assert self.verifier is not None and self.verifier.current is not None
        if self._subjects is not None:  # the bulk of the catching up, outside the write lock
            with self.engine.connect() as conn:
                self._catch_up_subjects(conn, self._tree_size(conn))
        try:
            with self._locked() as conn:
                size, root, _ = self._read_head(conn, lock=True)
                last_row = conn.execute(
                    select(
                        audit_checkpoints.c.tree_size,
                        audit_checkpoints.c.note,
                        audit_checkpoints.c.created_at,
                    )
                    .order_by(audit_checkpoints.c.tree_size.desc())
                    .limit(1)
                ).first()
                last: Checkpoint | None = None
                if last_row is not None:
                    # Any trusted key, current or retired: a log keeps growing across rotations,
                    # and the consistency check below still ties the new tree to this one.
                    last = open_checkpoint(last_row.note, self.verifier, origin=self.origin)
                    if last.tree_size > size:
                        raise IntegrityError(
                            f"log head at size {size} is behind the signed checkpoint at size {last.tree_size}"
                        )
                    if last.tree_size == size:
                        if last.root_hash != root:
                            raise IntegrityError(
                                f"log head root differs from the signed checkpoint at size {size}"
                            )
                        if new_key is None:
                            self._note_checkpoint(size)
                            return SignedCheckpoint(last, last_row.note)
                    elif new_key is None and not force and not self._due(
                        size, last.tree_size, last_row.created_at
                    ):
                        return SignedCheckpoint(last, last_row.note)
                # Recompute the root from stored subtrees; it must match the head.
                plan = (merkle.root_plan(size),) if size else ()
                if (
                    plan
                    and merkle.assemble(plan, self._fetch_nodes(conn, merkle.plan_nodes(plan)))[0]
                    != root
                ):
                    raise IntegrityError(
                        f"stored subtrees do not reproduce the head root at size {size}"
                    )
                if last is not None and last.tree_size == 0 and last.root_hash != merkle.EMPTY_ROOT:
                    raise IntegrityError("checkpoint at tree size 0: root is not the empty-tree hash")
                if last is not None and last_row is not None and new_key is None:
                    t = open_transition(last_row.note, origin=self.origin)
                    if t is not None and t.old.key_id == self.verifier.current.key_id:
                        # fail-closed: a retired key is trusted only up to its transition; a
                        # process still holding it must not sign beyond (restart it).
                        raise IntegrityError(
                            f"this key (key id {t.old.key_id.hex()}) was retired at tree size "
                            f"{t.tree_size}; restart with the new signing key"
                        )
                if last is not None and 0 < last.tree_size < size:
                    proof = self._consistency_hashes(conn, last.tree_size, size)
                    try:
                        merkle.verify_consistency(last.tree_size, size, last.root_hash, root, proof)
                    except ProofError as e:
                        raise IntegrityError(
                            f"refusing to sign: tree at size {size} is not consistent with "
                            f"the signed checkpoint at size {last.tree_size}"
                        ) from e
                signers = [(self._signing_key, self.key_name)]
                subject_map = self._subject_map_locked(conn, size)
                extensions = () if subject_map is None else (subjects.extension_line(subject_map.root),)
                if new_key is None:
                    body = Checkpoint(self.origin, size, root, extensions)
                else:
                    body = transition_checkpoint(
                        self.origin,
                        size,
                        root,
                        self.verifier.current,
                        NoteVerifier.for_private_key(self.key_name, new_key),
                        extensions,
                    )
                    signers.append((new_key, self.key_name))
                signed = sign_checkpoint_with(body, signers)
                if last is not None and last.tree_size == size:  # a transition at a signed size
                    conn.execute(
                        update(audit_checkpoints)
                        .where(audit_checkpoints.c.tree_size == size)
                        .values(note=signed.note, created_at=utc_timestamp())
                    )
                else:
                    conn.execute(
                        insert(audit_checkpoints).values(
                            tree_size=size, root_hash=root, note=signed.note, created_at=utc_timestamp()
                        )
                    )
        except IntegrityError:
            raise
        except Exception as e:
            raise AuditWriteError("audit checkpoint could not be written") from e
        self._note_checkpoint(size)
        for listener in list(self.checkpoint_listeners):
            try:
                listener(signed)
            except Exception:  # a listener (e.g. witness submission) never fails the signing
                log.exception("audit checkpoint listener failed")
        return signed

    # --- the per-subject map (audit/subjects.py) --------------------------------------------

    def _catch_up_subjects(self, conn: Connection, up_to: int) -> None:
        """Add the committed leaves below ``up_to`` that the subject index has not seen."""
        assert self._subjects is not None
        with self._subjects_lock:
            _add_subjects(conn, self._subjects, up_to)

    def _subject_map_locked(self, conn: Connection, size: int) -> SubjectMap | None:
        """The subject map over the first ``size`` leaves, inside the write lock (so no leaf
        below ``size`` can be missing); remembered for proofs at that size."""
        if self._subjects is None:
            return None
        with self._subjects_lock:
            if self._subjects.size > size:  # another process's view was ahead: rebuild
                self._subjects = SubjectIndex(self._subject_map_key)  # type: ignore[arg-type]
            _add_subjects(conn, self._subjects, size)
            m = self._subjects.commit()
            self._subject_maps[size] = m
            while len(self._subject_maps) > SUBJECT_MAPS_KEPT:
                self._subject_maps.popitem(last=False)
        return m

    @property
    def has_subject_map(self) -> bool:
        return self._subjects is not None

    def subject_key(self, pseudonym: str) -> bytes:
        if self._subject_map_key is None:
            raise RuntimeError("this AuditLog keeps no subject map")
        return subjects.subject_key(self._subject_map_key, pseudonym)

    def subject_map_at(self, tree_size: int) -> SubjectMap:
        """The subject map over the first ``tree_size`` leaves: remembered from signing, or
        rebuilt from the leaves (O(n): older checkpoints only)."""
        if self._subject_map_key is None:
            raise RuntimeError("this AuditLog keeps no subject map")
        with self._subjects_lock:
            m = self._subject_maps.get(tree_size)
        if m is not None:
            return m
        index = SubjectIndex(self._subject_map_key)
        with self.engine.connect() as conn:
            _add_subjects(conn, index, tree_size)
        if index.size != tree_size:
            raise NotFound(f"the log holds fewer than {tree_size} records")
        return index.commit()

    def subject_records(self, pseudonym: str, tree_size: int) -> list[StoredRecord]:
        """The records about ``pseudonym`` among the first ``tree_size`` leaves (by the
        ``data_subject_id`` index column, which verify() checks against the leaves)."""
        return list(self.iter_records(AuditFilter(data_subject_id=pseudonym), stop=tree_size))

    def key_transitions(self) -> list[KeyTransition]:
        """The log's transition checkpoints (key rotations), oldest first, signatures checked."""
        q = (
            select(audit_checkpoints.c.note)
            .where(audit_checkpoints.c.note.contains("\n" + KEY_ROTATION_EXTENSION + " ", autoescape=True))
            .order_by(audit_checkpoints.c.tree_size)
        )
        with self.engine.connect() as conn:
            notes = [str(n) for n in conn.execute(q).scalars()]
        out = []
        for note in notes:
            t = open_transition(note, origin=self.origin)
            if t is not None:
                out.append(t)
        return out

    def _due(self, size: int, last_size: int, last_created_at: str) -> bool:
        if size - last_size >= self.checkpoint_every_records:
            return True
        age_cutoff = utc_timestamp(_now_minus(self.checkpoint_every_s))
        return bool(last_created_at <= age_cutoff)

    def _note_checkpoint(self, size: int) -> None:
        self._last_cp_size = size
        self._last_cp_time = time.monotonic()

    def _latest_row(self) -> tuple[int, str] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(audit_checkpoints.c.tree_size, audit_checkpoints.c.note)
                .order_by(audit_checkpoints.c.tree_size.desc())
                .limit(1)
            ).first()
        return None if row is None else (int(row.tree_size), str(row.note))

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        """The most recent signed checkpoint, verified with this log's key if it has one."""
        row = self._latest_row()
        if row is None:
            return None
        _, note = row
        if self.verifier is not None:
            return SignedCheckpoint(open_checkpoint(note, self.verifier, origin=self.origin), note)
        return SignedCheckpoint(parse_checkpoint_body(note.partition("\n\n")[0] + "\n"), note)

    def latest_checkpoint_signed_at(self) -> tuple[int, str] | None:
        """(tree size, signing time) of the newest checkpoint, read without verifying the note:
        for monitoring how fresh the checkpoints are, never as a proof."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(audit_checkpoints.c.tree_size, audit_checkpoints.c.created_at)
                .order_by(audit_checkpoints.c.tree_size.desc())
                .limit(1)
            ).first()
        return None if row is None else (int(row.tree_size), str(row.created_at))

    def checkpoints(self, up_to: int | None = None) -> list[str]:
        """All signed checkpoint notes (oldest first), optionally up to a tree size."""
        q = select(audit_checkpoints.c.note).order_by(audit_checkpoints.c.tree_size)
        if up_to is not None:
            q = q.where(audit_checkpoints.c.tree_size <= up_to)
        with self.engine.connect() as conn:
            return [str(n) for n in conn.execute(q).scalars()]

    def checkpoint_at(self, tree_size: int) -> str | None:
        with self.engine.connect() as conn:
            note = conn.execute(
                select(audit_checkpoints.c.note).where(audit_checkpoints.c.tree_size == tree_size)
            ).scalar()
        return None if note is None else str(note)

    # --- proofs -------------------------------------------------------------------------

    def head(self) -> LogHead:
        with self.engine.connect() as conn:
            size, root, _ = self._read_head(conn, lock=False)
        return LogHead(size, root)

    def _tree_size(self, conn: Connection) -> int:
        size = conn.execute(_SELECT_TREE_SIZE).scalar()
        return 0 if size is None else int(size)

    def _fetch_nodes(self, conn: Connection, ids: set[NodeId]) -> dict[NodeId, bytes]:
        """Perfect subtree hashes from the tables in one query (level 0 = leaf hashes)."""
        out: dict[NodeId, bytes] = {}
        if not ids:
            return out
        params = {
            "subtrees": sorted(subtree_key(lvl, i) for lvl, i in ids if lvl),
            "leaves": sorted(i for lvl, i in ids if lvl == 0),
        }
        for key, h in conn.execute(_SELECT_NODES, params):
            key = int(key)
            lvl, i = key & 63, key >> 6
            if lvl == 0:
                out[(0, i)] = _blob(h, f"record {i}: leaf hash")
            else:
                out[(lvl, i)] = _blob(h, f"subtree {lvl}/{i}: hash")
        missing = ids - out.keys()
        if missing:
            raise IntegrityError(f"audit log is missing subtree hashes {sorted(missing)[:5]}")
        return out

    def _proof_nodes(self, conn: Connection, ids: set[NodeId]) -> dict[NodeId, bytes]:
        """Nodes for serving a proof: cached committed hashes, the rest read (and cached).

        ``conn`` is a read transaction outside any write, so what it reads is committed.
        """
        out, missing = self.subtree_cache.get_many(ids)
        if missing:
            fetched = self._fetch_nodes(conn, missing)
            self.subtree_cache.put_many(fetched)
            out.update(fetched)
        return out

    def _consistency_hashes(
        self, conn: Connection, old_size: int, new_size: int
    ) -> tuple[bytes, ...]:
        plan = merkle.consistency_plan(old_size, new_size)
        return merkle.assemble(plan, self._fetch_nodes(conn, merkle.plan_nodes(plan)))

    def inclusion_proof(self, index: int, tree_size: int) -> InclusionProof:
        """RFC 9162 §2.1.3 proof that leaf ``index`` is in the tree of ``tree_size``."""
        with self.engine.connect() as conn:
            size = self._tree_size(conn)
            if not 0 <= index < tree_size <= size:
                raise NotFound(f"no leaf {index} in a tree of size {tree_size} (log size {size})")
            plan = merkle.inclusion_plan(index, tree_size)
            hashes = merkle.assemble(plan, self._proof_nodes(conn, merkle.plan_nodes(plan)))
        return InclusionProof(index, tree_size, hashes)

    def consistency_proof(self, old_size: int, new_size: int) -> ConsistencyProof:
        """RFC 9162 §2.1.4 proof that the tree of ``old_size`` is a prefix of ``new_size``."""
        with self.engine.connect() as conn:
            size = self._tree_size(conn)
            if not 0 <= old_size <= new_size <= size:
                raise NotFound(f"no consistency proof {old_size} -> {new_size} (log size {size})")
            plan = merkle.consistency_plan(old_size, new_size)
            hashes = merkle.assemble(plan, self._proof_nodes(conn, merkle.plan_nodes(plan)))
        return ConsistencyProof(old_size, new_size, hashes)

    # --- reading ------------------------------------------------------------------------

    def get_record(self, index: int) -> StoredRecord:
        if not 0 <= index <= MAX_INDEX:  # a caller's number beyond BIGINT is simply not there
            raise NotFound(f"no audit record at index {index}")
        with self.engine.connect() as conn:
            row = conn.execute(
                select(audit_records.c.idx, audit_records.c.leaf, audit_records.c.leaf_hash).where(
                    audit_records.c.idx == index
                )
            ).first()
        if row is None:
            raise NotFound(f"no audit record at index {index}")
        return _stored(row.idx, row.leaf, row.leaf_hash)

    def find_index(self, record_id: str) -> int:
        with self.engine.connect() as conn:
            idx = conn.execute(
                select(audit_records.c.idx).where(audit_records.c.record_id == record_id)
            ).scalar()
        if idx is None:
            raise NotFound("no audit record with that id")
        return int(idx)

    def find(
        self,
        flt: AuditFilter | None = None,
        *,
        after: int = -1,
        before: int | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> list[StoredRecord]:
        """One page of matching records. Keyset pagination on the leaf index:
        pass the last index seen as ``after`` (oldest first) or ``before`` (newest first)."""
        if not 1 <= limit <= 10_000:
            raise ValueError("limit must be between 1 and 10000")
        c = audit_records.c
        q = select(c.idx, c.leaf, c.leaf_hash).where(*(flt or AuditFilter()).clauses())
        if after >= 0:
            q = q.where(c.idx > min(after, MAX_INDEX))
        if before is not None:
            q = q.where(c.idx < min(before, MAX_INDEX))
        q = q.order_by(c.idx.desc() if newest_first else c.idx).limit(limit)
        with self.engine.connect() as conn:
            return [
                _stored(r.idx, r.leaf, r.leaf_hash) for r in conn.execute(q)
            ]

    def iter_records(
        self,
        flt: AuditFilter | None = None,
        *,
        start: int = 0,
        stop: int | None = None,
        page_size: int = 2000,
    ) -> Iterator[StoredRecord]:
        """Stream matching records with ``start <= index < stop`` in index order, page by page."""
        after = start - 1
        while True:
            page = self.find(flt, after=after, before=stop, limit=page_size)
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].index

    # --- verification of the database itself ------------------------------------------------

    def verify(
        self,
        verifier: Verifier | None = None,
        *,
        progress: Callable[[int], None] | None = None,
        trusted_checkpoints: Sequence[str] = (),
        deep: bool = False,
    ) -> VerifyReport:
        """Recompute everything the log serves and the pages read from the leaves, and raise
        IntegrityError naming the first record, column, subtree or checkpoint that differs.

        - every leaf hash, and the root at every signed checkpoint and at the head;
        - every index column of ``audit_records`` (kind, actor, purpose, case, data subject,
          times, …) against the leaf it sits beside: the citizen's and the FG's pages filter on
          these, so an edited column would hide a record from them;
        - every cached ``audit_subtrees`` hash (proofs are served from them), and that there
          are exactly as many as a tree of this size has.

        Checkpoints verify with ``verifier`` (default: this log's current and retired keys) and
        the keys its transition checkpoints link to them (audit.checkpoint.KeyChain).
        ``trusted_checkpoints`` are notes obtained elsewhere (a witness, a citizen, yesterday's
        export): they must verify with the same keys and match the records, so a tail deleted
        together with the checkpoints that covered it is caught. ``deep`` also decodes and
        validates every record. ``progress`` is called with the number of records checked.
        This is the one verifier: ``loket audit verify`` and the FG's "verify now" both call it.
        """
        v = verifier or self.verifier
        if v is None:
            raise RuntimeError("verify() needs a verifier key")
        started = time.perf_counter()
        notes = self.checkpoints()
        chain = KeyChain.for_notes(notes, v, origin=self.origin)
        checkpoints = [chain.open(note, origin=self.origin) for note in notes]
        head = self.head()
        for note in trusted_checkpoints:
            try:
                cp = chain.open(note, origin=self.origin)
            except IntegrityError as e:
                raise IntegrityError(f"trusted checkpoint: {e.detail}") from e
            if cp.tree_size > head.tree_size:
                raise IntegrityError(
                    f"checkpoint at tree size {cp.tree_size} (trusted, obtained elsewhere) covers "
                    f"records beyond the end of the log ({head.tree_size} records): the log was "
                    "truncated, and the checkpoints that covered its tail were removed"
                )
            checkpoints.append(cp)
        completed: list[tuple[int, bytes]] = []
        with self.engine.connect() as conn:
            stored_subtrees = int(
                conn.execute(select(func.count()).select_from(audit_subtrees)).scalar_one()
            )
            expected_subtrees = head.tree_size - head.tree_size.bit_count()
            if stored_subtrees != expected_subtrees:
                raise IntegrityError(
                    f"audit_subtrees holds {stored_subtrees} subtree hashes, a tree of "
                    f"{head.tree_size} records has {expected_subtrees} (rows were added or removed)"
                )
            roots = subjects.signed_roots(checkpoints)
            index = (
                SubjectIndex(self._subject_map_key)
                if self._subject_map_key is not None and roots
                else None
            )
            rows = _verified_rows(conn, head.tree_size, completed, deep=deep,
                                  subject_index=index, subject_roots=roots)
            size, root = verify_leaf_stream(
                rows,
                checkpoints,
                expected_size=head.tree_size,
                progress=progress,
                subtrees=completed,
            )
            _check_subtrees(conn, completed)
            if index is not None:
                subjects.check_root(index, roots)
        if root != head.root_hash:
            raise IntegrityError(
                f"log head at tree size {size}: stored root does not match the records"
            )
        return VerifyReport(
            size, root, len({c.tree_size for c in checkpoints}), self.origin,
            time.perf_counter() - started,
        )

    def count(self, flt: AuditFilter | None = None, *, stop: int | None = None) -> int:
        q = select(func.count()).select_from(audit_records).where(*(flt or AuditFilter()).clauses())
        if stop is not None:
            q = q.where(audit_records.c.idx < stop)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())


def _blob(value: object, where: str) -> bytes:
    """A stored hash or leaf as bytes. The columns are BLOBs; a value that comes back as text
    (the column or the row was rewritten, e.g. ``CAST(leaf AS TEXT)``) is tampering with the
    store, reported as such instead of crashing in ``bytes(str)``."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise IntegrityError(f"{where} is stored as {type(value).__name__}, not bytes (the store was altered)")


def _stored(idx: object, leaf: object, leaf_hash: object) -> StoredRecord:
    index = int(idx)  # type: ignore[call-overload]
    return StoredRecord(index, _blob(leaf, f"record {index}: leaf"), _blob(leaf_hash, f"record {index}: leaf hash"))


def _now_minus(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


#: Rows read per query while verifying; also how often cached subtrees are compared.
VERIFY_PAGE_ROWS = 4096

#: The index columns of ``audit_records``, each a top-level field of the leaf of the same name.
INDEX_COLUMNS = (
    "actor_role",
    "actor_sub",
    "break_glass",
    "case_id",
    "data_subject_id",
    "kind",
    "purpose",
    "record_id",
    "start_time",
    "trace_id",
)
_VERIFY_SQL = (
    "SELECT idx, leaf, leaf_hash, " + ", ".join(INDEX_COLUMNS) + " FROM audit_records"  # noqa: S608 -- constant names, values bound
    " WHERE idx > {p} ORDER BY idx LIMIT {p}"
)


def _verified_rows(
    conn: Connection,
    tree_size: int,
    completed: list[tuple[int, bytes]],
    *,
    deep: bool,
    subject_index: SubjectIndex | None = None,
    subject_roots: Mapping[int, bytes] | None = None,
) -> Iterator[tuple[int, bytes | memoryview, bytes | None]]:
    """The stored records as (index, leaf body, leaf hash), each row's index columns checked
    against its leaf on the way; between pages, the subtrees completed so far are checked.

    Rows come through the DBAPI cursor, not SQLAlchemy's result rows: on a 10⁶-record log the
    per-row processing cost more than hashing the leaves."""
    sql = _VERIFY_SQL.format(p="?" if conn.dialect.paramstyle == "qmark" else "%s")
    prefix_len = len(LEAF_PREFIX)
    match = index_columns_match
    roots = subject_roots or {}
    after = -1
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        while True:
            cursor.execute(sql, (after, VERIFY_PAGE_ROWS))
            page = cursor.fetchall()
            for row in page:
                index = int(row[0])
                if index >= tree_size:
                    raise IntegrityError(
                        f"record {index}: stored beyond the log head at size {tree_size}"
                    )
                leaf, leaf_hash = row[1], row[2]
                if type(leaf) is not bytes or type(leaf_hash) is not bytes:
                    leaf = _blob(leaf, f"record {index}: leaf")
                    leaf_hash = _blob(leaf_hash, f"record {index}: leaf hash")
                if not leaf.startswith(LEAF_PREFIX):
                    raise IntegrityError(f"record {index}: stored leaf is not a {LEAF_FORMAT} leaf")
                if deep:
                    try:
                        AuditRecord.from_leaf(leaf)
                    except ValueError as e:
                        raise IntegrityError(f"record {index}: not a valid audit record: {e}") from e
                if not match(leaf, row[3:], prefix_len):
                    body = leaf[prefix_len:]
                    raise IntegrityError(f"record {index}: {_column_difference(body, row[3:])}")
                if subject_index is not None:
                    if index in roots:
                        subjects.check_root(subject_index, roots)
                    # the column was just checked against the leaf
                    subject_index.add(index, row[7], leaf_hash)
                yield index, memoryview(leaf)[prefix_len:], leaf_hash
            _check_subtrees(conn, completed)
            if len(page) < VERIFY_PAGE_ROWS:
                return
            after = int(page[-1][0])
    finally:
        cursor.close()


_SAFE_JSON_TEXT = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII that JSON does not escape
_encoded: dict[object, bytes | None] = {}
_ENCODED_MAX = 65_536


def _json_value(value: object) -> bytes | None:
    """The canonical JSON of an index column value (None if no leaf could hold it)."""
    if value is None:
        return b"null"
    if value is True or (type(value) is int and value == 1):  # SQLite stores booleans as 0/1
        return b"true"
    if value is False or (type(value) is int and value == 0):
        return b"false"
    if not isinstance(value, str):
        return None
    if _SAFE_JSON_TEXT.fullmatch(value):
        return b'"' + value.encode("ascii") + b'"'
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _cached_json_value(value: object) -> bytes | None:
    """:func:`_json_value` for columns whose values repeat (actor, role, case, purpose)."""
    try:
        return _encoded[value]
    except KeyError:
        got = _encoded[value] = _json_value(value)
        if len(_encoded) > _ENCODED_MAX:
            _encoded.clear()
        return got
    except TypeError:  # unhashable: no leaf holds it
        return None


def _plain(value: object) -> bytes | None:
    """The JSON of a column whose valid values need no escaping (ids, hex, times, the kind):
    quoted as is. Exact for a valid leaf, whose value then has no escapes either; an invalid
    leaf is what ``--deep`` is for."""
    if value is None:
        return b"null"
    if type(value) is str:
        return b'"' + value.encode("utf-8", "surrogatepass") + b'"'
    return None


_prefixes: dict[tuple[object, ...], bytes | None] = {}


def _prefix(first: tuple[object, ...]) -> bytes | None:
    """The canonical body's first bytes for (actor_role, actor_sub, break_glass, case_id,
    data_subject_id); cached, since a case's records share them."""
    try:
        return _prefixes[first]
    except KeyError:
        pass
    except TypeError:  # unhashable: no leaf holds it
        return None
    role_v, sub_v, bg_v, case_v, subject_v = first
    role, sub, case, subject = (
        _json_value(role_v), _json_value(sub_v), _json_value(case_v), _plain(subject_v)
    )
    bg = _json_value(bg_v) if type(bg_v) in (bool, int) else None
    got = None
    if role and sub and bg in (b"true", b"false") and case and subject:
        got = (
            b'{"actor_role":' + role + b',"actor_sub":' + sub + b',"break_glass":' + bg
            + b',"case_id":' + case + b',"data_subject_id":' + subject
            + b',"data_subject_id_type":'
        )
    if len(_prefixes) >= _ENCODED_MAX:
        _prefixes.clear()
    _prefixes[first] = got
    return got


def index_columns_match(leaf: bytes, columns: Sequence[object], start: int = 0) -> bool:
    """True if the index columns (in :data:`INDEX_COLUMNS` order) are exactly the fields of
    the canonical leaf body ``leaf[start:]``; no JSON parse (one cost 5-15 µs per record).

    A canonical body (RFC 8785: sorted keys, no whitespace, ``"`` and ``\\`` escaped inside
    strings) lays the top level out in a fixed key order, so each column's encoded value must
    sit right after its key: the first five columns are one prefix of the body, and each later
    key is found as the first ``,"key":`` after the previous one — a byte sequence that can
    occur only as an object key, and the only objects between those keys hold other keys.
    ``justification_sha256`` is searched from the end since ``extra`` (any keys) precedes it.
    A non-canonical body fails the match; :func:`_column_difference` then says why.
    """
    prefix = _prefix(tuple(columns[:5]))
    if prefix is None or not leaf.startswith(prefix, start):
        return False
    kind_v, purpose_v, rid_v, start_v, trace_v = columns[5:]
    kind, purpose = _plain(kind_v), _cached_json_value(purpose_v)
    if kind is None or purpose is None:
        return False
    j = leaf.rfind(b',"justification_sha256":', start)
    if j < 0:
        return False
    k = j + 24 + (4 if leaf.startswith(b"null", j + 24) else 66)
    if not leaf.startswith(b',"kind":' + kind + b',"name":' + kind + b',"outcome":', k):
        return False
    k = leaf.find(b',"purpose":', k)
    if k < 0 or not leaf.startswith(b',"purpose":' + purpose + b',"receiver":', k):
        return False
    for key, value, next_key in (
        (b',"record_id":', rid_v, b'","refused":'),
        (b',"start_time":', start_v, b'","status_code":'),
        (b',"trace_id":', trace_v, b'","unavailable":'),
    ):
        if type(value) is not str:
            return False
        k = leaf.find(key, k)
        if k < 0 or not leaf.startswith(key + b'"' + value.encode() + next_key, k):
            return False
        k += 12
    return True


def _column_difference(body: bytes, columns: Sequence[object]) -> str:
    """Why :func:`index_columns_match` failed, naming the column (slow path, once)."""
    try:
        data = json.loads(body)
    except ValueError:
        return "the leaf is not JSON"
    if not isinstance(data, dict):
        return "the leaf is not a JSON object"
    for name, stored in zip(INDEX_COLUMNS, columns, strict=True):
        want = data.get(name)
        if _json_value(stored) != _json_value(want) or name not in data:
            return (
                f"index column {name} differs from the leaf (the row was edited; searches and "
                "the citizen's page read this column)"
            )
    return "the leaf is not the canonical encoding of an audit record"


_SELECT_SUBTREES_BY_KEY = select(audit_subtrees.c.node, audit_subtrees.c.hash).where(
    audit_subtrees.c.node.in_(bindparam("keys", expanding=True))
)


def _check_subtrees(conn: Connection, completed: list[tuple[int, bytes]]) -> None:
    """Compare the subtree hashes recomputed from the leaves with the cached rows; clear."""
    if not completed:
        return
    stored = {
        int(k): h for k, h in conn.execute(_SELECT_SUBTREES_BY_KEY, {"keys": [k for k, _ in completed]})
    }
    for key, h in completed:
        got = stored.get(key)
        if got is None or _blob(got, "subtree hash") != h:
            level, index = key & 63, key >> 6
            first, last = index << level, ((index + 1) << level) - 1
            raise IntegrityError(
                f"subtree {level}/{index} (records {first}..{last}): the cached hash in "
                f"audit_subtrees is {'missing' if got is None else 'not the hash of those records'} "
                "(proofs served from it would fail)"
            )
    completed.clear()


#: Subject maps kept in memory for proofs, one per recently signed checkpoint size.
SUBJECT_MAPS_KEPT = 64
_SUBJECT_ROWS_SQL = (
    "SELECT idx, leaf, leaf_hash FROM audit_records WHERE idx >= {p} AND idx < {p} ORDER BY idx LIMIT {p}"
)


def _add_subjects(conn: Connection, index: SubjectIndex, up_to: int) -> None:
    """Feed the committed leaves [index.size, up_to) to ``index`` (subject read from the leaf)."""
    sql = _SUBJECT_ROWS_SQL.format(p="?" if conn.dialect.paramstyle == "qmark" else "%s")
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    prefix_len = len(LEAF_PREFIX)
    try:
        while index.size < up_to:
            cursor.execute(sql, (index.size, up_to, VERIFY_PAGE_ROWS))
            page = cursor.fetchall()
            if not page:
                raise IntegrityError(f"record {index.size}: missing below the log head")
            for idx, leaf, leaf_hash in page:
                i = int(idx)
                if i != index.size:
                    raise IntegrityError(f"record {index.size}: missing (found {i} in its place)")
                leaf = _blob(leaf, f"record {i}: leaf")
                index.add(i, subjects.subject_of_body(leaf[prefix_len:]), _blob(leaf_hash, f"record {i}: leaf hash"))
    finally:
        cursor.close()
