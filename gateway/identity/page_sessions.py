"""Server-side page sessions: a login on the citizen or FG pages that the server can end.

The signed cookie (gateway/web/session.py) carries a random session id; the ``page_sessions``
table keeps only its SHA-256, with who logged in and when, and for a citizen the pseudonym and
the BSN sealed by the vault. Every page request looks the id up, and ``check`` decides: unknown,
revoked, past the absolute lifetime or idle too long means signed out. Sign-out revokes the row,
so a copied cookie stops working; "sign out everywhere" and ``loket sessions revoke`` end every
session of a subject (or all). Ended rows are deleted by ``purge`` (on each sign-in and by
``loket sessions purge``).

``check`` is a pure function of the row, the clock and the limits; the functions below it are
the database edge. Times come from ``utcnow`` so tests can move the clock.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Delete, Update, delete, or_, update
from sqlalchemy.orm import Session

from gateway.core.db import SessionFactory
from gateway.core.models import PageSession

log = logging.getLogger(__name__)

#: 32 random bytes (256 bits), base64url: 43 characters.
SESSION_ID_BYTES = 32
#: A session id from a cookie longer than this is not one of ours; refused without a lookup.
MAX_SESSION_ID_CHARS = 64


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SessionLimits:
    idle_s: int
    absolute_s: int
    #: ``last_seen_at`` is written at most this often per session, not on every request.
    touch_every_s: int


class Ended(StrEnum):
    """Why a session id from a cookie no longer signs anyone in."""

    UNKNOWN = "unknown"  # never issued, purged, or not a session id at all
    REVOKED = "revoked"
    EXPIRED = "expired"  # absolute lifetime over
    IDLE = "idle"


@dataclass(frozen=True)
class LiveSession:
    sub: str
    role: str
    pseudonym: str | None
    bsn_sealed: bytes | None
    #: A representative's session: whom they act for (sealed like ``bsn_sealed``).
    acting_for_pseudonym: str | None = None
    acting_for_sealed: bytes | None = None


@dataclass(frozen=True)
class SessionCheck:
    """The answer for one request: a live session, or the reason there is none."""

    session: LiveSession | None
    ended: Ended | None
    touch: bool = False


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def check(row: PageSession | None, now: datetime, limits: SessionLimits) -> SessionCheck:
    """The one place that decides whether a stored session still signs someone in."""
    if row is None:
        return SessionCheck(None, Ended.UNKNOWN)
    if row.revoked_at is not None:
        return SessionCheck(None, Ended.REVOKED)
    if now >= row.expires_at:
        return SessionCheck(None, Ended.EXPIRED)
    idle = now - row.last_seen_at
    if idle > timedelta(seconds=limits.idle_s):
        return SessionCheck(None, Ended.IDLE)
    live = LiveSession(sub=row.sub, role=row.role, pseudonym=row.citizen_pseudonym,
                       bsn_sealed=row.citizen_bsn_sealed, acting_for_pseudonym=row.acting_for_pseudonym,
                       acting_for_sealed=row.acting_for_bsn_sealed)
    return SessionCheck(live, None, touch=idle >= timedelta(seconds=limits.touch_every_s))


def _ended_clause(now: datetime, limits: SessionLimits) -> ColumnElement[bool]:
    return or_(PageSession.revoked_at.is_not(None), PageSession.expires_at <= now,
               PageSession.last_seen_at < now - timedelta(seconds=limits.idle_s))


def _changed(s: Session, statement: Update | Delete) -> int:
    """Rows an UPDATE or DELETE touched."""
    return int(cast(CursorResult[Any], s.execute(statement)).rowcount)


def start(sessions: SessionFactory, *, sub: str, role: str, now: datetime, limits: SessionLimits,
          pseudonym: str | None = None, bsn_sealed: bytes | None = None,
          replaces: object = None, acting_for_pseudonym: str | None = None,
          acting_for_sealed: bytes | None = None) -> str:
    """A new session; returns its id (for the cookie only, never stored). ``replaces`` is the
    session id the browser had before, revoked in the same transaction. Ended rows are purged."""
    session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
    with sessions.begin() as s:
        purged = _changed(s, delete(PageSession).where(_ended_clause(now, limits)))
        if isinstance(replaces, str) and 0 < len(replaces) <= MAX_SESSION_ID_CHARS:
            s.execute(update(PageSession)
                      .where(PageSession.id_sha256 == hash_session_id(replaces), PageSession.revoked_at.is_(None))
                      .values(revoked_at=now))
        s.add(PageSession(id_sha256=hash_session_id(session_id), sub=sub, role=role,
                          citizen_pseudonym=pseudonym, citizen_bsn_sealed=bsn_sealed,
                          acting_for_pseudonym=acting_for_pseudonym, acting_for_bsn_sealed=acting_for_sealed,
                          created_at=now,
                          last_seen_at=now, expires_at=now + timedelta(seconds=limits.absolute_s)))
    if purged:
        log.info("purged %d ended page sessions", purged)
    return session_id


def lookup(sessions: SessionFactory, session_id: object, now: datetime, limits: SessionLimits) -> SessionCheck:
    """Check the session id from a cookie; refresh ``last_seen_at`` when it is due."""
    if not isinstance(session_id, str) or not 0 < len(session_id) <= MAX_SESSION_ID_CHARS:
        return SessionCheck(None, Ended.UNKNOWN)
    id_sha256 = hash_session_id(session_id)
    with sessions() as s:
        result = check(s.get(PageSession, id_sha256), now, limits)
    if result.touch:
        with sessions.begin() as s:
            s.execute(update(PageSession)
                      .where(PageSession.id_sha256 == id_sha256, PageSession.revoked_at.is_(None))
                      .values(last_seen_at=now))
    return result


def revoke(sessions: SessionFactory, session_id: object, now: datetime) -> bool:
    """End one session (sign-out). False if there was no live session with this id."""
    if not isinstance(session_id, str) or not 0 < len(session_id) <= MAX_SESSION_ID_CHARS:
        return False
    with sessions.begin() as s:
        n = _changed(s, update(PageSession)
                     .where(PageSession.id_sha256 == hash_session_id(session_id), PageSession.revoked_at.is_(None))
                     .values(revoked_at=now))
    return bool(n)


def revoke_subject(sessions: SessionFactory, sub: str, now: datetime) -> int:
    """End every session of one subject, in every browser; returns how many were live."""
    with sessions.begin() as s:
        n = _changed(s, update(PageSession)
                     .where(PageSession.sub == sub, PageSession.revoked_at.is_(None))
                     .values(revoked_at=now))
    log.info("revoked %d page sessions of %s", n, sub)
    return n


def revoke_all(sessions: SessionFactory, now: datetime) -> int:
    with sessions.begin() as s:
        n = _changed(s, update(PageSession).where(PageSession.revoked_at.is_(None)).values(revoked_at=now))
    log.info("revoked all %d page sessions", n)
    return n


def purge(sessions: SessionFactory, now: datetime, limits: SessionLimits) -> int:
    """Delete revoked, expired and idle-ended rows; returns how many."""
    with sessions.begin() as s:
        return _changed(s, delete(PageSession).where(_ended_clause(now, limits)))
