"""What a case starts from: the citizen's aanmeldingen and the schuldhulp agency's signals."""

from __future__ import annotations

from functools import partial

import anyio
from fastapi import APIRouter

from gateway.api.deps import Citizen, Coordinator, LoketDep, TraceDep
from gateway.api.schemas import AanmeldingCreate, AanmeldingPublic, SignalPublic
from gateway.cases import intake
from gateway.core.context import Loket
from gateway.core.models import Aanmelding, Signal

router = APIRouter(tags=["intake"])


def aanmelding_public(a: Aanmelding, loket: Loket) -> AanmeldingPublic:
    info = loket.purposes.get(a.purpose) or {}
    return AanmeldingPublic(id=a.id, purpose=a.purpose, purpose_label=info.get("label_nl"), message=a.message,
                            status=a.status, case_id=a.case_id, created_at=a.created_at)


def signal_public(s: Signal) -> SignalPublic:
    return SignalPublic(id=s.id, source_agency=s.source_agency, soort=s.soort, achterstand=s.achterstand,
                        signaled_on=s.signaled_on, status=s.status, case_id=s.case_id, received_at=s.received_at)


@router.post("/v1/me/aanmeldingen", status_code=201, response_model=AanmeldingPublic)
async def create_aanmelding(body: AanmeldingCreate, loket: LoketDep, principal: Citizen,
                            trace: TraceDep) -> AanmeldingPublic:
    """"Ik wil hulp": the citizen asks for help; a coordinator assigns a casemanager."""
    a = await anyio.to_thread.run_sync(partial(intake.create_aanmelding, loket, principal, trace,
                                               purpose=body.purpose, message=body.message))
    return aanmelding_public(a, loket)


@router.get("/v1/me/aanmeldingen", response_model=list[AanmeldingPublic])
async def my_aanmeldingen(loket: LoketDep, principal: Citizen) -> list[AanmeldingPublic]:
    return [aanmelding_public(a, loket) for a in await anyio.to_thread.run_sync(
        intake.my_aanmeldingen, loket, principal)]


@router.get("/v1/aanmeldingen", response_model=list[AanmeldingPublic])
async def open_aanmeldingen(loket: LoketDep, principal: Coordinator) -> list[AanmeldingPublic]:
    """Aanmeldingen waiting for a casemanager (coordinator only), oldest first."""
    return [aanmelding_public(a, loket) for a in await anyio.to_thread.run_sync(
        intake.open_aanmeldingen, loket, principal)]


@router.get("/v1/signals", response_model=list[SignalPublic])
async def open_signals(loket: LoketDep, principal: Coordinator) -> list[SignalPublic]:
    """Early-warning signals waiting for a casemanager (coordinator only), oldest first."""
    return [signal_public(s) for s in await anyio.to_thread.run_sync(intake.open_signals, loket, principal)]


@router.post("/v1/signals/import", response_model=list[SignalPublic])
async def import_signals(loket: LoketDep, principal: Coordinator, trace: TraceDep) -> list[SignalPublic]:
    """Fetch new signals from the schuldhulp agency (each stored once, with its audit record)."""
    return [signal_public(s) for s in await anyio.to_thread.run_sync(
        intake.import_signals, loket, principal, trace)]
