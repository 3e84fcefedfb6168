"""The privacy officer's (FG) API: search and export the access log, review break-glass
accesses, check the log's integrity, and see unusual patterns.

A search by citizen takes the BSN in a POST body (never a URL, DOMAIN.md), turns it into the
keyed pseudonym the log uses, and drops it: the BSN is not stored, logged or echoed back.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from audit.export import CSV_COLUMNS, csv_row, record_line
from audit.record import LEAF_FORMAT, AuditEventKind, utc_timestamp
from audit.verify import EXPORT_FORMAT
from gateway.api.deps import LoketDep, PrivacyOfficer, TraceDep
from gateway.api.schemas import Strict
from gateway.core.auditing import event_record
from gateway.core.context import Loket
from gateway.core.errors import BadInput
from gateway.core.tracing import TraceContext
from gateway.dossier.break_glass import QueueItem, load_event, queue, review
from gateway.identity.auth import Principal
from gateway.identity.bsn import require_valid_bsn
from gateway.oversight.access_log import (
    IndexedRecord,
    SearchQuery,
    iter_selection,
    parse_day,
    record_json,
    search,
)
from gateway.oversight.integrity import checkpoint_status, verify_runs
from gateway.oversight.patterns import Finding, all_findings

router = APIRouter(prefix="/v1/fg", tags=["privacy officer"])

#: How many of the newest records the pattern detectors look at per request.
PATTERN_WINDOW_RECORDS = 10_000


class SearchBody(Strict):
    since: str | None = Field(default=None, max_length=40, description="YYYY-MM-DD (Amsterdam) or RFC 3339")
    until: str | None = Field(default=None, max_length=40, description="YYYY-MM-DD inclusive, or RFC 3339 exclusive")
    casemanager: str | None = Field(default=None, max_length=128)
    purpose: str | None = Field(default=None, max_length=64)
    agency: str | None = Field(default=None, max_length=64)
    break_glass: bool | None = None
    kind: AuditEventKind | None = None
    bsn: str | None = Field(default=None, max_length=32, description="pseudonymised on the server, never stored")
    data_subject_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    before: int | None = Field(default=None, ge=0)
    limit: int = Field(default=50, ge=1, le=200)


def build_query(loket: Loket, *, since: str | None, until: str | None, casemanager: str | None,
                purpose: str | None, agency: str | None, break_glass: bool | None,
                kind: AuditEventKind | str | None, bsn: str | None,
                data_subject_id: str | None) -> SearchQuery:
    """The one place a typed BSN becomes a pseudonym for the FG (pages and API alike)."""
    subject = data_subject_id or None
    if bsn:
        subject = loket.pseudonymiser.pseudonym_for(require_valid_bsn(bsn.strip()))
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


def query_of(loket: Loket, body: SearchBody) -> SearchQuery:
    return build_query(loket, since=body.since, until=body.until, casemanager=body.casemanager,
                       purpose=body.purpose, agency=body.agency, break_glass=body.break_glass,
                       kind=body.kind, bsn=body.bsn, data_subject_id=body.data_subject_id)


async def record_log_access(loket: Loket, principal: Principal, trace: TraceContext,
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
    await anyio.to_thread.run_sync(loket.audit.append, record)


@router.post("/search")
async def search_log(body: SearchBody, loket: LoketDep, principal: PrivacyOfficer,
                     trace: TraceDep) -> dict[str, Any]:
    """One page of matching records, newest first; pass ``next_before`` as ``before`` to page on."""
    query = query_of(loket, body)
    items, nxt = await anyio.to_thread.run_sync(
        lambda: search(loket.audit, query, before=body.before, limit=body.limit))
    # Logged after the search (so it does not find itself), before anything is shown.
    await record_log_access(loket, principal, trace, AuditEventKind.ACCESS_LOG_SEARCHED, query)
    return {"records": [record_json(i) for i in items], "next_before": nxt,
            "data_subject_id": query.data_subject_id}


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


async def logged_export(loket: Loket, principal: Principal, trace: TraceContext, query: SearchQuery,
                        fmt: str) -> StreamingResponse:
    """Log the export, then stream it. The selection ends where the log stood before the export
    was logged, so an export never contains its own record."""
    stop = await anyio.to_thread.run_sync(lambda: loket.audit.head().tree_size)
    await record_log_access(loket, principal, trace, AuditEventKind.ACCESS_LOG_EXPORTED, query, fmt)
    return export_response(loket, query, fmt, stop)


def export_response(loket: Loket, query: SearchQuery, fmt: str, stop: int) -> StreamingResponse:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        body, media, ext = export_csv(loket, query, stop), "text/csv; charset=utf-8", "csv"
    else:
        body, media, ext = export_jsonl(loket, query, stop), "application/x-ndjson", "jsonl"
    return StreamingResponse(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="loket-toegangslog-{stamp}.{ext}"',
        "Cache-Control": "no-store",
    })


@router.post("/export")
async def export_log(body: SearchBody, loket: LoketDep, principal: PrivacyOfficer, trace: TraceDep,
                     format: Literal["jsonl", "csv"] = "jsonl") -> StreamingResponse:
    """The same selection as a search, as JSONL (audit export lines) or CSV (Logboek fields)."""
    return await logged_export(loket, principal, trace, query_of(loket, body), format)


# --- break-glass review -------------------------------------------------------------------


class ReviewBody(Strict):
    verdict: Literal["justified", "not_justified"]
    note: str = Field(min_length=1, max_length=4000)


class BreakGlassPublic(BaseModel):
    id: str
    case_id: str
    purpose: str
    decision_id: str
    casemanager: str
    citizen_pseudonym: str
    justification: str
    review_status: str
    reviewer: str | None
    review_note: str | None
    reviewed_at: datetime | None
    created_at: datetime


def bg_public(i: QueueItem) -> BreakGlassPublic:
    return BreakGlassPublic(id=i.id, case_id=i.case_id, purpose=i.purpose, decision_id=i.decision_id,
                            casemanager=i.casemanager_sub, citizen_pseudonym=i.citizen_pseudonym,
                            justification=i.justification, review_status=i.review_status,
                            reviewer=i.reviewer_sub, review_note=i.review_note,
                            reviewed_at=i.reviewed_at, created_at=i.created_at)


def break_glass_queue(loket: Loket, *, pending_only: bool) -> list[QueueItem]:
    with loket.sessions() as session:
        return queue(session, pending_only=pending_only)


async def review_break_glass(loket: Loket, principal: Principal, trace: TraceContext, event_id: str,
                             verdict: str, note: str) -> QueueItem:
    started = datetime.now(UTC)

    def do() -> QueueItem:
        with loket.sessions.begin() as session:
            return review(session, event_id, reviewer_sub=principal.sub, verdict=verdict, note=note)

    item = await anyio.to_thread.run_sync(do)
    record = event_record(
        kind=AuditEventKind.BREAK_GLASS_REVIEWED, principal=principal, trace=trace, started=started,
        status_code=1, outcome=item.review_status, purposes=loket.purposes, purpose=item.purpose,
        case_id=item.case_id, data_subject=item.citizen_pseudonym,
        extra={"break_glass_event_id": item.id, "reviewed_decision_id": item.decision_id,
               "verdict": item.review_status,
               "note_sha256": hashlib.sha256((item.review_note or "").encode()).hexdigest()},
    )
    await anyio.to_thread.run_sync(loket.audit.append, record)
    return item


@router.get("/break-glass", response_model=list[BreakGlassPublic])
async def list_break_glass(loket: LoketDep, principal: PrivacyOfficer,
                           status: Literal["pending", "all"] = "pending") -> list[BreakGlassPublic]:
    """The review queue: emergency accesses waiting for the FG (oldest first)."""
    items = await anyio.to_thread.run_sync(lambda: break_glass_queue(loket, pending_only=status == "pending"))
    return [bg_public(i) for i in items]


@router.get("/break-glass/{event_id}", response_model=BreakGlassPublic)
async def get_break_glass(event_id: Annotated[str, Path(max_length=64)], loket: LoketDep,
                          principal: PrivacyOfficer) -> BreakGlassPublic:
    def load() -> QueueItem:
        with loket.sessions() as session:
            return load_event(session, event_id)

    return bg_public(await anyio.to_thread.run_sync(load))


@router.post("/break-glass/{event_id}/reviews", status_code=201, response_model=BreakGlassPublic)
async def post_review(event_id: Annotated[str, Path(max_length=64)], body: ReviewBody, loket: LoketDep,
                      principal: PrivacyOfficer, trace: TraceDep) -> BreakGlassPublic:
    """Mark an emergency access justified or not justified, with a note (audited)."""
    return bg_public(await review_break_glass(loket, principal, trace, event_id, body.verdict, body.note))


# --- integrity ------------------------------------------------------------------------------


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
    }


@router.get("/integrity")
async def get_integrity(loket: LoketDep, principal: PrivacyOfficer) -> dict[str, Any]:
    """The latest signed checkpoint and whether its signature verifies with the log's key."""
    return await anyio.to_thread.run_sync(integrity_json, loket)


