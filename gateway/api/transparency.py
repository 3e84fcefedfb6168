"""The log's public face, as a transparency log publishes it: the verifier key, the latest
signed checkpoint, and consistency proofs between tree sizes. None of it holds personal data,
so it needs no token: anyone can watch the log grow append-only."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from gateway.api.deps import LoketDep
from gateway.errors import NotFound

router = APIRouter(tags=["transparency"])


@router.get("/.well-known/loket-audit-key", response_class=PlainTextResponse)
def audit_key(loket: LoketDep) -> str:
    """The C2SP verifier key (`name+keyid+key`) of the checkpoint signer; also `loket audit pubkey`."""
    return loket.audit.vkey() + "\n"


@router.get("/v1/log/checkpoint", response_class=PlainTextResponse)
async def latest_checkpoint(loket: LoketDep) -> str:
    """The latest signed checkpoint (C2SP tlog-checkpoint signed note)."""
    cp = await anyio.to_thread.run_sync(loket.audit.latest_checkpoint)
    if cp is None:
        raise NotFound("no checkpoint has been signed yet")
    return str(cp.note)


@router.get("/v1/log/consistency")
async def consistency(
    loket: LoketDep,
    first: Annotated[int, Query(ge=1, description="older tree size")],
    second: Annotated[int, Query(ge=1, description="newer tree size")],
) -> dict[str, Any]:
    """RFC 9162 §2.1.4 consistency proof between two tree sizes."""
    if first > second:
        raise NotFound("first must not exceed second")
    proof = await anyio.to_thread.run_sync(loket.audit.consistency_proof, first, second)
    return {"first": first, "second": second,
            "hashes": [base64.b64encode(h).decode() for h in proof.hashes]}
