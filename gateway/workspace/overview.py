"""The case overview as a use case: one audited dossier look (the overview is computed from
what that decision disclosed, nothing else), the agencies' answers to earlier requests, what
was already asked, and the professional lines of the purpose's agencies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anyio

from gateway.cases.service import my_case
from gateway.consents import service as consent_service
from gateway.consents.requests import purpose_scope
from gateway.core.context import Loket
from gateway.core.tracing import TraceContext
from gateway.dossier.explain import Explainer
from gateway.dossier.flow import request_dossier
from gateway.dossier.overview import AskedBefore, Contact, NotSeen, Overview, build_overview, euro
from gateway.identity.auth import Principal
from gateway.representation.overview import who_may_act
from gateway.workspace.agency_requests import AgencyRequestView, collect_answers, requests_of_case
from gateway.workspace.directory import professional_line


@dataclass(frozen=True)
class CaseOverview:
    case_id: str
    purpose: str
    purpose_label: str
    citizen_name: str | None
    overview: Overview
    agency_requests: tuple[AgencyRequestView, ...]
    audit_index: int
    decision_id: str


def _citizen_name(values: dict[tuple[str, str], Any]) -> str | None:
    parts = [values.get(("brp", p)) for p in ("naam.voornamen", "naam.voorvoegsel", "naam.geslachtsnaam")]
    text = " ".join(str(p) for p in parts if isinstance(p, str) and p)
    return text or None


async def case_overview(loket: Loket, principal: Principal, trace: TraceContext, case_id: str) -> CaseOverview:
    case = await anyio.to_thread.run_sync(my_case, loket, principal, case_id)  # 404 before anything is asked
    await collect_answers(loket, case_id=case.id)
    result = await request_dossier(loket, principal, case.id, trace=trace)
    ex = Explainer.of(loket)
    values = {(v.agency, v.field): v.value for v in result.filtered.values}
    not_seen = [NotSeen(ex.organisation(r.agency), ex.category_label(r.agency, r.category), r.reason_nl)
                for r in result.decision.refusals]
    not_seen += [NotSeen("", "", r.reason_nl) for r in result.decision.reasons]
    not_seen += [NotSeen(ex.organisation(u.agency), "alle gevraagde gegevens",
                         "De organisatie gaf geen antwoord. Probeer het later opnieuw.")
                 for u in result.filtered.unavailable]
    requests = await anyio.to_thread.run_sync(requests_of_case, loket, case.id)
    consents = await anyio.to_thread.run_sync(consent_service.requests_of_case, loket, principal, case.id)
    asked = [AskedBefore(what_nl=f"{r.label_nl} bij {r.organisation}", status_nl=r.status_nl + (
                 f" {r.reason}" if r.reason else ""), agency=r.agency, request_type=r.request_type,
                 status=r.status, until=r.sent.get("until"), reason=r.reason) for r in requests]
    asked += [AskedBefore(what_nl="Toestemming gevraagd aan de burger voor: "
                          + ", ".join(f"{i.organisation} ({i.category_label.lower()})" for i in c.items),
                          status_nl="Wacht op antwoord van de burger." if c.status == "open" else
                          "Beantwoord door de burger.", status=c.status) for c in consents]
    agencies = sorted({a for a, _ in purpose_scope(loket.purposes, case.purpose)})
    contacts = [Contact(a, ex.organisation(a), line.name, line.phone, line.hours)
                for a in agencies if (line := professional_line(a)) is not None]
    representatives = await anyio.to_thread.run_sync(who_may_act, loket, case.citizen_pseudonym)
    overview = build_overview(values=values, not_seen=not_seen, asked=asked, contacts=contacts,
                              organisation=ex.organisation, today=datetime.now(UTC).date(),
                              representatives=representatives)
    return CaseOverview(case_id=case.id, purpose=case.purpose, purpose_label=ex.purpose_label(case.purpose),
                        citizen_name=_citizen_name(values), overview=overview, agency_requests=tuple(requests),
                        audit_index=result.audit_index, decision_id=result.decision.decision_id)


def _amount(a: Decimal | None) -> str | None:
    return None if a is None else f"{a.quantize(Decimal('0.01'))}"


def overview_json(o: CaseOverview) -> dict[str, Any]:
    ov = o.overview
    return {
        "case_id": o.case_id, "purpose": o.purpose, "purpose_label": o.purpose_label,
        "decision_id": o.decision_id, "audit": {"index": o.audit_index},
        "deadlines_and_threats": [
            {"rule": i.rule, "agency": i.agency, "organisation": i.organisation, "title": i.title_nl,
             "why": i.why_nl, "next_step": i.next_nl, "amount": _amount(i.amount),
             "when": i.when.isoformat() if i.when else None, "suggested_request": i.suggest, "note": i.note_nl}
            for i in ov.actions],
        "arrears": {"per_agency": [{"agency": x.agency, "organisation": x.organisation, "label": x.label_nl,
                                    "amount": _amount(x.amount), "months": x.months} for x in ov.arrears],
                    "total": _amount(ov.arrears_total), "total_text": euro(ov.arrears_total)},
        "representatives": {"known": bool(ov.representatives), "text": ov.representatives_nl,
                            "people": [{"kind": r.kind, "label": r.label_nl, "source": r.source, "scope": r.scope_nl,
                                      "detail": r.detail_nl} for r in ov.representatives]},
        "contacts": [{"agency": c.agency, "organisation": c.organisation, "name": c.name, "phone": c.phone,
                      "hours": c.hours} for c in ov.contacts],
        "already_asked": [{"what": a.what_nl, "status": a.status, "status_text": a.status_nl} for a in ov.asked],
        "could_not_see": [{"organisation": n.organisation, "what": n.what_nl, "reason": n.reason_nl}
                          for n in ov.not_seen],
    }



