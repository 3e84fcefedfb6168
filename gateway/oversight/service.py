"""The privacy officer's (FG) use cases: search and export the access log, review break-glass
accesses, the log's integrity, unusual patterns. The FG's own looks are logged (NEN 7513).

A search by citizen takes the BSN, turns it into the keyed pseudonym the log uses, and drops it:
the BSN is not stored, logged or echoed back.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from audit.export import CSV_COLUMNS, csv_row, record_line
from audit.log import StoredRecord
from audit.record import LEAF_FORMAT, AuditEventKind, utc_timestamp
from audit.verify import EXPORT_FORMAT
from gateway.core.auditing import event_record
from gateway.core.context import Loket
from gateway.core.errors import BadInput
from gateway.core.tracing import TraceContext
from gateway.core.unit_of_work import commit_with_record
from gateway.dossier.break_glass import QueueItem, check_review, load_event, queue, review
from gateway.identity.auth import Principal
from gateway.identity.bsn import require_valid_bsn
from gateway.oversight.access_log import SearchQuery, iter_selection, parse_day
from gateway.oversight.integrity import checkpoint_status
from gateway.oversight.pattern_scan import MinimisationRow, PatternReport, minimisation, refresh
from gateway.oversight.witnesses import witness_view


def build_query(loket: Loket, *, since: str | None, until: str | None, casemanager: str | None,
                purpose: str | None, agency: str | None, break_glass: bool | None,
                kind: AuditEventKind | str | None, bsn: str | None,
                data_subject_id: str | None) -> SearchQuery:
    """The one place a typed BSN becomes a pseudonym for the FG (pages and API alike)."""
    subject = data_subject_id or None
    if bsn:
        try:
            subject = loket.pseudonymiser.pseudonym_for(require_valid_bsn(bsn.strip()))
        except BadInput as e:
            raise BadInput(e.detail, code=e.code, param="bsn") from e
    if agency and agency not in loket.catalog.agencies:
        raise BadInput("unknown agency", code="unknown-agency")
    if purpose and purpose not in loket.known_purposes:
        raise BadInput("unknown purpose", code="unknown-purpose")
    try:
        kind_value = AuditEventKind(kind) if kind else None
    except ValueError as e:
        raise BadInput("unknown event kind", code="unknown-kind") from e
    return SearchQuery(since=parse_day(since), until=parse_day(until, end=True),
                       actor_sub=casemanager or None, purpose=purpose or None, agency=agency or None,
                       break_glass=break_glass, data_subject_id=subject, kind=kind_value)


def record_log_access(loket: Loket, principal: Principal, trace: TraceContext,
                            kind: AuditEventKind, query: SearchQuery, fmt: str | None = None) -> None:
    """The FG's own looks at the log are logged too (NEN 7513: search and export are actions).
    The selection goes in as given (never a BSN: that was pseudonymised before it got here);
    a search for one citizen names that citizen, so it shows in their own overview."""
    started = datetime.now(UTC)
    extra = {f"filter_{k}": v[:200] for k, v in query.as_form().items() if k != "data_subject_id"}
    if fmt:
        extra["format"] = fmt
    record = event_record(kind=kind, principal=principal, trace=trace, started=started,
                          status_code=1, outcome="searched" if fmt is None else "exported",
                          purposes=loket.purposes, data_subject=query.data_subject_id, extra=extra)
    loket.audit.append(record)


def export_jsonl(loket: Loket, query: SearchQuery, stop: int) -> Iterator[bytes]:
    """Same line layout as audit.export (a filtered export: ``complete: false``)."""
    header = {"format": EXPORT_FORMAT, "leaf_format": LEAF_FORMAT, "origin": loket.audit.origin,
              "tree_size": stop, "checkpoints": 0, "complete": False,
              "exported_at": utc_timestamp(), "selection": query.as_form()}
    yield json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    for stored in iter_selection(loket.audit, query, stop=stop):
        yield record_line(stored)


def export_csv(loket: Loket, query: SearchQuery, stop: int) -> Iterator[bytes]:
    """Logboek Dataverwerkingen column names first (audit.export.CSV_COLUMNS)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for stored in iter_selection(loket.audit, query, stop=stop):
        writer.writerow(csv_row(stored))
        if buf.tell() > 64 * 1024:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


@dataclass(frozen=True)
class Export:
    body: Iterator[bytes]
    media_type: str
    filename: str


