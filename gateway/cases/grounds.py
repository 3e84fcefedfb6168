"""Grounds for a case: why a casemanager may look at all (PRODUCT.md, DOMAIN.md "Grounds").

A purpose is not a ground. A case exists only with a ground that the casemanager did not give
themself: the citizen's *aanmelding*, an early-warning *signaal*, or a coordinator's
*toewijzing* with a written reason. The purpose's policy data names which grounds it allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gateway.core.errors import BadInput, Forbidden
from gateway.identity.auth import Principal, Role, is_user_id
from gateway.identity.free_text import check_free_text

MAX_REASON_CHARS = 1000
MIN_REASON_CHARS = 10


class GroundType(StrEnum):
    AANMELDING = "aanmelding"
    SIGNAAL = "signaal"
    TOEWIJZING = "toewijzing"


@dataclass(frozen=True)
class Ground:
    type: GroundType
    casemanager: str
    id: str | None = None
    reason: str | None = None


def allowed_grounds(purposes: Mapping[str, Any], purpose: str) -> frozenset[str]:
    info = purposes.get(purpose)
    grounds = info.get("grounds", ()) if isinstance(info, Mapping) else ()
    return frozenset(g for g in grounds if isinstance(g, str))


def require_ground_allowed(purposes: Mapping[str, Any], purpose: str, ground: GroundType) -> None:
    if purpose not in purposes:
        raise BadInput("unknown purpose", code="unknown-purpose")
    if ground.value not in allowed_grounds(purposes, purpose):
        raise BadInput("this purpose does not allow a case on this ground", code="ground-not-allowed")


def check_assignment(coordinator: Principal, ground: Ground) -> Ground:
    """A coordinator of a team assigns someone else, with a reason where the ground needs one."""
    if coordinator.role is not Role.COORDINATOR:
        raise Forbidden("only a coordinator opens a case", code="coordinator-only")
    if not coordinator.team:
        raise Forbidden("a coordinator token needs a team", code="no-team")
    if not is_user_id(ground.casemanager):
        raise BadInput("casemanager is not a valid user id", code="bad-casemanager")
    if ground.casemanager == coordinator.sub:
        raise Forbidden("a coordinator cannot assign themself", code="self-assignment")
    reason = None
    if ground.reason is not None or ground.type is GroundType.TOEWIJZING:
        reason = check_free_text(ground.reason or "", max_chars=MAX_REASON_CHARS, what="reason")
        if ground.type is GroundType.TOEWIJZING and len(reason) < MIN_REASON_CHARS:
            raise BadInput("an assignment needs a written reason", code="reason-required")
    if ground.type is GroundType.TOEWIJZING and ground.id is not None:
        raise BadInput("an assignment has no id", code="bad-ground")
    if ground.type is not GroundType.TOEWIJZING and not ground.id:
        raise BadInput("name the aanmelding or signal", code="bad-ground")
    return Ground(type=ground.type, casemanager=ground.casemanager, id=ground.id, reason=reason or None)
