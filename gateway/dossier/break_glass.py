"""The privacy officer's review of emergency (break-glass) accesses.

Every break-glass dossier request leaves a ``BreakGlassEvent`` (gateway/dossier/flow.py) that waits
in the FG's queue until reviewed as justified or not justified, with a note. A review is a
compare-and-set from ``pending``: it cannot be overwritten later, so the verdict the citizen sees
is the one the FG gave. The note stays in the database; the audit log gets only its hash.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gateway.core.errors import BadInput, Conflict, NotFound
from gateway.core.models import BreakGlassEvent, Case, utcnow
from gateway.identity.free_text import check_free_text

PENDING = "pending"
MAX_REVIEW_NOTE_CHARS = 4000
MIN_REVIEW_NOTE_CHARS = 5


class Verdict(StrEnum):
    JUSTIFIED = "justified"
    NOT_JUSTIFIED = "not_justified"


VERDICT_NL = {PENDING: "Nog niet beoordeeld", Verdict.JUSTIFIED.value: "Terecht gebruikt",
              Verdict.NOT_JUSTIFIED.value: "Niet terecht gebruikt"}


@dataclass(frozen=True)
class QueueItem:
    id: str
    case_id: str
    purpose: str
    decision_id: str
    casemanager_sub: str
    citizen_pseudonym: str
    justification: str
    review_status: str
    reviewer_sub: str | None
    review_note: str | None
    reviewed_at: datetime | None
    created_at: datetime


def _item(ev: BreakGlassEvent, purpose: str) -> QueueItem:
    return QueueItem(id=ev.id, case_id=ev.case_id, purpose=purpose, decision_id=ev.decision_id,
                     casemanager_sub=ev.casemanager_sub, citizen_pseudonym=ev.citizen_pseudonym,
                     justification=ev.justification, review_status=ev.review_status,
                     reviewer_sub=ev.reviewer_sub, review_note=ev.review_note,
                     reviewed_at=ev.reviewed_at, created_at=ev.created_at)


def queue(session: Session, *, pending_only: bool = True, limit: int = 100) -> list[QueueItem]:
    """Oldest pending first: the longest-waiting emergency access is reviewed first."""
    stmt = select(BreakGlassEvent, Case.purpose).join(Case, Case.id == BreakGlassEvent.case_id)
    if pending_only:
        stmt = stmt.where(BreakGlassEvent.review_status == PENDING).order_by(BreakGlassEvent.created_at)
    else:
        stmt = stmt.order_by(BreakGlassEvent.created_at.desc())
    return [_item(ev, purpose) for ev, purpose in session.execute(stmt.limit(limit))]


def pending_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(BreakGlassEvent)
                              .where(BreakGlassEvent.review_status == PENDING)) or 0)


def load_event(session: Session, event_id: str) -> QueueItem:
    try:
        uuid.UUID(event_id)
    except ValueError as e:
        raise NotFound("no such break-glass event") from e
    row = session.execute(select(BreakGlassEvent, Case.purpose).join(Case, Case.id == BreakGlassEvent.case_id)
                          .where(BreakGlassEvent.id == event_id)).first()
    if row is None:
        raise NotFound("no such break-glass event")
    return _item(row[0], row[1])


def check_review(verdict: str, note: str) -> str:
    """The verdict is one of the two; the note is short free text without a BSN. Returns the note."""
    try:
        Verdict(verdict)
    except ValueError as e:
        raise BadInput("verdict is 'justified' or 'not_justified'", code="bad-verdict") from e
    text = check_free_text(note, max_chars=MAX_REVIEW_NOTE_CHARS, what="review note")
    if len(text) < MIN_REVIEW_NOTE_CHARS:
        raise BadInput("write a short note with the review", code="note-required")
    return text


def review(session: Session, event_id: str, *, reviewer_sub: str, verdict: str, note: str) -> QueueItem:
    """Compare-and-set pending → verdict (a second review is a 409). Check with check_review first."""
    v = Verdict(verdict)
    text = check_review(verdict, note)
    load_event(session, event_id)  # 404 before 409
    result = session.execute(
        update(BreakGlassEvent)
        .where(BreakGlassEvent.id == event_id, BreakGlassEvent.review_status == PENDING)
        .values(review_status=v.value, reviewer_sub=reviewer_sub, review_note=text, reviewed_at=utcnow())
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict("this break-glass access was already reviewed", code="already-reviewed")
    session.flush()
    session.expire_all()
    return load_event(session, event_id)
