"""The citizen's view of the log: every access to my data, and a proof for each line.

A proof is a ``loket-audit-proof-v1`` bundle (audit/export.py): the record, its RFC 9162
inclusion proof and the signed checkpoint it leads to. ``loket audit verify-proof`` checks it
offline with only the log's public key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from audit.export import completeness_bundle, proof_bundle
from audit.record import AuditEventKind
from gateway.core.context import Loket
from gateway.core.models import Case
from gateway.dossier.explain import Explainer
from gateway.identity.auth import Principal
from gateway.oversight.access_log import (
    AMSTERDAM,
    AccessView,
    IndexedRecord,
    access_view,
    citizen_accesses,
    own_record,
    parse_record_time,
    review_statuses,
    time_nl,
)
from gateway.oversight.reports import ReportView, reports_of_me
from gateway.oversight.witnesses import WitnessView, witness_view
from gateway.representation.check import subject_for_reading
from gateway.workspace.directory import CaseManagerContact, casemanager


def views_of(loket: Loket, items: list[IndexedRecord]) -> list[AccessView]:
    ex = Explainer.of(loket)
    with loket.sessions() as session:
        reviews = review_statuses(session, [i.record.decision_id or "" for i in items if i.record.break_glass])
    return [access_view(i, ex, reviews.get(i.record.decision_id or "")) for i in items]


def my_accesses(loket: Loket, principal: Principal, *, before: int | None,
                limit: int) -> tuple[list[AccessView], int | None]:
    pseudonym = subject_for_reading(loket, principal)
    items, nxt = citizen_accesses(loket.audit, pseudonym, before=before, limit=limit)
    return views_of(loket, items), nxt


def my_proof(loket: Loket, principal: Principal, index: int) -> dict[str, Any]:
    """The proof bundle for one of my records; another citizen's index is 404 (no IDOR)."""
    own_record(loket.audit, subject_for_reading(loket, principal), index)
    return proof_bundle(loket.audit, index)


def my_completeness(loket: Loket, principal: Principal) -> dict[str, Any]:
    """All my records up to the latest checkpoint with the proof that the list is complete
    (``loket-audit-completeness-v1``, ADR 0005)."""
    return completeness_bundle(loket.audit, subject_for_reading(loket, principal))


# --- "Wie bekeek mijn gegevens?" for someone under stress ---------------------------------
# A short summary first, then one compact block per look: who (by name), what for, which
# organisations' data; details (human field names, the legal citation) only when opened.

LOOK_KINDS = frozenset({AuditEventKind.DOSSIER_READ, AuditEventKind.DOSSIER_BREAK_GLASS,
                        AuditEventKind.DOSSIER_REFUSED, AuditEventKind.DOSSIER_ERROR})


@dataclass(frozen=True)
class SharedCategory:
    category_label: str
    fields_nl: tuple[str, ...]
    basis_label: str
    citation: str
    unverified: bool


@dataclass(frozen=True)
class OrganisationGroup:
    organisation: str
    categories: tuple[SharedCategory, ...]


@dataclass(frozen=True)
class LookView:
    index: int
    at: datetime
    at_nl: str
    kind: str
    action_nl: str
    who_nl: str
    who_team: str
    actor_role: str
    purpose_label: str
    break_glass: bool
    review_status: str | None
    groups: tuple[OrganisationGroup, ...]
    refused: tuple[tuple[str, str, str], ...]  # (organisation, category label, reason)
    unavailable: tuple[str, ...]
    report: ReportView | None
    #: a representation check, in one B1 sentence ("Dit mocht: toestemming geven over geldzaken. ...")
    note_nl: str = ""

    @property
    def organisations(self) -> list[str]:
        return [g.organisation for g in self.groups]


@dataclass(frozen=True)
class MonthSummary:
    people: int
    organisation_nl: str
    purposes: tuple[str, ...]
    looks: int

    @property
    def text(self) -> str:
        if self.looks == 0:
            return "Deze maand heeft niemand uw gegevens bekeken."
        who = "1 persoon" if self.people == 1 else f"{self.people} mensen"
        verb = "keek" if self.people == 1 else "keken"
        why = ", ".join(p[:1].lower() + p[1:] for p in self.purposes)
        return (f"Deze maand {verb} {who} van {self.organisation_nl} naar uw gegevens"
                + (f", voor uw aanvraag: {why}." if why else "."))


