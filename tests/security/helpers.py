"""Plain helpers shared by the security, fault and load suites (no fixtures here)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.core.context import Loket, build_loket
from gateway.identity.auth import Role, mint_token
from tests import cases
from tests.conftest import settings_for

PURPOSE = "student_in_crisis"
PROBLEM_PREFIX = "https://loket.example/problems/"


def build_test_loket(data_dir: Path, sandbox: Any, **overrides: Any) -> Loket:
    return build_loket(settings_for(data_dir, dict(sandbox.agency_urls), **overrides))


def minter(loket: Loket) -> Callable[..., str]:
    """``mint(role="casemanager", sub="cm-001", **claims)`` signed by the loket's dev issuer."""

    def mint(role: str = "casemanager", sub: str = "cm-001", **kw: Any) -> str:
        assert loket.dev_issuer_key is not None
        return mint_token(loket.dev_issuer_key, issuer=loket.settings.jwt_issuer,
                          audience=loket.settings.jwt_audience, sub=sub, role=Role(role), **kw)

    return mint


def eva_bsn(sandbox: Any) -> str:
    from gateway.demo import _demo_citizen

    return _demo_citizen(sandbox.citizens)[1]


def other_bsn(sandbox: Any) -> str:
    eva = eva_bsn(sandbox)
    return next(c.bsn for c in sandbox.citizens if c.bsn != eva)


def open_case(http: Any, tok: str, bsn: str, purpose: str = PURPOSE) -> str:
    return cases.open_case(http, tok, bsn, purpose)


def assert_problem(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem with this status (and code), carrying no dossier content."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    body = r.json()
    assert body["status"] == status
    assert body["type"].startswith(PROBLEM_PREFIX)
    if code is not None:
        assert body["type"] == PROBLEM_PREFIX + code, body["type"]
    for leak in ("fields", "flags", "audit", "decision_id"):
        assert leak not in body, f"problem body carries {leak!r}"
    return dict(body)


def kinds_in_log(loket: Loket, **flt: Any) -> list[str]:
    return [s.record.kind.value for s in loket.audit.find(AuditFilter(**flt), limit=10_000)]


def count_kind(loket: Loket, kind: AuditEventKind) -> int:
    return loket.audit.count(AuditFilter(kind=kind))


def agency_requests_seen(sandbox: Any) -> int:
    return sum(len(o.requests()) for o in sandbox.observations.values())


def random_sub(prefix: str = "cm") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
