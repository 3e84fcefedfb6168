"""The database-backed log: durable appends, group commit, checkpoints, proofs, search."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select, text, update

from audit import merkle
from audit.checkpoint import open_checkpoint
from audit.log import AuditFilter, AuditLog
from audit.models import (
    audit_checkpoints,
    audit_log_head,
    audit_records,
    audit_subtrees,
    metadata,
    subtree_key,
)
from audit.record import AuditEventKind, AuditRecord
from gateway.core.db import create_db_engine
from gateway.core.errors import AuditWriteError, IntegrityError, NotFound

from .conftest import ORIGIN

MakeRecord = Callable[..., AuditRecord]
MakeLog = Callable[..., AuditLog]


def test_append_returns_index_and_leaf_hash_of_the_stored_record(
    sqlite_log: AuditLog, make_record: MakeRecord
) -> None:
    r = make_record(0)
    receipt = sqlite_log.append(r)
    assert receipt.index == 0 and receipt.record_id == r.record_id
    assert receipt.leaf_hash == merkle.leaf_hash(r.to_leaf())
    stored = sqlite_log.get_record(0)
    assert stored.record == r and stored.leaf_hash == receipt.leaf_hash
    assert sqlite_log.find_index(r.record_id) == 0


def test_head_and_proofs_match_an_in_memory_tree(
    sqlite_log: AuditLog, make_record: MakeRecord
) -> None:
    records = [make_record(i) for i in range(70)]
    sqlite_log.append_many(records[:33])
    for r in records[33:]:
        sqlite_log.append(r)
    mem = merkle.MemoryTree()
    for r in records:
        mem.append_leaf_hash(merkle.leaf_hash(r.to_leaf()))
    assert sqlite_log.head().root_hash == mem.root()
    for size in (1, 2, 33, 64, 70):
        for i in {0, size // 2, size - 1}:
            p = sqlite_log.inclusion_proof(i, size)
            assert p.hashes == mem.inclusion_proof(i, size).hashes
            merkle.verify_inclusion(i, size, mem.levels[0][i], p.hashes, mem.root(size))
        for old in (1, max(1, size // 2), size):
            c = sqlite_log.consistency_proof(old, size)
            merkle.verify_consistency(old, size, mem.root(old), mem.root(size), c.hashes)


def test_proof_beyond_the_log_is_not_found(sqlite_log: AuditLog, make_record: MakeRecord) -> None:
    sqlite_log.append(make_record(0))
    with pytest.raises(NotFound):
        sqlite_log.inclusion_proof(0, 2)
    with pytest.raises(NotFound):
        sqlite_log.consistency_proof(1, 5)
    with pytest.raises(NotFound):
        sqlite_log.get_record(3)


def test_checkpoint_is_signed_every_n_records(
    sqlite_engine: Engine, make_log: MakeLog, make_record: MakeRecord
) -> None:
    log = make_log(sqlite_engine, checkpoint_every_records=5)
    for i in range(12):
        log.append(make_record(i))
    sizes = [open_checkpoint(n, log.verifier).tree_size for n in log.checkpoints()]  # type: ignore[arg-type]
    assert sizes == [5, 10]
    latest = log.latest_checkpoint()
    assert latest is not None and latest.tree_size == 10
    forced = log.checkpoint(force=True)
    assert forced.tree_size == 12 and forced.root_hash == log.head().root_hash
    assert log.checkpoint(force=True).note == forced.note  # never two checkpoints of one size


def test_checkpoint_is_signed_after_the_time_interval(
    sqlite_engine: Engine, make_log: MakeLog, make_record: MakeRecord
) -> None:
    # An interval of a second, not 50 ms: on a loaded 2-core CI machine the "not due yet" check
    # below raced a 50 ms interval (a checkpoint came "early" at size 3).
    log = make_log(sqlite_engine, checkpoint_every_records=1000, checkpoint_every_s=1.0)
    log.append(make_record(0))
    assert log.latest_checkpoint() is None
    time.sleep(1.2)
    log.append(make_record(1))
    latest = log.latest_checkpoint()
    assert latest is not None and latest.tree_size == 2
    log.append(make_record(2))
    assert log.maybe_checkpoint().tree_size == 2  # type: ignore[union-attr]  # not due yet
    time.sleep(1.2)
    assert log.maybe_checkpoint().tree_size == 3  # type: ignore[union-attr]  # idle timer path


def test_refuses_to_sign_a_tree_inconsistent_with_the_last_checkpoint(
    sqlite_log: AuditLog, sqlite_engine: Engine, make_record: MakeRecord
) -> None:
    sqlite_log.append_many([make_record(i) for i in range(8)])
    sqlite_log.checkpoint(force=True)
    sqlite_log.append_many([make_record(i) for i in range(8, 12)])
    # Rewrite history under the log: an early subtree hash changes.
    with sqlite_engine.begin() as conn:
        conn.execute(
            update(audit_subtrees)
            .where(audit_subtrees.c.node == subtree_key(3, 0))
            .values(hash=b"\x00" * 32)
        )
    with pytest.raises(IntegrityError, match="refusing to sign|do not reproduce"):
        sqlite_log.checkpoint(force=True)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(audit_checkpoints.c.tree_size)).scalars().all() == [8]


def test_cached_proof_nodes_do_not_hide_a_rewritten_subtree(
    sqlite_log: AuditLog, sqlite_engine: Engine, make_record: MakeRecord
) -> None:
    sqlite_log.append_many([make_record(i) for i in range(6)])
    sqlite_log.checkpoint(force=True)
    sqlite_log.append_many([make_record(i) for i in range(6, 12)])
    # Serving proofs fills the cache with the subtrees a later checkpoint and verify rely on.
    for i in range(12):
        sqlite_log.inclusion_proof(i, 12)
    sqlite_log.consistency_proof(6, 12)
    nodes = merkle.plan_nodes(merkle.consistency_plan(6, 12))
    level, index = max(n for n in nodes if n[0] >= 1)
    assert sqlite_log.subtree_cache.get_many({(level, index)})[0]  # cached before the edit
    with sqlite_engine.begin() as conn:
        conn.execute(
            update(audit_subtrees)
            .where(audit_subtrees.c.node == subtree_key(level, index))
            .values(hash=b"\x00" * 32)
        )
    with pytest.raises(IntegrityError, match="refusing to sign|do not reproduce"):
        sqlite_log.checkpoint(force=True)
    with pytest.raises(IntegrityError, match=rf"subtree {level}/{index} .*cached hash"):
        sqlite_log.verify()


def test_subtree_cache_is_bounded_and_proofs_stay_correct(
    sqlite_engine: Engine, make_log: MakeLog, make_record: MakeRecord
) -> None:
    log = make_log(sqlite_engine, subtree_cache_entries=5)
    records = [make_record(i) for i in range(40)]
    log.append_many(records)
    mem = merkle.MemoryTree()
    for r in records:
        mem.append_leaf_hash(merkle.leaf_hash(r.to_leaf()))
    for _ in range(2):  # the second round is served partly from the cache
        for i in range(40):
            assert log.inclusion_proof(i, 40).hashes == mem.inclusion_proof(i, 40).hashes
            assert len(log.subtree_cache) <= 5
        for old in range(1, 41):
            assert log.consistency_proof(old, 40).hashes == mem.consistency_proof(old, 40).hashes


def test_refuses_to_sign_when_the_head_root_was_rewritten(
    sqlite_log: AuditLog, sqlite_engine: Engine, make_record: MakeRecord
) -> None:
    sqlite_log.append_many([make_record(i) for i in range(5)])
    sqlite_log.checkpoint(force=True)
    sqlite_log.append(make_record(5))
    with sqlite_engine.begin() as conn:
        conn.execute(update(audit_log_head).values(root_hash=b"\x11" * 32))
    with pytest.raises(IntegrityError):
        sqlite_log.checkpoint(force=True)


def test_concurrent_threads_produce_one_consistent_log(
    sqlite_engine: Engine, make_log: MakeLog, make_record: MakeRecord
) -> None:
    log = make_log(sqlite_engine, checkpoint_every_records=50)
    commits = 0

    @event.listens_for(sqlite_engine, "commit")
    def count(_conn: object) -> None:
        nonlocal commits
        commits += 1

    receipts: list[int] = []
    lock = threading.Lock()
    per_thread, threads = 40, 8

    def worker(t: int) -> None:
        for i in range(per_thread):
            r = log.append(make_record(t * 1000 + i))
            with lock:
                receipts.append(r.index)

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    n = per_thread * threads
    assert sorted(receipts) == list(range(n))  # every append got its own index
    log.checkpoint(force=True)
    report = log.verify()
    assert report.tree_size == n
    appends = [c for c in range(commits)]
    assert len(appends) < n  # group commit: fewer transactions than records


def test_append_failure_raises_audit_write_error_and_writes_nothing(
    sqlite_log: AuditLog, sqlite_engine: Engine, make_record: MakeRecord
) -> None:
    sqlite_log.append_many([make_record(i) for i in range(3)])
    with sqlite_engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_subtrees"))
    # Record 3 completes subtrees (sizes 4 -> levels 1, 2): the insert into the dropped table fails.
    with pytest.raises(AuditWriteError) as info:
        sqlite_log.append(make_record(3))
    assert info.value.__cause__ is not None
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(audit_log_head.c.tree_size)).scalar() == 3
        assert conn.execute(select(audit_records.c.idx)).scalars().all() == [0, 1, 2]


def test_duplicate_record_is_refused_without_failing_its_batch(
    sqlite_log: AuditLog, make_record: MakeRecord
) -> None:
    r = make_record(0)
    sqlite_log.append(r)
    with pytest.raises(AuditWriteError):
        sqlite_log.append(r)
    assert sqlite_log.head().tree_size == 1
    with pytest.raises(AuditWriteError):
        sqlite_log.append_many([make_record(1), r])
    assert sqlite_log.head().tree_size == 1  # all-or-nothing


def _notes_table(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS companion_notes (note TEXT PRIMARY KEY)"))


def _notes(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(text("SELECT note FROM companion_notes")).scalars())


def test_companion_rows_commit_with_their_record_or_not_at_all(
    sqlite_log: AuditLog, sqlite_engine: Engine, make_record: MakeRecord
) -> None:
    _notes_table(sqlite_engine)

    def note(value: str) -> Callable[[object], None]:
        return lambda conn: conn.execute(text("INSERT INTO companion_notes VALUES (:v)"), {"v": value})  # type: ignore[attr-defined]

    r = make_record(0)
    sqlite_log.append(r, companion=note("first"))
    assert _notes(sqlite_engine) == ["first"]
    # The record cannot be written (a duplicate id): its companion row is rolled back with it.
    with pytest.raises(AuditWriteError):
        sqlite_log.append(r, companion=note("second"))
    assert _notes(sqlite_engine) == ["first"]
    # The companion cannot be written (a duplicate note): its record is not in the log either.
    with pytest.raises(AuditWriteError):
        sqlite_log.append(make_record(1), companion=note("first"))
    assert sqlite_log.head().tree_size == 1


def test_a_failing_companion_fails_only_its_own_append_in_a_batch(
    sqlite_engine: Engine, make_log: MakeLog, make_record: MakeRecord
) -> None:
    log = make_log(sqlite_engine)
    _notes_table(sqlite_engine)
    outcomes: dict[int, str] = {}
    start = threading.Barrier(8)

    def worker(i: int) -> None:
        def companion(conn: object) -> None:
            if i == 3:
                raise RuntimeError("this caller's own rows are refused")
            conn.execute(text("INSERT INTO companion_notes VALUES (:v)"), {"v": f"n{i}"})  # type: ignore[attr-defined]

        start.wait()
        try:
            log.append(make_record(i), companion=companion)
            outcomes[i] = "ok"
        except AuditWriteError:
            outcomes[i] = "refused"

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert outcomes == {i: "refused" if i == 3 else "ok" for i in range(8)}
    assert log.head().tree_size == 7
    assert _notes(sqlite_engine) == sorted(f"n{i}" for i in range(8) if i != 3)
    assert log.verify().tree_size == 7


def test_read_only_database_raises_audit_write_error(
    tmp_path: Path, make_log: MakeLog, make_record: MakeRecord
) -> None:
    # Opened read-only by SQLite itself (mode=ro), so this holds when the tests run as root too.
    path = tmp_path / "ro.db"
    engine = create_db_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    engine.dispose()
    log = make_log(create_db_engine(f"sqlite:///file:{path}?mode=ro&uri=true"))
    with pytest.raises(AuditWriteError):
        log.append(make_record(0))


def test_query_only_database_raises_audit_write_error(
    sqlite_url: str, sqlite_engine: Engine, make_log: MakeLog, make_record: MakeRecord
) -> None:
    # Works as root too: SQLite refuses every write on this connection.
    engine = create_db_engine(sqlite_url)

    @event.listens_for(engine, "connect")
    def read_only(dbapi_conn: object, _rec: object) -> None:
        dbapi_conn.execute("PRAGMA query_only=ON")  # type: ignore[attr-defined]

    log = make_log(engine)
    with pytest.raises(AuditWriteError):
        log.append(make_record(0))
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(audit_records.c.idx)).first() is None


def test_find_filters_and_paginates(sqlite_log: AuditLog, make_record: MakeRecord) -> None:
    pseudonym = "ab" * 32
    records = [
        make_record(
            i,
            data_subject_id=pseudonym if i % 4 == 0 else None,
            break_glass=i == 5,
            kind=AuditEventKind.DOSSIER_BREAK_GLASS if i == 5 else AuditEventKind.DOSSIER_READ,
        )
        for i in range(30)
    ]
    sqlite_log.append_many(records)
    by_actor = list(sqlite_log.iter_records(AuditFilter(actor_sub="cm-001"), page_size=3))
    assert [s.index for s in by_actor] == [i for i in range(30) if i % 3 == 1]
    assert [
        s.index for s in sqlite_log.find(AuditFilter(data_subject_id=pseudonym), limit=100)
    ] == list(range(0, 30, 4))
    assert [s.index for s in sqlite_log.find(AuditFilter(break_glass=True))] == [5]
    assert [
        s.index for s in sqlite_log.find(AuditFilter(kind=AuditEventKind.DOSSIER_BREAK_GLASS))
    ] == [5]
    assert [s.index for s in sqlite_log.find(AuditFilter(purpose="bijstand"), after=20)] == [
        22,
        25,
        28,
    ]
    newest = sqlite_log.find(None, limit=2, newest_first=True)
    assert [s.index for s in newest] == [29, 28]
    assert sqlite_log.count(AuditFilter(case_id="case-0")) == len(range(0, 30, 7))
    t = records[10].start_time
    assert all(s.record.start_time >= t for s in sqlite_log.find(AuditFilter(since=t)))


def test_database_holds_no_bsn(
    sqlite_url: str, sqlite_log: AuditLog, make_record: MakeRecord
) -> None:
    import re

    sqlite_log.append_many([make_record(i) for i in range(50)])
    sqlite_log.checkpoint(force=True)
    raw = Path(sqlite_url.removeprefix("sqlite:///")).read_bytes()
    wal = Path(sqlite_url.removeprefix("sqlite:///") + "-wal")
    if wal.exists():
        raw += wal.read_bytes()
    assert re.search(rb"(?<![0-9A-Za-z])9999\d{5}(?![0-9A-Za-z])", raw) is None


def test_database_verify_names_the_changed_record(
    sqlite_log: AuditLog, sqlite_engine: Engine, make_record: MakeRecord
) -> None:
    sqlite_log.append_many([make_record(i) for i in range(20)])
    sqlite_log.checkpoint(force=True)
    assert sqlite_log.verify().tree_size == 20
    leaf = sqlite_log.get_record(13).leaf
    with sqlite_engine.begin() as conn:
        conn.execute(
            update(audit_records)
            .where(audit_records.c.idx == 13)
            .values(leaf=leaf.replace(b"cm-001", b"cm-002"))
        )
    with pytest.raises(IntegrityError, match="record 13"):
        sqlite_log.verify()


def test_database_verify_catches_deleted_tail(
    sqlite_log: AuditLog, sqlite_engine: Engine, make_record: MakeRecord
) -> None:
    sqlite_log.append_many([make_record(i) for i in range(20)])
    sqlite_log.checkpoint(force=True)
    with sqlite_engine.begin() as conn:
        conn.execute(audit_records.delete().where(audit_records.c.idx >= 17))
    with pytest.raises(IntegrityError, match="truncated"):
        sqlite_log.verify()


def test_log_without_key_appends_but_cannot_sign(
    sqlite_engine: Engine, make_log: MakeLog, make_record: MakeRecord
) -> None:
    log = make_log(sqlite_engine, key=None)
    assert log.append(make_record(0)).index == 0
    with pytest.raises(RuntimeError):
        log.checkpoint(force=True)
    assert log.latest_checkpoint() is None
    assert "key" not in repr(log).lower() or "origin" in repr(log)


@pytest.mark.postgres
def test_postgres_log_appends_proves_and_verifies(
    postgres_engine: Engine, make_log: MakeLog, make_record: MakeRecord
) -> None:
    log = make_log(postgres_engine)
    log.append_many([make_record(i) for i in range(40)])
    for i in range(40, 45):
        log.append(make_record(i))
    cp = log.checkpoint(force=True)
    assert cp.tree_size == 45
    p = log.inclusion_proof(44, 45)
    merkle.verify_inclusion(44, 45, log.get_record(44).leaf_hash, p.hashes, cp.root_hash)
    assert log.verify().tree_size == 45
    assert ORIGIN in cp.note


def test_a_checkpoint_that_cannot_be_signed_is_retried_per_interval_not_per_append(
    sqlite_engine: Engine, make_log: MakeLog, make_record: MakeRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    first = make_log(sqlite_engine, checkpoint_every_records=4)
    first.append_many([make_record(i) for i in range(4)])  # signs a checkpoint with key A
    # Another key on the same log (a misconfigured process): it cannot verify the last
    # checkpoint, so it refuses to sign; appends must go on, at full speed.
    other = make_log(sqlite_engine, key=Ed25519PrivateKey.generate(), checkpoint_every_records=4)
    attempts = 0
    real = other.checkpoint

    def counting(force: bool = False) -> object:
        nonlocal attempts
        attempts += 1
        return real(force)

    monkeypatch.setattr(other, "checkpoint", counting)
    for i in range(4, 40):
        other.append(make_record(i))
    assert other.head().tree_size == 40
    assert attempts == 1


def test_a_missing_subtree_row_stops_proofs_and_signing_not_the_appends(
    sqlite_log: AuditLog, sqlite_engine: Engine, make_record: MakeRecord
) -> None:
    """Proof nodes and the signer's root and consistency checks read audit_subtrees through
    the DBAPI: a row gone is an IntegrityError naming it, never a short proof or a signature."""
    sqlite_log.append_many([make_record(i) for i in range(8)])
    sqlite_log.checkpoint(force=True)
    with sqlite_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_subtrees WHERE node = :k"), {"k": subtree_key(2, 1)})
    sqlite_log.subtree_cache.clear()
    with pytest.raises(IntegrityError, match=r"missing subtree hashes \[\(2, 1\)\]"):
        sqlite_log.inclusion_proof(0, 8)
    sqlite_log.append(make_record(8))  # the records still commit
    with sqlite_engine.begin() as conn:  # the root at size 9 folds subtree 3/0 and leaf 8
        conn.execute(text("DELETE FROM audit_subtrees WHERE node = :k"), {"k": subtree_key(3, 0)})
    with pytest.raises(IntegrityError, match=r"missing subtree hashes \[\(3, 0\)\]"):
        sqlite_log.checkpoint(force=True)
    assert sqlite_log.latest_checkpoint() is not None
    assert sqlite_log.latest_checkpoint().tree_size == 8  # type: ignore[union-attr]


def test_proofs_and_verify_read_a_sqlite_log_through_mmap(
    sqlite_log: AuditLog, sqlite_engine: Engine, make_record: MakeRecord
) -> None:
    from audit.store import SQLITE_MMAP_BYTES

    sqlite_log.append_many([make_record(i) for i in range(4)])
    sqlite_log.inclusion_proof(1, 4)
    sqlite_log.verify()
    raw = sqlite_engine.raw_connection()  # the pool's one idle connection, used by both
    try:
        assert raw.info.get("loket_audit_mmap") is True
        assert raw.cursor().execute("PRAGMA mmap_size").fetchone()[0] == SQLITE_MMAP_BYTES
    finally:
        raw.close()
