"""Unusual-pattern detectors (a)–(d) on constructed records: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from audit.record import AuditEventKind, AuditRecord, Disclosure, Refusal, utc_timestamp
from gateway.oversight.access_log import IndexedRecord
from gateway.oversight.patterns import (
    is_office_hours,
    many_casemanagers_one_citizen,
    many_citizens,
    outside_office_hours,
    refusals_then_break_glass,
)

# Tuesday 25 November 2026, 10:00 in Amsterdam (CET = UTC+1)
OFFICE = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def subject(n: int) -> str:
    return f"{n:064x}"


def rec(kind: AuditEventKind, actor: str, subj: int, at: datetime, **kw: object) -> AuditRecord:
    return AuditRecord(kind=kind, actor_sub=actor, actor_role="casemanager", outcome="x",
                       start_time=utc_timestamp(at), data_subject_id=subject(subj), **kw)  # type: ignore[arg-type]


def indexed(records: list[AuditRecord]) -> list[IndexedRecord]:
    return [IndexedRecord(i, r) for i, r in enumerate(records)]


READ = AuditEventKind.DOSSIER_READ


def test_a_casemanager_looking_at_many_more_citizens_than_peers_is_flagged() -> None:
    records = [rec(READ, "cm-busy", n, OFFICE) for n in range(20)]
    records += [rec(READ, "cm-1", n, OFFICE) for n in (1, 2)]
    records += [rec(READ, "cm-2", n, OFFICE) for n in (3, 4, 5)]
    records += [rec(READ, "cm-3", 6, OFFICE)]
    (finding,) = many_citizens(indexed(records))
    assert finding.subject == "cm-busy" and finding.indexes == tuple(range(20))


def test_peers_with_similar_caseloads_are_not_flagged() -> None:
    records = [rec(READ, f"cm-{c}", c * 100 + n, OFFICE) for c in range(4) for n in range(8)]
    assert many_citizens(indexed(records)) == []


def test_accesses_outside_office_hours_are_flagged_in_amsterdam_time() -> None:
    evening = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)  # 19:30 in Amsterdam
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    early_summer = datetime(2026, 7, 1, 5, 30, tzinfo=UTC)  # 07:30 CEST: before office hours
    late_utc_but_office = datetime(2026, 7, 1, 15, 30, tzinfo=UTC)  # 17:30 CEST: still office
    records = [rec(READ, "cm-1", 1, OFFICE), rec(READ, "cm-1", 1, evening), rec(READ, "cm-2", 2, saturday),
               rec(READ, "cm-2", 2, early_summer), rec(READ, "cm-3", 3, late_utc_but_office)]
    found = {f.subject: f.indexes for f in outside_office_hours(indexed(records))}
    assert found == {"cm-1": (1,), "cm-2": (2, 3)}
    assert is_office_hours(late_utc_but_office) and not is_office_hours(early_summer)


def test_repeated_refusals_followed_by_break_glass_are_flagged() -> None:
    refused = (Refusal(agency="uwv", category="medisch", code="explicit_consent_required"),)
    records = [
        rec(AuditEventKind.DOSSIER_REFUSED, "cm-1", 7, OFFICE, refused=refused),
        rec(AuditEventKind.DOSSIER_REFUSED, "cm-1", 7, OFFICE + timedelta(minutes=5), refused=refused),
        rec(AuditEventKind.DOSSIER_BREAK_GLASS, "cm-1", 7, OFFICE + timedelta(minutes=9), break_glass=True,
            disclosed=(Disclosure(agency="uwv", category="medisch", fields=("x.y",), basis_type="break_glass",
                                  basis_id="bg"),)),
        # one refusal then break-glass by someone else: not the pattern
        rec(AuditEventKind.DOSSIER_REFUSED, "cm-2", 8, OFFICE, refused=refused),
        rec(AuditEventKind.DOSSIER_BREAK_GLASS, "cm-2", 8, OFFICE + timedelta(minutes=1), break_glass=True),
    ]
    (finding,) = refusals_then_break_glass(indexed(records))
    assert finding.subject == "cm-1" and finding.indexes == (0, 1, 2)


def test_refusals_long_before_break_glass_are_not_flagged() -> None:
    records = [rec(AuditEventKind.DOSSIER_REFUSED, "cm-1", 7, OFFICE),
               rec(AuditEventKind.DOSSIER_REFUSED, "cm-1", 7, OFFICE + timedelta(minutes=1)),
               rec(AuditEventKind.DOSSIER_BREAK_GLASS, "cm-1", 7, OFFICE + timedelta(days=3), break_glass=True)]
    assert refusals_then_break_glass(indexed(records)) == []


def test_many_cases_for_one_citizen_by_different_casemanagers_are_flagged() -> None:
    opened = AuditEventKind.CASE_OPENED
    records = [rec(opened, "cm-1", 9, OFFICE), rec(opened, "cm-2", 9, OFFICE + timedelta(days=2)),
               rec(opened, "cm-1", 5, OFFICE), rec(opened, "cm-3", 9, OFFICE + timedelta(days=5)),
               rec(opened, "cm-4", 5, OFFICE + timedelta(days=90))]
    (finding,) = many_casemanagers_one_citizen(indexed(records))
    assert finding.subject == subject(9) and finding.indexes == (0, 1, 3)
