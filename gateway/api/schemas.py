"""Per-operation request and response schemas (the OpenAPI contract under /v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseCreate(Strict):
    burgerservicenummer: str = Field(min_length=1, max_length=32, description="BSN (elfproef)")
    purpose: str = Field(min_length=1, max_length=64)


class CasePublic(BaseModel):
    id: str
    purpose: str
    purpose_label: str | None = None
    casemanager: str
    status: str
    created_at: datetime


class BasisPublic(BaseModel):
    type: str
    id: str
    citation: str | None = None
    verified: bool | None = None


class FieldPublic(BaseModel):
    agency: str
    category: str
    field: str
    value: Any
    source: str
    retrieved_at: datetime
    basis: BasisPublic


class FlagPublic(BaseModel):
    agency: str
    flag: str
    value: Any


class RefusalPublic(BaseModel):
    agency: str
    category: str
    code: str
    reason: str


class UnavailablePublic(BaseModel):
    agency: str
    error_code: str
    reason: str = "De organisatie gaf geen antwoord; probeer het later opnieuw."


class AuditRef(BaseModel):
    record_id: str
    index: int


class DossierPublic(BaseModel):
    case_id: str
    purpose: str
    decision_id: str
    policy_revision: str
    trace_id: str
    break_glass: bool
    review_required: bool
    fields: list[FieldPublic]
    flags: list[FlagPublic]
    refused: list[RefusalPublic]
    unavailable: list[UnavailablePublic]
    audit: AuditRef


class BreakGlassRequest(Strict):
    justification: str = Field(min_length=1, max_length=10_000)
    categories: list[str] | None = Field(default=None, max_length=64)


class ConsentCreate(Strict):
    purpose: str = Field(min_length=1, max_length=64)
    agency: str = Field(min_length=1, max_length=64)
    category: str = Field(min_length=1, max_length=64)
    valid_from: datetime | None = None
    valid_until: datetime
    explicit: bool = True
