"""An insider with database access edits what the pages read, not the leaves: `loket audit
verify` (and the FG's "verify now", the same code) must exit 1 and name what changed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from audit import merkle
from audit.cli import audit_app
from audit.errors import IntegrityError
from audit.log import AuditLog
from audit.models import audit_checkpoints, audit_log_head, audit_records, audit_subtrees, subtree_key

from .conftest import cli_log, record

runner = CliRunner()
EVA = "e7" * 32


@pytest.fixture
def configured(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch, signing_key: Ed25519PrivateKey
) -> AuditLog:
    log = cli_log(tmp_path, key_file, monkeypatch, signing_key)
    for part in (range(20), range(20, 40)):
        log.append_many([record(i, data_subject_id=EVA if i % 4 == 2 else None) for i in part])
        log.checkpoint(force=True)
    assert runner.invoke(audit_app, ["verify"]).exit_code == 0
    return log


def _verify(*args: str) -> Any:
    return runner.invoke(audit_app, ["verify", *args])


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("data_subject_id", "00" * 32),  # the record vanishes from Eva's page and --pseudonym
        ("data_subject_id", None),
        ("kind", "case:opened"),
        ("actor_sub", "cm-999"),
        ("purpose", "bijstand_other"),
        ("case_id", "case-x"),
        ("start_time", "2020-01-01T00:00:00.000Z"),
        ("break_glass", True),
        ("record_id", "00000000-0000-4000-8000-000000000000"),
    ],
)
def test_an_edited_index_column_fails_verify_naming_record_and_column(
    configured: AuditLog, column: str, value: object
) -> None:
    with configured.engine.begin() as conn:
        conn.execute(update(audit_records).where(audit_records.c.idx == 30).values({column: value}))
    result = _verify()
    assert result.exit_code == 1, result.output
    assert f"record 30: index column {column} differs from the leaf" in result.output


def test_a_zeroed_subtree_row_fails_verify_naming_the_subtree(configured: AuditLog) -> None:
    with configured.engine.begin() as conn:
        conn.execute(
            update(audit_subtrees)
            .where(audit_subtrees.c.node == subtree_key(2, 5))
            .values(hash=b"\x00" * 32)
        )
    result = _verify()
    assert result.exit_code == 1
    assert "subtree 2/5 (records 20..23)" in result.output


def test_a_deleted_or_added_subtree_row_fails_verify(configured: AuditLog) -> None:
    with configured.engine.begin() as conn:
        conn.execute(delete(audit_subtrees).where(audit_subtrees.c.node == subtree_key(1, 3)))
    assert "audit_subtrees holds 37 subtree hashes" in _verify().output
    with configured.engine.begin() as conn:
        conn.execute(audit_subtrees.insert().values(node=subtree_key(1, 3), hash=b"\x01" * 32))
        conn.execute(audit_subtrees.insert().values(node=subtree_key(9, 0), hash=b"\x01" * 32))
    assert "audit_subtrees holds 39 subtree hashes, a tree of 40 records has 38" in _verify().output


def _cut_tail(log: AuditLog, keep: int, head: Any) -> None:
    """What an insider does: drop records >= keep, the subtrees and checkpoints over them, and
    restore the head of the shorter tree. The database is then self-consistent."""
    with log.engine.begin() as conn:
        conn.execute(delete(audit_records).where(audit_records.c.idx >= keep))
        keys = conn.execute(select(audit_subtrees.c.node)).scalars().all()
        drop = [k for k in keys if ((k >> 6) + 1) << (k & 63) > keep]
        conn.execute(delete(audit_subtrees).where(audit_subtrees.c.node.in_(drop)))
        conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.tree_size > keep))
        conn.execute(
            update(audit_log_head).values(
                tree_size=head.tree_size, root_hash=head.root_hash, frontier=head.frontier
            )
        )


@pytest.fixture
def cut(configured: AuditLog, tmp_path: Path) -> Path:
    """The log cut back to 20 records; returns the checkpoint at 40 a witness kept."""
    note40 = configured.checkpoint_at(40)
    assert note40 is not None
    # The head at 20 as it was: rebuild it from a fresh log of the same first 20 leaves.
    with configured.engine.connect() as conn:
        leaves = [
            bytes(r.leaf) for r in conn.execute(
                select(audit_records.c.leaf).where(audit_records.c.idx < 20).order_by(audit_records.c.idx)
            )
        ]
    frontier: list[bytes] = []
    for i, leaf in enumerate(leaves):
        frontier, _ = merkle.frontier_append(frontier, i, merkle.leaf_hash(leaf))

    head = SimpleNamespace(
        tree_size=20, root_hash=merkle.frontier_root(frontier), frontier=merkle.pack_frontier(frontier)
    )
    assert configured.checkpoint_at(20) is not None  # the cut lands on a signed size
    _cut_tail(configured, 20, head)
    path = tmp_path / "witnessed-40.note"
    path.write_text(note40, encoding="utf-8")
    return path


def test_a_cut_tail_with_its_checkpoints_is_caught_only_against_an_outside_checkpoint(
    configured: AuditLog, cut: Path
) -> None:
    alone = _verify()
    assert alone.exit_code == 0 and "OK: 20 records" in alone.output  # self-consistent
    result = _verify("--checkpoint", str(cut))
    assert result.exit_code == 1
    assert "checkpoint at tree size 40 (trusted, obtained elsewhere)" in result.output
    assert "log was truncated" in result.output


def test_an_export_of_a_cut_log_fails_against_the_outside_checkpoint(
    configured: AuditLog, cut: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cut.jsonl"
    assert runner.invoke(audit_app, ["export", "--out", str(out)]).exit_code == 0
    vkey = configured.vkey()
    assert _verify(str(out), "--pubkey", vkey).exit_code == 0
    result = _verify(str(out), "--pubkey", vkey, "--checkpoint", str(cut))
    assert result.exit_code == 1
    assert "checkpoint at tree size 40" in result.output and "truncated" in result.output


def test_a_forged_outside_checkpoint_is_refused(configured: AuditLog, tmp_path: Path) -> None:
    note = configured.checkpoint_at(40)
    assert note is not None
    forged = tmp_path / "forged.note"
    forged.write_text(note.replace("\n40\n", "\n41\n"), encoding="utf-8")
    result = _verify("--checkpoint", str(forged))
    assert result.exit_code == 1 and "trusted checkpoint" in result.output


def test_fg_verify_now_fails_on_a_tampered_subtree_too(configured: AuditLog) -> None:
    from gateway.oversight.integrity import verify_full

    assert verify_full(configured).tree_size == 40
    with configured.engine.begin() as conn:
        conn.execute(
            update(audit_subtrees)
            .where(audit_subtrees.c.node == subtree_key(1, 0))
            .values(hash=b"\x00" * 32)
        )
    with pytest.raises(IntegrityError, match=r"subtree 1/0 \(records 0..1\)"):
        verify_full(configured)


def test_fg_verify_now_fails_on_an_edited_index_column(configured: AuditLog) -> None:
    from gateway.oversight.integrity import verify_full

    with configured.engine.begin() as conn:
        conn.execute(
            update(audit_records).where(audit_records.c.idx == 30).values(data_subject_id=None)
        )
    with pytest.raises(IntegrityError, match="record 30: index column data_subject_id"):
        verify_full(configured)
