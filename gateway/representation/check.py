"""The one check before anything done for someone else.

``act_as(loket, principal, trace, action=..., domain=...)`` answers whose data this is (the
subject's pseudonym) and the ``representation:checked`` record the caller commits together
with its change (gateway/core/unit_of_work.py), plus the fields that mark the action's own
record as done by a representative (``acting_kind``, ``acting_source``). For the citizen
themself it answers their own pseudonym and no record.

A refusal is itself recorded (``representation:checked`` with result ``refused``, source,
check time and the reason codes) before the 403 with the B1 Dutch reason; the problem handler
adds the usual ``access:denied``. The clock of the decision is :func:`clock` (tests set
``loket.extra["representation_clock"]``), passed to the policy as input, never read in Rego.

Every policy decision of a check (one per register entry asked about) is one decision-log row
with its ADL record (entrypoint ``data.loket.representation.decision``), committed in the
transaction of the check's record: the caller's, through :meth:`Acting.logged`, or the
refusal's here. An engine error is logged too (outcome ``error``, a record with result
``error``), then the check fails closed (503).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from audit.record import STATUS_ERROR, STATUS_OK, AuditEventKind, AuditRecord
from gateway.core.auditing import event_record, rfc3339
from gateway.core.context import Loket
from gateway.core.errors import AgencyUnavailable, AuditWriteError, Forbidden, NotAuthenticated, PolicyEngineError
from gateway.core.tracing import TraceContext
from gateway.core.unit_of_work import commit_with_record
from gateway.dossier.adl import engine_info, rule_adl_record
from gateway.dossier.decision_log import PendingDecision
from gateway.identity.auth import Principal
from gateway.representation.policy import ADL_ENTRYPOINT, RepresentationDecision, evaluate, representation_data
from gateway.representation.registers import Candidate, Resolved

T = TypeVar("T")

#: The actions a representative may be checked for (policies/loket_data/representation).
INZIEN, AANMELDEN = "inzien", "aanmelden"
TOESTEMMING_GEVEN, TOESTEMMING_INTREKKEN, VERZOEK_BEANTWOORDEN = (
    "toestemming_geven", "toestemming_intrekken", "verzoek_beantwoorden")


class RepresentationRefused(Forbidden):
    code = "representation-refused"


class RepresentationUnchecked(Forbidden):
    code = "representation-unchecked"


class RepresentationUnverifiable(AgencyUnavailable):
    code = "representation-unverifiable"


@dataclass(frozen=True)
class Acting:
    subject_pseudonym: str
    records: tuple[AuditRecord, ...] = ()
    #: for the action's own record: who acted (kind and register), empty for the citizen themself
    extra: dict[str, str] = field(default_factory=dict)
    kind: str | None = None
    #: the policy decisions of the check, logged in the transaction that commits ``records``
    decisions: tuple[PendingDecision, ...] = ()

    def logged(self, change: Callable[[Session], T]) -> Callable[[Session], T]:
        """``change`` that also writes this check's decision-log rows (commit it with ``records``)."""
        return with_decisions(self.decisions, change)


def with_decisions(pending: Sequence[PendingDecision], change: Callable[[Session], T]) -> Callable[[Session], T]:
    def both(session: Session) -> T:
        conn = session.connection()
        for p in pending:
            p.write(conn)
        return change(session)
    return both


def _nothing(session: Session) -> None:
    return None


