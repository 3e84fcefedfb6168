"""The citizen's view of the log: every access to my data, and a proof for each line.

A proof is a ``loket-audit-proof-v1`` bundle (audit/export.py): the record, its RFC 9162
inclusion proof and the signed checkpoint it leads to. ``loket audit verify-proof`` checks it
offline with only the log's public key.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from gateway.api.deps import Citizen, LoketDep
from gateway.oversight.access_log import access_json
from gateway.oversight.citizen_view import my_accesses, my_completeness, my_proof

router = APIRouter(prefix="/v1/me", tags=["citizen"])


@router.get("/accesses")
async def get_my_accesses(
    loket: LoketDep, principal: Citizen,
    before: Annotated[int | None, Query(ge=0, description="page on: the next_before of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Every access to my data, newest first: when, who, why, which agencies and categories,
    on which legal basis or consent, and whether it was an emergency (break-glass) access."""
    views, nxt = await anyio.to_thread.run_sync(lambda: my_accesses(loket, principal, before=before, limit=limit))
    return {"accesses": [access_json(v) for v in views], "next_before": nxt}


@router.get("/accesses/{index}/proof")
async def get_my_proof(index: Annotated[int, Path(ge=0)], loket: LoketDep, principal: Citizen) -> JSONResponse:
    """Inclusion proof of this record against the latest signed checkpoint (downloadable)."""
    bundle = await anyio.to_thread.run_sync(my_proof, loket, principal, index)
    return JSONResponse(bundle, headers={
        "Content-Disposition": f'attachment; filename="loket-bewijs-{index}.json"',
        "Cache-Control": "no-store",
    })


@router.get("/accesses/completeness")
async def get_my_completeness(loket: LoketDep, principal: Citizen) -> JSONResponse:
    """All records about me up to the latest signed checkpoint, with one proof from the signed
    per-subject map that the list is complete (``loket audit verify-complete``, ADR 0005)."""
    bundle = await anyio.to_thread.run_sync(my_completeness, loket, principal)
    return JSONResponse(bundle, headers={
        "Content-Disposition": 'attachment; filename="loket-volledigheidsbewijs.json"',
        "Cache-Control": "no-store",
    })
