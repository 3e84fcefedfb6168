"""Per-operation request and response schemas (the OpenAPI contract under /v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from gateway.identity.bsn import BSN_INPUT, value_holds_bsn


class Strict(BaseModel):
    """Every request body. No unknown fields, and no BSN in any string field, in any notation
    (gateway.identity.bsn.contains_bsn), except a field marked ``BSN_INPUT``: free text and
    identifiers with a BSN are refused (422 ``bsn-in-free-text``, gateway/core/problems.py)
    before a handler sees them, so a new schema is covered without remembering to be."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_bsn_outside_bsn_fields(self) -> Strict:
        for name, info in type(self).model_fields.items():
            if any(m is BSN_INPUT for m in info.metadata):
                continue
            value = getattr(self, name)
            if isinstance(value, Strict):
                continue  # checked itself
            if isinstance(value, BaseModel):
                value = value.model_dump()
            if value_holds_bsn(value):
                raise PydanticCustomError("bsn_in_free_text", "{field} must not contain a BSN",
                                          {"field": name})
        return self


class CaseCreate(Strict):
    burgerservicenummer: Annotated[str, BSN_INPUT] = Field(min_length=1, max_length=32,
                                                           description="BSN (elfproef)")
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
