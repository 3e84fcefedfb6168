"""The citizen's browser remembers: on "Wie bekeek mijn gegevens?" it keeps the last checkpoint
it verified (Ed25519, WebCrypto) and on the next visit checks a consistency proof (SHA-256,
WebCrypto); a log rewritten after the first visit is detected on the second (Chromium)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from audit.log import AuditLog
from audit.models import metadata
from gateway.core.context import Loket
from gateway.core.db import create_db_engine
from tests.audit.conftest import record
from tests.browser.conftest import eva, login_citizen

pytestmark = pytest.mark.browser

TABLES = ("audit_records", "audit_subtrees", "audit_checkpoints", "audit_log_head")


def _status(page: Any) -> str:
    page.locator("#logcontrole:not([hidden])").wait_for()
    return str(page.locator("#logcontrole-tekst").inner_text())


def _rewrite_history(loket: Loket, tmp_path: Path, n: int) -> None:
    """An insider with the signing key replaces the log by another history of ``n`` records."""
    url = loket.settings.resolved_database_url()
    fork_path = tmp_path / "fork.db"
    engine = create_db_engine(f"sqlite:///{fork_path}")
    metadata.create_all(engine)
    assert loket.audit._signing_key is not None
    fork = AuditLog(engine, loket.audit._signing_key, origin=loket.audit.origin, key_name=loket.audit.key_name)
    fork.append_many([record(1000 + i) for i in range(n)])
    fork.checkpoint(force=True)
    engine.dispose()
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    with db:
        db.execute(f"ATTACH DATABASE '{fork_path}' AS fork")
        for t in TABLES:
            db.execute(f"DELETE FROM {t}")  # noqa: S608 -- constant table names
            db.execute(f"INSERT INTO {t} SELECT * FROM fork.{t}")  # noqa: S608
    db.execute("DETACH DATABASE fork")
    db.close()
    loket.audit.subtree_cache.clear()


def test_a_log_rewritten_after_a_visit_is_detected_on_the_next(
    page_for: Callable[[], Any], loket: Loket, sandbox: Any, tmp_path: Path
) -> None:
    if not loket.settings.resolved_database_url().startswith("sqlite:///"):
        pytest.skip("rewrites a SQLite file")
    loket.audit.append_many([record(i) for i in range(20)])
    loket.audit.checkpoint(force=True)
    name, _ = eva(sandbox)
    page = page_for()
    login_citizen(page, name)
    page.goto("/burger/toegang")
    first = _status(page)
    assert "onthoudt hoe het er nu uitziet (20 regels)" in first, first

    # The log grows honestly: the browser accepts it.
    loket.audit.append_many([record(i) for i in range(20, 27)])
    loket.audit.checkpoint(force=True)
    page.goto("/burger/toegang")
    second = _status(page)
    assert "alleen is aangevuld" in second and "Nu: 27 regels" in second, second

    # History is rewritten (and longer, and validly signed): the browser notices.
    _rewrite_history(loket, tmp_path, 40)
    page.goto("/burger/toegang")
    third = _status(page)
    assert third.startswith("Let op: het logboek klopt niet") and "functionaris gegevensbescherming" in third, third
    assert third.endswith("deze controle mislukte."), third  # the consistency proof failed
    assert page.locator("#logcontrole").get_attribute("data-state") == "fout"


def test_without_javascript_the_page_works_as_before(
    chromium: Any, live: str, loket: Loket, sandbox: Any
) -> None:
    ctx = chromium.new_context(base_url=live, java_script_enabled=False, locale="nl-NL")
    try:
        page = ctx.new_page()
        login_citizen(page, eva(sandbox)[0])
        page.goto("/burger/toegang")
        page.get_by_role("heading", name="Wie bekeek mijn gegevens?").wait_for()
        assert page.locator("#logcontrole").is_hidden()
    finally:
        ctx.close()
