"""Tables of the audit log (own metadata; schema managed by migrations/versions/0002_audit.py).

- ``audit_records``: one row per leaf; ``idx`` is the leaf index. ``leaf`` holds the exact
  bytes hashed into the tree. The other columns are copies of record fields, indexed for the
  privacy officer's search; they hold no BSN and no data content.
- ``audit_subtrees``: hashes of the perfect subtrees of level >= 1 (level 0 are the leaf
  hashes), written as appends complete them, so a proof needs O(log n) point reads.
- ``audit_checkpoints``: every signed checkpoint note, by tree size.
- ``audit_log_head``: exactly one row (id = 1): tree size, root and the frontier (compact
  range) of the tree. Every append locks and updates it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from audit.db import new_metadata

metadata = new_metadata()

audit_records = Table(
    "audit_records",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("record_id", String(36), nullable=False, unique=True),
    Column("leaf", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("kind", String(40), nullable=False, index=True),
    Column("start_time", String(24), nullable=False, index=True),
    Column("actor_sub", String(256), nullable=False, index=True),
    Column("actor_role", String(256), nullable=False),
    Column("purpose", String(256), nullable=True, index=True),
    Column("case_id", String(256), nullable=True, index=True),
    Column("data_subject_id", String(64), nullable=True, index=True),
    Column("break_glass", Boolean, nullable=False, index=True),
    Column("trace_id", String(32), nullable=False),
)

audit_subtrees = Table(
    "audit_subtrees",
    metadata,
    # node = (index << 6) | level: one integer key, so a proof's nodes come in one IN query.
    Column("node", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)


def subtree_key(level: int, index: int) -> int:
    """Primary key of perfect subtree (level, index) in ``audit_subtrees`` (level 1..63)."""
    return index << 6 | level


audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", String(24), nullable=False),
)

audit_log_head = Table(
    "audit_log_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("frontier", LargeBinary, nullable=False),
    Column("updated_at", String(24), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)
