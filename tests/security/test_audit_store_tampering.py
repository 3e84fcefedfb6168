"""An insider rewrites the audit store's columns: ``loket audit verify`` must report tampering
(exit 1, naming where), never crash with a TypeError.

Regression: a leaf turned from BLOB into TEXT (``CAST(leaf AS TEXT)``) made ``bytes(str)``
raise ``TypeError: string argument without an encoding`` inside verify.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from gateway.app import create_app
from gateway.cli import app as cli
from gateway.core.context import Loket
from tests.cli import use_gateway_settings
from tests.conftest import bearer
from tests.security.helpers import eva_bsn, minter, open_case


@pytest.fixture
def populated(make_loket: Callable[..., Loket], sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Loket:
    loket = make_loket()
    with TestClient(create_app(loket=loket)) as client:
        tok = minter(loket)()
        case_id = open_case(client, tok, eva_bsn(sandbox))
        for _ in range(4):
            assert client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).status_code == 200
    loket.audit.checkpoint(force=True)
    use_gateway_settings(monkeypatch, loket.settings)
    return loket


def verify() -> Any:
    return CliRunner().invoke(cli, ["audit", "verify"])


@pytest.mark.parametrize("statement, where", [
    ("UPDATE audit_records SET leaf = CAST(leaf AS TEXT) WHERE idx = 2", "record 2"),
    ("UPDATE audit_records SET leaf = CAST(leaf AS TEXT)", "record 0"),
    ("UPDATE audit_records SET leaf_hash = hex(leaf_hash) WHERE idx = 3", "record 3"),
    ("UPDATE audit_log_head SET root_hash = hex(root_hash)", "log head"),
])
def test_columns_rewritten_as_text_are_reported_as_tampering(populated: Loket, statement: str,
                                                             where: str) -> None:
    ok = verify()
    assert ok.exit_code == 0, ok.output
    with populated.db.begin() as conn:
        conn.execute(text(statement))
    bad = verify()
    assert bad.exit_code == 1, (bad.exit_code, bad.output, repr(bad.exception))
    assert not isinstance(bad.exception, TypeError)
    assert "INTEGRITY FAILURE" in bad.output
    assert where in bad.output


def test_reading_a_text_leaf_through_the_api_is_an_integrity_problem(populated: Loket) -> None:
    from audit.log import AuditFilter
    from gateway.core.errors import IntegrityError

    with populated.db.begin() as conn:
        conn.execute(text("UPDATE audit_records SET leaf = CAST(leaf AS TEXT) WHERE idx = 1"))
    with pytest.raises(IntegrityError, match="record 1"):
        populated.audit.get_record(1)
    with pytest.raises(IntegrityError, match="record 1"):
        populated.audit.find(AuditFilter())


def test_subtree_hash_rewritten_as_text_fails_proofs_cleanly(populated: Loket) -> None:
    from gateway.core.errors import IntegrityError

    with populated.db.begin() as conn:
        conn.execute(text("UPDATE audit_subtrees SET hash = hex(hash)"))
    with pytest.raises(IntegrityError, match="subtree"):
        populated.audit.inclusion_proof(0, populated.audit.head().tree_size)
