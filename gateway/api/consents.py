"""The citizen's consents (API; the pages call the same services)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import anyio
from fastapi import APIRouter

from gateway.api.deps import Citizen, LoketDep, TraceDep
from gateway.api.schemas import ConsentCreate
from gateway.consents import service
from gateway.consents.views import ConsentPublic, consent_public

router = APIRouter(prefix="/v1/me", tags=["citizen"])


def consent_grant(body: ConsentCreate) -> service.ConsentGrant:
    return service.ConsentGrant(purpose=body.purpose, agency=body.agency, category=body.category,
                                team=body.team, valid_from=body.valid_from, valid_until=body.valid_until,
                                explicit=body.explicit)


@router.get("/consents", response_model=list[ConsentPublic])
async def my_consents(loket: LoketDep, principal: Citizen) -> list[ConsentPublic]:
    consents = await anyio.to_thread.run_sync(service.my_consents, loket, principal)
    now = datetime.now(UTC)
    return [consent_public(c, now) for c in consents]


@router.post("/consents", status_code=201, response_model=ConsentPublic)
async def create_consent(body: ConsentCreate, loket: LoketDep, principal: Citizen,
                         trace: TraceDep) -> ConsentPublic:
    consent = await anyio.to_thread.run_sync(partial(service.grant, loket, principal, trace, consent_grant(body)))
    return consent_public(consent, datetime.now(UTC))


@router.delete("/consents/{consent_id}", response_model=ConsentPublic)
async def delete_consent(consent_id: str, loket: LoketDep, principal: Citizen,
                         trace: TraceDep) -> ConsentPublic:
    """Revoke a consent. It stops counting from the very next dossier request."""
    consent = await anyio.to_thread.run_sync(service.revoke, loket, principal, trace, consent_id)
    return consent_public(consent, datetime.now(UTC))
