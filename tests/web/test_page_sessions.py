"""Server-side page sessions: sign-out and "sign out everywhere" end a session for every copy of
its cookie, idle and absolute expiry, forged or unknown ids, what the database holds, purging,
and the `loket sessions` command."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.core.context import Loket
from gateway.core.models import PageSession
from gateway.identity import page_sessions
from gateway.web.session import SESSION_COOKIE, session_secret
from tests.cli import run_loket
from tests.web.conftest import eva_bsn, login_citizen, login_fg, other_bsn, post_form

CITIZEN_PAGE = "/burger/toegang"
FG_PAGE = "/fg/zoeken"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The page sessions' clock, moved by the test instead of by sleeping."""
    c = Clock()
    monkeypatch.setattr(page_sessions, "utcnow", lambda: c.now)
    return c


def cookie_of(client: TestClient) -> str:
    value = client.cookies.get(SESSION_COOKIE)
    assert value, "browser has no session cookie"
    return value


def session_data(cookie: str) -> dict[str, Any]:
    payload = cookie.split(".", 1)[0]
    return dict(json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4))))


def copy_cookie(src: TestClient, dst: TestClient) -> None:
    dst.cookies.set(SESSION_COOKIE, cookie_of(src))


def signed_in_on(client: TestClient, page: str) -> bool:
    r = client.get(page, follow_redirects=False)
    if r.status_code == 200:
        return True
    assert r.status_code == 303, (r.status_code, r.text[:300])
    assert r.headers["location"] == f"/{page.split('/')[1]}/inloggen"
    return False


def cookie_cleared(r: Any) -> bool:
    """The response tells the browser to drop the session cookie, or leaves it without an id."""
    headers = [v for k, v in r.headers.multi_items() if k.lower() == "set-cookie"
               and v.startswith(f"{SESSION_COOKIE}=")]
    if not headers:
        return False
    value = headers[-1].split(";", 1)[0].split("=", 1)[1]
    return "1970" in headers[-1] or "sid" not in session_data(value)


def stored_rows(loket: Loket) -> int:
    with loket.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(PageSession)) or 0)


def forged_cookie(loket: Loket, data: dict[str, Any]) -> str:
    """A cookie signed with the gateway's own secret, as Starlette's SessionMiddleware makes it."""
    import itsdangerous

    payload = base64.b64encode(json.dumps(data).encode())
    return itsdangerous.TimestampSigner(session_secret(loket)).sign(payload).decode()


LOGINS: dict[str, tuple[Callable[..., None], str]] = {
    "citizen": (lambda c, sandbox: login_citizen(c, eva_bsn(sandbox)), CITIZEN_PAGE),
    "fg": (lambda c, sandbox: login_fg(c, "fg-001"), FG_PAGE),
}


