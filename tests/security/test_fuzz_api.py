"""API fuzzing with schemathesis against ``/openapi.json``, in process, each operation with a
token of the role that owns it (casemanager with a real case, coordinator, citizen, privacy
officer) and then with every other role. Every operation must answer without a server error
(5xx other than the designed 503s of fail-closed paths) and, where the status is documented,
with a body that conforms to the schema; every 4xx after authentication must have left an audit
record. Examples are capped for a 2-core CI (the whole module runs well under a minute).

A longer run: ``LOKET_FUZZ_EXAMPLES=200 python -m pytest tests/security/test_fuzz_api.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from gateway.app import create_app
from gateway.core.context import Loket
from tests.security.helpers import eva_bsn, open_case

MAX_EXAMPLES = int(os.environ.get("LOKET_FUZZ_EXAMPLES", "20"))
#: With the roles that do not own an operation, fewer examples: they are all refusals.
OTHER_ROLE_EXAMPLES = max(1, MAX_EXAMPLES // 4)
DESIGNED_503 = {"policy-engine-unavailable", "policy-timeout", "audit-unavailable"}
#: Refusals that happen before anybody is authenticated (nobody to record): the body limit,
#: a BSN in the URL, routing (404/405), and the token itself (401).
BEFORE_AUTHENTICATION = {"request-too-large", "bsn-in-url", "http-404", "http-405", "unsupported-media-type"}


@pytest.fixture(scope="module")
def fuzz_app(shared_loket: Loket) -> Iterator[Any]:
    app = create_app(loket=shared_loket)
    with TestClient(app):  # run the lifespan once
        yield app


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


@pytest.fixture(scope="module")
def role_headers(fuzz_app: Any, shared_loket: Loket, sandbox: Any,
                 mint: Callable[..., str]) -> dict[str, dict[str, str]]:
    """A bearer token per area: casemanager (with a real case), citizen, privacy officer."""
    cm = mint(sub="cm-fuzz")
    with TestClient(fuzz_app) as c:
        open_case(c, cm, eva_bsn(sandbox))
    citizen = mint(role="citizen", sub="burger-fuzz", bsn=eva_bsn(sandbox))
    fg = mint(role="privacy_officer", sub="fg-fuzz")
    co = mint(role="coordinator", sub="co-fuzz")
    return {"cm": {"Authorization": f"Bearer {cm}"}, "citizen": {"Authorization": f"Bearer {citizen}"},
            "fg": {"Authorization": f"Bearer {fg}"}, "co": {"Authorization": f"Bearer {co}"}}


def owner_of(path: str, method: str) -> str:
    if path.startswith("/v1/me"):
        return "citizen"
    if path.startswith("/v1/fg"):
        return "fg"
    if path.startswith(("/v1/aanmeldingen", "/v1/signals")) or (path == "/v1/cases" and method == "POST"):
        return "co"
    return "cm"


def check_response(case: Any, response: Any, headers: dict[str, str]) -> None:
    if response.status_code == 503:
        # Fail-closed paths are designed 503s; anything else in 5xx is a bug.
        assert response.json()["type"].rsplit("/", 1)[1] in DESIGNED_503, response.text
        return
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance],
                           headers=headers)
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", "")
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), (response.status_code, content_type)


#: Operations anybody may call (published log material, the dev issuer): nobody is authenticated.
PUBLIC_PATHS = ("/v1/log", "/.well-known", "/dev-issuer", "/health", "/v1/register")


def check_refusal_recorded(response: Any, log_size_before: int, loket: Loket, path: str) -> None:
    """A 4xx to an authenticated caller is an event the FG must be able to see."""
    if not 400 <= response.status_code < 500 or response.status_code == 401 or path.startswith(PUBLIC_PATHS):
        return
    code = response.json().get("type", "").rsplit("/", 1)[-1]
    if code in BEFORE_AUTHENTICATION:
        return
    assert loket.audit.head().tree_size > log_size_before, (
        f"{response.status_code} {code} to an authenticated caller left no audit record")


def fuzz_operation(operation: Any, headers: dict[str, str], statuses: dict[int, int], loket: Loket,
                   examples: int) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case: Any) -> None:
        before = loket.audit.head().tree_size
        response = case.call(headers=headers)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        check_response(case, response, headers)
        check_refusal_recorded(response, before, loket, operation.full_path)

    fuzz()


@pytest.mark.slow  # over ~10 s: CI's second pytest step runs it
def test_no_server_errors_and_responses_conform(fuzz_schema: Any, shared_loket: Loket,
                                                role_headers: dict[str, dict[str, str]]) -> None:
    """Each operation in turn, as its owner and as every other role (schemathesis' pytest loader
    does not run under pytest 9 here)."""
    operations = [r.ok() for r in fuzz_schema.get_all_operations()]
    assert len(operations) >= 20, "the whole /v1 API is in the schema"
    seen: list[str] = []
    statuses: dict[int, int] = {}
    for operation in operations:
        # full_path: the document's paths are relative to its server (/v1)
        owner = owner_of(operation.full_path, operation.method.upper())
        for role, headers in role_headers.items():
            fuzz_operation(operation, headers, statuses, shared_loket,
                           MAX_EXAMPLES if role == owner else OTHER_ROLE_EXAMPLES)
        seen.append(operation.label)
    assert any("/dossier" in label for label in seen)
    print(f"\nfuzz: {len(seen)} operations, responses by status {dict(sorted(statuses.items()))}")
    assert any(200 <= s < 300 for s in statuses), "some generated requests must succeed"