def _logged(loket: Loket, principal: Principal, trace: TraceContext, resolved: Resolved, value: dict[str, Any],
            c: Candidate, now: datetime, *, revision: str, raw: Any, decision: RepresentationDecision | None,
            error_code: str | None = None) -> PendingDecision:
    """One representation decision with its ADL record. Information sources: the register the
    representation comes from, its kind, scope and validity, when the registers were read and
    the clock the policy was given. Subject and actor are pseudonyms, never a BSN."""
    decision_id = str(uuid.uuid4())
    s = loket.settings
    register: dict[str, Any] = {"source": c.source, "kind": c.kind, "scope": list(c.scope),
                                "valid_from": c.valid_from, "valid_until": c.valid_until,
                                "checked_at": rfc3339(resolved.checked_at)}
    if c.machtiging_id:
        register["machtiging_id"] = c.machtiging_id
    if resolved.unavailable:
        register["unavailable"] = list(resolved.unavailable)
    adl = rule_adl_record(
        decision_id=decision_id, decided_at=datetime.now(UTC), trace_id=trace.trace_id,
        span_id=trace.span_id, traceparent=trace.traceparent(), policy_revision=revision,
        engine=engine_info(s.policy_engine, s.opa_url if s.policy_engine == "opa" else None, ADL_ENTRYPOINT),
        subject={"type": f"representative:{c.kind}", "id": resolved.actor_pseudonym or principal.sub},
        resource={"type": "citizen", "id": resolved.subject_pseudonym,
                  "properties": {"domain": value.get("domain")}},
        action=f"representation:{value.get('action')}", allow=None if decision is None else decision.allow,
        reasons=[r.code for r in decision.reasons] if decision else [],
        information={"loket.representation": register, "clock": {"date": value.get("clock"),
                                                                  "timestamp": rfc3339(now)}},
        error_code=error_code,
    )
    return PendingDecision(decision_id=decision_id, policy_revision=revision, input=value, result=raw,
                           trace_id=trace.trace_id, outcome=str(adl["outcome"]), adl=adl)


def clock(loket: Loket) -> datetime:
    given: Callable[[], datetime] | None = loket.extra.get("representation_clock")
    return given() if given is not None else datetime.now(UTC)


def category_domain(agency: str, category: str) -> str | None:
    domains: dict[str, str] = representation_data()["category_domains"]
    return domains.get(f"{agency}.{category}")


def purpose_domain(purpose: str) -> str | None:
    domains: dict[str, str] = representation_data()["purpose_domains"]
    return domains.get(purpose)


def own_pseudonym(loket: Loket, principal: Principal) -> str:
    if principal.bsn is None:
        raise NotAuthenticated("citizen token carries no BSN", code="invalid-token")
    return loket.pseudonymiser.pseudonym_for(principal.bsn)


def policy_input(now: datetime, action: str, domain: str | None, c: Candidate, birth: str | None) -> dict[str, Any]:
    return {"clock": now.date().isoformat(), "action": action, "domain": domain,
            "actor": {"kind": c.kind, "source": c.source, "scope": list(c.scope),
                      "valid_from": c.valid_from, "valid_until": c.valid_until},
            "subject": {"birth_date": birth}}


def _record(loket: Loket, principal: Principal, trace: TraceContext, resolved: Resolved, *, action: str,
            domain: str | None, candidate: Candidate | None, decision: RepresentationDecision | None,
            result: str, codes: list[str], started: datetime, decision_ids: Sequence[str] = ()) -> AuditRecord:
    sources = sorted({c.source for c in resolved.candidates}) if candidate is None else [candidate.source]
    extra = {"action": action, "result": result, "checked_at": rfc3339(resolved.checked_at),
             "source": ",".join(sources) or "brp,ccbr,machtigingen"}
    if candidate is not None:
        extra["representation_kind"] = candidate.kind
        if candidate.machtiging_id:
            extra["machtiging_id"] = candidate.machtiging_id
    if decision is not None and decision.scope:
        extra["scope"] = ",".join(decision.scope)
    if domain:
        extra["domain"] = domain
    if codes:
        extra["reasons"] = ",".join(codes)[:250]
    if resolved.unavailable:
        extra["unavailable"] = ",".join(resolved.unavailable)
    if decision is not None:
        extra["policy_revision"] = decision.policy_revision[:64]
    if decision_ids:  # the decision-log rows of this check (loket policy replay <id>)
        extra["decision_ids"] = ",".join(decision_ids)[:250]
    return event_record(kind=AuditEventKind.REPRESENTATION_CHECKED, principal=principal, trace=trace,
                        started=started, status_code=STATUS_OK if result == "allowed" else STATUS_ERROR,
                        outcome=result, purposes=loket.purposes, data_subject=resolved.subject_pseudonym,
                        extra=extra)


