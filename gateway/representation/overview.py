"""Who may act for a citizen, for the casemanager's overview (section 3).

From Loket's own records only, nothing fetched for it: the citizen's machtigingen that still
hold (name, domains, end) and the representatives whose check succeeded (kind, register,
domains, last check), read from the audit log about this citizen. Names of parents, curators,
bewindvoerders and mentors are not shown: the casemanager sees them only if the dossier
decision releases the BRP or register data for the case's purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.core.context import Loket
from gateway.core.models import Machtiging
from gateway.representation.policy import representation_data

SOURCES_NL = {"brp": "de BRP (gezag)", "ccbr": "het curatele- en bewindregister",
              "machtigingen": "de machtigingen van de burger"}
MAX_RECORDS_SCANNED = 2000


@dataclass(frozen=True)
class RepresentativeLine:
    kind: str
    label_nl: str  # "Bewindvoerder" or "Gemachtigde Linda Bakker-Smit"
    source: str
    scope_nl: str  # "geldzaken"
    detail_nl: str  # "laatst nagegaan 1 december 2026" / "tot 1 maart 2027"


def _domains_nl(scope: list[str] | tuple[str, ...]) -> str:
    labels = representation_data()["domains"]
    return ", ".join(labels.get(s, {}).get("label_nl", s) for s in scope)


def _date_nl(d: datetime) -> str:
    from gateway.oversight.access_log import time_nl

    return time_nl(d).split(", ")[0]


def who_may_act(loket: Loket, citizen_pseudonym: str, now: datetime | None = None) -> list[RepresentativeLine]:
    now = now or datetime.now(UTC)
    kinds = representation_data()["kinds"]
    lines: list[RepresentativeLine] = []
    with loket.sessions() as session:
        rows = session.scalars(select(Machtiging).where(
            Machtiging.citizen_pseudonym == citizen_pseudonym, Machtiging.revoked_at.is_(None),
            Machtiging.valid_until > now).order_by(Machtiging.created_at))
        for m in rows:
            lines.append(RepresentativeLine("gemachtigde", f"Gemachtigde {m.gemachtigde_naam}", "machtigingen",
                                            _domains_nl(m.scope), f"tot {_date_nl(m.valid_until)}"))
    seen: set[tuple[str, str]] = set()
    flt = AuditFilter(data_subject_id=citizen_pseudonym, kind=AuditEventKind.REPRESENTATION_CHECKED)
    for stored in loket.audit.find(flt, limit=MAX_RECORDS_SCANNED, newest_first=True):
        r = stored.record
        kind, source = r.extra.get("representation_kind", ""), r.extra.get("source", "")
        if r.outcome != "allowed" or kind not in kinds or kind == "gemachtigde" or (kind, source) in seen:
            continue
        seen.add((kind, source))
        checked = datetime.fromisoformat(r.extra["checked_at"].replace("Z", "+00:00"))
        scope = r.extra["scope"].split(",") if r.extra.get("scope") else []
        lines.append(RepresentativeLine(kind, str(kinds[kind]["label_nl"]).capitalize(), source, _domains_nl(scope),
                                        f"handelde voor de burger; laatst nagegaan op {_date_nl(checked)} in "
                                        f"{SOURCES_NL.get(source, source)}"))
    return lines
