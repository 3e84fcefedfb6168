"""Unusual patterns and minimisation figures over the *whole* access log, kept up to date
incrementally.

The detectors (gateway/oversight/patterns.py) are pure functions over records. Reading the
whole log for them on every page load does not scale, and reading only the newest N records
misses a pattern older than N. So each access (and each case opened) is copied once, as a few
columns of metadata, into ``pattern_events`` when a scan passes it; ``pattern_state`` keeps how
far the scan got and the findings at that point. A page load reads only the records appended
since the last scan (usually none or a few) and recomputes the findings only when one of them
was an access. Two processes refreshing at once: the scan position is a compare-and-set, so
one of them commits and the other's work is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from audit.record import AuditEventKind, AuditRecord
from gateway.core.context import Loket
from gateway.core.models import PatternEvent, PatternState, utcnow
from gateway.oversight.access_log import IndexedRecord
from gateway.oversight.patterns import DOSSIER_KINDS, Finding, all_findings

STATE = "patterns"
#: At most this many log records are read per refresh (a page load never reads the whole log
#: at once; a first scan of a big log catches up over a few loads, and says so).
MAX_SCAN_PER_REFRESH = 50_000
SCANNED_KINDS = DOSSIER_KINDS | {AuditEventKind.CASE_OPENED}


@dataclass(frozen=True)
class _EventRecord:
    """The part of an AuditRecord the detectors read, rebuilt from ``pattern_events``."""

    kind: AuditEventKind
    actor_sub: str
    actor_role: str
    data_subject_id: str | None
    start_time: str
    break_glass: bool
    refused: tuple[str, ...]
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Freshness:
    scanned_until: int  # records [0, scanned_until) are in
    tree_size: int
    updated_at: datetime | None

    @property
    def complete(self) -> bool:
        return self.scanned_until >= self.tree_size


@dataclass(frozen=True)
class PatternReport:
    findings: dict[str, list[Finding]]
    freshness: Freshness


def held_fields(loket: Loket, record: AuditRecord) -> int:
    """What the agencies involved hold about a person, by the catalog: every field of every
    agency the request reached or was refused at. The denominator of the minimisation figure."""
    agencies = ({d.agency for d in record.disclosed} | {x.agency for x in record.refused if x.agency != "*"}
                | set(record.unavailable))
    return sum(len(loket.catalog.fields_of(a)) for a in agencies if a in loket.catalog.agencies)


def event_row(loket: Loket, index: int, r: AuditRecord) -> PatternEvent:
    refused_something = r.kind is AuditEventKind.DOSSIER_REFUSED or (
        r.kind is AuditEventKind.DOSSIER_READ and bool(r.refused))
    # A case is opened by a coordinator for the casemanager it assigns (grounds): the patterns
    # count the assignee, as gateway/oversight/patterns.py does with the record itself.
    actor = r.extra.get("casemanager") or r.actor_sub if r.kind is AuditEventKind.CASE_OPENED else r.actor_sub
    return PatternEvent(
        log_index=index, kind=r.kind.value, actor_sub=actor, actor_role=r.actor_role,
        subject=r.data_subject_id, purpose=r.purpose, start_time=r.start_time, break_glass=r.break_glass,
        refused_something=refused_something, disclosed_fields=sum(len(d.fields) for d in r.disclosed),
        held_fields=held_fields(loket, r) if r.kind in DOSSIER_KINDS else 0,
        refusals=sum(1 for x in r.refused if x.agency != "*"),
    )


def _as_indexed(rows: Iterable[PatternEvent]) -> list[IndexedRecord]:
    out = []
    for e in rows:
        rec = _EventRecord(kind=AuditEventKind(e.kind), actor_sub=e.actor_sub, actor_role=e.actor_role,
                           data_subject_id=e.subject, start_time=e.start_time, break_glass=e.break_glass,
                           refused=("refused",) if e.refused_something else ())
        out.append(IndexedRecord(e.log_index, rec))  # type: ignore[arg-type]  # duck-typed record
    return out


def _findings_json(findings: dict[str, list[Finding]]) -> str:
    return json.dumps({k: [asdict(f) for f in v] for k, v in findings.items()}, sort_keys=True)


def _findings_of(text: str) -> dict[str, list[Finding]]:
    raw = json.loads(text or "{}")
    out = {k: [Finding(**{**f, "indexes": tuple(f["indexes"])}) for f in v] for k, v in raw.items()}
    return out or {k: [] for k in all_findings([])}


def refresh(loket: Loket, *, max_records: int = MAX_SCAN_PER_REFRESH) -> PatternReport:
    """Scan what was appended since the last scan (bounded), update the findings if an access
    came in, and return them with how fresh they are."""
    tree_size = loket.audit.head().tree_size
    with loket.sessions() as session:
        state = session.get(PatternState, STATE)
        if state is None:
            try:
                session.add(PatternState(name=STATE, scanned_until=0, findings_json="{}", updated_at=utcnow()))
                session.commit()
            except SqlIntegrityError:  # another process made it first
                session.rollback()
            state = session.get(PatternState, STATE)
        assert state is not None
        start, findings_text, updated_at = state.scanned_until, state.findings_json, state.updated_at
    stop = min(tree_size, start + max_records)
    if stop <= start:
        return PatternReport(_findings_of(findings_text), Freshness(start, tree_size, updated_at))
    new = [event_row(loket, s.index, s.record)
           for s in loket.audit.iter_records(start=start, stop=stop) if s.record.kind in SCANNED_KINDS]
    now = utcnow()
    with loket.sessions() as session:
        session.add_all(new)
        session.flush()
        if new or findings_text in ("", "{}"):
            rows = session.scalars(select(PatternEvent).order_by(PatternEvent.log_index))
            findings_text = _findings_json(all_findings(_as_indexed(rows)))
        done = session.execute(update(PatternState)
                               .where(PatternState.name == STATE, PatternState.scanned_until == start)
                               .values(scanned_until=stop, findings_json=findings_text, updated_at=now))
        if getattr(done, "rowcount", 0) != 1:
            session.rollback()  # another process scanned the same records: use its result
            return _current(loket, tree_size)
        session.commit()
    return PatternReport(_findings_of(findings_text), Freshness(stop, tree_size, now))


def _current(loket: Loket, tree_size: int) -> PatternReport:
    with loket.sessions() as session:
        state = session.get(PatternState, STATE)
        assert state is not None
        return PatternReport(_findings_of(state.findings_json),
                             Freshness(state.scanned_until, tree_size, state.updated_at))


# --- minimisation, measured -----------------------------------------------------------------


@dataclass(frozen=True)
class MinimisationRow:
    key: str  # purpose id or casemanager sub
    looks: int
    disclosed_fields: int
    held_fields: int
    refusals: int

    @property
    def ratio(self) -> float:
        return self.disclosed_fields / self.held_fields if self.held_fields else 0.0

    @property
    def percent(self) -> int:
        return round(100 * self.ratio)


def minimisation(loket: Loket, *, by: str) -> list[MinimisationRow]:
    """Per purpose (``by="purpose"``) or per casemanager (``by="casemanager"``): looks, fields
    disclosed, fields the agencies involved hold (catalog), refusals. From ``pattern_events``,
    so as fresh as the last refresh."""
    column = PatternEvent.purpose if by == "purpose" else PatternEvent.actor_sub
    stmt = (select(column, func.count(), func.sum(PatternEvent.disclosed_fields),
                   func.sum(PatternEvent.held_fields), func.sum(PatternEvent.refusals))
            .where(PatternEvent.kind.in_([k.value for k in DOSSIER_KINDS]),
                   PatternEvent.actor_role == "casemanager")
            .group_by(column).order_by(column))
    with loket.sessions() as session:
        return [MinimisationRow(str(k or "onbekend"), int(n), int(d or 0), int(h or 0), int(x or 0))
                for k, n, d, h, x in session.execute(stmt)]
