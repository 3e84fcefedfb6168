"""What a case can start from: the citizen's aanmelding and the schuldhulp agency's signals.

Both commit with their audit record. A coordinator sees them (never a BSN: the citizen is a
pseudonym plus what the citizen or the signal says) and opens a case on one
(gateway/cases/service.py ``open_case``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.signals import SignalFeedError, read_signal_feed
from audit.record import AuditEventKind, AuditRecord
from gateway.cases.grounds import GroundType, require_ground_allowed
from gateway.core.auditing import event_record
from gateway.core.context import Loket
from gateway.core.errors import AgencyUnavailable, BadInput, Forbidden
from gateway.core.models import Aanmelding, Signal, utcnow
from gateway.core.tracing import TraceContext
from gateway.core.unit_of_work import commit_with_records
from gateway.identity.auth import Principal, Role
from gateway.identity.bsn import require_valid_bsn
from gateway.identity.free_text import check_free_text
from gateway.representation.check import AANMELDEN, act_as, purpose_domain, subject_for_reading

MAX_AANMELDING_CHARS = 2000
SIGNAL_AGENCY = "schuldhulp"
OPEN = "open"


def create_aanmelding(loket: Loket, principal: Principal, trace: TraceContext, *, purpose: str,
                      message: str = "") -> Aanmelding:
    """"Ik wil hulp": the citizen asks for help with a purpose, committed with its record."""
    started = datetime.now(UTC)
    require_ground_allowed(loket.purposes, purpose, GroundType.AANMELDING)
    text = check_free_text(message, max_chars=MAX_AANMELDING_CHARS, what="message")
    # A representative asks for help for the person they act for, within their scope.
    acting = act_as(loket, principal, trace, action=AANMELDEN, domain=purpose_domain(purpose))
    pseudonym = acting.subject_pseudonym
    subject_bsn = principal.act_for or principal.bsn
    assert subject_bsn is not None  # act_as checked it
    a = Aanmelding(id=str(uuid.uuid4()), citizen_pseudonym=pseudonym,
                   citizen_bsn_sealed=loket.vault.seal(subject_bsn, pseudonym), purpose=purpose,
                   message=text, created_by_sub=principal.sub, status=OPEN, created_at=utcnow())
    record = event_record(kind=AuditEventKind.AANMELDING_CREATED, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="created", purposes=loket.purposes,
                          purpose=purpose, data_subject=pseudonym, extra={"aanmelding_id": a.id, **acting.extra})

    def change(session: Session) -> Aanmelding:
        session.add(a)
        return a

    value, _ = commit_with_records(loket.audit, [*acting.records, record], acting.logged(change))
    return value


def my_aanmeldingen(loket: Loket, principal: Principal) -> list[Aanmelding]:
    pseudonym = subject_for_reading(loket, principal)
    with loket.sessions() as session:
        return list(session.scalars(select(Aanmelding).where(Aanmelding.citizen_pseudonym == pseudonym)
                                    .order_by(Aanmelding.created_at.desc())))


def _require_coordinator(principal: Principal) -> None:
    if principal.role is not Role.COORDINATOR:
        raise Forbidden("only a coordinator sees aanmeldingen and signals", code="coordinator-only")


def open_aanmeldingen(loket: Loket, principal: Principal) -> list[Aanmelding]:
    _require_coordinator(principal)
    with loket.sessions() as session:
        return list(session.scalars(select(Aanmelding).where(Aanmelding.status == OPEN)
                                    .order_by(Aanmelding.created_at)))


def open_signals(loket: Loket, principal: Principal) -> list[Signal]:
    _require_coordinator(principal)
    with loket.sessions() as session:
        return list(session.scalars(select(Signal).where(Signal.status == OPEN).order_by(Signal.received_at)))


def import_signals(loket: Loket, principal: Principal, trace: TraceContext) -> list[Signal]:
    """Read the schuldhulp agency's signal feed and keep the signals not seen before, each with a
    ``signal:received`` record, all in one transaction."""
    _require_coordinator(principal)
    started = datetime.now(UTC)
    url = loket.settings.agency_urls.get(SIGNAL_AGENCY)
    if not url:
        raise BadInput("no schuldhulp agency is configured", code="no-signal-source")
    try:
        notices = read_signal_feed(url, SIGNAL_AGENCY, timeout_s=loket.settings.agency_timeout_s,
                                   max_bytes=loket.settings.max_agency_response_bytes)
    except SignalFeedError as e:
        raise AgencyUnavailable("the signal feed could not be read", code="agency-unavailable") from e
    with loket.sessions() as session:
        seen = set(session.scalars(select(Signal.source_ref).where(
            Signal.source_ref.in_([n.source_ref for n in notices]))))
    new: list[Signal] = []
    records: list[AuditRecord] = []
    for n in notices:
        if n.source_ref in seen:
            continue
        seen.add(n.source_ref)
        pseudonym = loket.pseudonymiser.pseudonym_for(require_valid_bsn(n.bsn))
        sig = Signal(id=str(uuid.uuid4()), source_ref=n.source_ref, source_agency=SIGNAL_AGENCY,
                     citizen_pseudonym=pseudonym, citizen_bsn_sealed=loket.vault.seal(n.bsn, pseudonym),
                     soort=n.soort, achterstand=n.achterstand, signaled_on=n.datum, status=OPEN,
                     received_at=utcnow())
        new.append(sig)
        records.append(event_record(kind=AuditEventKind.SIGNAL_RECEIVED, principal=principal, trace=trace,
                                    started=started, status_code=1, outcome="received", purposes=loket.purposes,
                                    data_subject=pseudonym, extra={"signal_id": sig.id, "soort": sig.soort,
                                                                   "agency": SIGNAL_AGENCY}))
    if not new:
        return []

    def change(session: Session) -> list[Signal]:
        session.add_all(new)
        return new

    value, _ = commit_with_records(loket.audit, records, change)
    return value
