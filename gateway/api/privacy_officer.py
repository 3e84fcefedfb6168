"""The privacy officer's (FG) API: search and export the access log, review break-glass
accesses, check the log's integrity, and see unusual patterns.

A search by citizen takes the BSN in a POST body (never a URL, DOMAIN.md), turns it into the
keyed pseudonym the log uses, and drops it: the BSN is not stored, logged or echoed back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from audit.record import AuditEventKind
from gateway.api.deps import LoketDep, PrivacyOfficer, TraceDep
from gateway.api.pagination import (
    DEFAULT_LIMIT,
    MAX_CURSOR_CHARS,
    MAX_LIMIT,
    CursorQuery,
    LimitQuery,
    Link,
    Page,
    PageLinks,
    cut,
    index_before,
    index_cursor,
    links,
)
from gateway.api.schemas import Strict
from gateway.core.context import Loket
from gateway.dossier.break_glass import QueueItem
from gateway.identity.bsn import BSN_INPUT
from gateway.oversight.access_log import (
    SearchQuery,
    record_json,
    search,
)
from gateway.oversight.integrity import verify_runs
from gateway.oversight.patterns import Finding
from gateway.oversight.service import (
    Export,
    break_glass_queue,
    build_query,
    integrity_json,
    logged_export,
    record_log_access,
    review_break_glass,
    view_break_glass,
    view_minimisation,
    view_patterns,
)

router = APIRouter(prefix="/v1/fg", tags=["privacy officer"])

class SearchBody(Strict):
    since: str | None = Field(default=None, max_length=40, description="YYYY-MM-DD (Amsterdam) or RFC 3339")
    until: str | None = Field(default=None, max_length=40, description="YYYY-MM-DD inclusive, or RFC 3339 exclusive")
    casemanager: str | None = Field(default=None, max_length=128)
    purpose: str | None = Field(default=None, max_length=64)
    agency: str | None = Field(default=None, max_length=64)
    break_glass: bool | None = None
    kind: AuditEventKind | None = None
    bsn: Annotated[str | None, BSN_INPUT] = Field(default=None, max_length=32,
                                                  description="pseudonymised on the server, never stored")
    data_subject_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    cursor: str | None = Field(default=None, max_length=MAX_CURSOR_CHARS, pattern=r"^[A-Za-z0-9_-]+$",
                               description="The next_cursor of the previous page (same filters).")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class LogRecordPublic(BaseModel):
    index: int = Field(description="Leaf index in the log.")
    record: dict[str, Any] = Field(description="The audit record (audit/record.py): Logboek "
                                               "Dataverwerkingen fields + Loket's own; no BSN, no data.")


class SearchPage(Page[LogRecordPublic]):
    """One page of matching records, newest first."""

    data_subject_id: str | None = Field(description="The pseudonym searched for (a BSN is never echoed).")


def query_of(loket: Loket, body: SearchBody) -> SearchQuery:
    return build_query(loket, since=body.since, until=body.until, casemanager=body.casemanager,
                       purpose=body.purpose, agency=body.agency, break_glass=body.break_glass,
                       kind=body.kind, bsn=body.bsn, data_subject_id=body.data_subject_id)


@router.post("/search", response_model=SearchPage)
async def search_log(body: SearchBody, request: Request, loket: LoketDep, principal: PrivacyOfficer,
                     trace: TraceDep) -> SearchPage:
    """One page of matching records, newest first; POST the same body with ``cursor`` set to
    ``next_cursor`` to page on (``links.next`` names the path only: the filters are in the body)."""
    query = query_of(loket, body)
    before = index_before("fg-search", body.cursor)
    items, nxt = await anyio.to_thread.run_sync(
        lambda: search(loket.audit, query, before=before, limit=body.limit))
    # Logged after the search (so it does not find itself), before anything is shown.
    await anyio.to_thread.run_sync(record_log_access, loket, principal, trace, AuditEventKind.ACCESS_LOG_SEARCHED,
                                   query)
    next_cursor = index_cursor("fg-search", nxt)
    page_links = PageLinks(self=Link(href=request.url.path),
                           next=Link(href=request.url.path) if next_cursor else None)
    return SearchPage(items=[LogRecordPublic(**record_json(i)) for i in items], next_cursor=next_cursor,
                      links=page_links, data_subject_id=query.data_subject_id)


@router.post("/export", response_class=StreamingResponse, responses={200: {
    "description": "The selection as a download (Content-Disposition: attachment).",
    "content": {"application/x-ndjson": {"schema": {"type": "string"},
                                         "example": '{"format":"loket-audit-export-v1","complete":false}\n'},
                "text/csv": {"schema": {"type": "string"},
                             "example": "trace_id,span_id,name,start_time,end_time,status_code\n"}}}})
async def export_log(body: SearchBody, loket: LoketDep, principal: PrivacyOfficer, trace: TraceDep,
                     format: Literal["jsonl", "csv"] = "jsonl") -> StreamingResponse:
    """The same selection as a search, as JSONL (audit export lines) or CSV (Logboek fields)."""
    export = await anyio.to_thread.run_sync(logged_export, loket, principal, trace, query_of(loket, body), format)
    return streamed(export)


def streamed(export: Export) -> StreamingResponse:
    return StreamingResponse(export.body, media_type=export.media_type, headers={
        "Content-Disposition": f'attachment; filename="{export.filename}"', "Cache-Control": "no-store"})


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


class BreakGlassPage(Page[BreakGlassPublic]):
    """One page of the review queue: pending oldest first; ``status=all`` newest first."""


#: The queue the API pages through is read whole (it is the FG's backlog, not the log).
MAX_QUEUE_ROWS = 100_000


@router.get("/break-glass", response_model=BreakGlassPage)
async def list_break_glass(request: Request, loket: LoketDep, principal: PrivacyOfficer,
                           status: Literal["pending", "all"] = "pending", cursor: CursorQuery = None,
                           limit: LimitQuery = DEFAULT_LIMIT) -> BreakGlassPage:
    """The review queue: emergency accesses waiting for the FG (oldest first)."""
    pending = status == "pending"
    items = await anyio.to_thread.run_sync(
        lambda: break_glass_queue(loket, pending_only=pending, limit=MAX_QUEUE_ROWS))
    page, nxt = cut(items, list_name=f"break-glass-{status}", cursor=cursor, limit=limit,
                    key=lambda i: [i.created_at.isoformat(), i.id], descending=not pending)
    return BreakGlassPage(items=[bg_public(i) for i in page], next_cursor=nxt, links=links(request, nxt))


@router.get("/break-glass/{event_id}", response_model=BreakGlassPublic)
async def get_break_glass(event_id: Annotated[str, Path(max_length=64)], loket: LoketDep,
                          principal: PrivacyOfficer, trace: TraceDep) -> BreakGlassPublic:
    return bg_public(await anyio.to_thread.run_sync(view_break_glass, loket, principal, trace, event_id))


@router.post("/break-glass/{event_id}/reviews", status_code=201, response_model=BreakGlassPublic)
async def post_review(event_id: Annotated[str, Path(max_length=64)], body: ReviewBody, loket: LoketDep,
                      principal: PrivacyOfficer, trace: TraceDep) -> BreakGlassPublic:
    """Mark an emergency access justified or not justified, with a note (audited)."""
    return bg_public(await anyio.to_thread.run_sync(review_break_glass, loket, principal, trace, event_id,
                                                    body.verdict, body.note))


# --- integrity ------------------------------------------------------------------------------


class CheckpointPublic(BaseModel):
    tree_size: int
    root: str = Field(description="Root hash, hex.")
    note: str = Field(description="The C2SP signed note.")


class IntegrityPublic(BaseModel):
    tree_size: int
    checkpoint: CheckpointPublic | None
    signature_ok: bool
    problem: str | None
    vkey: str | None


class VerificationPublic(BaseModel):
    id: str
    state: str
    checked: int
    total: int
    percent: int
    error: str | None
    tree_size: int | None = None
    checkpoints_verified: int | None = None
    root: str | None = None
    elapsed_s: float | None = None


class FindingPublic(BaseModel):
    pattern: str
    title: str
    explanation: str
    subject: str = Field(description="The casemanager sub or the citizen pseudonym it is about.")
    records: list[int] = Field(description="Leaf indexes of the records behind it, oldest first.")


@router.get("/integrity", response_model=IntegrityPublic)
async def get_integrity(loket: LoketDep, principal: PrivacyOfficer) -> dict[str, Any]:
    """The latest signed checkpoint and whether its signature verifies with the log's key."""
    return await anyio.to_thread.run_sync(integrity_json, loket)


