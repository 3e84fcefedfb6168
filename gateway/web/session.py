"""Page sessions and CSRF for the citizen and FG pages.

The session lives in Starlette's ``SessionMiddleware`` cookie: signed (itsdangerous), **not
encrypted**. So it holds only what may be read by whoever holds the cookie: a random session
id, the role and subject, a display name, the CSRF token, the citizen's keyed pseudonym, and the
citizen's BSN *sealed* with the BSN vault (AES-256-GCM bound to the pseudonym) — never the BSN
in clear. A stateless cookie keeps several gateway processes behind a load balancer working.

CSRF: a synchronizer token per session, sent in every form as ``csrf_token`` and compared with
``hmac.compare_digest``; plus an Origin (or Referer) check against our own origin; plus
SameSite=Lax on the cookie. A login rotates the session id and the token (no fixation).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request

from gateway.auth import Principal, Role
from gateway.context import Loket

SESSION_COOKIE = "loket_session"
#: Sliding idle timeout: the cookie is re-signed on every response while the session lives.
SESSION_IDLE_S = 30 * 60
#: Absolute limit on one login, whatever the activity.
SESSION_ABSOLUTE_S = 8 * 60 * 60
CSRF_FIELD = "csrf_token"
MAX_FORM_FIELDS = 64


class LoginRequired(Exception):
    """Raised by a page that needs a logged-in role; turned into a redirect to the login page."""

    def __init__(self, area: str) -> None:
        super().__init__(area)
        self.area = area


class CsrfRejected(Exception):
    """A form POST without a valid CSRF token or from a foreign origin (403)."""


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


async def checked_form(request: Request, loket: Loket) -> FormData:
    """The POSTed form, after the Origin check and the synchronizer-token check."""
    check_origin(request, loket)
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not expected:
        raise CsrfRejected("missing token")
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRejected("token mismatch")
    return form


def login(request: Request, *, role: Role, sub: str, name: str, pseudonym: str | None = None,
          sealed_bsn: bytes | None = None) -> None:
    """Start a fresh session (new id, new CSRF token): nothing from before the login survives."""
    request.session.clear()
    request.session.update({
        "sid": secrets.token_urlsafe(16),
        "role": role.value,
        "sub": sub,
        "name": name,
        "since": int(time.time()),
        "csrf": secrets.token_urlsafe(32),
    })
    if pseudonym is not None and sealed_bsn is not None:
        request.session["pseudonym"] = pseudonym
        request.session["bsn_sealed"] = base64.b64encode(sealed_bsn).decode("ascii")


def logout(request: Request) -> None:
    request.session.clear()


def flash(request: Request, message: str, kind: str = "ok") -> None:
    messages = list(request.session.get("flash", []))[-4:]
    messages.append({"kind": kind, "text": message})
    request.session["flash"] = messages


def pop_flash(request: Request) -> list[dict[str, Any]]:
    return list(request.session.pop("flash", []) or [])


def _current(request: Request, role: Role) -> dict[str, Any] | None:
    s = request.session
    if s.get("role") != role.value or not isinstance(s.get("sub"), str):
        return None
    since = s.get("since")
    if not isinstance(since, int) or time.time() - since > SESSION_ABSOLUTE_S:
        s.clear()
        return None
    return dict(s)


def current_role(request: Request) -> str | None:
    role = request.session.get("role")
    return role if isinstance(role, str) else None


def citizen_principal(request: Request, loket: Loket) -> Principal:
    """The logged-in citizen, with the BSN unsealed in memory for this request only."""
    s = _current(request, Role.CITIZEN)
    if s is None:
        raise LoginRequired("burger")
    try:
        sealed = base64.b64decode(str(s["bsn_sealed"]), validate=True)
        bsn = loket.vault.open(sealed, str(s["pseudonym"]))
    except Exception:  # noqa: BLE001 -- any unsealing failure means: log in again
        # A cookie signed with our key but sealed with another vault key (key rotation).
        request.session.clear()
        raise LoginRequired("burger") from None
    return Principal(sub=str(s["sub"]), role=Role.CITIZEN, name=str(s.get("name") or ""), bsn=bsn)


def officer_principal(request: Request) -> Principal:
    s = _current(request, Role.PRIVACY_OFFICER)
    if s is None:
        raise LoginRequired("fg")
    return Principal(sub=str(s["sub"]), role=Role.PRIVACY_OFFICER, name=str(s.get("name") or ""))
