"""Reading the log: records, the privacy officer's search, the head, and proofs.

Proofs are served from the stored subtree hashes (audit_subtrees) through a bounded cache of
committed nodes (:class:`SubtreeCache`); the store's own verifier (audit.dbverify) and the
signer (audit.signing) always read the tables.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.sql.elements import ColumnElement

from audit import merkle
from audit.errors import NotFound
from audit.merkle import ConsistencyProof, InclusionProof, NodeId
from audit.models import audit_records
from audit.record import AuditEventKind, AuditRecord
from audit.store import MAX_INDEX, blob, map_sqlite_file, placeholder, read_head, read_nodes


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


_SIZE_SQL = "SELECT tree_size FROM audit_log_head WHERE id = 1"  # audit.store.HEAD_ID


def _stored(idx: object, leaf: object, leaf_hash: object) -> StoredRecord:
    index = int(idx)  # type: ignore[call-overload]
    return StoredRecord(index, blob(leaf, f"record {index}: leaf"), blob(leaf_hash, f"record {index}: leaf hash"))


class Reader:
    """Reads of the committed log; one per AuditLog (it holds the proof cache)."""

    def __init__(self, engine: Engine, *, subtree_cache_entries: int) -> None:
        self.engine = engine
        self._placeholder = placeholder(engine)
        self._known_size = 0  # the largest committed tree size read so far
        # ~150 bytes per entry: the default holds the top levels of any tree in ~5 MB.
        self.subtree_cache = SubtreeCache(subtree_cache_entries)

    def head(self) -> LogHead:
        with self.engine.connect() as conn:
            size, root, _ = read_head(conn, lock=False)
        return LogHead(size, root)

    def _proof(self, size_ok: Callable[[int], bool], plan: merkle.Plan) -> tuple[int, tuple[bytes, ...] | None]:
        """(log size, proof hashes) for ``plan``, or (size, None) if ``size_ok(size)`` is false.

        Served through the DBAPI connection directly (SQLAlchemy's statement handling cost
        more than the reads): the log size from the head (unless a size read before already
        covers the proof: the log only appends), then the plan's nodes that are not in the
        cache of committed subtrees, in one query. Each statement reads committed rows only
        (no write transaction is open here)."""
        raw = self.engine.raw_connection()
        try:
            map_sqlite_file(raw.dbapi_connection, raw.info)
            cursor = raw.cursor()
            try:
                size = self._known_size
                if not size_ok(size):  # the log only grows: a size seen once stays valid
                    cursor.execute(_SIZE_SQL)
                    row = cursor.fetchone()
                    size = 0 if row is None else int(row[0])
                    self._known_size = max(self._known_size, size)
                    if not size_ok(size):
                        return size, None
                found, missing = self.subtree_cache.get_many(merkle.plan_nodes(plan))
                if missing:
                    fetched = read_nodes(cursor, self._placeholder, missing)
                    self.subtree_cache.put_many(fetched)
                    found.update(fetched)
            finally:
                cursor.close()
        finally:
            raw.close()
        return size, merkle.assemble(plan, found)

    # --- proofs -------------------------------------------------------------------------

    def inclusion_proof(self, index: int, tree_size: int) -> InclusionProof:
        """RFC 9162 §2.1.3 proof that leaf ``index`` is in the tree of ``tree_size``."""
        if not 0 <= index < tree_size:
            raise NotFound(f"no leaf {index} in a tree of size {tree_size} (log size {self.head().tree_size})")
        size, hashes = self._proof(lambda size: tree_size <= size, merkle.inclusion_plan(index, tree_size))
        if hashes is None:
            raise NotFound(f"no leaf {index} in a tree of size {tree_size} (log size {size})")
        return InclusionProof(index, tree_size, hashes)

    def consistency_proof(self, old_size: int, new_size: int) -> ConsistencyProof:
        """RFC 9162 §2.1.4 proof that the tree of ``old_size`` is a prefix of ``new_size``."""
        if not 0 <= old_size <= new_size:
            raise NotFound(f"no consistency proof {old_size} -> {new_size} (log size {self.head().tree_size})")
        size, hashes = self._proof(lambda size: new_size <= size, merkle.consistency_plan(old_size, new_size))
        if hashes is None:
            raise NotFound(f"no consistency proof {old_size} -> {new_size} (log size {size})")
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

    def count(self, flt: AuditFilter | None = None, *, stop: int | None = None) -> int:
        q = select(func.count()).select_from(audit_records).where(*(flt or AuditFilter()).clauses())
        if stop is not None:
            q = q.where(audit_records.c.idx < stop)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def subject_records(self, pseudonym: str, tree_size: int) -> list[StoredRecord]:
        """The records about ``pseudonym`` among the first ``tree_size`` leaves (by the
        ``data_subject_id`` index column, which verify() checks against the leaves)."""
        return list(self.iter_records(AuditFilter(data_subject_id=pseudonym), stop=tree_size))
