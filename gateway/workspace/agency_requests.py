"""Two-way casework: the casemanager asks an agency to pause collection, agree a payment plan
or take the citizen over warmly (warm handover), and the agency answers later.

One request, top to bottom: load the casemanager's own case → policy decision
(data.loket.agency_request, purpose and ground) → refused: a record, nothing sent → allowed:
the row and its ``agency_request:sent`` record commit together *before* anything leaves, then
only the fields the policy allows go to the agency through its adapter. The agency's answer
(polled, :func:`collect_answers`) commits with an ``agency_request:answered`` record and
changes what the overview shows. A request that could not be delivered is marked ``failed``
with its own record. Every decision — allowed, refused or an engine error — commits one
decision-log row with its ADL record in the transaction of that record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from adapters.base import AgencyFetchError
from adapters.requests import agency_request_answer, send_agency_request
from audit.record import AuditEventKind
from gateway.cases.service import load_own_case
from gateway.core.auditing import event_record
from gateway.core.context import Loket
from gateway.core.errors import AuditWriteError, BadInput, Denied, PolicyEngineError
from gateway.core.models import AgencyRequest, Case, utcnow
from gateway.core.tracing import TraceContext
from gateway.core.unit_of_work import commit_with_record
from gateway.dossier.decision_log import PendingDecision
from gateway.dossier.explain import Explainer
from gateway.identity.auth import Principal, Role
from gateway.oversight.access_log import time_nl
from gateway.workspace import request_policy
from gateway.workspace.directory import casemanager as directory_entry

SENT, ACCEPTED, REFUSED, FAILED = "sent", "accepted", "refused", "failed"
#: The gateway itself receives an agency's answer (whoever's page load collected it).
GATEWAY = Principal(sub="loket-gateway", role=Role.ADMIN, name="Loket")
MAX_MONTHLY_AMOUNT = Decimal("10000")
STATUS_NL = {SENT: "Verstuurd, wacht op antwoord.", ACCEPTED: "Geaccepteerd.", REFUSED: "Geweigerd.",
             FAILED: "Niet aangekomen: de organisatie gaf geen antwoord. Probeer het later opnieuw."}


def _data(loket: Loket) -> dict[str, Any]:
    bundle = getattr(loket.policy, "bundle", None)
    data: dict[str, Any] = bundle.data if bundle is not None else {}
    found = (data.get("loket_data", {}) or {}).get("agency_requests")
    if not found:
        import json
        from importlib import resources

        found = json.loads(resources.files("policies").joinpath("loket_data/agency_requests/data.json")
                           .read_text("utf-8"))
    return dict(found)


def request_types(loket: Loket) -> dict[str, dict[str, Any]]:
    return dict(_data(loket)["types"])


def allowed_for_purpose(loket: Loket, purpose: str) -> dict[str, list[str]]:
    """request type -> agencies the purpose allows it to (for the form; the policy decides)."""
    rules = _data(loket)["purposes"].get(purpose, {})
    return {t: list(r.get("agencies", ())) for t, r in sorted(rules.items())}


@dataclass(frozen=True)
class AgencyRequestView:
    id: str
    case_id: str
    agency: str
    organisation: str
    request_type: str
    label_nl: str
    status: str
    status_nl: str
    reason: str | None
    sent: dict[str, Any]
    created_at: datetime
    created_nl: str
    answered_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "case_id": self.case_id, "agency": self.agency, "organisation": self.organisation,
                "type": self.request_type, "label": self.label_nl, "status": self.status,
                "status_text": self.status_nl, "reason": self.reason, "sent": self.sent,
                "created_at": self.created_at.isoformat(),
                "answered_at": self.answered_at.isoformat() if self.answered_at else None}


def view_of(loket: Loket, r: AgencyRequest) -> AgencyRequestView:
    ex = Explainer.of(loket)
    types = request_types(loket)
    return AgencyRequestView(
        id=r.id, case_id=r.case_id, agency=r.agency, organisation=ex.organisation(r.agency),
        request_type=r.request_type, label_nl=str(types.get(r.request_type, {}).get("label_nl", r.request_type)),
        status=r.status, status_nl=STATUS_NL.get(r.status, r.status), reason=r.reason, sent=dict(r.sent),
        created_at=r.created_at, created_nl=time_nl(r.created_at), answered_at=r.answered_at)


@dataclass(frozen=True)
class NewAgencyRequest:
    request_type: str
    agency: str
    until_days: int | None = None  # pause_collection
    monthly_amount: str | None = None  # payment_plan, euros "45.00"


def _check(loket: Loket, new: NewAgencyRequest) -> None:
    if new.agency not in loket.catalog.agencies:
        raise BadInput("unknown agency", code="unknown-agency")
    if len(new.request_type) > 32:
        raise BadInput("unknown request type", code="unknown-request-type")


def _body(loket: Loket, sends: tuple[str, ...], new: NewAgencyRequest, request_id: str, bsn: str,
          principal: Principal, today: date) -> dict[str, Any]:
    """Exactly the fields the policy allows for this type (PRODUCT.md: minimisation)."""
    types = request_types(loket)
    body: dict[str, Any] = {"type": new.request_type}
    for key in sends:
        if key == "burgerservicenummer":
            body[key] = bsn
        elif key == "reference":
            body[key] = request_id
        elif key == "until":
            max_days = int(types[new.request_type].get("max_days", 90))
            days = new.until_days or max_days
            if not 1 <= days <= max_days:
                raise BadInput(f"a pause lasts 1 to {max_days} days", code="bad-pause-length")
            body[key] = (today + timedelta(days=days)).isoformat()
        elif key == "monthly_amount":
            try:
                amount = Decimal(str(new.monthly_amount or ""))
            except InvalidOperation as e:
                raise BadInput("monthly amount is a number of euros", code="bad-amount") from e
            if not Decimal("1") <= amount <= MAX_MONTHLY_AMOUNT:
                raise BadInput("monthly amount is a number of euros", code="bad-amount")
            body[key] = f"{amount.quantize(Decimal('0.01'))}"
        elif key == "contact":
            entry = directory_entry(principal.sub)
            body[key] = f"{entry.name}, {entry.phone}" if entry else principal.sub
    return body


def _log(pending: PendingDecision) -> Callable[[Session], None]:
    def change(session: Session) -> None:
        pending.write(session.connection())
    return change


async def send_request(loket: Loket, principal: Principal, trace: TraceContext, case_id: str,
                       new: NewAgencyRequest) -> AgencyRequestView:
    import anyio

    started = datetime.now(UTC)
    _check(loket, new)

    def load() -> Case:
        with loket.sessions() as session:
            case = load_own_case(session, principal, case_id)
            session.expunge(case)
            return case

    case = await anyio.to_thread.run_sync(load)
    value = request_policy.policy_input(
        sub=principal.sub, role=principal.role.value, purpose=case.purpose, casemanager=case.casemanager_sub,
        ground=getattr(case, "ground_type", None), request_type=new.request_type, agency=new.agency)
    revision = loket.policy.revision
    try:
        raw, decision = await anyio.to_thread.run_sync(request_policy.evaluate, loket, value)
    # fail-closed: an engine error is logged as a decision (outcome error) with its record; nothing is sent
    except PolicyEngineError as err:
        failed = request_policy.logged_decision(loket, trace, value, case_id=case.id, revision=revision,
                                                raw={"error": err.code}, decision=None, error_code=err.code)
        record = event_record(kind=AuditEventKind.AGENCY_REQUEST_REFUSED, principal=principal, trace=trace,
                              started=started, status_code=2, outcome="error", purposes=loket.purposes,
                              purpose=case.purpose, case_id=case.id, data_subject=case.citizen_pseudonym,
                              extra={"agency": new.agency, "request_type": new.request_type[:32],
                                     "policy_revision": revision[:200], "reasons": err.code[:200],
                                     "decision_id": failed.decision_id})
        try:
            await anyio.to_thread.run_sync(commit_with_record, loket.audit, record, _log(failed))
        except AuditWriteError:
            pass  # still nothing sent; the engine error is what the caller is told
        raise
    logged = request_policy.logged_decision(loket, trace, value, case_id=case.id, revision=revision,
                                            raw=raw, decision=decision)
    base_extra = {"agency": new.agency, "request_type": new.request_type[:32],
                  "policy_revision": decision.policy_revision[:200], "decision_id": logged.decision_id}
    if not decision.allow:
        codes = ",".join(r.code for r in decision.reasons)[:200] or "denied"
        record = event_record(kind=AuditEventKind.AGENCY_REQUEST_REFUSED, principal=principal, trace=trace,
                              started=started, status_code=2, outcome="refused", purposes=loket.purposes,
                              purpose=case.purpose, case_id=case.id, data_subject=case.citizen_pseudonym,
                              extra={**base_extra, "reasons": codes})
        # the refusal's record and its decision-log row commit together
        await anyio.to_thread.run_sync(commit_with_record, loket.audit, record, _log(logged))
        raise Denied(" ".join(r.reason_nl for r in decision.reasons) or "refused", code="agency-request-refused")
    request_id = str(uuid.uuid4())
    bsn = loket.vault.open(case.citizen_bsn_sealed, case.citizen_pseudonym)
    try:
        body = _body(loket, decision.sends, new, request_id, bsn, principal, started.date())
    finally:
        del bsn
    shown = {k: v for k, v in body.items() if k != "burgerservicenummer"}
    row = AgencyRequest(id=request_id, case_id=case.id, citizen_pseudonym=case.citizen_pseudonym,
                        casemanager_sub=principal.sub, agency=new.agency, request_type=new.request_type,
                        status=SENT, sent=shown, created_at=utcnow())
    record = event_record(kind=AuditEventKind.AGENCY_REQUEST_SENT, principal=principal, trace=trace,
                          started=started, status_code=1, outcome="sent", purposes=loket.purposes,
                          purpose=case.purpose, case_id=case.id, data_subject=case.citizen_pseudonym,
                          extra={**base_extra, "agency_request_id": request_id,
                                 "sent_fields": ",".join(sorted(body))[:200]})

    def add(session: Session) -> AgencyRequest:
        logged.write(session.connection())
        session.add(row)
        return row

    # fail-closed: no request leaves for an agency before its agency_request:sent record committed
    await anyio.to_thread.run_sync(commit_with_record, loket.audit, record, add)
    adapter = loket.adapters.get(new.agency)
    try:
        if adapter is None:
            raise AgencyFetchError("not_configured")
        await send_agency_request(adapter, new.agency, body, traceparent=trace.traceparent())
    except AgencyFetchError as e:
        await anyio.to_thread.run_sync(_record_answer, loket, trace, row.id, FAILED, None, str(e.code))
    finally:
        body.clear()
    return await anyio.to_thread.run_sync(load_view, loket, row.id)


def load_view(loket: Loket, request_id: str) -> AgencyRequestView:
    with loket.sessions() as session:
        row = session.get(AgencyRequest, request_id)
        assert row is not None
        return view_of(loket, row)


def _record_answer(loket: Loket, trace: TraceContext, request_id: str, status: str, reason: str | None,
                   failure: str | None = None) -> bool:
    """Commit the agency's answer with its record; False if another process recorded it first."""
    with loket.sessions() as session:
        row = session.get(AgencyRequest, request_id)
        assert row is not None
        case = session.get(Case, row.case_id)
        purpose = case.purpose if case else None
    extra = {"agency_request_id": request_id, "agency": row.agency, "request_type": row.request_type}
    if failure:
        extra["failure"] = failure[:64]
    record = event_record(kind=AuditEventKind.AGENCY_REQUEST_ANSWERED, principal=GATEWAY, trace=trace,
                          started=datetime.now(UTC), status_code=1 if status != FAILED else 2, outcome=status,
                          purposes=loket.purposes, purpose=purpose, case_id=row.case_id,
                          data_subject=row.citizen_pseudonym, extra=extra)
    now = utcnow()

    def change(session: Session) -> bool:
        done = session.execute(update(AgencyRequest)
                               .where(AgencyRequest.id == request_id, AgencyRequest.status == SENT)
                               .values(status=status, reason=reason, answered_at=now))
        if getattr(done, "rowcount", 0) != 1:
            raise _AlreadyAnswered()
        return True

    try:
        return commit_with_record(loket.audit, record, change)
    except _AlreadyAnswered:
        return False


