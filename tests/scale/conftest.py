"""Fixtures for scale-out tests: a fresh PostgreSQL database per test, and the OPA binary.

``LOKET_TEST_POSTGRES_URL`` points at a server whose user may CREATE DATABASE (CI sets it).
Unset locally: the PostgreSQL tests skip. Unset while ``CI`` is set: they fail, so a CI job
that forgot the service cannot pass by skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} not available")


def _psycopg_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    raise ValueError("LOKET_TEST_POSTGRES_URL must be a postgresql:// URL")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway database on the test server, dropped afterwards."""
    raw = os.environ.get("LOKET_TEST_POSTGRES_URL")
    if not raw:
        _missing("LOKET_TEST_POSTGRES_URL")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(_psycopg_url(str(raw)))
    name = f"loket_scale_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def opa_bin() -> str:
    from gateway.policy.opa import find_opa_binary

    found = find_opa_binary()
    if found is None:
        _missing("the opa binary (LOKET_OPA_BIN)")
    assert found is not None
    return found
