""""Ik herken dit niet": a citizen reports a line of their access log they do not recognise; it
lands in the FG's queue, the FG answers, and the citizen sees the status on their page.

Both steps are state changes committed with their audit record (gateway/core/unit_of_work.py).
The citizen's words and the FG's answer are stored in ``access_reports`` for the two of them to
read; the log holds only their SHA-256 (no free text in the append-only log).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit.record import AuditEventKind
from gateway.consents.service import citizen_pseudonym
from gateway.core.auditing import event_record
from gateway.core.context import Loket
from gateway.core.errors import BadInput, Conflict, NotFound
from gateway.core.models import AccessReport, utcnow
from gateway.core.tracing import TraceContext
from gateway.core.unit_of_work import commit_with_record
from gateway.identity.auth import Principal
from gateway.identity.free_text import check_free_text
from gateway.oversight.access_log import CITIZEN_ACCESS_KINDS, own_record, time_nl

MAX_REPORT_CHARS = 1000
MAX_ANSWER_CHARS = 2000
OPEN, ANSWERED = "open", "answered"
STATUS_NL = {OPEN: "De functionaris gegevensbescherming bekijkt uw melding.",
             ANSWERED: "De functionaris gegevensbescherming heeft uw melding beantwoord."}


@dataclass(frozen=True)
class ReportView:
    id: str
    record_index: int
    case_id: str | None
    actor_sub: str
    message: str
    status: str
    status_nl: str
    answer: str | None
    created_at: datetime
    created_nl: str
    answered_at: datetime | None
    answered_by: str | None
    citizen_pseudonym: str

    def as_json(self, *, for_officer: bool = False) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id, "record_index": self.record_index, "case_id": self.case_id,
            "message": self.message, "status": self.status, "status_text": self.status_nl,
            "answer": self.answer, "created_at": self.created_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
        }
        if for_officer:
            out.update(actor_sub=self.actor_sub, answered_by=self.answered_by,
                       data_subject_id=self.citizen_pseudonym)
        return out


def _view(r: AccessReport) -> ReportView:
    return ReportView(id=r.id, record_index=r.record_index, case_id=r.case_id, actor_sub=r.actor_sub,
                      message=r.message, status=r.status, status_nl=STATUS_NL.get(r.status, r.status),
                      answer=r.answer, created_at=r.created_at, created_nl=time_nl(r.created_at),
                      answered_at=r.answered_at, answered_by=r.answered_by,
                      citizen_pseudonym=r.citizen_pseudonym)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def report_access(loket: Loket, principal: Principal, trace: TraceContext, index: int,
                  message: str) -> ReportView:
    """The citizen does not recognise record ``index`` (one of their own: anyone else's is 404).
    One report per record: a second is 409 and changes nothing."""
    started = datetime.now(UTC)
    pseudonym = citizen_pseudonym(loket, principal)
    item = own_record(loket.audit, pseudonym, index)
    if item.record.kind not in CITIZEN_ACCESS_KINDS:
        raise NotFound("no such access record")
    text = check_free_text(message or "", max_chars=MAX_REPORT_CHARS, what="message")
    r = item.record
    report = AccessReport(id=str(uuid.uuid4()), citizen_pseudonym=pseudonym, record_index=index,
                          record_id=r.record_id, case_id=r.case_id, actor_sub=r.actor_sub, message=text,
                          status=OPEN, created_at=utcnow())
    extra = {"report_id": report.id, "reported_record_id": r.record_id, "reported_index": str(index)}
    if text:
        extra["message_sha256"] = _sha(text)
    record = event_record(kind=AuditEventKind.ACCESS_REPORT_CREATED, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="reported", purposes=loket.purposes,
                          purpose=r.purpose, case_id=r.case_id, data_subject=pseudonym, extra=extra)

    def change(session: Session) -> AccessReport:
        exists = session.scalar(select(AccessReport.id).where(
            AccessReport.citizen_pseudonym == pseudonym, AccessReport.record_index == index))
        if exists is not None:
            raise Conflict("this access was already reported", code="already-reported")
        session.add(report)
        return report

    return _view(commit_with_record(loket.audit, record, change))


def reports_of_me(loket: Loket, principal: Principal) -> list[ReportView]:
    pseudonym = citizen_pseudonym(loket, principal)
    with loket.sessions() as session:
        rows = session.scalars(select(AccessReport).where(AccessReport.citizen_pseudonym == pseudonym)
                               .order_by(AccessReport.created_at.desc()))
        return [_view(r) for r in rows]


def report_queue(loket: Loket, *, open_only: bool) -> list[ReportView]:
    """The FG's queue: open reports oldest first (first come, first answered), then answered."""
    with loket.sessions() as session:
        stmt = select(AccessReport)
        if open_only:
            stmt = stmt.where(AccessReport.status == OPEN).order_by(AccessReport.created_at)
        else:
            stmt = stmt.order_by(AccessReport.created_at.desc()).limit(200)
        return [_view(r) for r in session.scalars(stmt)]


def load_report(loket: Loket, report_id: str) -> ReportView:
    with loket.sessions() as session:
        row = session.get(AccessReport, report_id[:36])
        if row is None:
            raise NotFound("no such report")
        return _view(row)


def answer_report(loket: Loket, principal: Principal, trace: TraceContext, report_id: str,
                  answer: str) -> ReportView:
    """The FG's answer, committed with its ``access_report:answered`` record; a second answer is
    409 (compare-and-set)."""
    started = datetime.now(UTC)
    current = load_report(loket, report_id)
    text = check_free_text(answer or "", max_chars=MAX_ANSWER_CHARS, what="answer")
    if len(text) < 10:
        raise BadInput("write a short answer for the citizen", code="answer-required")
    now = utcnow()
    record = event_record(kind=AuditEventKind.ACCESS_REPORT_ANSWERED, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="answered", purposes=loket.purposes,
                          case_id=current.case_id, data_subject=current.citizen_pseudonym,
                          extra={"report_id": current.id, "answer_sha256": _sha(text)})

    def change(session: Session) -> None:
        done = session.execute(update(AccessReport)
                               .where(AccessReport.id == current.id, AccessReport.status == OPEN)
                               .values(status=ANSWERED, answer=text, answered_by=principal.sub, answered_at=now))
        if getattr(done, "rowcount", 0) != 1:
            raise Conflict("this report was already answered", code="already-answered")

    commit_with_record(loket.audit, record, change)
    return load_report(loket, current.id)

