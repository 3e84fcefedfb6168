"""Cases bind citizen + purpose + casemanager. A casemanager reaches only their own cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from audit.pseudonym import Pseudonymiser
from audit.record import AuditEventKind
from gateway.core.auditing import event_record
from gateway.core.context import Loket
from gateway.core.errors import BadInput, Forbidden, NotFound
from gateway.core.models import Case, utcnow
from gateway.core.tracing import TraceContext
from gateway.core.unit_of_work import commit_with_record
from gateway.identity.auth import Principal, Role
from gateway.identity.bsn import BsnVault, require_valid_bsn


def new_case(
    principal: Principal,
    *,
    bsn: str,
    purpose: str,
    known_purposes: set[str],
    pseudonymiser: Pseudonymiser,
    vault: BsnVault,
) -> Case:
    if principal.role is not Role.CASEMANAGER:
        raise Forbidden("only a casemanager can open a case")
    require_valid_bsn(bsn)
    if purpose not in known_purposes:
        raise BadInput("unknown purpose", code="unknown-purpose")
    pseudonym = pseudonymiser.pseudonym_for(bsn)
    return Case(
        id=str(uuid.uuid4()),
        citizen_pseudonym=pseudonym,
        citizen_bsn_sealed=vault.seal(bsn, pseudonym),
        purpose=purpose,
        casemanager_sub=principal.sub,
        status="open",
        created_at=utcnow(),
    )


def open_case(loket: Loket, principal: Principal, trace: TraceContext, *, bsn: str, purpose: str) -> Case:
    """Open a case, committed with its ``case:opened`` record."""
    started = datetime.now(UTC)
    case = new_case(principal, bsn=bsn, purpose=purpose, known_purposes=loket.known_purposes,
                    pseudonymiser=loket.pseudonymiser, vault=loket.vault)
    record = event_record(kind=AuditEventKind.CASE_OPENED, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="opened",
                          purposes=loket.purposes, purpose=case.purpose, case_id=case.id,
                          data_subject=case.citizen_pseudonym)

    def change(session: Session) -> Case:
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


def load_own_case(session: Session, principal: Principal, case_id: str) -> Case:
    """The case, if it is this casemanager's. Someone else's case is reported as not found,
    so case ids cannot be probed."""
    _check_may_use(principal, case_id)
    case = session.get(Case, case_id)
    if case is None or case.casemanager_sub != principal.sub:
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


_CASE_FACTS = select(
    Case.id, Case.purpose, Case.casemanager_sub, Case.citizen_pseudonym, Case.citizen_bsn_sealed
).where(Case.id == bindparam("case_id"))


def load_own_case_facts(conn: Connection, principal: Principal, case_id: str) -> CaseFacts:
    """:func:`load_own_case` for the dossier: the same checks, the same not-found."""
    _check_may_use(principal, case_id)
    row = conn.execute(_CASE_FACTS, {"case_id": case_id}).first()
    if row is None or row.casemanager_sub != principal.sub:
        raise NotFound("no such case")
    return CaseFacts(row.id, row.purpose, row.casemanager_sub, row.citizen_pseudonym,
                     bytes(row.citizen_bsn_sealed))


def cases_of(session: Session, principal: Principal) -> list[Case]:
    stmt = select(Case).where(Case.casemanager_sub == principal.sub).order_by(Case.created_at.desc())
    return list(session.scalars(stmt))