class _AlreadyAnswered(Denied):
    code = "already-answered"


async def collect_answers(loket: Loket, *, case_id: str | None = None, pseudonym: str | None = None) -> int:
    """Ask the agencies about this case's (or citizen's) requests that are still open; record
    every answer that came in. An agency that does not answer now is asked again next time."""
    import anyio

    def open_rows() -> list[tuple[str, str]]:
        with loket.sessions() as session:
            stmt = select(AgencyRequest.id, AgencyRequest.agency).where(AgencyRequest.status == SENT)
            if case_id is not None:
                stmt = stmt.where(AgencyRequest.case_id == case_id)
            if pseudonym is not None:
                stmt = stmt.where(AgencyRequest.citizen_pseudonym == pseudonym)
            return [(str(i), str(a)) for i, a in session.execute(stmt.limit(50))]

    answered = 0
    trace = TraceContext.from_header(None)
    for request_id, agency in await anyio.to_thread.run_sync(open_rows):
        adapter = loket.adapters.get(agency)
        if adapter is None:
            continue
        try:
            status, reason = await agency_request_answer(adapter, agency, request_id)
        except AgencyFetchError:
            continue
        if status != SENT and await anyio.to_thread.run_sync(_record_answer, loket, trace, request_id, status,
                                                             reason):
            answered += 1
    return answered


def requests_of_case(loket: Loket, case_id: str) -> list[AgencyRequestView]:
    with loket.sessions() as session:
        rows = session.scalars(select(AgencyRequest).where(AgencyRequest.case_id == case_id)
                               .order_by(AgencyRequest.created_at.desc()))
        return [view_of(loket, r) for r in rows]


def my_case_requests(loket: Loket, principal: Principal, case_id: str) -> list[AgencyRequestView]:
    with loket.sessions() as session:
        load_own_case(session, principal, case_id)
    return requests_of_case(loket, case_id)


def requests_of_citizen(loket: Loket, pseudonym: str) -> list[AgencyRequestView]:
    with loket.sessions() as session:
        rows = session.scalars(select(AgencyRequest).where(AgencyRequest.citizen_pseudonym == pseudonym)
                               .order_by(AgencyRequest.created_at.desc()).limit(50))
        return [view_of(loket, r) for r in rows]
