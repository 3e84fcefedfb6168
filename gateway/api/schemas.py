"""Per-operation request and response schemas (the OpenAPI contract under /v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

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


class GroundIn(Strict):
    """Why the case may exist: the citizen's aanmelding, a signal, or the coordinator's assignment."""

    type: Literal["aanmelding", "signaal", "toewijzing"]
    casemanager: str = Field(min_length=1, max_length=128, description="the casemanager who works the case")
    id: str | None = Field(default=None, max_length=36, description="the aanmelding's or signal's id")
    reason: str | None = Field(default=None, max_length=1000,
                               description="toewijzing: why this citizen needs a case (never a BSN)")


class CaseCreate(Strict):
    """A coordinator opens a case on a ground. ``burgerservicenummer`` and ``purpose`` are required for
    a toewijzing; an aanmelding brings both, a signal brings the citizen."""

    ground: GroundIn
    burgerservicenummer: Annotated[str | None, BSN_INPUT] = Field(default=None, min_length=1, max_length=32,
                                                                  description="BSN (elfproef)")
    purpose: str | None = Field(default=None, min_length=1, max_length=64)


class CasePublic(BaseModel):
    id: str
    purpose: str
    purpose_label: str | None = None
    casemanager: str
    status: str
    created_at: datetime
    team: str | None = None
    ground_type: str | None = None


class AanmeldingCreate(Strict):
    purpose: str = Field(min_length=1, max_length=64, description="what the citizen needs help with")
    message: str = Field(default="", max_length=2000, description="in the citizen's own words (never a BSN)")


class AanmeldingPublic(BaseModel):
    id: str
    purpose: str
    purpose_label: str | None = None
    message: str
    status: str
    case_id: str | None
    created_at: datetime


class SignalPublic(BaseModel):
    id: str
    source_agency: str
    soort: str
    achterstand: str
    signaled_on: str
    status: str
    case_id: str | None
    received_at: datetime


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
    #: The operator's pilot switch is on: legal bases not yet verified may have released data.
    pilot_unverified_bases: bool = False
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
    team: str = Field(min_length=1, max_length=64,
                      description="the team that may use it: one that works a case of yours for this purpose")
    valid_from: datetime | None = None
    valid_until: datetime
    explicit: bool = True
