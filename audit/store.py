"""The audit log's tables, low level: the write lock, the head row, stored hashes as bytes.

Shared by the three parts of the log (audit.append, audit.signing, audit.reading) and by the
store's verifier (audit.dbverify); audit.log.AuditLog is the facade callers use.

Appends are serialised *by the database*, so several gateway processes can share one log:
SQLite takes the write lock up front (``BEGIN IMMEDIATE``; WAL, ``synchronous=FULL``),
PostgreSQL takes a transaction-scoped advisory lock and then ``SELECT … FOR UPDATE`` on the
single head row (:func:`locked`, :func:`read_head`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text

from audit import merkle
from audit.errors import IntegrityError
from audit.merkle import NodeId
from audit.models import audit_log_head, subtree_key
from audit.record import utc_timestamp

HEAD_ID = 1
#: The largest leaf index a BIGINT column holds; bounds from callers are clamped to it.
MAX_INDEX = 2**63 - 1
# pg_advisory_xact_lock key for "the audit log head" (a fixed signed 64-bit number).
_PG_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"loket:audit_log_head").digest()[:8], "big", signed=True
)

# Built once: SQLAlchemy then skips building them and reuses their compiled form (appends and
# proofs are hot paths; building a statement costs as much as running it on SQLite).
SELECT_HEAD = select(
    audit_log_head.c.tree_size, audit_log_head.c.root_hash, audit_log_head.c.frontier
).where(audit_log_head.c.id == HEAD_ID)
SELECT_HEAD_FOR_UPDATE = SELECT_HEAD.with_for_update()
SELECT_TREE_SIZE = select(audit_log_head.c.tree_size).where(audit_log_head.c.id == HEAD_ID)
#: Bytes of a SQLite file a reading connection maps into memory (PRAGMA mmap_size): proofs
#: and verify read pages spread over a large file; read through the page cache by system
#: calls they cost several times more. A per-connection setting, made once per connection.
SQLITE_MMAP_BYTES = 1 << 30


def map_sqlite_file(dbapi_connection: Any, info: dict[Any, Any]) -> None:
    """Let a pooled SQLite connection read its file through mmap (once; ``info`` is the
    pooled connection's own dict). Reads only: SQLite still writes with write()."""
    if info.get("loket_audit_mmap") or type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES:d}")
    finally:
        cursor.close()
    info["loket_audit_mmap"] = True


def blob(value: object, where: str) -> bytes:
    """A stored hash or leaf as bytes. The columns are BLOBs; a value that comes back as text
    (the column or the row was rewritten, e.g. ``CAST(leaf AS TEXT)``) is tampering with the
    store, reported as such instead of crashing in ``bytes(str)``."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise IntegrityError(f"{where} is stored as {type(value).__name__}, not bytes (the store was altered)")


@contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """A write transaction holding the log's database lock until commit."""
    dialect = engine.dialect.name
    with engine.connect() as conn:
        if dialect == "sqlite":
            conn.execution_options(sqlite_begin="IMMEDIATE")
        elif dialect == "postgresql":
            # Each statement must see what the previous lock holder committed.
            conn.execution_options(isolation_level="READ COMMITTED")
        with conn.begin():
            if dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            yield conn


def read_head(conn: Connection, *, lock: bool) -> tuple[int, bytes, list[bytes]]:
    """(tree size, root, frontier) of the head row; with ``lock`` (inside :func:`locked`) the
    row is locked, and created for an empty log."""
    row = conn.execute(SELECT_HEAD_FOR_UPDATE if lock else SELECT_HEAD).first()
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
    frontier = merkle.unpack_frontier(blob(row.frontier, "log head: frontier"), size)
    return size, blob(row.root_hash, "log head: root hash"), frontier


def tree_size(conn: Connection) -> int:
    size = conn.execute(SELECT_TREE_SIZE).scalar()
    return 0 if size is None else int(size)


# A proof's nodes by key (audit.models.subtree_key; leaf hashes under subtree_key(0, i) = i << 6)
_SUBTREE_NODES_SQL = "SELECT node, hash FROM audit_subtrees WHERE node IN ({})"
_LEAF_NODES_SQL = "SELECT idx * 64, leaf_hash FROM audit_records WHERE idx IN ({})"


def placeholder(engine_or_conn: Engine | Connection) -> str:
    """The DBAPI's parameter marker (SQLite ``?``, psycopg ``%s``)."""
    return "?" if engine_or_conn.dialect.paramstyle == "qmark" else "%s"


def read_nodes(cursor: Any, p: str, ids: set[NodeId]) -> dict[NodeId, bytes]:
    """Perfect subtree hashes (level 0: leaf hashes) in one query on a DBAPI cursor, ``p``
    its parameter marker; a missing one is an IntegrityError. The DBAPI directly: SQLAlchemy's
    expanding IN cost more than the reads."""
    out: dict[NodeId, bytes] = {}
    if not ids:
        return out
    subtrees = [subtree_key(lvl, i) for lvl, i in ids if lvl]
    leaves = [i for lvl, i in ids if lvl == 0]
    parts = []
    if subtrees:
        parts.append(_SUBTREE_NODES_SQL.format(",".join([p] * len(subtrees))))
    if leaves:
        parts.append(_LEAF_NODES_SQL.format(",".join([p] * len(leaves))))
    cursor.execute(" UNION ALL ".join(parts), subtrees + leaves)
    for key, h in cursor.fetchall():
        key = int(key)
        lvl, i = key & 63, key >> 6
        out[(lvl, i)] = blob(h, f"record {i}: leaf hash" if lvl == 0 else f"subtree {lvl}/{i}: hash")
    if len(out) != len(ids):
        raise IntegrityError(f"audit log is missing subtree hashes {sorted(ids - out.keys())[:5]}")
    return out


def fetch_nodes(conn: Connection, ids: set[NodeId]) -> dict[NodeId, bytes]:
    """:func:`read_nodes` inside ``conn``'s transaction (its DBAPI connection)."""
    if not ids:
        return {}
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        return read_nodes(cursor, placeholder(conn), ids)
    finally:
        cursor.close()
