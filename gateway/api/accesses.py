"""The citizen's view of the log: every access to my data, and a proof for each line.

A proof is a ``loket-audit-proof-v1`` bundle (audit/export.py): the record, its RFC 9162
inclusion proof and the signed checkpoint it leads to. ``loket audit verify-proof`` checks it
offline with only the log's public key.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway.api.deps import Citizen, LoketDep
from gateway.api.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, index_before, index_cursor, links
from gateway.oversight.access_log import access_json
from gateway.oversight.citizen_view import my_accesses, my_completeness, my_proof

router = APIRouter(prefix="/v1/me", tags=["citizen"])


class SharedPublic(BaseModel):
    agency: str
    organisation: str
    category: str
    category_label: str
    fields: list[str]
    basis_type: str | None
    basis: str | None


class RefusedPublic(BaseModel):
    agency: str
    organisation: str
    category: str
    category_label: str
    code: str
    reason: str


class AccessPublic(BaseModel):
    """One look at my data, as the log records it (no data content, never a BSN)."""

    index: int = Field(description="The record's leaf index in the log (for its proof).")
    record_id: str
    kind: str
    action: str
    time: str
    actor_role: str | None
    actor: str
    actor_sub: str | None
    purpose: str | None
    purpose_label: str | None
    case_id: str | None
    break_glass: bool
    review_status: str | None
    shared: list[SharedPublic]
    refused: list[RefusedPublic]
    unavailable: list[str]
    proof: str = Field(description="Path of this record's inclusion proof.")


class AccessPage(Page[AccessPublic]):
    """One page of the looks at my data, newest first."""


class ProofBundlePublic(BaseModel):
    """A ``loket-audit-proof-v1`` bundle: check it offline with ``loket audit verify-proof``."""

    format: str
    origin: str
    index: int
    tree_size: int
    leaf_hash: str
    record: dict[str, Any]
    inclusion_proof: list[str]
    checkpoint: str
    vkey: str | None = None


@router.get("/accesses", response_model=AccessPage)
async def get_my_accesses(request: Request, loket: LoketDep, principal: Citizen,
                          cursor: CursorQuery = None, limit: LimitQuery = DEFAULT_LIMIT) -> AccessPage:
    """Every access to my data, newest first: when, who, why, which agencies and categories,
    on which legal basis or consent, and whether it was an emergency (break-glass) access."""
    before = index_before("accesses", cursor)
    views, nxt = await anyio.to_thread.run_sync(lambda: my_accesses(loket, principal, before=before, limit=limit))
    next_cursor = index_cursor("accesses", nxt)
    return AccessPage(items=[AccessPublic(**access_json(v)) for v in views], next_cursor=next_cursor,
                      links=links(request, next_cursor))


@router.get("/accesses/{index}/proof", response_model=ProofBundlePublic)
async def get_my_proof(index: Annotated[int, Path(ge=0)], loket: LoketDep, principal: Citizen) -> JSONResponse:
    """Inclusion proof of this record against the latest signed checkpoint (downloadable)."""
    bundle = await anyio.to_thread.run_sync(my_proof, loket, principal, index)
    return JSONResponse(bundle, headers={
        "Content-Disposition": f'attachment; filename="loket-bewijs-{index}.json"',
        "Cache-Control": "no-store",
    })


class IndexedRecordPublic(BaseModel):
    index: int
    record: dict[str, Any]


class CompletenessBundlePublic(BaseModel):
    """A ``loket-audit-completeness-v1`` bundle: check it offline with ``loket audit verify-complete``."""

    format: str
    origin: str
    tree_size: int
    data_subject_id: str
    subject_key: str
    records: list[IndexedRecordPublic]
    map_proof: dict[str, Any]
    checkpoint: str
    vkey: str | None = None


@router.get("/accesses/completeness", response_model=CompletenessBundlePublic)
async def get_my_completeness(loket: LoketDep, principal: Citizen) -> JSONResponse:
    """All records about me up to the latest signed checkpoint, with one proof from the signed
    per-subject map that the list is complete (``loket audit verify-complete``, ADR 0005)."""
    bundle = await anyio.to_thread.run_sync(my_completeness, loket, principal)
    return JSONResponse(bundle, headers={
        "Content-Disposition": 'attachment; filename="loket-volledigheidsbewijs.json"',
        "Cache-Control": "no-store",
    })