@router.post("/integrity/verify", status_code=202, response_model=VerificationPublic)
async def start_verify(loket: LoketDep, principal: PrivacyOfficer) -> dict[str, Any]:
    """Start a full verification of the log; poll the returned job for progress."""
    job = await anyio.to_thread.run_sync(verify_runs(loket).start, loket.audit, principal.sub)
    return job.as_json()


@router.get("/integrity/verify/{job_id}", response_model=VerificationPublic)
async def get_verify(job_id: Annotated[str, Path(max_length=64)], loket: LoketDep,
                     principal: PrivacyOfficer) -> dict[str, Any]:
    job = await anyio.to_thread.run_sync(verify_runs(loket).get, job_id)
    return job.as_json()


# --- unusual patterns -----------------------------------------------------------------------


def finding_json(f: Finding) -> dict[str, Any]:
    return {"pattern": f.pattern, "title": f.title_nl, "explanation": f.explanation_nl,
            "subject": f.subject, "records": list(f.indexes)}


class PatternsPublic(BaseModel):
    findings: dict[str, list[FindingPublic]]
    scanned_until: int = Field(description="Records [0, scanned_until) are in (below tree_size: catching up).")
    tree_size: int
    updated_at: str | None = None


class MinimisationRowPublic(BaseModel):
    key: str = Field(description="The purpose id or the casemanager sub.")
    looks: int
    disclosed_fields: int
    held_fields: int = Field(description="Catalog fields of every agency the requests reached or were refused at.")
    ratio: float
    refusals: int


