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


def client_note(base: str) -> str:
    import httpx

    return httpx.get(base + "/v1/log/witnessed-checkpoint").text


def _witness_text(page: Any) -> tuple[str, str | None]:
    el = page.locator("#getuigen-tekst")
    return str(el.inner_text()), el.get_attribute("data-state")


def test_without_witnesses_the_page_says_so_plainly(page_for: Callable[[], Any], loket: Loket, sandbox: Any) -> None:
    loket.audit.append_many([record(i) for i in range(5)])
    loket.audit.checkpoint(force=True)
    page = page_for()
    login_citizen(page, eva(sandbox)[0])
    page.goto("/burger/toegang")
    status = _status(page)
    assert "onthoudt hoe het er nu uitziet" in status and "getuige" not in status, status
    text, state = _witness_text(page)
    assert state == "geen" and text.startswith("Er zijn geen onafhankelijke getuigen ingesteld."), text


def test_with_witnesses_the_browser_accepts_only_a_checkpoint_with_the_quorum(
    chromium: Any, make_loket: Callable[..., Loket], sandbox: Any, tmp_path: Path
) -> None:
    """Quorum 2 of 2: while one witness is down nothing is called verified (server-rendered and
    in the browser, which stores nothing); once both cosign, the browser checks both
    cosignatures itself, and a note served with one of them stripped is refused again."""
    from gateway.app import create_app
    from tests.servers import free_port, serve
    from tests.witnesses import serving, wait_for, witness_for, write_policy

    probe = make_loket(data_dir=tmp_path / "gw")
    one, two = witness_for(probe, tmp_path, "getuige.example/fg"), witness_for(probe, tmp_path, "getuige.example/buren")
    later = free_port()  # the second witness comes up later on this port
    with serving(one) as u1:
        policy = write_policy(tmp_path / "w.policy", [(one.key, u1), (two.key, f"http://127.0.0.1:{later}")], 2)
        loket = make_loket(data_dir=tmp_path / "gw", witness_policy=policy, witness_retry_s=0.05,
                           witness_max_attempts=2)
        with serve(create_app(loket=loket)) as base:
            ctx = chromium.new_context(base_url=base, locale="nl-NL")
            try:
                page = ctx.new_page()
                page.set_default_timeout(10_000)
                login_citizen(page, eva(sandbox)[0])
                loket.audit.append_many([record(i) for i in range(10)])
                loket.audit.checkpoint(force=True)
                wait_for(lambda: one.state.latest(loket.audit.origin), "the first cosignature")
                page.goto("/burger/toegang")
                status = _status(page)
                assert page.locator("#logcontrole").get_attribute("data-state") == "onbevestigd", status
                assert status.startswith("Het logboek is nog niet bevestigd door genoeg"), status
                assert _witness_text(page)[1] == "onbevestigd"
                assert page.evaluate("localStorage.getItem('loket-logboek-stand-v1')") is None

                with serving(two, port=later):
                    loket.audit.append_many([record(i) for i in range(10, 16)])
                    loket.audit.checkpoint(force=True)
                    wait_for(lambda: (two.state.latest(loket.audit.origin) or (0,))[0] == 16, "both cosignatures")
                    wait_for(lambda: "\n16\n" in client_note(base), "a witnessed checkpoint at 16")
                    page.goto("/burger/toegang")
                    status = _status(page)
                    assert page.locator("#logcontrole").get_attribute("data-state") == "ok", status
                    assert "(16 regels)" in status and "getuige.example/fg, getuige.example/buren" in status, status
                    assert "hebben deze stand bevestigd" in status
                    text, state = _witness_text(page)
                    assert state == "bevestigd" and "tot regel 16 klopt" in text, text

                    # The browser counts the cosignatures itself: one stripped is short of the quorum.
                    note = page.evaluate("fetch('/v1/log/witnessed-checkpoint').then(r => r.text())")
                    stripped = "".join(line for line in note.splitlines(keepends=True)
                                       if not line.startswith("— getuige.example/buren "))
                    page.route("**/v1/log/witnessed-checkpoint",
                               lambda route: route.fulfill(status=200, body=stripped, content_type="text/plain"))
                    page.goto("/burger/toegang")
                    status = _status(page)
                    assert page.locator("#logcontrole").get_attribute("data-state") == "onbevestigd", status
                    assert "(1 van de 2)" in status, status
            finally:
                ctx.close()
