"""The citizen's consents (API; the pages build on the same services)."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio
from fastapi import APIRouter

from audit.record import AuditEventKind
from gateway.api.deps import Citizen, LoketDep, TraceDep
from gateway.api.schemas import ConsentCreate, ConsentPublic
from gateway.consents.grants import consents_of, grant_consent, revoke_consent
from gateway.core.auditing import event_record
from gateway.core.context import Loket
from gateway.core.errors import NotAuthenticated
from gateway.core.models import Consent
from gateway.core.tracing import TraceContext
from gateway.identity.auth import Principal

router = APIRouter(prefix="/v1/me", tags=["citizen"])


def citizen_pseudonym(loket: Loket, principal: Principal) -> str:
    if principal.bsn is None:
        raise NotAuthenticated("citizen token carries no BSN", code="invalid-token")
    return loket.pseudonymiser.pseudonym_for(principal.bsn)


def consent_status(c: Consent, now: datetime) -> str:
    if c.revoked_at is not None:
        return "ingetrokken"
    if now < c.valid_from:
        return "nog_niet_geldig"
    if now >= c.valid_until:
        return "verlopen"
    return "geldig"


def consent_public(c: Consent, now: datetime) -> ConsentPublic:
    return ConsentPublic(id=c.id, purpose=c.purpose, agency=c.agency, category=c.category,
                         explicit=c.explicit, valid_from=c.valid_from, valid_until=c.valid_until,
                         revoked_at=c.revoked_at, status=consent_status(c, now))


@router.get("/consents", response_model=list[ConsentPublic])
async def my_consents(loket: LoketDep, principal: Citizen) -> list[ConsentPublic]:
    pseudonym = citizen_pseudonym(loket, principal)

    def load() -> list[Consent]:
        with loket.sessions() as session:
            return consents_of(session, pseudonym)

    now = datetime.now(UTC)
    return [consent_public(c, now) for c in await anyio.to_thread.run_sync(load)]


async def grant(loket: Loket, principal: Principal, trace: TraceContext, body: ConsentCreate,
                consent_request_id: str | None = None) -> Consent:
    started = datetime.now(UTC)
    pseudonym = citizen_pseudonym(loket, principal)

    def create() -> Consent:
        with loket.sessions.begin() as session:
            return grant_consent(
                session, citizen_pseudonym=pseudonym, granted_by_sub=principal.sub,
                purpose=body.purpose, agency=body.agency, category=body.category,
                valid_from=(body.valid_from or started).astimezone(UTC),
                valid_until=body.valid_until.astimezone(UTC), explicit=body.explicit,
                known_purposes=loket.known_purposes, catalog=loket.catalog,
                consent_request_id=consent_request_id,
            )

    consent = await anyio.to_thread.run_sync(create)
    record = event_record(kind=AuditEventKind.CONSENT_GRANTED, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="granted",
                          purposes=loket.purposes, purpose=consent.purpose, data_subject=pseudonym,
                          extra={"consent_id": consent.id, "agency": consent.agency,
                                 "category": consent.category})
    await anyio.to_thread.run_sync(loket.audit.append, record)
    return consent


@router.post("/consents", status_code=201, response_model=ConsentPublic)
async def create_consent(body: ConsentCreate, loket: LoketDep, principal: Citizen,
                         trace: TraceDep) -> ConsentPublic:
    consent = await grant(loket, principal, trace, body)
    return consent_public(consent, datetime.now(UTC))


async def revoke(loket: Loket, principal: Principal, trace: TraceContext, consent_id: str) -> Consent:
    started = datetime.now(UTC)
    pseudonym = citizen_pseudonym(loket, principal)

    def do() -> Consent:
        with loket.sessions.begin() as session:
            return revoke_consent(session, citizen_pseudonym=pseudonym, consent_id=consent_id)

    consent = await anyio.to_thread.run_sync(do)
    record = event_record(kind=AuditEventKind.CONSENT_REVOKED, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="revoked",
                          purposes=loket.purposes, purpose=consent.purpose, data_subject=pseudonym,
                          extra={"consent_id": consent.id, "agency": consent.agency,
                                 "category": consent.category})
    await anyio.to_thread.run_sync(loket.audit.append, record)
    return consent


@router.delete("/consents/{consent_id}", response_model=ConsentPublic)
async def delete_consent(consent_id: str, loket: LoketDep, principal: Citizen,
                         trace: TraceDep) -> ConsentPublic:
    """Revoke a consent. It stops counting from the very next dossier request."""
    consent = await revoke(loket, principal, trace, consent_id)
    return consent_public(consent, datetime.now(UTC))