def look_view(item: IndexedRecord, ex: Explainer, review_status: str | None,
              report: ReportView | None) -> LookView:
    r = item.record
    at = parse_record_time(r.start_time)
    by_org: dict[str, list[SharedCategory]] = {}
    for d in r.disclosed:
        citation, verified = ex.basis_citation(d.basis_type, d.basis_id)
        by_org.setdefault(ex.organisation(d.agency), []).append(SharedCategory(
            category_label=ex.category_label(d.agency, d.category),
            fields_nl=tuple(ex.field_labels(d.agency, d.fields)),
            basis_label=ex.basis_label(d.basis_type, d.basis_id), citation=citation,
            unverified=verified is False))
    refused = tuple(
        (ex.organisation(x.agency) if x.agency != "*" else "",
         ex.category_label(x.agency, x.category) if x.category != "*" else "", ex.refusal_text(x.code))
        for x in r.refused)
    contact = casemanager(r.actor_sub) if r.actor_role == "casemanager" else None
    if contact is not None:
        who, team = f"{contact.name}, casemanager", contact.team
    elif r.actor_role == "casemanager":  # not in the directory: the id is all we can name
        who, team = f"Casemanager {r.actor_sub}", ""
    else:
        who, team = ex.actor_label(r.actor_role, r.extra), ""
    return LookView(
        index=item.index, at=at, at_nl=time_nl(at), kind=r.kind.value, action_nl=ex.kind_label(r.kind.value),
        who_nl=who, who_team=team, actor_role=r.actor_role,
        purpose_label=ex.purpose_label(r.purpose) if r.purpose else "", break_glass=r.break_glass,
        review_status=review_status,
        groups=tuple(OrganisationGroup(o, tuple(c)) for o, c in by_org.items()),
        refused=refused, unavailable=tuple(ex.organisation(a) for a in r.unavailable), report=report,
        note_nl=ex.representation_note(r.kind.value, r.extra),
    )


def month_summary(items: list[IndexedRecord], ex: Explainer, now: datetime) -> MonthSummary:
    local = now.astimezone(AMSTERDAM)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    people: set[str] = set()
    purposes: list[str] = []
    looks = 0
    for i in items:
        r = i.record
        if r.kind not in LOOK_KINDS or r.actor_role != "casemanager":
            continue
        if parse_record_time(r.start_time) < start:
            continue
        looks += 1
        people.add(r.actor_sub)
        label = ex.purpose_label(r.purpose) if r.purpose else ""
        if label and label not in purposes:
            purposes.append(label)
    return MonthSummary(people=len(people), organisation_nl="de gemeente", purposes=tuple(purposes), looks=looks)


@dataclass(frozen=True)
class CitizenLooks:
    summary: MonthSummary
    looks: list[LookView]
    next_before: int | None
    casemanagers: list[CaseManagerContact]
    reports: list[ReportView]
    agency_requests: list[Any] = field(default_factory=list)
    witnesses: WitnessView = field(default_factory=lambda: WitnessView(configured=False))


def my_looks(loket: Loket, principal: Principal, *, before: int | None, limit: int,
             now: datetime | None = None) -> CitizenLooks:
    """Everything "Wie bekeek mijn gegevens?" shows, read from the log (and the citizen's own
    reports and cases)."""
    ex = Explainer.of(loket)
    pseudonym = subject_for_reading(loket, principal)
    items, nxt = citizen_accesses(loket.audit, pseudonym, before=before, limit=limit)
    recent = items if before is None else citizen_accesses(loket.audit, pseudonym, limit=limit)[0]
    # "Ik herken dit niet" is the citizen's own report: a representative does not see or make one.
    reports = reports_of_me(loket, principal) if principal.act_for is None else []
    by_index = {r.record_index: r for r in reports}
    with loket.sessions() as session:
        reviews = review_statuses(session, [i.record.decision_id or "" for i in items if i.record.break_glass])
        subs = sorted(set(session.scalars(select(Case.casemanager_sub).where(Case.citizen_pseudonym == pseudonym))))
    contacts = [c for c in (casemanager(s) for s in subs) if c is not None]
    from gateway.workspace.agency_requests import requests_of_citizen

    return CitizenLooks(
        summary=month_summary(recent, ex, now or datetime.now(UTC)),
        looks=[look_view(i, ex, reviews.get(i.record.decision_id or ""), by_index.get(i.index)) for i in items],
        next_before=nxt, casemanagers=contacts, reports=reports,
        agency_requests=requests_of_citizen(loket, pseudonym) if before is None else [],
        witnesses=witness_view(loket),
    )
