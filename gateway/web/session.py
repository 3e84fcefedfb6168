"""Page sessions and CSRF for the citizen and FG pages.

The login lives on the server (gateway/identity/page_sessions.py, table ``page_sessions``): sign-out
and "sign out everywhere" revoke it there, so a copied cookie stops working. Starlette's
``SessionMiddleware`` cookie is signed (itsdangerous), **not encrypted**, and holds only the
random session id, the CSRF token, the display name and flash messages. The citizen's pseudonym
and sealed BSN stay in the server row, never in the cookie; the BSN is never stored in clear.
Each page request checks the session once (``load_page_session``, a router dependency): unknown,
revoked, expired or idle means signed out and the cookie is cleared.

CSRF: a synchronizer token per session, sent in every form as ``csrf_token`` and compared with
``hmac.compare_digest``; plus an Origin (or Referer) check against our own origin; plus
SameSite=Lax on the cookie. A login rotates the session id and the token (no fixation).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.core.context import Loket
from gateway.core.errors import BadInput, LoketError
from gateway.core.problems import status_of
from gateway.core.refusals import record_refusal
from gateway.identity import page_sessions
from gateway.identity.auth import Principal, Role
from gateway.identity.bsn import contains_bsn
from gateway.identity.page_sessions import LiveSession, SessionLimits

log = logging.getLogger(__name__)

SESSION_COOKIE = "loket_session"
# The session limits are constants here, not Settings fields (gateway/core/settings.py is owned
# elsewhere); promote them to LOKET_* settings when that file is free.
#: Sliding idle timeout: a session without a page request for this long is ended on the server
#: (and the cookie, re-signed on every response, expires after it too).
SESSION_IDLE_S = 30 * 60
#: Absolute limit on one login, whatever the activity.
SESSION_ABSOLUTE_S = 8 * 60 * 60
#: ``last_seen_at`` is written at most once per this many seconds per session.
SESSION_TOUCH_EVERY_S = 60
SESSION_LIMITS = SessionLimits(idle_s=SESSION_IDLE_S, absolute_s=SESSION_ABSOLUTE_S,
                               touch_every_s=SESSION_TOUCH_EVERY_S)
CSRF_FIELD = "csrf_token"
MAX_FORM_FIELDS = 64


class LoginRequired(Exception):
    """Raised by a page that needs a logged-in role; turned into a redirect to the login page."""

    def __init__(self, area: str) -> None:
        super().__init__(area)
        self.area = area


class CsrfRejected(Exception):
    """A form POST without a valid CSRF token or from a foreign origin (403)."""


class RefusalNotRecorded(Exception):
    """A page could not write the ``access:denied`` record of a refusal it was about to show (503)."""


async def record_page_refusal(request: Request, e: LoketError) -> None:
    """Record a refusal a page shows (flashed or as its error page), as the API's problem handler
    records every 4xx: the same ``access:denied`` record, once per error.

    fail-closed: a page refusal whose record cannot be written answers 503 (RefusalNotRecorded),
    never the refusal page (tests/web/test_page_refusals_are_recorded.py)."""
    if not await record_refusal(request, status_of(e), e.code, e):
        raise RefusalNotRecorded(e.code)


def session_secret(loket: Loket) -> str:
    """Settings first, then the demo's per-run secret, else a random one for this process
    (sessions then do not survive a restart, which is the safe failure)."""
    configured = loket.settings.session_secret
    if configured is not None:
        return configured.get_secret_value()
    extra = loket.extra.get("session_secret")
    if isinstance(extra, str) and extra:
        return extra
    generated = secrets.token_hex(32)
    loket.extra["session_secret"] = generated
    return generated


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _own_origins(request: Request, loket: Loket) -> set[str]:
    def origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    return {origin(str(request.base_url)), origin(loket.settings.public_base_url)}


def check_origin(request: Request, loket: Loket) -> None:
    """Browsers send Origin on a cross-site POST; a foreign one is refused outright."""
    allowed = _own_origins(request, loket)
    origin = request.headers.get("origin")
    if origin is not None:
        if origin.lower() not in allowed:
            raise CsrfRejected("foreign origin")
        return
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        if f"{parts.scheme}://{parts.netloc}".lower() not in allowed:
            raise CsrfRejected("foreign referer")


class BsnInForm(BadInput):
    """A form field other than a BSN field holds a BSN (422, shown as a Dutch error page)."""

    code = "bsn-in-free-text"


BSN_FIELD = frozenset({"bsn"})  # the login and FG search forms: elfproef, then pseudonymised


async def checked_form(request: Request, loket: Loket, *, bsn_fields: frozenset[str] = frozenset()) -> FormData:
    """The POSTed form, after the Origin check and the synchronizer-token check, with no BSN in
    any field but ``bsn_fields`` (the one detector, gateway.identity.bsn.contains_bsn)."""
    check_origin(request, loket)
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not expected:
        raise CsrfRejected("missing token")
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRejected("token mismatch")
    for name, value in form.multi_items():
        if name in bsn_fields or name == CSRF_FIELD:
            continue
        if contains_bsn(name) or (isinstance(value, str) and contains_bsn(value)):
            raise BsnInForm("a form field must not contain a BSN")
    return form


async def load_page_session(request: Request) -> None:
    """Router dependency of ``/burger`` and ``/fg``: look the cookie's session id up once per
    request and keep the answer in ``request.state.page_session``. A session that ended (or an
    id we never issued) signs the browser out: the cookie is cleared and the page redirects to
    its login as for anyone not logged in."""
    request.state.page_session = None
    session_id = request.session.get("sid")
    if session_id is None:
        return
    loket: Loket = request.app.state.loket
    result = await anyio.to_thread.run_sync(page_sessions.lookup, loket.sessions, session_id,
                                            page_sessions.utcnow(), SESSION_LIMITS)
    if result.session is None:
        log.info("page session not accepted: %s", result.ended)
        request.session.clear()
        return
    request.state.page_session = result.session


async def login(request: Request, loket: Loket, *, role: Role, sub: str, name: str,
                pseudonym: str | None = None, sealed_bsn: bytes | None = None, team: str | None = None,
                acting_for: tuple[str, bytes] | None = None, kvk: str | None = None) -> None:
    """Start a fresh session (new id, new CSRF token): nothing from before the login survives,
    and the browser's previous server session, if any, is revoked."""
    previous = request.session.get("sid")
    session_id = await anyio.to_thread.run_sync(lambda: page_sessions.start(
        loket.sessions, sub=sub, role=role.value, now=page_sessions.utcnow(), limits=SESSION_LIMITS,
        pseudonym=pseudonym, bsn_sealed=sealed_bsn, replaces=previous,
        acting_for_pseudonym=acting_for[0] if acting_for else None,
        acting_for_sealed=acting_for[1] if acting_for else None))
    request.session.clear()
    request.session.update({"sid": session_id, "name": name, "csrf": secrets.token_urlsafe(32)})
    if kvk:
        # An organisation's KvK number (a professional representative): public, not a secret.
        request.session["kvk"] = kvk
    if team:
        # A casemanager's team, as their token would carry it: in the signed cookie (not secret;
        # itsdangerous makes it tamper-evident), read only together with the server session.
        request.session["team"] = team