# --- sign-out -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", LOGINS)
def test_copied_cookie_stops_working_after_sign_out(web: TestClient, new_client: Callable[[], TestClient],
                                                    sandbox: Any, who: str) -> None:
    login, page = LOGINS[who]
    login(web, sandbox)
    thief = new_client()
    copy_cookie(web, thief)
    assert signed_in_on(thief, page)  # the copy works while the session lives

    area = page.split("/")[1]
    r = post_form(web, page, f"/{area}/uitloggen", {})
    assert r.status_code == 303 and r.headers["location"] == f"/{area}/inloggen"

    r = thief.get(page, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/{area}/inloggen"
    assert cookie_cleared(r)
    assert not signed_in_on(web, page)
    # Signing out with the dead cookie is not an error page either: there is nothing left to end.
    r = thief.post(f"/{area}/uitloggen", data={"csrf_token": "x" * 43}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/{area}/inloggen"


def test_a_new_login_in_the_same_browser_ends_the_previous_session(
        web: TestClient, new_client: Callable[[], TestClient], sandbox: Any) -> None:
    login_citizen(web, eva_bsn(sandbox))
    copy = new_client()
    copy_cookie(web, copy)
    login_citizen(web, other_bsn(sandbox))
    assert not signed_in_on(copy, CITIZEN_PAGE)
    assert signed_in_on(web, CITIZEN_PAGE)


def test_sign_out_everywhere_ends_the_other_browsers_sessions_of_that_citizen_only(
        web: TestClient, new_client: Callable[[], TestClient], sandbox: Any) -> None:
    laptop, phone, someone_else = web, new_client(), new_client()
    login_citizen(laptop, eva_bsn(sandbox))
    login_citizen(phone, eva_bsn(sandbox))
    login_citizen(someone_else, other_bsn(sandbox))

    page = laptop.get("/burger").text
    assert 'formaction="/burger/overal-uitloggen"' in page and "Overal uitloggen" in page
    r = post_form(laptop, "/burger", "/burger/overal-uitloggen", {})
    assert r.status_code == 303 and r.headers["location"] == "/burger/inloggen"
    assert "U bent uitgelogd op alle apparaten" in laptop.get("/burger/inloggen").text

    assert not signed_in_on(laptop, CITIZEN_PAGE)
    assert not signed_in_on(phone, CITIZEN_PAGE)
    assert signed_in_on(someone_else, CITIZEN_PAGE)


def test_sign_out_everywhere_ends_the_officers_other_sessions_only(
        web: TestClient, new_client: Callable[[], TestClient]) -> None:
    desk, home, deputy = web, new_client(), new_client()
    login_fg(desk, "fg-001")
    login_fg(home, "fg-001")
    login_fg(deputy, "fg-002")
    r = post_form(desk, FG_PAGE, "/fg/overal-uitloggen", {})
    assert r.status_code == 303 and r.headers["location"] == "/fg/inloggen"
    assert not signed_in_on(home, FG_PAGE)
    assert not signed_in_on(desk, FG_PAGE)
    assert signed_in_on(deputy, FG_PAGE)


def test_sign_out_everywhere_needs_the_csrf_token(web: TestClient, new_client: Callable[[], TestClient],
                                                  sandbox: Any) -> None:
    other = new_client()
    login_citizen(web, eva_bsn(sandbox))
    login_citizen(other, eva_bsn(sandbox))
    assert web.post("/burger/overal-uitloggen", data={}, follow_redirects=False).status_code == 403
    r = web.post("/burger/overal-uitloggen", data={"csrf_token": "x" * 43},
                 headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert r.status_code == 403
    assert signed_in_on(other, CITIZEN_PAGE) and signed_in_on(web, CITIZEN_PAGE)


def test_sign_out_everywhere_without_a_session_goes_to_the_login_page(web: TestClient) -> None:
    r = web.post("/burger/overal-uitloggen", data={}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/burger/inloggen"


# --- expiry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", LOGINS)
def test_idle_session_is_signed_out_and_activity_keeps_it_alive(web: TestClient, sandbox: Any, clock: Clock,
                                                                who: str) -> None:
    login, page = LOGINS[who]
    login(web, sandbox)
    clock.advance(minutes=20)
    assert signed_in_on(web, page)
    clock.advance(minutes=20)  # 40 minutes after login, 20 after the last request
    assert signed_in_on(web, page)
    clock.advance(minutes=31)
    r = web.get(page, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/inloggen")
    assert cookie_cleared(r)


def test_absolute_lifetime_ends_even_an_active_session(web: TestClient, sandbox: Any, clock: Clock) -> None:
    login_citizen(web, eva_bsn(sandbox))
    elapsed = timedelta(0)
    while elapsed + timedelta(minutes=25) < timedelta(hours=8):
        clock.advance(minutes=25)
        elapsed += timedelta(minutes=25)
        assert signed_in_on(web, CITIZEN_PAGE), elapsed
    clock.advance(minutes=25)
    r = web.get(CITIZEN_PAGE, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/burger/inloggen"
    assert cookie_cleared(r)


def test_last_seen_is_written_at_most_once_a_minute(web: TestClient, sandbox: Any, clock: Clock,
                                                    loket: Loket) -> None:
    login_citizen(web, eva_bsn(sandbox))
    id_sha256 = hashlib.sha256(session_data(cookie_of(web))["sid"].encode()).hexdigest()

    def last_seen() -> datetime:
        with loket.sessions() as s:
            row = s.get(PageSession, id_sha256)
            assert row is not None
            return row.last_seen_at

    login_time = last_seen()
    clock.advance(seconds=30)
    for _ in range(3):
        assert signed_in_on(web, CITIZEN_PAGE)
    assert last_seen() == login_time
    clock.advance(seconds=31)
    assert signed_in_on(web, CITIZEN_PAGE)
    assert last_seen() == clock.now


# --- forged, tampered and unknown ids -------------------------------------------------------


@pytest.mark.parametrize("sid", [
    "unknown-but-well-formed",
    12345,
    "x" * 5000,
    ["a", "list"],
    "",
])
@pytest.mark.parametrize("page", [CITIZEN_PAGE, FG_PAGE, "/burger", "/fg/noodtoegang"])
def test_cookie_with_a_session_id_we_never_issued_is_signed_out(web: TestClient, loket: Loket, sid: Any,
                                                                page: str) -> None:
    if sid == "unknown-but-well-formed":
        sid = secrets.token_urlsafe(32)
    web.get("/")  # the app is up and its session secret chosen
    web.cookies.set(SESSION_COOKIE, forged_cookie(loket, {"sid": sid, "csrf": "c" * 43, "name": "Mallory"}))
    r = web.get(page, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/inloggen")
    assert cookie_cleared(r)
    login_page = web.get(r.headers["location"])
    assert login_page.status_code == 200 and "Mallory" not in login_page.text


def test_tampered_cookie_is_signed_out(web: TestClient, new_client: Callable[[], TestClient], sandbox: Any) -> None:
    login_citizen(web, eva_bsn(sandbox))
    cookie = cookie_of(web)
    data = session_data(cookie)
    data["sid"] = data["sid"][:-1] + ("A" if data["sid"][-1] != "A" else "B")
    payload = base64.b64encode(json.dumps(data).encode()).decode()
    forged = payload + "." + cookie.split(".", 1)[1]  # the old signature on a new payload
    mallory = new_client()
    mallory.cookies.set(SESSION_COOKIE, forged)
    assert not signed_in_on(mallory, CITIZEN_PAGE)
    assert mallory.get("/burger/inloggen").status_code == 200
    assert signed_in_on(web, CITIZEN_PAGE)  # the real session is untouched


def test_citizen_session_does_not_open_the_fg_pages(web: TestClient, sandbox: Any) -> None:
    login_citizen(web, eva_bsn(sandbox))
    r = web.get(FG_PAGE, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/fg/inloggen"
    assert signed_in_on(web, CITIZEN_PAGE)


# --- what is stored -------------------------------------------------------------------------


def test_database_and_logs_hold_no_raw_session_id_and_no_bsn(
        web: TestClient, new_client: Callable[[], TestClient], sandbox: Any, loket: Loket,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    bsn = eva_bsn(sandbox)
    login_citizen(web, bsn)
    assert signed_in_on(web, CITIZEN_PAGE)
    officer = new_client()
    login_fg(officer)
    sids = [session_data(cookie_of(c))["sid"] for c in (web, officer)]
    post_form(officer, FG_PAGE, "/fg/uitloggen", {})  # a revoked row too
    assert "bsn_sealed" not in json.dumps(session_data(cookie_of(web)))

    loket.db.dispose()
    files = [p for p in loket.settings.data_dir.iterdir() if p.name.startswith("loket.db")]
    raw = b"".join(p.read_bytes() for p in files)
    for sid in sids:
        assert sid.encode() not in raw
        assert hashlib.sha256(sid.encode()).hexdigest().encode() in raw  # the scan does see the table
        assert sid not in caplog.text
    assert bsn.encode() not in raw
    assert bsn not in caplog.text


def test_sign_in_purges_ended_sessions(web: TestClient, new_client: Callable[[], TestClient], sandbox: Any,
                                       loket: Loket, clock: Clock) -> None:
    login_fg(web, "fg-001")
    post_form(web, FG_PAGE, "/fg/uitloggen", {})
    assert stored_rows(loket) == 1  # revoked, not yet deleted
    idle = new_client()
    login_fg(idle, "fg-002")  # this sign-in deletes the revoked row; this session will go idle
    assert stored_rows(loket) == 1
    live = new_client()
    login_citizen(live, eva_bsn(sandbox))
    assert stored_rows(loket) == 2
    clock.advance(minutes=20)
    assert signed_in_on(live, CITIZEN_PAGE)
    clock.advance(minutes=20)  # fg-002 idle for 40 minutes, the citizen for 20
    login_fg(new_client(), "fg-001")
    assert stored_rows(loket) == 2  # the citizen's live session and the new one
    assert signed_in_on(live, CITIZEN_PAGE)
    assert not signed_in_on(idle, FG_PAGE)


# --- loket sessions revoke / purge ----------------------------------------------------------


def run_cli(args: list[str], loket: Loket, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setenv("LOKET_DATABASE_URL", loket.settings.resolved_database_url())
    return run_loket(capsys, *args)


def test_cli_revoke_sub_ends_that_subjects_sessions_only(
        web: TestClient, new_client: Callable[[], TestClient], loket: Loket, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    deputy = new_client()
    login_fg(web, "fg-001")
    login_fg(deputy, "fg-002")
    code, out, err = run_cli(["sessions", "revoke", "--sub", "fg-001"], loket, monkeypatch, capsys)
    assert code == 0, err
    assert "revoked 1 page session(s) of fg-001" in out
    assert not signed_in_on(web, FG_PAGE)
    assert signed_in_on(deputy, FG_PAGE)


def test_cli_revoke_all_and_purge(web: TestClient, new_client: Callable[[], TestClient], sandbox: Any,
                                  loket: Loket, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    citizen = new_client()
    login_fg(web, "fg-001")
    login_citizen(citizen, eva_bsn(sandbox))
    code, out, _ = run_cli(["sessions", "revoke", "--all"], loket, monkeypatch, capsys)
    assert code == 0 and "revoked 2 page session(s)" in out
    assert not signed_in_on(web, FG_PAGE) and not signed_in_on(citizen, CITIZEN_PAGE)
    code, out, _ = run_cli(["sessions", "purge"], loket, monkeypatch, capsys)
    assert code == 0 and "purged 2 ended page session(s)" in out
    assert stored_rows(loket) == 0


@pytest.mark.parametrize("args, needle", [
    (["sessions", "revoke"], "exactly one of --sub SUBJECT or --all"),
    (["sessions", "revoke", "--sub", "fg-001", "--all"], "exactly one of --sub SUBJECT or --all"),
    (["sessions", "revoke", "--sub", "  "], "must not be empty"),
    (["sessions", "revoke", "--everyone"], "No such option"),
])
def test_cli_refuses_bad_input_with_exit_2(loket: Loket, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str], args: list[str], needle: str) -> None:
    code, out, err = run_cli(args, loket, monkeypatch, capsys)
    assert code == 2
    assert needle in out + err


def test_cli_on_an_unmigrated_database_says_so(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.cli import main

    monkeypatch.setenv("LOKET_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SystemExit) as e:
        main(["sessions", "purge"])
    assert e.value.code == 3
    assert "loket db upgrade" in capsys.readouterr().err
