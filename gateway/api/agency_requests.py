"""The case overview (action first) and two-way requests to agencies: ``POST
/v1/cases/{id}/requests`` (casemanager), the status of a case's requests, and the citizen's view
of what was asked on their behalf."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path
from pydantic import Field

from gateway.api.deps import CaseManager, Citizen, LoketDep, TraceDep
from gateway.api.schemas import Strict
from gateway.api.workspace_schemas import AgencyRequestList, AgencyRequestPublic, OverviewPublic
from gateway.consents.service import citizen_pseudonym
from gateway.workspace.agency_requests import (
    NewAgencyRequest,
    collect_answers,
    my_case_requests,
    requests_of_citizen,
    send_request,
)
from gateway.workspace.overview import case_overview, overview_json

router = APIRouter(tags=["agency requests"])
CaseId = Annotated[str, Path(max_length=64)]


class AgencyRequestCreate(Strict):
    type: str = Field(max_length=32, description="pause_collection | payment_plan | warm_handover")
    agency: str = Field(max_length=64)
    until_days: int | None = Field(default=None, ge=1, le=365, description="pause_collection: how long")
    monthly_amount: str | None = Field(default=None, max_length=12, pattern=r"^\d{1,5}([.,]\d{1,2})?$",
                                       description="payment_plan: euros per month")


@router.post("/v1/cases/{case_id}/requests", status_code=201, response_model=AgencyRequestPublic)
async def create_agency_request(case_id: CaseId, body: AgencyRequestCreate, loket: LoketDep,
                                principal: CaseManager, trace: TraceDep) -> dict[str, Any]:
    """Ask an agency, on the citizen's behalf, to pause collection, agree a payment plan or take
    over warmly. Decided by the policy (purpose and ground); a refusal is 403, recorded, and
    nothing is sent. The agency answers later: see ``GET`` on the same path."""
    new = NewAgencyRequest(request_type=body.type, agency=body.agency, until_days=body.until_days,
                           monthly_amount=body.monthly_amount.replace(",", ".") if body.monthly_amount else None)
    view = await send_request(loket, principal, trace, case_id, new)
    return view.as_json()


@router.get("/v1/cases/{case_id}/requests", response_model=AgencyRequestList)
async def list_agency_requests(case_id: CaseId, loket: LoketDep, principal: CaseManager) -> dict[str, Any]:
    views = await anyio.to_thread.run_sync(my_case_requests, loket, principal, case_id)  # 404 first
    if any(v.status == "sent" for v in views):
        await collect_answers(loket, case_id=case_id)
        views = await anyio.to_thread.run_sync(my_case_requests, loket, principal, case_id)
    return {"requests": [v.as_json() for v in views]}


@router.get("/v1/me/agency-requests", response_model=AgencyRequestList)
async def list_my_agency_requests(loket: LoketDep, principal: Citizen) -> dict[str, Any]:
    """What casemanagers asked agencies on my behalf, and the answers."""
    pseudonym = citizen_pseudonym(loket, principal)
    await collect_answers(loket, pseudonym=pseudonym)
    views = await anyio.to_thread.run_sync(requests_of_citizen, loket, pseudonym)
    return {"requests": [v.as_json() for v in views]}


@router.get("/v1/cases/{case_id}/overview", response_model=OverviewPublic)
async def get_case_overview(case_id: CaseId, loket: LoketDep, principal: CaseManager,
                            trace: TraceDep) -> dict[str, Any]:
    """What needs action first in this case, computed only from what the decision disclosed:
    deadlines and threats, open arrears per agency with the total, who may act for the citizen,
    the agencies' lines for professionals, and what was already asked. The look is audited as
    any dossier request is; what could not be seen is listed with the reason."""
    result = await case_overview(loket, principal, trace, case_id)
    return overview_json(result)