@router.post("/integrity/verify", status_code=202)
async def start_verify(loket: LoketDep, principal: PrivacyOfficer) -> dict[str, Any]:
    """Start a full verification of the log; poll the returned job for progress."""
    job = await anyio.to_thread.run_sync(verify_runs(loket).start, loket.audit, principal.sub)
    return job.as_json()


@router.get("/integrity/verify/{job_id}")
async def get_verify(job_id: Annotated[str, Path(max_length=64)], loket: LoketDep,
                     principal: PrivacyOfficer) -> dict[str, Any]:
    job = await anyio.to_thread.run_sync(verify_runs(loket).get, job_id)
    return job.as_json()


# --- unusual patterns -----------------------------------------------------------------------


def recent_records(loket: Loket, window: int = PATTERN_WINDOW_RECORDS) -> list[IndexedRecord]:
    size = loket.audit.head().tree_size
    start = max(0, size - window)
    return [IndexedRecord.of(s) for s in loket.audit.iter_records(start=start, stop=size)]


def finding_json(f: Finding) -> dict[str, Any]:
    return {"pattern": f.pattern, "title": f.title_nl, "explanation": f.explanation_nl,
            "subject": f.subject, "records": list(f.indexes)}


@router.get("/patterns")
async def get_patterns(loket: LoketDep, principal: PrivacyOfficer,
                       window: Annotated[int, Query(ge=1, le=100_000)] = PATTERN_WINDOW_RECORDS) -> dict[str, Any]:
    """Unusual patterns (a)–(d) over the newest ``window`` records, each with its records."""
    records = await anyio.to_thread.run_sync(recent_records, loket, window)
    return {name: [finding_json(f) for f in found] for name, found in all_findings(records).items()}
