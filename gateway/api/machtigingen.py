"""The citizen's machtigingen (API): who may act for me, given and revoked by me."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.deps import Citizen, LoketDep, TraceDep
from gateway.core.models import Machtiging
from gateway.representation import machtigingen as service

router = APIRouter(prefix="/v1/me", tags=["citizen"])


class MachtigingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gemachtigde_burgerservicenummer: str = Field(min_length=9, max_length=9, description="BSN of the person")
    naam: str = Field(min_length=1, max_length=200, description="their name, as the citizen knows them")
    scope: list[str] = Field(min_length=1, max_length=3,
                             description="domains: financieel, zorg en behandeling, persoonlijk")
    valid_until: datetime
    valid_from: datetime | None = None


class MachtigingPublic(BaseModel):
    id: str
    naam: str
    scope: list[str]
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None


def _public(m: Machtiging) -> MachtigingPublic:
    return MachtigingPublic(id=m.id, naam=m.gemachtigde_naam, scope=list(m.scope), valid_from=m.valid_from,
                            valid_until=m.valid_until, revoked_at=m.revoked_at)


@router.get("/machtigingen", response_model=list[MachtigingPublic])
async def my_machtigingen(loket: LoketDep, principal: Citizen) -> list[MachtigingPublic]:
    rows = await anyio.to_thread.run_sync(service.my_machtigingen, loket, principal)
    return [_public(m) for m in rows]


@router.post("/machtigingen", status_code=201, response_model=MachtigingPublic)
async def create_machtiging(body: MachtigingCreate, loket: LoketDep, principal: Citizen,
                            trace: TraceDep) -> MachtigingPublic:
    grant = service.MachtigingGrant(gemachtigde_bsn=body.gemachtigde_burgerservicenummer, naam=body.naam,
                                    scope=tuple(body.scope), valid_until=body.valid_until, valid_from=body.valid_from)
    row = await anyio.to_thread.run_sync(partial(service.grant_machtiging, loket, principal, trace, grant))
    return _public(row)


@router.delete("/machtigingen/{machtiging_id}", response_model=MachtigingPublic)
async def delete_machtiging(machtiging_id: Annotated[str, Path(max_length=64)], loket: LoketDep,
                            principal: Citizen, trace: TraceDep) -> MachtigingPublic:
    """Revoke a machtiging: the gemachtigde's next action is refused."""
    row = await anyio.to_thread.run_sync(service.revoke_machtiging, loket, principal, trace, machtiging_id)
    return _public(row)
