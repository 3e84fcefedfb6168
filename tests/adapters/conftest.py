"""Shared fixtures for the adapter tests: one real sandbox per test session.

The sandbox agencies run on localhost in background threads; the adapters talk to them over
real HTTP. Faults and request observations are reset around every test that uses them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

import pytest

from adapters.base import AgencyAnswer
from adapters.registry import aclose_adapters, build_adapters, fetch_all
from adapters.sandbox.citizens import BSN_EVA
from adapters.sandbox.runner import SandboxHandle, start_sandbox

T = TypeVar("T")

# Generous: CI shares 2 cores with other suites; timing tests pass their own tight timeouts.
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024


def run(coro: Awaitable[T]) -> T:
    """Run one coroutine in a fresh event loop (the adapters' HTTP clients live inside it)."""

    async def main() -> T:
        return await coro

    return asyncio.run(main())


@pytest.fixture(scope="session")
def _adapters_sandbox_session() -> Iterator[SandboxHandle]:
    # Our own instance (not tests/conftest.py's `sandbox`): these tests flip faults, and a
    # fault must never leak into another package's tests.
    with start_sandbox(seed=1) as handle:
        yield handle


@pytest.fixture
def agency_sandbox(_adapters_sandbox_session: SandboxHandle) -> Iterator[SandboxHandle]:
    """The running sandbox, with all faults off and no requests observed yet."""
    handle = _adapters_sandbox_session
    handle.reset_faults()
    for obs in handle.observations.values():
        obs.clear()
    yield handle
    handle.reset_faults()


FetchOne = Callable[..., AgencyAnswer]
FetchMany = Callable[..., list[AgencyAnswer]]


@pytest.fixture
def fetch(agency_sandbox: SandboxHandle) -> FetchOne:
    """fetch(agency, fields, bsn=Eva, *, timeout_s, max_response_bytes, traceparent, urls)."""

    def _fetch(
        agency: str,
        fields: Sequence[str],
        bsn: str = BSN_EVA,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        traceparent: str | None = None,
        urls: dict[str, str] | None = None,
    ) -> AgencyAnswer:
        async def go() -> AgencyAnswer:
            adapters = build_adapters(
                urls if urls is not None else agency_sandbox.agency_urls,
                timeout_s=timeout_s,
                max_response_bytes=max_response_bytes,
            )
            try:
                return await adapters[agency].fetch(agency, bsn, fields, traceparent=traceparent)
            finally:
                await aclose_adapters(adapters)

        return run(go())

    return _fetch


@pytest.fixture
def fetch_many(agency_sandbox: SandboxHandle) -> FetchMany:
    """fetch_many(requests, bsn=Eva, *, timeout_s, urls) -> answers, via registry.fetch_all."""

    def _fetch_many(
        requests: Sequence[tuple[str, Sequence[str]]],
        bsn: str = BSN_EVA,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        urls: dict[str, str] | None = None,
        traceparent: str | None = None,
    ) -> list[AgencyAnswer]:
        async def go() -> list[AgencyAnswer]:
            adapters = build_adapters(
                urls if urls is not None else agency_sandbox.agency_urls,
                timeout_s=timeout_s,
                max_response_bytes=DEFAULT_MAX_RESPONSE_BYTES,
            )
            try:
                return await fetch_all(adapters, requests, bsn, traceparent=traceparent)
            finally:
                await aclose_adapters(adapters)

        return run(go())

    return _fetch_many


def without_nulls(value: Any) -> Any:
    """What an agency sends for a stored record: fields without a value are left out."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value if v is not None]
    return value


# -- every BRP sandbox answer of the test run is checked against the vendored OpenAPI -------

_BRP_SPEC_ERRORS: list[str] = []
_BRP_SPEC_CHECKED: list[int] = [0]


def _check_brp_answer(status: int, body: Any) -> None:
    if body is None:  # an injected fault (malformed or oversized body): not an answer to check
        return
    from tests.adapters.spec.brp_openapi import errors_in_response

    _BRP_SPEC_CHECKED[0] += 1
    _BRP_SPEC_ERRORS.extend(f"{status}: {e}" for e in errors_in_response(status, body))


def pytest_configure(config: pytest.Config) -> None:
    from adapters.sandbox import brp

    if _check_brp_answer not in brp.response_observers:
        brp.response_observers.append(_check_brp_answer)


@pytest.fixture(autouse=True)
def _brp_answers_follow_the_spec() -> Iterator[None]:
    """Fails the test in whose run a BRP sandbox answer broke the spec."""
    before = len(_BRP_SPEC_ERRORS)
    yield
    new = _BRP_SPEC_ERRORS[before:]
    assert not new, "BRP sandbox answers that break the vendored OpenAPI:\n" + "\n".join(new[:20])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _BRP_SPEC_CHECKED[0]:
        terminalreporter.write_line(
            f"BRP sandbox: {_BRP_SPEC_CHECKED[0]} answers validated against the vendored OpenAPI 2.7.0, "
            f"{len(_BRP_SPEC_ERRORS)} violations"
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Answers given outside tests/adapters (the gateway suites use the sandbox too) count too.
    if _BRP_SPEC_ERRORS and session.exitstatus == 0:
        session.exitstatus = 1
