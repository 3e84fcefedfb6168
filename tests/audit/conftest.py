"""Fixtures for the audit log tests: keys, record factories, logs on SQLite and PostgreSQL.

PostgreSQL: ``LOKET_TEST_POSTGRES_URL`` (``postgresql+psycopg://…``) if set; otherwise a
throwaway cluster is started from the local PostgreSQL binaries. Tests marked ``postgres``
are skipped only when neither is available and ``CI`` is unset — in CI they fail instead.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from audit import cli as audit_cli
from audit.log import AuditLog
from audit.models import metadata
from audit.record import AuditEventKind, AuditRecord, Disclosure, Refusal
from gateway.core.audit_source import SettingsLogSource
from gateway.core.db import create_db_engine

ORIGIN = "loket.test/audit"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def key_file(tmp_path: Path, signing_key: Ed25519PrivateKey) -> Path:
    path = tmp_path / "audit-signing-key.pem"
    path.write_bytes(
        signing_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


def record(i: int = 0, **overrides: Any) -> AuditRecord:
    """A realistic dossier record; ``i`` varies the content."""
    fields: dict[str, Any] = {
        "kind": AuditEventKind.DOSSIER_READ,
        "actor_sub": f"cm-{i % 3:03d}",
        "actor_role": "casemanager",
        "outcome": "disclosed",
        "purpose": ("schuldhulp_intake", "bijstand", "wmo_ondersteuning")[i % 3],
        "case_id": f"case-{i % 7}",
        "decision_id": secrets.token_hex(16),
        "policy_revision": "rev-1",
        "data_subject_id": secrets.token_hex(32),
        "disclosed": (
            Disclosure(
                "uwv",
                "inkomen",
                ("inkomen.brutoMaand", "inkomen.periode"),
                "legal_basis",
                "pw_64_1_b",
            ),
        ),
        "refused": (Refusal("cak", "eigen_bijdrage", "consent_required"),),
        "unavailable": ("duo",) if i % 5 == 0 else (),
        "extra": {"seq": f"n{i}"},
    }
    fields.update(overrides)
    return AuditRecord(**fields)


@pytest.fixture
def make_record() -> Callable[..., AuditRecord]:
    return record


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'audit.db'}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = create_db_engine(sqlite_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def make_log(signing_key: Ed25519PrivateKey) -> Callable[..., AuditLog]:
    def factory(engine: Engine, **kwargs: Any) -> AuditLog:
        kwargs.setdefault("checkpoint_every_records", 16)
        kwargs.setdefault("checkpoint_every_s", 3600.0)
        key = kwargs.pop("key", signing_key)
        return AuditLog(engine, key, origin=ORIGIN, key_name=ORIGIN, **kwargs)

    return factory


@pytest.fixture
def sqlite_log(sqlite_engine: Engine, make_log: Callable[..., AuditLog]) -> AuditLog:
    return make_log(sqlite_engine)


# --- PostgreSQL -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _as_pg_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    url = os.environ.get("LOKET_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bindir = _pg_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail(
                "CI: PostgreSQL is required (set LOKET_TEST_POSTGRES_URL or install PostgreSQL)"
            )
        pytest.skip("no PostgreSQL: set LOKET_TEST_POSTGRES_URL or install PostgreSQL")
    root = tempfile.mkdtemp(prefix="loket-pg-")
    data = os.path.join(root, "data")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    try:
        subprocess.run(
            _as_pg_user(
                [f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]
            ),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            _as_pg_user(
                [
                    f"{bindir}/pg_ctl",
                    "-D",
                    data,
                    "-w",
                    "-l",
                    os.path.join(root, "log"),
                    "-o",
                    f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
    except (subprocess.CalledProcessError, OSError) as e:
        shutil.rmtree(root, ignore_errors=True)
        detail = getattr(e, "stderr", b"") or b""
        pytest.fail(
            f"could not start a throwaway PostgreSQL: {e} {detail.decode(errors='replace')}"
        )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_pg_user([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]),
            capture_output=True,
            check=False,  # best effort: the directory is removed next
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_schema(postgres_server_url: str) -> Iterator[tuple[str, str]]:
    """A fresh schema on the test server (the database may be shared with other tests)."""
    schema = f"audit_test_{secrets.token_hex(4)}"
    admin = create_db_engine(postgres_server_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_server_url, schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres_engine_for(url: str, schema: str) -> Engine:
    return create_db_engine(url, connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture
def postgres_engine(postgres_schema: tuple[str, str]) -> Iterator[Engine]:
    engine = postgres_engine_for(*postgres_schema)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def cli_log(tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch,
            signing_key: Ed25519PrivateKey) -> AuditLog:
    """An empty log on a SQLite file that ``loket audit ...`` opens through ``LOKET_*`` (same
    database, origin and signing key; no retired keys from the caller's environment)."""
    url = f"sqlite:///{tmp_path / 'loket.db'}"
    monkeypatch.setenv("LOKET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LOKET_DATABASE_URL", url)
    monkeypatch.setenv("LOKET_LOG_ORIGIN", ORIGIN)
    monkeypatch.setenv("LOKET_SIGNING_KEY_PATH", str(key_file))
    monkeypatch.delenv("LOKET_RETIRED_AUDIT_VKEYS", raising=False)
    monkeypatch.setattr(audit_cli, "_log_source", SettingsLogSource())  # as gateway/cli.py does
    engine = create_db_engine(url)
    metadata.create_all(engine)
    return AuditLog(engine, signing_key, origin=ORIGIN, key_name=ORIGIN, checkpoint_every_records=10)
