"""Consent requests: the casemanager asks, the citizen sees exactly what and answers per category.

Every step is audited in the same transaction as its change (gateway/consents/service.py):
``consent_request:created`` (casemanager), ``consent:granted`` per approved category and
``consent_request:answered`` (citizen). The message text never goes into the log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Path, Query, Request
from pydantic import Field

from gateway.api.cases import audit_denied
from gateway.api.deps import CaseManager, Citizen, LoketDep, TraceDep
from gateway.api.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, cut, links
from gateway.api.schemas import Strict
from gateway.consents import service
from gateway.consents.requests import DEFAULT_VALID_DAYS, MAX_ITEMS_PER_REQUEST, MAX_MESSAGE_CHARS, MAX_VALID_DAYS
from gateway.consents.views import ConsentRequestPublic
from gateway.core.errors import Forbidden, NotFound

router = APIRouter(tags=["consent requests"])


class ConsentRequestCreate(Strict):
    categories: list[str] = Field(min_length=1, max_length=MAX_ITEMS_PER_REQUEST,
                                  description="agency.category, e.g. duo.studieschuld")
    message: str = Field(default="", max_length=MAX_MESSAGE_CHARS,
                         description="Shown to the citizen. Plain words; never a BSN.")
    valid_days: int = Field(default=DEFAULT_VALID_DAYS, ge=1, le=MAX_VALID_DAYS)


class ConsentRequestPage(Page[ConsentRequestPublic]):
    """One page of consent requests, newest first."""


def _page_key(r: ConsentRequestPublic) -> list[str]:
    return [r.created_at.isoformat(), r.id]


class ConsentRequestAnswer(Strict):
    answers: dict[Annotated[str, Field(max_length=130)], Literal["approve", "decline"]] = Field(
        max_length=MAX_ITEMS_PER_REQUEST, description="agency.category → approve | decline")


@router.post("/v1/cases/{case_id}/consent-requests", status_code=201, response_model=ConsentRequestPublic)
async def post_consent_request(case_id: Annotated[str, Path(max_length=64)], body: ConsentRequestCreate,
                               loket: LoketDep, principal: CaseManager, trace: TraceDep) -> ConsentRequestPublic:
    """Ask the citizen of this case for consent for categories the purpose needs but no law covers."""
    started = datetime.now(UTC)
    try:
        return await anyio.to_thread.run_sync(partial(
            service.create_request, loket, principal, trace, case_id, categories=body.categories,
            message=body.message, valid_days=body.valid_days))
    except (NotFound, Forbidden) as e:
        await audit_denied(loket, principal, trace, started, case_id, e)
        raise


@router.get("/v1/cases/{case_id}/consent-requests", response_model=ConsentRequestPage)
async def list_case_consent_requests(case_id: Annotated[str, Path(max_length=64)], request: Request,
                                     loket: LoketDep, principal: CaseManager, trace: TraceDep,
                                     cursor: CursorQuery = None,
                                     limit: LimitQuery = DEFAULT_LIMIT) -> ConsentRequestPage:
    """The requests of this case with the citizen's answers (the casemanager's own cases only)."""
    started = datetime.now(UTC)
    try:
        items = await anyio.to_thread.run_sync(service.requests_of_case, loket, principal, case_id)
    except (NotFound, Forbidden) as e:
        await audit_denied(loket, principal, trace, started, case_id, e)
        raise
    page, nxt = cut(items, list_name="case-consent-requests", key=_page_key, cursor=cursor, limit=limit,
                    descending=True)
    return ConsentRequestPage(items=page, next_cursor=nxt, links=links(request, nxt))


@router.get("/v1/me/consent-requests", response_model=ConsentRequestPage)
async def my_consent_requests(request: Request, loket: LoketDep, principal: Citizen,
                              include_answered: Annotated[bool, Query(alias="all")] = False,
                              cursor: CursorQuery = None, limit: LimitQuery = DEFAULT_LIMIT,
                              ) -> ConsentRequestPage:
    """Open requests (``all=true``: answered ones too) with what would be shared, with whom, why."""
    items = await anyio.to_thread.run_sync(partial(service.requests_of_me, loket, principal,
                                                   only_open=not include_answered))
    page, nxt = cut(items, list_name="my-consent-requests", key=_page_key, cursor=cursor, limit=limit,
                    descending=True)
    return ConsentRequestPage(items=page, next_cursor=nxt, links=links(request, nxt))


@router.post("/v1/me/consent-requests/{request_id}/answer", response_model=ConsentRequestPublic)
async def answer_consent_request(request_id: Annotated[str, Path(max_length=64)], body: ConsentRequestAnswer,
                                 loket: LoketDep, principal: Citizen, trace: TraceDep) -> ConsentRequestPublic:
    """Approve or decline each category. An approval is a consent like any other: revocable."""
    return await anyio.to_thread.run_sync(service.answer_request, loket, principal, trace, request_id,
                                          dict(body.answers))
