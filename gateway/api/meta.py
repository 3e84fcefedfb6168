"""Health, purposes, the development issuer, and published keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from gateway.core.auditing import processing_activity
from gateway.core.errors import NotFound
from gateway.identity.auth import public_jwk

router = APIRouter(tags=["meta"])


class HealthPublic(BaseModel):
    status: str


class PurposePublic(BaseModel):
    label_nl: str | None
    processing_activity_id: str | None


@router.get("/health", response_model=HealthPublic)
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/v1/purposes", response_model=dict[str, PurposePublic])
def purposes(request: Request) -> dict[str, Any]:
    """The purposes a case can be opened for, with their Dutch labels."""
    loket = request.app.state.loket
    purposes = loket.purposes
    # The id the log lines carry: the purpose's current version in the register.
    return {
        pid: {"label_nl": p.get("label_nl"), "processing_activity_id": processing_activity(pid, purposes)}
        for pid, p in purposes.items()
    }


dev_router = APIRouter(prefix="/dev-issuer", tags=["development issuer"])


def _dev_key(request: Request) -> Any:
    key = request.app.state.loket.dev_issuer_key
    if key is None:
        raise NotFound("the development issuer is off")
    return key


@dev_router.get("/jwks.json")
def dev_jwks(request: Request) -> dict[str, Any]:
    """DEVELOPMENT ONLY: the key set of the built-in token issuer."""
    return {"keys": [public_jwk(_dev_key(request))]}


@dev_router.get("/.well-known/openid-configuration")
def dev_openid_configuration(request: Request) -> dict[str, Any]:
    _dev_key(request)
    s = request.app.state.loket.settings
    return {
        "issuer": s.jwt_issuer,
        "jwks_uri": s.public_base_url.rstrip("/") + "/dev-issuer/jwks.json",
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
    }
