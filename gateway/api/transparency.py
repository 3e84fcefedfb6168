"""The log's public face, as a transparency log publishes it: the verifier key (and the retired
ones), the latest signed checkpoint, and consistency proofs between tree sizes. None of it holds personal data,
so it needs no token: anyone can watch the log grow append-only."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from audit.checkpoint import RetiredKey
from gateway.api.deps import LoketDep
from gateway.core.errors import BadInput, NotFound
from gateway.oversight.witnesses import policy_text, witnessed_note

router = APIRouter(tags=["transparency"])


class AuditKeyPublic(BaseModel):
    vkey: str = Field(description="C2SP verifier key: name+keyid+key.")
    key_id: str
    status: str = Field(description="current | retired")
    retired_at_tree_size: int | None


class AuditKeysPublic(BaseModel):
    origin: str
    keys: list[AuditKeyPublic]


class ConsistencyProofPublic(BaseModel):
    first: int
    second: int
    hashes: list[str] = Field(description="RFC 9162 §2.1.4 proof hashes, base64.")


@router.get("/.well-known/loket-audit-key", response_class=PlainTextResponse)
def audit_key(loket: LoketDep) -> str:
    """The C2SP verifier key (`name+keyid+key`) of the checkpoint signer; also `loket audit pubkey`."""
    return loket.audit.vkey() + "\n"


@router.get("/.well-known/loket-audit-keys", response_model=AuditKeysPublic)
async def audit_keys(loket: LoketDep) -> dict[str, Any]:
    """Every verifier key of the log: the current one and the retired ones, each retired key
    with the tree size of the transition checkpoint that retired it (null if the log holds
    no such checkpoint, e.g. a key retired before transition checkpoints existed)."""
    keys = loket.audit.verifier
    if keys is None or keys.current is None:
        raise NotFound("this gateway has no log key")
    transitions = await anyio.to_thread.run_sync(loket.audit.key_transitions)
    retired_at = {(t.old.name, t.old.key_id): t.tree_size for t in transitions}
    return {
        "origin": loket.audit.origin,
        "keys": [
            {"vkey": keys.current.vkey(), "key_id": keys.current.key_id.hex(), "status": "current",
             "retired_at_tree_size": None},
            *(
                {"vkey": v.vkey(), "key_id": v.key_id.hex(), "status": "retired",
                 "retired_at_tree_size": (k.retired_at if isinstance(k, RetiredKey) else None)
                 or retired_at.get((v.name, v.key_id))}
                for k in keys.retired
                for v in [k.key if isinstance(k, RetiredKey) else k]
            ),
        ],
    }


@router.get("/v1/log/checkpoint", response_class=PlainTextResponse)
async def latest_checkpoint(loket: LoketDep) -> str:
    """The latest signed checkpoint (C2SP tlog-checkpoint signed note), with the cosignature
    lines of the witnesses that cosigned it so far."""
    cp = await anyio.to_thread.run_sync(loket.audit.latest_checkpoint)
    if cp is None:
        raise NotFound("no checkpoint has been signed yet")
    return str(cp.note)


@router.get("/.well-known/loket-witness-policy", response_class=PlainTextResponse)
def witness_policy(loket: LoketDep) -> str:
    """The witnesses whose cosignatures count and the quorum (`witness <name> <vkey>` lines and
    `quorum <k>`, as `loket audit verify --policy` reads it); 404 without witnesses."""
    return policy_text(loket)


@router.get("/v1/log/witnessed-checkpoint", response_class=PlainTextResponse)
async def witnessed_checkpoint(loket: LoketDep) -> str:
    """The newest checkpoint that carries the witness policy's quorum of cosignatures (C2SP
    signed note with the witnesses' `cosignature/v1` lines); 404 if there is none (yet)."""
    return await anyio.to_thread.run_sync(witnessed_note, loket)


@router.get("/v1/log/consistency", response_model=ConsistencyProofPublic)
async def consistency(
    loket: LoketDep,
    first: Annotated[int, Query(ge=1, description="older tree size")],
    second: Annotated[int, Query(ge=1, description="newer tree size")],
) -> dict[str, Any]:
    """RFC 9162 §2.1.4 consistency proof between two tree sizes."""
    if first > second:
        raise BadInput("first must not exceed second", code="bad-range")
    proof = await anyio.to_thread.run_sync(loket.audit.consistency_proof, first, second)
    return {"first": first, "second": second,
            "hashes": [base64.b64encode(h).decode() for h in proof.hashes]}