async def logout(request: Request, loket: Loket) -> None:
    """End this browser's session on the server, then clear the cookie."""
    session_id = request.session.get("sid")
    await anyio.to_thread.run_sync(page_sessions.revoke, loket.sessions, session_id, page_sessions.utcnow())
    request.session.clear()


async def logout_everywhere(request: Request, loket: Loket, sub: str) -> int:
    """End every session of ``sub`` (all browsers and devices), this one included."""
    n = await anyio.to_thread.run_sync(page_sessions.revoke_subject, loket.sessions, sub, page_sessions.utcnow())
    request.session.clear()
    return n


def flash(request: Request, message: str, kind: str = "ok") -> None:
    messages = list(request.session.get("flash", []))[-4:]
    messages.append({"kind": kind, "text": message})
    request.session["flash"] = messages


def pop_flash(request: Request) -> list[dict[str, Any]]:
    return list(request.session.pop("flash", []) or [])


def _current(request: Request, role: Role) -> LiveSession | None:
    """The session checked by ``load_page_session`` for this request, if it is of ``role``.
    Without that check (no dependency ran) nobody is logged in: fail closed."""
    s = getattr(request.state, "page_session", None)
    if not isinstance(s, LiveSession) or s.role != role.value:
        return None
    return s


def signed_in(request: Request, role: Role) -> bool:
    return _current(request, role) is not None


