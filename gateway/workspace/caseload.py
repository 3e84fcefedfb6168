""""Mijn zaken": the casemanager's cases, each with its ground (the citizen's aanmelding, an
early-warning signal, or the coordinator's assignment), the new ones — never looked at yet —
first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from gateway.cases.service import cases_of
from gateway.core.context import Loket
from gateway.core.models import Aanmelding, LoggedDecisionRow, Signal
from gateway.dossier.explain import Explainer
from gateway.dossier.overview import euro, money
from gateway.identity.auth import Principal

GROUND_NL = {"aanmelding": "Aanmelding door de burger", "signaal": "Signaal van een betalingsachterstand",
             "toewijzing": "Toegewezen door de teamleider"}
SIGNAL_NL = {"huur": "huur", "energie": "energie", "water": "drinkwater", "zorgverzekering": "zorgverzekering",
             "cak": "CAK"}


@dataclass(frozen=True)
class CaseRow:
    id: str
    ref: str
    purpose_label: str
    opened: datetime
    ground_nl: str
    ground_detail: str  # the citizen's words, the signal, or the coordinator's reason
    new: bool  # no dossier look yet


def my_caseload(loket: Loket, principal: Principal) -> list[CaseRow]:
    ex = Explainer.of(loket)
    with loket.sessions() as session:
        cases = cases_of(session, principal)
        ids = [c.id for c in cases]
        looked = set(session.scalars(select(LoggedDecisionRow.case_id).where(LoggedDecisionRow.case_id.in_(ids))
                                     .distinct())) if ids else set()
        ground_ids = [c.ground_id for c in cases if c.ground_id]
        aanmeldingen = {a.id: a for a in session.scalars(select(Aanmelding).where(Aanmelding.id.in_(ground_ids)))}
        signals = {s.id: s for s in session.scalars(select(Signal).where(Signal.id.in_(ground_ids)))}
    rows = []
    for c in cases:
        detail = ""
        if c.ground_type == "aanmelding" and c.ground_id in aanmeldingen:
            detail = aanmeldingen[c.ground_id].message or ""
        elif c.ground_type == "signaal" and c.ground_id in signals:
            s = signals[c.ground_id]
            detail = f"Achterstand {SIGNAL_NL.get(s.soort, s.soort)} van {euro(money(s.achterstand))} ({s.signaled_on})"
        elif c.ground_type == "toewijzing":
            detail = c.ground_reason or ""
        rows.append(CaseRow(id=c.id, ref=c.id[:8], purpose_label=ex.purpose_label(c.purpose), opened=c.created_at,
                            ground_nl=GROUND_NL.get(c.ground_type or "", "Geen aanleiding vastgelegd"),
                            ground_detail=detail, new=c.id not in looked))
    return sorted(rows, key=lambda r: (not r.new, -r.opened.timestamp()))
