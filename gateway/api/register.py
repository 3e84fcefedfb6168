"""The register of processing activities, read-only (Logboek Dataverwerkingen 0.8, "Component:
Register": a read-only interface lets a reader of the log give its lines context).

Public, like a published AVG art. 30 register: it describes activities, never people. Every
version that a log line may cite stays served under its own id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict

from gateway.core.errors import NotFound
from gateway.register import ActivityVersion, load_register

router = APIRouter(prefix="/v1/register/verwerkingen", tags=["register"])

Key = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_]+$")]
Tag = Annotated[str, Path(max_length=32, pattern=r"^v[0-9]+-[0-9a-f]{12}$")]


class ActivityPublic(BaseModel):
    """One version of a processing activity; the register's own fields (doel_nl, grondslagen,
    categorieen_persoonsgegevens, …) come along as they are in the data."""

    model_config = ConfigDict(extra="allow")
    id: str
    key: str
    version: int
    valid_from: str
    name_nl: str


class RegisterPublic(BaseModel):
    name: str
    verwerkingsverantwoordelijke: str
    base_uri: str
    activities: list[ActivityPublic]


class ActivityVersionsPublic(BaseModel):
    key: str
    current: str
    versions: list[ActivityPublic]


def _public(v: ActivityVersion) -> ActivityPublic:
    return ActivityPublic.model_validate(v.public())


@router.get("", response_model=RegisterPublic)
def list_activities() -> Any:
    """Every processing activity in its current version, with the id log lines carry."""
    register = load_register()
    return RegisterPublic(name=register.name, verwerkingsverantwoordelijke=register.controller,
                          base_uri=register.base_uri, activities=[_public(v) for v in register.current_all()])


@router.get("/{key}", response_model=ActivityVersionsPublic)
def list_activity_versions(key: Key) -> Any:
    """All versions of one activity, oldest first; the last is the current one."""
    versions = load_register().versions.get(key)
    if not versions:
        raise NotFound("no such processing activity")
    return ActivityVersionsPublic(key=key, current=versions[-1].id, versions=[_public(v) for v in versions])


@router.get("/{key}/{tag}", response_model=ActivityPublic)
def get_activity_version(key: Key, tag: Tag) -> Any:
    """Exactly the version a log line's ``dpl.core.processing_activity_id`` points at."""
    for v in load_register().versions.get(key, ()):
        if v.tag == tag:
            return _public(v)
    raise NotFound("no such version of this processing activity")
