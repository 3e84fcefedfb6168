"""Response models of the casemanager's workspace and the access reports (the published
contract: every 2xx JSON body has a named schema; examples in gateway/api/examples.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReportPublic(BaseModel):
    id: str
    record_index: int = Field(description="The leaf index of the access record the citizen does not recognise.")
    case_id: str | None = None
    message: str = Field(description="The citizen's own words (may be empty).")
    status: str = Field(description="open | answered")
    status_text: str
    answer: str | None = None
    created_at: str
    answered_at: str | None = None
    actor_sub: str | None = Field(default=None, description="FG only: who made the access.")
    answered_by: str | None = Field(default=None, description="FG only.")
    data_subject_id: str | None = Field(default=None, description="FG only: the citizen's pseudonym.")


class ReportList(BaseModel):
    reports: list[ReportPublic]


class AgencyRequestPublic(BaseModel):
    id: str
    case_id: str
    agency: str
    organisation: str
    type: str = Field(description="pause_collection | payment_plan | warm_handover")
    label: str
    status: str = Field(description="sent | accepted | refused | failed")
    status_text: str
    reason: str | None = Field(default=None, description="The agency's reason with its answer.")
    sent: dict[str, str] = Field(description="What went to the agency, without the BSN.")
    created_at: str
    answered_at: str | None = None


class AgencyRequestList(BaseModel):
    requests: list[AgencyRequestPublic]


class ActionPublic(BaseModel):
    rule: str
    agency: str
    organisation: str
    title: str
    why: str
    next_step: str
    amount: str | None = None
    when: str | None = Field(default=None, description="YYYY-MM-DD: the deadline or the day it is about.")
    suggested_request: str | None = None
    note: str | None = None


class ArrearsLinePublic(BaseModel):
    agency: str
    organisation: str
    label: str
    amount: str | None
    months: int | None = None


class ArrearsPublic(BaseModel):
    per_agency: list[ArrearsLinePublic]
    total: str | None
    total_text: str


class RepresentativePublic(BaseModel):
    kind: str = Field(description="gemachtigde, ouder, voogd, curator, bewindvoerder or mentor")
    label: str
    source: str = Field(description="machtigingen, brp or ccbr: where the representation is registered")
    scope: str = Field(description="the domains they act on, in Dutch")
    detail: str


class RepresentativesPublic(BaseModel):
    known: bool
    text: str
    people: list[RepresentativePublic] = Field(default_factory=list)


class ContactPublic(BaseModel):
    agency: str
    organisation: str
    name: str
    phone: str
    hours: str


class AskedPublic(BaseModel):
    what: str
    status: str | None = None
    status_text: str


class NotSeenPublic(BaseModel):
    organisation: str
    what: str
    reason: str


class OverviewAuditRef(BaseModel):
    index: int


class OverviewPublic(BaseModel):
    case_id: str
    purpose: str
    purpose_label: str
    decision_id: str
    audit: OverviewAuditRef
    deadlines_and_threats: list[ActionPublic]
    arrears: ArrearsPublic
    representatives: RepresentativesPublic
    contacts: list[ContactPublic]
    already_asked: list[AskedPublic]
    could_not_see: list[NotSeenPublic]
