"""Consents: specific (purpose × agency × category), time-bound, revocable.

Revocation is a timestamp on the row; the policy input is built fresh on every request, so a
revoked consent stops counting from the very next request.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from adapters.catalog import Catalog
from gateway.core.errors import BadInput, Conflict, NotFound
from gateway.core.models import Consent, utcnow
from gateway.dossier.decisions import ConsentFact

MAX_CONSENT_DAYS = 366


def new_consent(
    *,
    citizen_pseudonym: str,
    granted_by_sub: str,
    purpose: str,
    agency: str,
    category: str,
    valid_from: datetime,
    valid_until: datetime,
    explicit: bool,
    known_purposes: set[str],
    catalog: Catalog,
    consent_request_id: str | None = None,
    case_id: str | None = None,
    team: str | None = None,
    declined: bool = False,
) -> Consent:
    """A consent (or, ``declined``, the citizen's recorded "no") for exactly one recipient: the
    case whose request it answers, or the team the citizen names."""
    if (case_id is None) == (team is None):
        raise ValueError("a consent names exactly one recipient: a case or a team")
    if purpose not in known_purposes:
        raise BadInput("unknown purpose", code="unknown-purpose")
    agency_def = catalog.agencies.get(agency)
    if agency_def is None or category not in agency_def.categories:
        raise BadInput("unknown agency or category", code="unknown-category", param="category")
    if valid_until <= valid_from:
        raise BadInput("valid_until must be after valid_from", code="bad-validity")
    if (valid_until - valid_from).days > MAX_CONSENT_DAYS:
        raise BadInput(f"a consent lasts at most {MAX_CONSENT_DAYS} days", code="bad-validity")
    consent = Consent(
        id=str(uuid.uuid4()),
        citizen_pseudonym=citizen_pseudonym,
        purpose=purpose,
        agency=agency,
        category=category,
        explicit=explicit,
        valid_from=valid_from,
        valid_until=valid_until,
        granted_by_sub=granted_by_sub,
        consent_request_id=consent_request_id,
        created_at=utcnow(),
        case_id=case_id,
        team=team,
        declined=declined,
    )
    return consent


def consents_of(session: Session, citizen_pseudonym: str) -> list[Consent]:
    stmt = (
        select(Consent)
        .where(Consent.citizen_pseudonym == citizen_pseudonym)
        .order_by(Consent.created_at.desc())
    )
    return list(session.scalars(stmt))


def check_consent(session: Session, *, citizen_pseudonym: str, consent_id: str) -> Consent:
    """The citizen's own consent, still in force to be revoked (else NotFound / Conflict)."""
    consent = session.get(Consent, consent_id)
    if consent is None or consent.citizen_pseudonym != citizen_pseudonym:
        raise NotFound("no such consent")
    if consent.revoked_at is not None:
        raise Conflict("consent already revoked", code="already-revoked")
    return consent


def consent_facts(
    db: Session | Connection, citizen_pseudonym: str, purpose: str
) -> list[ConsentFact]:
    """The citizen's consents for this purpose, revoked and expired ones included and flagged,
    so the policy can tell the casemanager why a consent no longer counts."""
    rows = db.execute(_CONSENT_FACTS, {"pseudonym": citizen_pseudonym, "purpose": purpose})
    return [
        ConsentFact(
            id=c.id,
            purpose=c.purpose,
            agency=c.agency,
            category=c.category,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
            revoked=c.revoked_at is not None,
            explicit=c.explicit,
            case_id=c.case_id,
            team=c.team,
            declined=c.declined,
        )
        for c in rows
    ]


_CONSENT_FACTS = select(
    Consent.id, Consent.purpose, Consent.agency, Consent.category, Consent.valid_from,
    Consent.valid_until, Consent.revoked_at, Consent.explicit, Consent.case_id, Consent.team,
    Consent.declined,
).where(Consent.citizen_pseudonym == bindparam("pseudonym"), Consent.purpose == bindparam("purpose"))
