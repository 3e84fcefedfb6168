"""Several processes on one log (SQLite file, PostgreSQL), and kill -9 in the middle of writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from audit.log import AuditLog
from audit.models import metadata
from gateway.core.db import create_db_engine

from .conftest import ORIGIN, REPO_ROOT, record


def spawn(
    url: str, schema: str, count: int, tag: str, batch: int = 1, key: Path | None = None
) -> subprocess.Popen[str]:
    args = [
        sys.executable,
        "-m",
        "tests.audit.writer_proc",
        url,
        schema,
        str(count),
        tag,
        str(batch),
    ]
    if key is not None:
        args.append(str(key))
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen(
        args, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def collect(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    acknowledged: list[tuple[int, str]] = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        acknowledged += [(int(a), b) for a, b in (line.split() for line in out.splitlines())]
    return acknowledged


def check_log(log: AuditLog, acknowledged: list[tuple[int, str]], expected: int) -> None:
    assert len(acknowledged) == expected
    assert sorted(i for i, _ in acknowledged) == list(range(expected))  # no index given twice
    log.checkpoint(force=True)
    report = log.verify()
    assert report.tree_size == expected
    for index, record_id in acknowledged:
        assert log.get_record(index).record.record_id == record_id


@pytest.mark.slow  # separate processes: CI's second pytest step runs it
def test_two_processes_append_to_one_sqlite_file(
    sqlite_url: str, sqlite_engine: Engine, key_file: Path, signing_key: Ed25519PrivateKey
) -> None:
    procs = [
        spawn(sqlite_url, "-", 60, "a", key=key_file),
        spawn(sqlite_url, "-", 60, "b", batch=6, key=key_file),
    ]
    acknowledged = collect(procs)
    log = AuditLog(sqlite_engine, signing_key, origin=ORIGIN, key_name=ORIGIN)
    check_log(log, acknowledged, 120)
    assert len(log.checkpoints()) >= 2  # both writers signed checkpoints; all are consistent


@pytest.mark.postgres
def test_two_processes_append_to_one_postgres(
    postgres_schema: tuple[str, str],
    postgres_engine: Engine,
    key_file: Path,
    signing_key: Ed25519PrivateKey,
) -> None:
    url, schema = postgres_schema
    procs = [
        spawn(url, schema, 80, "a", key=key_file),
        spawn(url, schema, 80, "b", key=key_file),
        spawn(url, schema, 80, "c", batch=8),
    ]
    acknowledged = collect(procs)
    log = AuditLog(postgres_engine, signing_key, origin=ORIGIN, key_name=ORIGIN)
    check_log(log, acknowledged, 240)
    writers = {log.get_record(i).record.extra["writer"] for i in range(240)}
    assert writers == {"a", "b", "c"}


@pytest.mark.slow  # kill -9 of child processes: CI's second pytest step runs it
@pytest.mark.parametrize("batch", [1, 16])
def test_kill_9_during_writes_loses_no_acknowledged_record(
    tmp_path: Path, signing_key: Ed25519PrivateKey, batch: int
) -> None:
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    engine = create_db_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    proc = spawn(url, "-", -1, "k", batch=batch)
    assert proc.stdout is not None
    acknowledged: list[tuple[int, str]] = []
    deadline = time.monotonic() + 30
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        index, record_id = line.split()
        acknowledged.append((int(index), record_id))
    proc.send_signal(signal.SIGKILL)  # mid-write: the child never stops appending on its own
    rest, _ = proc.communicate(timeout=30)
    acknowledged += [
        (int(a), b) for a, b in (ln.split() for ln in rest.splitlines() if len(ln.split()) == 2)
    ]
    assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 150

    reopened = create_db_engine(url)
    log = AuditLog(reopened, signing_key, origin=ORIGIN, key_name=ORIGIN)
    size = log.head().tree_size
    assert size >= len(acknowledged)  # the killed transaction may or may not have committed
    for index, record_id in acknowledged:
        assert log.get_record(index).record.record_id == record_id
    log.checkpoint(force=True)
    assert log.verify().tree_size == size
    assert log.append(record(10_000)).index == size  # the log carries on after the crash
    reopened.dispose()
