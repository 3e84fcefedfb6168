"""Cases bind citizen + purpose + casemanager. A casemanager reaches only their own cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from audit.pseudonym import Pseudonymiser
from gateway.core.errors import BadInput, Forbidden, NotFound
from gateway.core.models import Case
from gateway.identity.auth import Principal, Role
from gateway.identity.bsn import BsnVault, require_valid_bsn


def open_case(
    session: Session,
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
    case = Case(
        id=str(uuid.uuid4()),
        citizen_pseudonym=pseudonym,
        citizen_bsn_sealed=vault.seal(bsn, pseudonym),
        purpose=purpose,
        casemanager_sub=principal.sub,
        status="open",
    )
    session.add(case)
    return case


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
