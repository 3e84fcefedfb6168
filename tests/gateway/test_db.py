"""SQLite write transactions: taken up front, queued in-process, always released."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.core.db import create_db_engine, session_factory


@pytest.fixture
def sessions(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_db_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    yield session_factory(engine)
    engine.dispose()


def test_a_failed_write_does_not_block_the_next_writer(sessions) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), sessions.begin() as s:
        s.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("boom")
    started = time.monotonic()
    with sessions.begin() as s:
        s.execute(text("INSERT INTO t VALUES (2)"))
    assert time.monotonic() - started < 5  # not the 30 s wait of a leaked write slot
    with sessions() as s:
        assert s.execute(text("SELECT x FROM t")).scalars().all() == [2]


def test_concurrent_writers_all_commit_in_turn(sessions) -> None:  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for j in range(20):
                with sessions.begin() as s:
                    s.execute(text("INSERT INTO t VALUES (:x)"), {"x": i * 100 + j})
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as s:
        assert s.execute(text("SELECT count(*) FROM t")).scalar() == 160


def test_reads_do_not_wait_for_a_writer(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as w:
        w.execute(text("INSERT INTO t VALUES (1)"))
        done = threading.Event()

        def reader() -> None:
            with sessions() as r:
                r.execute(text("SELECT count(*) FROM t")).scalar()
            done.set()

        threading.Thread(target=reader).start()
        assert done.wait(5), "a read waited for the open write transaction"