def logged_export(loket: Loket, principal: Principal, trace: TraceContext, query: SearchQuery,
                  fmt: str) -> Export:
    """Log the export, then stream it. The selection ends where the log stood before the export
    was logged, so an export never contains its own record."""
    stop = loket.audit.head().tree_size
    record_log_access(loket, principal, trace, AuditEventKind.ACCESS_LOG_EXPORTED, query, fmt)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        return Export(export_csv(loket, query, stop), "text/csv; charset=utf-8",
                      f"loket-toegangslog-{stamp}.csv")
    return Export(export_jsonl(loket, query, stop), "application/x-ndjson", f"loket-toegangslog-{stamp}.jsonl")


def break_glass_queue(loket: Loket, *, pending_only: bool, limit: int = 100) -> list[QueueItem]:
    with loket.sessions() as session:
        return queue(session, pending_only=pending_only, limit=limit)


def review_break_glass(loket: Loket, principal: Principal, trace: TraceContext, event_id: str,
                       verdict: str, note: str) -> QueueItem:
    """The FG's verdict on an emergency access, committed with its ``break_glass:reviewed`` record."""
    started = datetime.now(UTC)
    with loket.sessions() as session:
        item = load_event(session, event_id)  # 404 before anything else
    note = check_review(verdict, note)
    record = event_record(
        kind=AuditEventKind.BREAK_GLASS_REVIEWED, principal=principal, trace=trace, started=started,
        status_code=1, outcome=verdict, purposes=loket.purposes, purpose=item.purpose,
        case_id=item.case_id, data_subject=item.citizen_pseudonym,
        extra={"break_glass_event_id": item.id, "reviewed_decision_id": item.decision_id,
               "verdict": verdict, "note_sha256": hashlib.sha256(note.encode()).hexdigest()},
    )
    return commit_with_record(loket.audit, record, lambda session: review(
        session, event_id, reviewer_sub=principal.sub, verdict=verdict, note=note))


def integrity_json(loket: Loket) -> dict[str, Any]:
    st = checkpoint_status(loket.audit)
    cp = st.checkpoint
    return {
        "tree_size": st.tree_size,
        "checkpoint": None if cp is None else {"tree_size": cp.tree_size, "root": cp.root_hash.hex(),
                                               "note": cp.note},
        "signature_ok": st.signature_ok,
        "problem": st.problem,
        "vkey": st.vkey,
        "witnesses": witness_view(loket, with_alerts=True),
    }


# --- the FG's reads are logged too (NEN 7513: looking at the log is an action) ---------------


def _record_view(loket: Loket, principal: Principal, trace: TraceContext, *, what: str,
                 data_subject: str | None = None, extra: dict[str, str] | None = None) -> None:
    loket.audit.append(event_record(
        kind=AuditEventKind.ACCESS_LOG_VIEWED, principal=principal, trace=trace, started=datetime.now(UTC),
        status_code=1, outcome="viewed", purposes=loket.purposes, data_subject=data_subject,
        extra={"viewed": what, **(extra or {})}))


def view_record(loket: Loket, principal: Principal, trace: TraceContext, index: int) -> StoredRecord:
    """One record, for the FG; the look is logged first (about the record's citizen, if any)."""
    stored = loket.audit.get_record(index)
    _record_view(loket, principal, trace, what="record", data_subject=stored.record.data_subject_id,
                 extra={"viewed_index": str(index)})
    return stored


def view_break_glass(loket: Loket, principal: Principal, trace: TraceContext, event_id: str) -> QueueItem:
    with loket.sessions() as session:
        item = load_event(session, event_id)
    _record_view(loket, principal, trace, what="break_glass", data_subject=item.citizen_pseudonym,
                 extra={"break_glass_event_id": item.id})
    return item


def view_patterns(loket: Loket, principal: Principal, trace: TraceContext) -> PatternReport:
    """The unusual patterns over the whole log (gateway/oversight/pattern_scan.py, kept
    incrementally); the look is logged."""
    report = refresh(loket)
    _record_view(loket, principal, trace, what="patterns",
                 extra={"scanned_until": str(report.freshness.scanned_until)})
    return report


def view_minimisation(loket: Loket, principal: Principal, trace: TraceContext) -> dict[str, list[MinimisationRow]]:
    """Minimisation per purpose and per casemanager, as fresh as the pattern scan; logged."""
    refresh(loket)
    out = {"purpose": minimisation(loket, by="purpose"), "casemanager": minimisation(loket, by="casemanager")}
    _record_view(loket, principal, trace, what="minimisation")
    return out
