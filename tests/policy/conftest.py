"""Fixtures for the rule-set tests: one compiled embedded engine and an input factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.dossier.decisions import build_policy_input
from gateway.policy.bundle import PolicyBundle, build_bundle
from gateway.policy.embedded import EmbeddedPolicyEngine

NOW = 1_764_070_000_000_000_000
HOUR = 3_600_000_000_000


@pytest.fixture(scope="session")
def bundle() -> PolicyBundle:
    return build_bundle()


@pytest.fixture(scope="session")
def engine(bundle: PolicyBundle) -> EmbeddedPolicyEngine:
    return EmbeddedPolicyEngine(bundle)


def consent(
    agency: str,
    category: str,
    *,
    purpose: str = "schuldhulp_intake",
    id: str = "k-1",
    valid_from_ns: int = NOW - HOUR,
    valid_until_ns: int = NOW + HOUR,
    revoked: bool = False,
    explicit: bool = False,
    case_id: str | None = "case-1",
    team: str | None = None,
    declined: bool = False,
) -> dict[str, Any]:
    return {
        "id": id,
        "purpose": purpose,
        "agency": agency,
        "category": category,
        "valid_from_ns": valid_from_ns,
        "valid_until_ns": valid_until_ns,
        "revoked": revoked,
        "explicit": explicit,
        "case_id": case_id,
        "team": team,
        "declined": declined,
    }


def make_input(
    purpose: str = "schuldhulp_intake",
    categories: list[tuple[str, str]] | None = None,
    consents: list[dict[str, Any]] | None = None,
    *,
    role: str = "casemanager",
    sub: str = "cm-001",
    casemanager: str = "cm-001",
    break_glass: bool = False,
    justification_given: bool = False,
    time_ns: int = NOW,
    team: str | None = "team-a",
    case_team: str | None = "team-a",
    ground: str | None = "aanmelding",
    pilot: bool = False,
) -> dict[str, Any]:
    """A policy input as the gateway builds it (gateway/dossier/decisions.py, docs/contracts.md),
    with the time and the consent rows given as the contract writes them."""
    doc = build_policy_input(
        now=datetime.fromtimestamp(0, UTC), subject_sub=sub, subject_role=role, case_id="case-1",
        case_purpose=purpose, case_casemanager=casemanager, citizen_pseudonym="ab" * 32, consents=(),
        break_glass=break_glass, justification_given=justification_given, categories=categories,
        subject_team=team, case_team=case_team, case_ground=ground, pilot_unverified_bases=pilot)
    return doc | {"time_ns": time_ns, "consents": consents or []}


@pytest.fixture
def decide(engine: EmbeddedPolicyEngine) -> Callable[..., dict[str, Any]]:
    def _decide(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return engine.evaluate(make_input(*args, **kwargs))

    return _decide


def grant(decision: dict[str, Any], agency: str, category: str) -> dict[str, Any] | None:
    return next(
        (g for g in decision["grants"] if (g["agency"], g["category"]) == (agency, category)), None
    )


def refusal(decision: dict[str, Any], agency: str, category: str) -> str | None:
    return next(
        (
            r["code"]
            for r in decision["refusals"]
            if (r["agency"], r["category"]) == (agency, category)
        ),
        None,
    )
