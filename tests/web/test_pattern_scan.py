"""Unusual patterns over the whole log, kept up to date incrementally, and minimisation
measured per purpose and per casemanager."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from audit.record import AuditEventKind, AuditRecord, Disclosure, Refusal, utc_timestamp
from gateway.core.context import Loket
from gateway.core.models import PatternEvent
from gateway.oversight.pattern_scan import minimisation, refresh
from tests.web.conftest import eva_bsn, login_fg

NIGHT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 03:00 in Amsterdam


def _access(actor: str, subject: int, at: datetime, **kw: Any) -> AuditRecord:
    return AuditRecord(kind=AuditEventKind.DOSSIER_READ, actor_sub=actor, actor_role="casemanager",
                       outcome="disclosed", start_time=utc_timestamp(at), data_subject_id=f"{subject:064x}",
                       purpose="schuldhulp_intake", **kw)


def _filler(n: int) -> list[AuditRecord]:
    return [AuditRecord(kind=AuditEventKind.ACCESS_LOG_SEARCHED, actor_sub="fg-001", actor_role="privacy_officer",
                        outcome="searched") for _ in range(n)]


def test_a_pattern_older_than_ten_thousand_records_is_still_found(loket: Loket) -> None:
    loket.audit.append_group([_access("cm-nacht", 1, NIGHT)])
    for _ in range(11):
        loket.audit.append_group(_filler(1000))
    report = refresh(loket)
    assert report.freshness.complete and report.freshness.tree_size == 11_001
    (finding,) = report.findings["outside_office_hours"]
    assert finding.subject == "cm-nacht" and finding.indexes == (0,)


def test_refresh_reads_only_what_was_appended_since_and_bounds_a_first_scan(loket: Loket) -> None:
    loket.audit.append_group([_access("cm-nacht", 1, NIGHT), *_filler(9)])
    first = refresh(loket, max_records=4)
    assert first.freshness.scanned_until == 4 and not first.freshness.complete
    assert refresh(loket, max_records=4).freshness.scanned_until == 8
    assert refresh(loket).freshness.complete
    loket.audit.append_group([_access("cm-nacht", 2, NIGHT)])
    again = refresh(loket)
    assert again.findings["outside_office_hours"][0].indexes == (0, 10)
    with loket.sessions() as s:
        assert s.scalar(select(func.count()).select_from(PatternEvent)) == 2  # each access copied once


def test_minimisation_counts_disclosed_against_held_fields_and_refusals(loket: Loket) -> None:
    held_uwv = len(loket.catalog.fields_of("uwv"))
    held_duo = len(loket.catalog.fields_of("duo"))
    loket.audit.append_group([
        _access("cm-001", 1, NIGHT, disclosed=(Disclosure("uwv", "inkomen", ("inkomen.brutoMaand",), "legal_basis",
                                                           "wgs_schuldhulp"),),
                refused=(Refusal("duo", "studieschuld", "consent_required"),)),
        _access("cm-002", 2, NIGHT, disclosed=(Disclosure("uwv", "inkomen", ("inkomen.brutoMaand", "inkomen.periode"),
                                                           "legal_basis", "wgs_schuldhulp"),)),
    ])
    refresh(loket)
    (purpose,) = minimisation(loket, by="purpose")
    assert (purpose.key, purpose.looks, purpose.disclosed_fields) == ("schuldhulp_intake", 2, 3)
    assert purpose.held_fields == 2 * held_uwv + held_duo and purpose.refusals == 1
    per_cm = {r.key: r for r in minimisation(loket, by="casemanager")}
    assert per_cm["cm-001"].refusals == 1 and per_cm["cm-002"].disclosed_fields == 2


def test_patterns_page_says_how_fresh_and_shows_the_minimisation_table_and_chart(
        web: TestClient, sandbox: Any, casemanager: Any) -> None:
    cm = casemanager()
    cm.dossier(cm.open(eva_bsn(sandbox), purpose="schuldhulp_intake"))
    login_fg(web)
    page = web.get("/fg/patronen").text
    assert "regels van het logboek zijn bekeken" in page
    assert "Dataminimalisatie gemeten" in page and "<svg" in page and "Intake en plan voor schuldhulp" in page
    assert ">cm-001<" in page
    api = web.get("/v1/fg/minimisation", headers=cm.headers)
    assert api.status_code == 403


def test_search_results_show_disclosed_and_refused_organisations_apart(
        web: TestClient, sandbox: Any, casemanager: Any) -> None:
    cm = casemanager()
    index = cm.dossier(cm.open(eva_bsn(sandbox)))["audit"]["index"]  # student_in_crisis: DUO debt needs consent
    login_fg(web)
    page = web.get("/fg/zoeken").text
    assert "Gedeeld door" in page and "Geweigerd bij" in page
    record = web.get(f"/fg/records/{index}").text
    assert "Gegevens gedeeld" in record and "<dd>disclosed</dd>" not in record
    assert "<summary>De volledige regel (JSON)</summary>" in record


def test_cases_opened_by_a_coordinator_count_for_the_casemanager_assigned(loket: Loket) -> None:
    opened = [AuditRecord(kind=AuditEventKind.CASE_OPENED, actor_sub="co-001", actor_role="coordinator",
                          outcome="opened", start_time=utc_timestamp(NIGHT), data_subject_id=f"{9:064x}",
                          extra={"casemanager": cm}) for cm in ("cm-1", "cm-2", "cm-3")]
    loket.audit.append_group(opened)
    (finding,) = refresh(loket).findings["many_casemanagers_one_citizen"]
    assert "cm-1, cm-2, cm-3" in finding.explanation_nl
