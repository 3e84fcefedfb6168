"""Cases bind citizen + purpose + casemanager. A casemanager reaches only their own cases."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from audit.record import AuditEventKind
from gateway.cases.grounds import Ground, GroundType, check_assignment, require_ground_allowed
from gateway.core.auditing import event_record
from gateway.core.context import Loket
from gateway.core.errors import BadInput, Conflict, Forbidden, NotFound
from gateway.core.models import Aanmelding, Case, Signal, utcnow
from gateway.core.tracing import TraceContext
from gateway.core.unit_of_work import commit_with_record
from gateway.identity.auth import Principal, Role
from gateway.identity.bsn import require_valid_bsn

OPEN, ASSIGNED = "open", "assigned"


def open_case(loket: Loket, principal: Principal, trace: TraceContext, *, ground: Ground,
              bsn: str | None = None, purpose: str | None = None) -> Case:
    """A coordinator opens a case on a ground and assigns it to a casemanager of their team,
    committed with its ``case:opened`` record (and the aanmelding or signal marked assigned)."""
    started = datetime.now(UTC)
    g = check_assignment(principal, ground)
    source: Aanmelding | Signal | None = None
    with loket.sessions() as session:
        if g.type is GroundType.TOEWIJZING:
            if bsn is None or purpose is None:
                raise BadInput("an assignment names the citizen's BSN and the purpose", code="bad-ground")
            pseudonym = loket.pseudonymiser.pseudonym_for(require_valid_bsn(bsn))
            sealed = loket.vault.seal(bsn, pseudonym)
        else:
            source = (session.get(Aanmelding, g.id) if g.type is GroundType.AANMELDING
                      else session.get(Signal, g.id))
            if source is None:
                raise NotFound(f"no such {g.type.value}")
            if source.status != OPEN:
                raise Conflict(f"this {g.type.value} was already assigned", code="already-assigned")
            pseudonym, sealed = source.citizen_pseudonym, bytes(source.citizen_bsn_sealed)
            if bsn is not None and loket.pseudonymiser.pseudonym_for(require_valid_bsn(bsn)) != pseudonym:
                raise BadInput(f"the BSN is not the citizen of this {g.type.value}", code="bsn-mismatch")
            if isinstance(source, Aanmelding):
                if purpose is not None and purpose != source.purpose:
                    raise BadInput("the purpose is the one the citizen asked help for", code="purpose-mismatch")
                purpose = source.purpose
            elif purpose is None:
                raise BadInput("name the purpose of the case", code="bad-ground")
    assert purpose is not None
    require_ground_allowed(loket.purposes, purpose, g.type)
    case = Case(
        id=str(uuid.uuid4()), citizen_pseudonym=pseudonym, citizen_bsn_sealed=sealed, purpose=purpose,
        casemanager_sub=g.casemanager, status="open", created_at=utcnow(), team=principal.team,
        ground_type=g.type.value, ground_id=g.id, ground_reason=g.reason, assigned_by_sub=principal.sub,
    )
    extra = {"ground_type": g.type.value, "casemanager": g.casemanager, "team": principal.team or ""}
    if g.id:
        extra["ground_id"] = g.id
    if g.reason:
        extra["reason_sha256"] = hashlib.sha256(g.reason.encode("utf-8")).hexdigest()
    record = event_record(kind=AuditEventKind.CASE_OPENED, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="opened",
                          purposes=loket.purposes, purpose=case.purpose, case_id=case.id,
                          data_subject=case.citizen_pseudonym, extra=extra)

    def change(session: Session) -> Case:
        if source is not None:
            row = type(source)
            done = session.execute(update(row).where(row.id == source.id, row.status == OPEN)
                                   .values(status=ASSIGNED, case_id=case.id))
            if getattr(done, "rowcount", 0) != 1:
                raise Conflict(f"this {g.type.value} was already assigned", code="already-assigned")
        session.add(case)
        return case

    return commit_with_record(loket.audit, record, change)


def my_cases(loket: Loket, principal: Principal) -> list[Case]:
    with loket.sessions() as session:
        return cases_of(session, principal)


def my_case(loket: Loket, principal: Principal, case_id: str) -> Case:
    with loket.sessions() as session:
        return load_own_case(session, principal, case_id)


def _check_may_use(principal: Principal, case_id: str) -> None:
    if principal.role is not Role.CASEMANAGER:
        raise Forbidden("only the case's casemanager can use a case")
    try:
        uuid.UUID(case_id)
    except ValueError as e:
        raise NotFound("no such case") from e


def _is_theirs(casemanager_sub: str, team: str | None, principal: Principal) -> bool:
    """Assigned to this casemanager, in their team (a case from before teams has none)."""
    return casemanager_sub == principal.sub and (team is None or team == principal.team)


def load_own_case(session: Session, principal: Principal, case_id: str) -> Case:
    """The case, if it is this casemanager's. Someone else's case is reported as not found,
    so case ids cannot be probed."""
    _check_may_use(principal, case_id)
    case = session.get(Case, case_id)
    if case is None or not _is_theirs(case.casemanager_sub, case.team, principal):
        raise NotFound("no such case")
    return case


@dataclass(frozen=True)
class CaseFacts:
    """What a dossier request needs of its case, read without the ORM (the hot path)."""

    id: str
    purpose: str
    casemanager_sub: str
    citizen_pseudonym: str
    citizen_bsn_sealed: bytes
    team: str | None = None
    ground_type: str | None = None


_CASE_FACTS = select(
    Case.id, Case.purpose, Case.casemanager_sub, Case.citizen_pseudonym, Case.citizen_bsn_sealed,
    Case.team, Case.ground_type,
).where(Case.id == bindparam("case_id"))


def load_own_case_facts(conn: Connection, principal: Principal, case_id: str) -> CaseFacts:
    """:func:`load_own_case` for the dossier: the same checks, the same not-found."""
    _check_may_use(principal, case_id)
    row = conn.execute(_CASE_FACTS, {"case_id": case_id}).first()
    if row is None or not _is_theirs(row.casemanager_sub, row.team, principal):
        raise NotFound("no such case")
    return CaseFacts(row.id, row.purpose, row.casemanager_sub, row.citizen_pseudonym,
                     bytes(row.citizen_bsn_sealed), row.team, row.ground_type)


def cases_of(session: Session, principal: Principal) -> list[Case]:
    stmt = select(Case).where(Case.casemanager_sub == principal.sub).order_by(Case.created_at.desc())
    return [c for c in session.scalars(stmt) if _is_theirs(c.casemanager_sub, c.team, principal)]
