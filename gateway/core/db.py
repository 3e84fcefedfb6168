"""The one place that creates database engines and sessions.

SQLite (the default, a file under the data dir) runs in WAL mode with foreign keys on and a
busy timeout, so several threads and processes can share it; PostgreSQL is used by URL
(``postgresql+psycopg://``). Both sides own their tables (gateway/core/models.py, audit/models.py);
Alembic (migrations/) manages the schema of both.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

# One naming convention for the one schema: audit/ holds it (it needs nothing from the gateway),
# the gateway's tables use the same.
from audit.db import NAMING_CONVENTION as NAMING_CONVENTION
from audit.db import new_metadata as new_metadata  # re-exported for the models
from gateway.core.errors import ConfigurationError

WRITE_LOCK_WAIT_S = 30.0  # as long as SQLite's own busy timeout


def create_private_sqlite_file(url: str) -> None:
    """Create a new SQLite database file readable by its owner only (0600, like the keys), so
    cases, consents and the log are not world-readable under the usual 022 umask. SQLite gives
    the -wal and -shm files the database file's permissions. An existing file is left as is."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another process made it first


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        create_private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's begin() issue BEGIN ourselves (see below), so that writers can
            # take the lock up front with BEGIN IMMEDIATE.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # Writers of this process queue on a Python lock before they take SQLite's write lock.
        # Without it, concurrent writers wait in SQLite's busy handler, which sleeps in steps
        # of up to 100 ms and turned a few ms of contention into a p99 of hundreds of ms. The
        # database lock (BEGIN IMMEDIATE) stays the guard: other processes still queue on it.
        write_lock = threading.Lock()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            if mode != "DEFERRED":
                if not write_lock.acquire(timeout=WRITE_LOCK_WAIT_S):
                    raise TimeoutError("no SQLite write slot within the wait limit")
                conn.info["loket_write_lock"] = True
            try:
                conn.exec_driver_sql(f"BEGIN {mode}")
            except BaseException:
                _release(conn)
                raise

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _release(conn: Any) -> None:
            if conn.info.pop("loket_write_lock", False):
                write_lock.release()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


def open_existing_database(url: str, *, tables: Iterable[str]) -> Engine:
    """An engine on a database that already holds ``tables``, for the CLI verbs that read state.

    A missing SQLite file (SQLite would silently create an empty one), an unreachable server or
    a schema without those tables is a :class:`ConfigurationError` that says what to run."""
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not path.is_file():
            raise ConfigurationError(
                f"no database at {path}: start `loket demo` or `loket serve` once, or run "
                "`loket db upgrade` (set LOKET_DATA_DIR or LOKET_DATABASE_URL for another)"
            )
    engine = create_db_engine(url)
    try:
        present = set(inspect(engine).get_table_names())
    except SQLAlchemyError as e:
        engine.dispose()
        reason = str(getattr(e, "orig", None) or type(e).__name__).strip().splitlines()[0]
        raise ConfigurationError(f"cannot open the database {shown}: {reason}") from e
    missing = sorted(set(tables) - present)
    if missing:
        engine.dispose()
        raise ConfigurationError(
            f"the database {shown} has no {', '.join(missing)} table; run `loket db upgrade` first"
        )
    return engine


class SessionFactory:
    """``sessions()`` for reading, ``sessions.begin()`` for a write transaction.

    On SQLite a write transaction begins IMMEDIATE: it takes the write lock up front instead of
    upgrading a read lock halfway (which can only fail with SQLITE_BUSY), and it queues on the
    engine's write lock (see ``create_db_engine``). Elsewhere both are plain sessions."""

    def __init__(self, engine: Engine) -> None:
        self._read = sessionmaker(bind=engine, expire_on_commit=False)
        self._write = sessionmaker(bind=engine.execution_options(sqlite_begin="IMMEDIATE"),
                                   expire_on_commit=False)

    def __call__(self) -> Session:
        return self._read()

    def begin(self) -> AbstractContextManager[Session]:
        return self._write.begin()


def session_factory(engine: Engine) -> SessionFactory:
    return SessionFactory(engine)
