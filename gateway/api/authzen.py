"""The AuthZEN access evaluation endpoint (OpenID AuthZEN Authorization API 1.0, NLGov profile)
and the PDP metadata that points at it. See gateway/dossier/evaluation.py for what is decided."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.cases import audit_denied
from gateway.api.deps import CaseManager, LoketDep
from gateway.core.errors import Forbidden, NotFound
from gateway.core.tracing import TraceContext
from gateway.dossier.evaluation import check_request, evaluate_access

router = APIRouter(tags=["authzen"])

EVALUATION_PATH = "/access/v1/evaluation"


class _Open(BaseModel):
    # AuthZEN entities may carry properties this PDP does not use; they are ignored, not refused.
    model_config = ConfigDict(extra="allow")


class Subject(_Open):
    type: str = Field(max_length=64)
    id: str = Field(max_length=128)
    properties: dict[str, Any] | None = None


class Resource(_Open):
    type: str = Field(max_length=64)
    id: str = Field(max_length=64)
    properties: dict[str, Any] | None = None


class Action(_Open):
    name: str = Field(max_length=64)
    properties: dict[str, Any] | None = None


class EvaluationContext(_Open):
    time: str | None = Field(default=None, max_length=40)
    traceparent: str | None = Field(default=None, max_length=128)


class EvaluationRequest(BaseModel):
    subject: Subject
    resource: Resource
    action: Action
    context: EvaluationContext | None = None


class EvaluationResponse(BaseModel):
    decision: bool
    context: dict[str, Any]


@router.post(EVALUATION_PATH, response_model=EvaluationResponse)
async def evaluation(body: EvaluationRequest, loket: LoketDep, principal: CaseManager,
                     traceparent: str | None = Header(default=None, max_length=128)) -> dict[str, Any]:
    """May this subject read this dossier? The same policy as the dossier, with its own audit
    record and Authorization Decision Log record; ``decision`` is true when anything would be
    granted, and ``context.granted`` says exactly what."""
    started = datetime.now(UTC)
    ctx = body.context or EvaluationContext()
    trace = TraceContext.from_header(ctx.traceparent or traceparent)
    case_id, categories = check_request(
        principal, body.subject.model_dump(), body.resource.model_dump(), body.action.model_dump())
    try:
        return await evaluate_access(loket, principal, trace, case_id=case_id,
                                     categories=categories, context_time=ctx.time)
    except (NotFound, Forbidden) as e:  # not their case: an audited refusal, as for the dossier
        await audit_denied(loket, principal, trace, started, case_id, e)
        raise


class PdpMetadata(BaseModel):
    policy_decision_point: str
    access_evaluation_endpoint: str


@router.get("/.well-known/authzen-configuration", response_model=PdpMetadata)
def pdp_metadata(loket: LoketDep) -> PdpMetadata:
    """AuthZEN Policy Decision Point metadata."""
    base = loket.settings.public_base_url.rstrip("/")
    return PdpMetadata(policy_decision_point=base, access_evaluation_endpoint=base + EVALUATION_PATH)