class MinimisationPublic(BaseModel):
    per_purpose: list[MinimisationRowPublic]
    per_casemanager: list[MinimisationRowPublic]


@router.get("/patterns", response_model=PatternsPublic)
async def get_patterns(loket: LoketDep, principal: PrivacyOfficer, trace: TraceDep) -> dict[str, Any]:
    """Unusual patterns (a)–(d) over the whole log, each with its records, kept up to date
    incrementally; ``scanned_until`` < ``tree_size`` while a first scan of a big log catches up."""
    report = await anyio.to_thread.run_sync(view_patterns, loket, principal, trace)
    fresh = report.freshness
    return {"findings": {name: [finding_json(f) for f in found] for name, found in report.findings.items()},
            "scanned_until": fresh.scanned_until, "tree_size": fresh.tree_size,
            "updated_at": fresh.updated_at.isoformat() if fresh.updated_at else None}


@router.get("/minimisation", response_model=MinimisationPublic)
async def get_minimisation(loket: LoketDep, principal: PrivacyOfficer, trace: TraceDep) -> dict[str, Any]:
    """Fields disclosed ÷ fields the agencies involved hold (catalog), and refusals, per purpose
    and per casemanager, over the whole log."""
    tables = await anyio.to_thread.run_sync(view_minimisation, loket, principal, trace)

    def rows(by: str) -> list[dict[str, Any]]:
        return [{"key": r.key, "looks": r.looks, "disclosed_fields": r.disclosed_fields,
                 "held_fields": r.held_fields, "ratio": round(r.ratio, 4), "refusals": r.refusals}
                for r in tables[by]]

    return {"per_purpose": rows("purpose"), "per_casemanager": rows("casemanager")}
