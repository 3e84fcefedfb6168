"""The register of processing activities, read-only (Logboek Dataverwerkingen 0.8, "Component:
Register": a read-only interface lets a reader of the log give its lines context).

Public, like a published AVG art. 30 register: it describes activities, never people. Every
version that a log line may cite stays served under its own id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.core.errors import NotFound
from gateway.register import load_register

router = APIRouter(prefix="/v1/register/verwerkingen", tags=["register"])


@router.get("")
def list_activities() -> dict[str, Any]:
    """Every processing activity in its current version, with the id log lines carry."""
    register = load_register()
    return {
        "register": register.name,
        "verwerkingsverantwoordelijke": register.controller,
        "base_uri": register.base_uri,
        "activities": [v.public() for v in register.current_all()],
    }


@router.get("/{key}")
def activity_versions(key: str) -> dict[str, Any]:
    """All versions of one activity, oldest first; the last is the current one."""
    versions = load_register().versions.get(key)
    if not versions:
        raise NotFound("no such processing activity")
    return {"key": key, "current": versions[-1].id, "versions": [v.public() for v in versions]}


@router.get("/{key}/{tag}")
def activity_version(key: str, tag: str) -> dict[str, Any]:
    """Exactly the version a log line's ``dpl.core.processing_activity_id`` points at."""
    for v in load_register().versions.get(key, ()):
        if v.tag == tag:
            return v.public()
    raise NotFound("no such version of this processing activity")