def current_role(request: Request) -> str | None:
    s = getattr(request.state, "page_session", None)
    return s.role if isinstance(s, LiveSession) else None


def _name(request: Request) -> str:
    name = request.session.get("name")
    return name if isinstance(name, str) else ""


def _signed_in_as(request: Request, principal: Principal) -> Principal:
    """The page's principal, also on ``request.state`` where the refusal recorder finds it (as the API's)."""
    request.state.principal = principal
    return principal


def citizen_principal(request: Request, loket: Loket) -> Principal:
    """The logged-in citizen, with the BSN unsealed in memory for this request only."""
    s = _current(request, Role.CITIZEN)
    if s is None:
        raise LoginRequired("burger")
    kvk = request.session.get("kvk")
    kvk = kvk if isinstance(kvk, str) and kvk else None
    try:
        bsn: str | None = None
        if kvk is None:
            if s.bsn_sealed is None or s.pseudonym is None:
                raise ValueError("citizen session without a sealed BSN")
            bsn = loket.vault.open(s.bsn_sealed, s.pseudonym)
        act_for = None
        if s.acting_for_sealed is not None and s.acting_for_pseudonym is not None:
            act_for = loket.vault.open(s.acting_for_sealed, s.acting_for_pseudonym)
        elif kvk is not None:
            raise ValueError("an organisation's session acts for someone")
    except Exception:  # noqa: BLE001 -- any unsealing failure means: log in again
        # A session sealed with another vault key (key rotation).
        request.session.clear()
        raise LoginRequired("burger") from None
    return _signed_in_as(request, Principal(sub=s.sub, role=Role.CITIZEN, name=_name(request), bsn=bsn,
                                            act_for=act_for, kvk=kvk))


def officer_principal(request: Request) -> Principal:
    s = _current(request, Role.PRIVACY_OFFICER)
    if s is None:
        raise LoginRequired("fg")
    return _signed_in_as(request, Principal(sub=s.sub, role=Role.PRIVACY_OFFICER, name=_name(request)))


def casemanager_principal(request: Request) -> Principal:
    s = _current(request, Role.CASEMANAGER)
    if s is None:
        raise LoginRequired("casemanager")
    team = request.session.get("team")
    return _signed_in_as(request, Principal(sub=s.sub, role=Role.CASEMANAGER, name=_name(request),
                                            team=team if isinstance(team, str) and team else None))


async def sign_out_form(request: Request, loket: Loket, role: Role, area: str) -> Response:
    """The "Uitloggen" form of ``/{area}``: end this browser's session, then the login page.

    A session that already ended (elsewhere, or by time) has nothing left to end: its cookie
    was cleared by load_page_session, and with it the CSRF token this form was sent with."""
    if signed_in(request, role):
        await checked_form(request, loket)
        await logout(request, loket)
        flash(request, "U bent uitgelogd.")
    return RedirectResponse(f"/{area}/inloggen", status_code=303)


async def sign_out_everywhere_form(request: Request, loket: Loket, principal: Principal, area: str) -> Response:
    """The "Overal uitloggen" form: end every session of this user (a lost laptop, a shared
    computer), then the login page."""
    await checked_form(request, loket)
    await logout_everywhere(request, loket, principal.sub)
    flash(request, "U bent uitgelogd op alle apparaten en in alle browsers.")
    return RedirectResponse(f"/{area}/inloggen", status_code=303)
