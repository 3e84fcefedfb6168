"""The citizen's machtigingen (in the spirit of DigiD Machtigen): a named person may act for
them within the domains they choose, from a start until an end date, until they revoke it.
Giving and revoking are state changes committed with their record (``machtiging:granted``,
``machtiging:revoked``); only the citizen themself does either (a representative cannot
pass their representation on). The next action of the gemachtigde after a revocation is
refused: the check (check.py) reads the table afresh on every request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit.record import AuditEventKind
from gateway.consents.service import citizen_pseudonym
from gateway.core.auditing import event_record
from gateway.core.context import Loket
from gateway.core.errors import BadInput, Conflict, NotFound
from gateway.core.models import Machtiging, utcnow
from gateway.core.tracing import TraceContext
from gateway.core.unit_of_work import commit_with_record
from gateway.identity.auth import Principal, display_claim
from gateway.identity.bsn import require_valid_bsn
from gateway.representation.policy import representation_data

MAX_MACHTIGING_DAYS = 5 * 366


@dataclass(frozen=True)
class MachtigingGrant:
    gemachtigde_bsn: str
    naam: str
    scope: tuple[str, ...]
    valid_until: datetime
    valid_from: datetime | None = None


def grant_machtiging(loket: Loket, principal: Principal, trace: TraceContext, g: MachtigingGrant) -> Machtiging:
    started = datetime.now(UTC)
    pseudonym = citizen_pseudonym(loket, principal)  # the citizen themself, never a representative
    require_valid_bsn(g.gemachtigde_bsn)
    if g.gemachtigde_bsn == principal.bsn:
        raise BadInput("a machtiging names someone else", code="bad-input", param="gemachtigde")
    try:
        naam = display_claim(g.naam.strip()) or ""
    except Exception as e:  # noqa: BLE001 -- the token check's rules for a displayed name
        raise BadInput("name invalid", code="bad-input", param="naam") from e
    if not naam:
        raise BadInput("name the gemachtigde", code="bad-input", param="naam")
    domains = representation_data()["domains"]
    scope = sorted(set(g.scope))
    if not scope or any(s not in domains for s in scope):
        raise BadInput("scope is one or more of the domains", code="bad-input", param="scope")
    start = (g.valid_from or started).astimezone(UTC)
    until = g.valid_until.astimezone(UTC)
    if until <= start or until - start > timedelta(days=MAX_MACHTIGING_DAYS):
        raise BadInput("valid_until is after the start and at most five years on", code="bad-validity")
    row = Machtiging(id=str(uuid.uuid4()), citizen_pseudonym=pseudonym,
                     gemachtigde_pseudonym=loket.pseudonymiser.pseudonym_for(g.gemachtigde_bsn),
                     gemachtigde_naam=naam, scope=scope, valid_from=start, valid_until=until, created_at=utcnow())
    record = event_record(kind=AuditEventKind.MACHTIGING_GRANTED, principal=principal, trace=trace, started=started,
                          status_code=1, outcome="granted", purposes=loket.purposes, data_subject=pseudonym,
                          extra={"machtiging_id": row.id, "scope": ",".join(scope),
                                 "valid_until": until.date().isoformat()})

    def change(session: Session) -> Machtiging:
        session.add(row)
        return row

    return commit_with_record(loket.audit, record, change)


def revoke_machtiging(loket: Loket, principal: Principal, trace: TraceContext, machtiging_id: str) -> Machtiging:
    started = datetime.now(UTC)
    pseudonym = citizen_pseudonym(loket, principal)
    with loket.sessions() as session:
        row = session.get(Machtiging, machtiging_id)
        if row is None or row.citizen_pseudonym != pseudonym:
            raise NotFound("no such machtiging", code="not-found")
        session.expunge(row)
    now = utcnow()
    record = event_record(kind=AuditEventKind.MACHTIGING_REVOKED, principal=principal, trace=trace, started=started,
                          status_code=1, outcome="revoked", purposes=loket.purposes, data_subject=pseudonym,
                          extra={"machtiging_id": row.id})

    def change(session: Session) -> Machtiging:
        done = session.execute(update(Machtiging).where(
            Machtiging.id == row.id, Machtiging.citizen_pseudonym == pseudonym, Machtiging.revoked_at.is_(None))
            .values(revoked_at=now))
        if getattr(done, "rowcount", 0) != 1:
            raise Conflict("machtiging already revoked", code="already-revoked")
        row.revoked_at = now
        return row

    return commit_with_record(loket.audit, record, change)


def my_machtigingen(loket: Loket, principal: Principal) -> list[Machtiging]:
    pseudonym = citizen_pseudonym(loket, principal)
    with loket.sessions() as session:
        return list(session.scalars(select(Machtiging).where(Machtiging.citizen_pseudonym == pseudonym)
                                    .order_by(Machtiging.created_at.desc())))
