"""Unusual patterns in the access log, for the privacy officer. Pure functions over records.

Suwinet-Inkijk went wrong because logs existed but nobody looked at the outliers (DOMAIN.md).
Each detector takes ``(index, AuditRecord)`` pairs and returns findings that carry the records
behind them, so the FG can open exactly those lines. Thresholds are named parameters with
defaults a pilot can start from; a finding is a reason to look, never a verdict.

(a) ``many_citizens``: a casemanager looked at many more citizens than their peers.
(b) ``outside_office_hours``: accesses outside office hours in Europe/Amsterdam.
(c) ``refusals_then_break_glass``: repeated refusals, then break-glass, for one citizen.
(d) ``many_casemanagers_one_citizen``: many cases for one citizen by different casemanagers.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from audit.record import AuditEventKind, AuditRecord
from gateway.oversight.access_log import IndexedRecord, parse_record_time

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

#: A look at a citizen's data (or an attempt): what the patterns count as an access.
DOSSIER_KINDS = frozenset({AuditEventKind.DOSSIER_READ, AuditEventKind.DOSSIER_REFUSED,
                           AuditEventKind.DOSSIER_BREAK_GLASS, AuditEventKind.DOSSIER_ERROR})


@dataclass(frozen=True)
class Finding:
    pattern: str  # "many_citizens" | "outside_office_hours" | "refusals_then_break_glass" | ...
    title_nl: str
    explanation_nl: str
    subject: str  # the casemanager sub or the citizen pseudonym the finding is about
    indexes: tuple[int, ...]  # the records behind it, oldest first


def _accesses(records: Iterable[IndexedRecord]) -> list[IndexedRecord]:
    return [r for r in records if r.record.kind in DOSSIER_KINDS and r.record.actor_role == "casemanager"]


def many_citizens(records: Sequence[IndexedRecord], *, factor: float = 3.0,
                  min_excess: int = 5, min_peers: int = 2) -> list[Finding]:
    """(a) Distinct citizens per casemanager against the median of the *other* casemanagers.

    Flagged when a casemanager saw at least ``factor`` times the peers' median and at least
    ``min_excess`` citizens more; needs ``min_peers`` peers, since without peers there is no norm.
    """
    seen: dict[str, set[str]] = defaultdict(set)
    behind: dict[str, list[int]] = defaultdict(list)
    for item in _accesses(records):
        r = item.record
        if r.data_subject_id:
            seen[r.actor_sub].add(r.data_subject_id)
            behind[r.actor_sub].append(item.index)
    findings = []
    for cm, subjects in sorted(seen.items()):
        peers = [len(s) for other, s in seen.items() if other != cm]
        if len(peers) < min_peers:
            continue
        median = statistics.median(peers)
        count = len(subjects)
        if count >= factor * max(median, 1) and count - median >= min_excess:
            findings.append(Finding(
                pattern="many_citizens",
                title_nl=f"{cm} bekeek veel meer burgers dan collega's",
                explanation_nl=(f"{cm} bekeek gegevens van {count} verschillende burgers; "
                                f"bij collega's is dat gemiddeld (mediaan) {median:g}."),
                subject=cm, indexes=tuple(sorted(behind[cm])),
            ))
    return findings


def is_office_hours(t: datetime, *, start_hour: int = 8, end_hour: int = 18) -> bool:
    """Monday–Friday, ``start_hour``–``end_hour`` local time in Amsterdam (DST-aware)."""
    local = t.astimezone(AMSTERDAM)
    return local.weekday() < 5 and start_hour <= local.hour < end_hour


def outside_office_hours(records: Sequence[IndexedRecord], *, start_hour: int = 8,
                         end_hour: int = 18) -> list[Finding]:
    """(b) One finding per casemanager with all their accesses outside office hours."""
    by_cm: dict[str, list[int]] = defaultdict(list)
    for item in _accesses(records):
        if not is_office_hours(parse_record_time(item.record.start_time),
                               start_hour=start_hour, end_hour=end_hour):
            by_cm[item.record.actor_sub].append(item.index)
    return [
        Finding(pattern="outside_office_hours",
                title_nl=f"{cm} keek buiten kantoortijden",
                explanation_nl=(f"{len(idx)} keer gegevens bekeken buiten werktijd "
                                f"(maandag tot en met vrijdag {start_hour}:00–{end_hour}:00)."),
                subject=cm, indexes=tuple(sorted(idx)))
        for cm, idx in sorted(by_cm.items())
    ]


def _refused_something(r: AuditRecord) -> bool:
    return r.kind is AuditEventKind.DOSSIER_REFUSED or (
        r.kind is AuditEventKind.DOSSIER_READ and bool(r.refused))


def refusals_then_break_glass(records: Sequence[IndexedRecord], *, min_refusals: int = 2,
                              window: timedelta = timedelta(hours=24)) -> list[Finding]:
    """(c) At least ``min_refusals`` refused requests by one casemanager for one citizen, then a
    break-glass access for that citizen within ``window`` of the first of them."""
    ordered = sorted(_accesses(records), key=lambda i: i.index)
    refusals: dict[tuple[str, str], list[IndexedRecord]] = defaultdict(list)
    findings = []
    for item in ordered:
        r = item.record
        if not r.data_subject_id:
            continue
        key = (r.actor_sub, r.data_subject_id)
        t = parse_record_time(r.start_time)
        recent = [x for x in refusals[key] if t - parse_record_time(x.record.start_time) <= window]
        if r.break_glass:
            if len(recent) >= min_refusals:
                findings.append(Finding(
                    pattern="refusals_then_break_glass",
                    title_nl=f"{r.actor_sub}: eerst geweigerd, daarna noodtoegang",
                    explanation_nl=(f"{len(recent)} keer geen (volledige) toegang voor dezelfde burger, "
                                    "daarna noodtoegang gebruikt."),
                    subject=r.actor_sub, indexes=tuple(x.index for x in recent) + (item.index,),
                ))
            refusals[key] = []
        elif _refused_something(r):
            refusals[key] = recent + [item]
    return findings


def many_casemanagers_one_citizen(records: Sequence[IndexedRecord], *, min_casemanagers: int = 3,
                                  window: timedelta = timedelta(days=30)) -> list[Finding]:
    """(d) Cases opened for one citizen for at least ``min_casemanagers`` different casemanagers
    within ``window`` (someone may be shopping for a colleague who will look). Since cases have
    grounds, a coordinator opens them; the casemanager is the one assigned (``extra``)."""

    def assignee(x: IndexedRecord) -> str:
        return x.record.extra.get("casemanager") or x.record.actor_sub

    opened: dict[str, list[IndexedRecord]] = defaultdict(list)
    for item in sorted(records, key=lambda i: i.index):
        r = item.record
        if r.kind is AuditEventKind.CASE_OPENED and r.data_subject_id:
            opened[r.data_subject_id].append(item)
    findings = []
    for subject, items in sorted(opened.items()):
        best: list[IndexedRecord] = []
        for i, first in enumerate(items):
            t0 = parse_record_time(first.record.start_time)
            run = [x for x in items[i:] if parse_record_time(x.record.start_time) - t0 <= window]
            if len({assignee(x) for x in run}) > len({assignee(x) for x in best}):
                best = run
        cms = sorted({assignee(x) for x in best})
        if len(cms) >= min_casemanagers:
            findings.append(Finding(
                pattern="many_casemanagers_one_citizen",
                title_nl=f"{len(cms)} casemanagers openden een zaak voor dezelfde burger",
                explanation_nl=("Zaken geopend door " + ", ".join(cms) +
                                f" binnen {window.days} dagen."),
                subject=subject, indexes=tuple(x.index for x in best),
            ))
    return findings


PATTERN_TITLES_NL = {
    "many_citizens": "Veel meer burgers bekeken dan collega's",
    "outside_office_hours": "Toegang buiten kantoortijden",
    "refusals_then_break_glass": "Eerst geweigerd, daarna noodtoegang",
    "many_casemanagers_one_citizen": "Veel casemanagers voor één burger",
}


def all_findings(records: Sequence[IndexedRecord]) -> dict[str, list[Finding]]:
    return {
        "many_citizens": many_citizens(records),
        "outside_office_hours": outside_office_hours(records),
        "refusals_then_break_glass": refusals_then_break_glass(records),
        "many_casemanagers_one_citizen": many_casemanagers_one_citizen(records),
    }
