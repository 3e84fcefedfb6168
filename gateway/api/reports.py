""""Ik herken dit niet": the citizen reports a line of their access log, the FG answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Query
from pydantic import Field

from gateway.api.deps import Citizen, LoketDep, PrivacyOfficer, TraceDep
from gateway.api.schemas import Strict
from gateway.api.workspace_schemas import ReportList, ReportPublic
from gateway.oversight.reports import (
    MAX_ANSWER_CHARS,
    MAX_REPORT_CHARS,
    answer_report,
    load_report,
    report_access,
    report_queue,
    reports_of_me,
)

router = APIRouter(tags=["access reports"])


class ReportBody(Strict):
    message: str = Field(default="", max_length=MAX_REPORT_CHARS,
                         description="optional: what the citizen does not recognise (no BSN)")


class AnswerBody(Strict):
    answer: str = Field(min_length=10, max_length=MAX_ANSWER_CHARS)


@router.post("/v1/me/accesses/{index}/reports", status_code=201, response_model=ReportPublic)
async def create_access_report(index: Annotated[int, Path(ge=0, le=2**62)], body: ReportBody, loket: LoketDep,
                               principal: Citizen, trace: TraceDep) -> dict[str, Any]:
    """Report one of my access records as not recognised; it lands in the FG's queue."""
    view = await anyio.to_thread.run_sync(report_access, loket, principal, trace, index, body.message)
    return view.as_json()


@router.get("/v1/me/reports", response_model=ReportList)
async def list_my_access_reports(loket: LoketDep, principal: Citizen) -> dict[str, Any]:
    views = await anyio.to_thread.run_sync(reports_of_me, loket, principal)
    return {"reports": [v.as_json() for v in views]}


@router.get("/v1/fg/reports", response_model=ReportList)
async def list_access_reports(loket: LoketDep, principal: PrivacyOfficer,
                           status: Annotated[Literal["open", "all"], Query()] = "open") -> dict[str, Any]:
    views = await anyio.to_thread.run_sync(lambda: report_queue(loket, open_only=status == "open"))
    return {"reports": [v.as_json(for_officer=True) for v in views]}


@router.get("/v1/fg/reports/{report_id}", response_model=ReportPublic)
async def get_access_report(report_id: Annotated[str, Path(max_length=36)], loket: LoketDep,
                     principal: PrivacyOfficer) -> dict[str, Any]:
    view = await anyio.to_thread.run_sync(load_report, loket, report_id)
    return view.as_json(for_officer=True)


@router.post("/v1/fg/reports/{report_id}/answer", response_model=ReportPublic)
async def answer_access_report(report_id: Annotated[str, Path(max_length=36)], body: AnswerBody, loket: LoketDep,
                      principal: PrivacyOfficer, trace: TraceDep) -> dict[str, Any]:
    view = await anyio.to_thread.run_sync(answer_report, loket, principal, trace, report_id, body.answer)
    return view.as_json(for_officer=True)