def act_as(loket: Loket, principal: Principal, trace: TraceContext, *, action: str, domain: str | None) -> Acting:
    """Whose data, and the check's record; or a recorded refusal (403, B1 Dutch)."""
    if principal.act_for is None:
        return Acting(subject_pseudonym=own_pseudonym(loket, principal))
    resolved = principal.representation
    if not isinstance(resolved, Resolved):  # nobody looked the registers up: fail closed
        raise RepresentationUnchecked("the representation was not looked up for this request")
    started = datetime.now(UTC)
    now = clock(loket)
    codes: list[str] = []
    texts: list[str] = []
    first: tuple[Candidate, RepresentationDecision] | None = None
    pending: list[PendingDecision] = []  # one decision-log row per policy decision, in the record's transaction
    revision = loket.policy.revision
    for c in resolved.candidates:
        value = policy_input(now, action, domain, c, resolved.birth_date)
        try:
            raw, d = evaluate(loket, value)
        # fail-closed: an engine error is logged (outcome error) with a recorded refusal, then a 503
        except PolicyEngineError as err:
            pending.append(_logged(loket, principal, trace, resolved, value, c, now, revision=revision,
                                   raw={"error": err.code}, decision=None, error_code=err.code))
            record = _record(loket, principal, trace, resolved, action=action, domain=domain, candidate=c,
                             decision=None, result="error", codes=[err.code], started=started,
                             decision_ids=[p.decision_id for p in pending])
            try:
                commit_with_record(loket.audit, record, with_decisions(pending, _nothing))
            except AuditWriteError:
                pass  # still nothing done; the engine error is what the caller is told
            raise
        pending.append(_logged(loket, principal, trace, resolved, value, c, now, revision=revision,
                               raw=raw, decision=d))
        if d.allow:
            kind_nl = representation_data()["kinds"][c.kind]
            record = _record(loket, principal, trace, resolved, action=action, domain=domain, candidate=c,
                             decision=d, result="allowed", codes=[], started=started,
                             decision_ids=[p.decision_id for p in pending])
            return Acting(subject_pseudonym=resolved.subject_pseudonym, records=(record,), kind=c.kind,
                          extra={"acting_kind": c.kind, "acting_source": c.source,
                                 "acting_check": record.record_id, "acting_label": str(kind_nl["label_nl"])},
                          decisions=tuple(pending))
        first = first or (c, d)
        for r in d.reasons:
            if r.code not in codes:
                codes.append(r.code)
                texts.append(r.reason_nl)
    # fail-closed: nobody found while a register did not answer is "cannot check" (502), never an allow
    unverifiable = not resolved.candidates and bool(resolved.unavailable)
    if not resolved.candidates:
        codes = ["unverifiable" if unverifiable else "no_representation"]
        texts = [str(representation_data()["reasons"]["no_representation"]["reason_nl"])]
    record = _record(loket, principal, trace, resolved, action=action, domain=domain,
                     candidate=first[0] if first else None, decision=first[1] if first else None,
                     result="refused", codes=codes, started=started,
                     decision_ids=[p.decision_id for p in pending])
    commit_with_record(loket.audit, record, with_decisions(pending, _nothing))
    if unverifiable:
        raise RepresentationUnverifiable(
            "We konden nu niet nagaan of u voor deze persoon mag handelen. Er is niets gedaan. "
            "Probeer het later opnieuw.")
    raise RepresentationRefused(" ".join(_with_scope(texts, codes, first, domain)))


def _with_scope(texts: list[str], codes: list[str], first: tuple[Candidate, RepresentationDecision] | None,
                domain: str | None) -> list[str]:
    """The policy's B1 reason, and for a scope refusal what the representative does cover."""
    if "out_of_scope" not in codes or first is None:
        return texts
    data = representation_data()
    labels = data["domains"]
    kind = data["kinds"].get(first[0].kind, {}).get("label_nl", "vertegenwoordiger")
    covered = " en ".join(labels.get(s, {}).get("label_nl", s) for s in first[1].scope) or "niets"
    about = labels.get(domain or "", {}).get("label_nl", domain or "")
    return [*texts, f"Als {kind} gaat u alleen over {covered}. Dit gaat over {about}."]


def subject_for_reading(loket: Loket, principal: Principal, trace: TraceContext | None = None) -> str:
    """The subject's pseudonym for a page or list that only shows (action ``inzien``); a
    representative's check is committed on its own, as there is no change to go with it."""
    if trace is None:  # the request's own trace, as the registers were asked in it
        resolved = principal.representation
        trace = TraceContext.from_header(resolved.traceparent if isinstance(resolved, Resolved) else None)
    acting = act_as(loket, principal, trace, action=INZIEN, domain=None)
    for record in acting.records:
        commit_with_record(loket.audit, record, acting.logged(_nothing))
    return acting.subject_pseudonym
