"""What a consent request looks like to the casemanager and the citizen (API and pages alike)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from gateway.consents.requests import items_of
from gateway.core.models import Case, Consent, ConsentRequest
from gateway.dossier.explain import Explainer


class RequestItemPublic(BaseModel):
    key: str
    agency: str
    organisation: str
    category: str
    category_label: str
    fields: list[str]
    special: bool
    valid_days: int
    answer: str | None = None


class ConsentRequestPublic(BaseModel):
    id: str
    case_id: str
    casemanager: str
    purpose: str
    purpose_label: str
    purpose_description: str
    message: str
    status: str
    items: list[RequestItemPublic]
    created_at: datetime
    answered_at: datetime | None
    consents_created: list[str] = []



def request_public(req: ConsentRequest, case: Case, ex: Explainer,
                   consents_created: list[str] | None = None) -> ConsentRequestPublic:
    answers = req.answers or {}
    return ConsentRequestPublic(
        id=req.id, case_id=req.case_id, casemanager=req.casemanager_sub, purpose=case.purpose,
        purpose_label=ex.purpose_label(case.purpose),
        purpose_description=ex.purpose_description(case.purpose), message=req.message,
        status=req.status, created_at=req.created_at, answered_at=req.answered_at,
        consents_created=consents_created or [],
        items=[RequestItemPublic(key=i.key, agency=i.agency, organisation=ex.organisation(i.agency),
                                 category=i.category, category_label=ex.category_label(i.agency, i.category),
                                 fields=list(i.fields), special=i.special, valid_days=i.valid_days,
                                 answer=answers.get(i.key))
               for i in items_of(req)],
    )


class ConsentPublic(BaseModel):
    id: str
    purpose: str
    agency: str
    category: str
    explicit: bool
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    status: str
    case_id: str | None = None
    team: str | None = None


def consent_status(c: Consent, now: datetime) -> str:
    if c.declined:
        return "nee_gezegd"
    if c.revoked_at is not None:
        return "ingetrokken"
    if now < c.valid_from:
        return "nog_niet_geldig"
    if now >= c.valid_until:
        return "verlopen"
    return "geldig"


def consent_public(c: Consent, now: datetime) -> ConsentPublic:
    return ConsentPublic(id=c.id, purpose=c.purpose, agency=c.agency, category=c.category,
                         explicit=c.explicit, valid_from=c.valid_from, valid_until=c.valid_until,
                         revoked_at=c.revoked_at, status=consent_status(c, now), case_id=c.case_id,
                         team=c.team)
