"""The citizen's consents as use cases: grant and revoke, each committed with its audit record.

Routers and pages call these; they own their transaction (gateway/core/unit_of_work.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit.record import AuditEventKind, AuditRecord
from gateway.cases.service import load_own_case
from gateway.consents.grants import check_consent, consents_of, new_consent
from gateway.consents.requests import (
    ANSWERED,
    APPROVE,
    MAX_MESSAGE_CHARS,
    OPEN,
    items_of,
    load_citizens_request,
    mark_answered,
    normalise_answers,
    parse_request_items,
    requests_for_case,
    requests_of_citizen,
    valid_until,
)
from gateway.consents.views import ConsentRequestPublic, request_public
from gateway.core.auditing import event_record
from gateway.core.context import Loket
from gateway.core.errors import BadInput, Conflict, NotAuthenticated
from gateway.core.models import Case, Consent, ConsentRequest, utcnow
from gateway.core.tracing import TraceContext
from gateway.core.unit_of_work import commit_with_record, commit_with_records
from gateway.dossier.decision_log import PendingDecision
from gateway.dossier.explain import Explainer
from gateway.identity.auth import Principal
from gateway.identity.free_text import check_free_text
from gateway.representation.check import (
    TOESTEMMING_GEVEN,
    TOESTEMMING_INTREKKEN,
    VERZOEK_BEANTWOORDEN,
    RepresentationUnchecked,
    act_as,
    category_domain,
    subject_for_reading,
    with_decisions,
)


@dataclass(frozen=True)
class ConsentGrant:
    """What a citizen agrees to: purpose × agency × category, for a window, for one recipient."""

    purpose: str
    agency: str
    category: str
    valid_until: datetime
    #: The team that may use it: one that works (or worked) a case for this citizen and purpose.
    team: str
    valid_from: datetime | None = None
    explicit: bool = True


def citizen_pseudonym(loket: Loket, principal: Principal) -> str:
    """The signed-in citizen's own pseudonym. Someone acting for another person has none here:
    a use case that serves representatives asks gateway/representation/check.py instead, so one
    that does not is refused for them (fail closed)."""
    if principal.act_for is not None:
        raise RepresentationUnchecked("this operation is not available when acting for someone else")
    if principal.bsn is None:
        raise NotAuthenticated("citizen token carries no BSN", code="invalid-token")
    return loket.pseudonymiser.pseudonym_for(principal.bsn)


def my_consents(loket: Loket, principal: Principal) -> list[Consent]:
    pseudonym = subject_for_reading(loket, principal)
    with loket.sessions() as session:
        return consents_of(session, pseudonym)


def teams_for(loket: Loket, pseudonym: str, purpose: str) -> list[str]:
    """The teams a citizen can give a consent to for a purpose: those with a case of theirs."""
    with loket.sessions() as session:
        return sorted({t for t in session.scalars(select(Case.team).where(
            Case.citizen_pseudonym == pseudonym, Case.purpose == purpose)) if t})


def grant(loket: Loket, principal: Principal, trace: TraceContext, g: ConsentGrant) -> Consent:
    started = datetime.now(UTC)
    _check_category(loket, g.agency, g.category)
    acting = act_as(loket, principal, trace, action=TOESTEMMING_GEVEN, domain=category_domain(g.agency, g.category))
    pseudonym = acting.subject_pseudonym
    if g.team not in teams_for(loket, pseudonym, g.purpose):
        raise BadInput("name a team that works a case of yours for this purpose", code="unknown-team")
    consent = new_consent(
        citizen_pseudonym=pseudonym, granted_by_sub=principal.sub, purpose=g.purpose,
        agency=g.agency, category=g.category, valid_from=(g.valid_from or started).astimezone(UTC),
        valid_until=g.valid_until.astimezone(UTC), explicit=g.explicit,
        known_purposes=loket.known_purposes, catalog=loket.catalog, team=g.team,
    )
    record = event_record(kind=AuditEventKind.CONSENT_GRANTED, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="granted",
                          purposes=loket.purposes, purpose=consent.purpose, data_subject=pseudonym,
                          extra={"consent_id": consent.id, "agency": consent.agency,
                                 "category": consent.category, "team": g.team, **acting.extra})

    def change(session: Session) -> Consent:
        session.add(consent)
        return consent

    value, _ = commit_with_records(loket.audit, [*acting.records, record], acting.logged(change))
    return value


def _check_category(loket: Loket, agency: str, category: str) -> None:
    agency_def = loket.catalog.agencies.get(agency)
    if agency_def is None or category not in agency_def.categories:
        raise BadInput("unknown agency or category", code="unknown-category", param="category")


def revoke(loket: Loket, principal: Principal, trace: TraceContext, consent_id: str) -> Consent:
    """Revoke one of the citizen's consents; it stops counting from the very next request."""
    started = datetime.now(UTC)
    pseudonym = subject_pseudonym(loket, principal)
    with loket.sessions() as session:
        consent = check_consent(session, citizen_pseudonym=pseudonym, consent_id=consent_id)
    acting = act_as(loket, principal, trace, action=TOESTEMMING_INTREKKEN,
                    domain=category_domain(consent.agency, consent.category))
    now = utcnow()
    record = event_record(kind=AuditEventKind.CONSENT_REVOKED, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="revoked",
                          purposes=loket.purposes, purpose=consent.purpose, data_subject=pseudonym,
                          extra={"consent_id": consent.id, "agency": consent.agency,
                                 "category": consent.category, **acting.extra})

    def change(session: Session) -> Consent:
        # Compare-and-set: of two revokes at once, exactly one commits (with its record).
        done = session.execute(
            update(Consent)
            .where(Consent.id == consent.id, Consent.citizen_pseudonym == pseudonym,
                   Consent.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        if getattr(done, "rowcount", 0) != 1:
            raise Conflict("consent already revoked", code="already-revoked")
        consent.revoked_at = now
        return consent

    value, _ = commit_with_records(loket.audit, [*acting.records, record], acting.logged(change))
    return value


def subject_pseudonym(loket: Loket, principal: Principal) -> str:
    """Whose consents these are, before the check (which needs to know what the action is about)."""
    if principal.act_for is not None:
        return loket.pseudonymiser.pseudonym_for(principal.act_for)
    return citizen_pseudonym(loket, principal)



# --- consent requests: the casemanager asks, the citizen answers per category ---------------

_LOG_LIST_CHARS = 250  # audit record strings are at most 256 characters


def _joined(keys: list[str]) -> str:
    text = ",".join(keys)
    return text if len(text) <= _LOG_LIST_CHARS else text[: _LOG_LIST_CHARS - 1] + "…"


def _answer_extra(request_id: str, approved: list[str], declined: list[str]) -> dict[str, str]:
    # Audit strings must be non-empty: an empty side is left out rather than logged as "".
    extra = {"consent_request_id": request_id}
    if approved:
        extra["approved"] = _joined(approved)
    if declined:
        extra["declined"] = _joined(declined)
    return extra


def _created_by(session: Session, request_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {r: [] for r in request_ids}
    if request_ids:
        rows = session.execute(select(Consent.id, Consent.consent_request_id)
                               .where(Consent.consent_request_id.in_(request_ids), Consent.declined.is_(False))
                               .order_by(Consent.created_at))
        for consent_id, request_id in rows:
            if request_id is not None:
                out[request_id].append(consent_id)
    return out


def _views(loket: Loket, session: Session, pairs: list[tuple[ConsentRequest, Case]]) -> list[ConsentRequestPublic]:
    ex = Explainer.of(loket)
    created = _created_by(session, [r.id for r, _ in pairs])
    return [request_public(r, c, ex, created[r.id]) for r, c in pairs]


def create_request(loket: Loket, principal: Principal, trace: TraceContext, case_id: str, *,
                   categories: list[str], message: str, valid_days: int) -> ConsentRequestPublic:
    started = datetime.now(UTC)
    with loket.sessions() as session:
        case = load_own_case(session, principal, case_id)
        items = parse_request_items(categories, purpose=case.purpose, purposes=loket.purposes,
                                    catalog=loket.catalog, valid_days=valid_days)
        text = check_free_text(message, max_chars=MAX_MESSAGE_CHARS, what="message")
        session.expunge(case)
    req = ConsentRequest(
        id=str(uuid.uuid4()), case_id=case.id, citizen_pseudonym=case.citizen_pseudonym,
        casemanager_sub=principal.sub, items=[i.to_json() for i in items], message=text,
        status=OPEN, created_at=utcnow(),
    )
    record = event_record(kind=AuditEventKind.CONSENT_REQUEST_CREATED, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="requested", purposes=loket.purposes,
                          purpose=case.purpose, case_id=case.id, data_subject=case.citizen_pseudonym,
                          extra={"consent_request_id": req.id,
                                 "categories": _joined([i.key for i in items])})

    def change(session: Session) -> ConsentRequest:
        session.add(req)
        return req

    commit_with_record(loket.audit, record, change)
    return request_public(req, case, Explainer.of(loket))


def answer_request(loket: Loket, principal: Principal, trace: TraceContext, request_id: str,
                   answers: Mapping[str, str]) -> ConsentRequestPublic:
    """The citizen's answer, per category. The answer and every consent it creates commit in one
    transaction with their records (``consent:granted`` per approval, then
    ``consent_request:answered``); a second answer is a 409 and changes nothing."""
    started = datetime.now(UTC)
    pseudonym = subject_pseudonym(loket, principal)
    with loket.sessions() as session:
        req, case = load_citizens_request(session, pseudonym, request_id)
        normalised = normalise_answers(req, answers)
        if req.status != OPEN:
            raise Conflict("this consent request was already answered", code="already-answered")
        session.expunge_all()
    consents: list[Consent] = []
    records: list[AuditRecord] = []
    acting_extra: dict[str, str] = {}
    decisions: list[PendingDecision] = []  # the checks' decision-log rows, committed with their records
    # A representative answers only what their representation covers: every item's domain.
    for domain in sorted({category_domain(i.agency, i.category) or "" for i in items_of(req)}):
        acting = act_as(loket, principal, trace, action=VERZOEK_BEANTWOORDEN, domain=domain or None)
        records += acting.records
        decisions += acting.decisions
        acting_extra = acting.extra
    declines: list[Consent] = []
    for item in items_of(req):
        approved_item = normalised[item.key] == APPROVE
        consent = new_consent(
            citizen_pseudonym=pseudonym, granted_by_sub=principal.sub, purpose=case.purpose,
            agency=item.agency, category=item.category, valid_from=started,
            valid_until=valid_until(item, started), explicit=True,
            known_purposes=loket.known_purposes, catalog=loket.catalog, consent_request_id=req.id,
            case_id=case.id, declined=not approved_item,
        )
        if not approved_item:  # the citizen's "no", recorded so the casemanager sees a no
            declines.append(consent)
            continue
        consents.append(consent)
        records.append(event_record(
            kind=AuditEventKind.CONSENT_GRANTED, principal=principal, trace=trace, started=started,
            status_code=1, outcome="granted", purposes=loket.purposes, purpose=consent.purpose,
            data_subject=pseudonym, case_id=case.id,
            extra={"consent_id": consent.id, "agency": consent.agency, "category": consent.category,
                   "consent_request_id": req.id, **acting_extra}))
    approved = [k for k, v in normalised.items() if v == APPROVE]
    declined = [k for k, v in normalised.items() if v != APPROVE]
    records.append(event_record(
        kind=AuditEventKind.CONSENT_REQUEST_ANSWERED, principal=principal, trace=trace, started=started,
        status_code=1, outcome="answered", purposes=loket.purposes, purpose=case.purpose,
        case_id=case.id, data_subject=pseudonym, extra={**_answer_extra(req.id, approved, declined), **acting_extra}))

    def change(session: Session) -> None:
        mark_answered(session, req.id, pseudonym, normalised)  # compare-and-set: 409 on a second answer
        session.add_all(consents + declines)

    commit_with_records(loket.audit, records, with_decisions(decisions, change))
    req.status, req.answers, req.answered_at = ANSWERED, normalised, utcnow()
    return request_public(req, case, Explainer.of(loket), [c.id for c in consents])


def requests_of_me(loket: Loket, principal: Principal, *, only_open: bool = True) -> list[ConsentRequestPublic]:
    pseudonym = subject_for_reading(loket, principal)
    with loket.sessions() as session:
        pairs = []
        for req in requests_of_citizen(session, pseudonym, only_open=only_open):
            case = session.get(Case, req.case_id)
            if case is not None:
                pairs.append((req, case))
        return _views(loket, session, pairs)


def requests_of_case(loket: Loket, principal: Principal, case_id: str) -> list[ConsentRequestPublic]:
    """The requests of one of the casemanager's own cases, with the consents each created."""
    with loket.sessions() as session:
        reqs = requests_for_case(session, principal, case_id)
        case = session.get(Case, case_id)
        return _views(loket, session, [(r, case) for r in reqs if case is not None])
