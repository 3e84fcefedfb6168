"""Shared fixtures: real sandbox agencies on localhost, a Loket per test on its own SQLite file."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from gateway.core.settings import Settings

if TYPE_CHECKING:
    from gateway.core.context import Loket

# Property tests check behaviour, not speed: on a loaded 2-core CI machine a per-example deadline
# only produces flaky failures. Speed lives in benchmarks/.
# In CI the examples are derandomized: a run on a clean clone explores the same examples every
# time, so CI is reproducible and a new counterexample is found (and kept in .hypothesis/) on
# a developer's machine, not as a surprise red build. Locally Hypothesis explores at random.
hypothesis_settings.register_profile("loket", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.register_profile("loket-ci", parent=hypothesis_settings.get_profile("loket"),
                                     derandomize=True, print_blob=True)
hypothesis_settings.load_profile("loket-ci" if os.environ.get("CI") else "loket")


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Any]:
    from adapters.sandbox.runner import start_sandbox

    handle = start_sandbox(host="127.0.0.1", seed=1)
    try:
        yield handle
    finally:
        handle.stop()


def settings_for(data_dir: Path, agency_urls: dict[str, str], **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        data_dir=data_dir,
        dev_issuer=True,
        pseudonym_key=secrets.token_hex(32),
        bsn_encryption_key=secrets.token_hex(32),
        signing_key_path=data_dir / "audit-signing-key.pem",
        dev_issuer_key_path=data_dir / "dev-issuer-key.pem",
        agency_urls=agency_urls,
        agency_timeout_s=1.5,
        checkpoint_every_records=1000,
        checkpoint_every_s=3600,
        secure_cookies=False,
    )
    values.update(overrides)
    # the keys are created on first use for tests, as the demo does
    from gateway.core.keys import load_ed25519

    load_ed25519(values["signing_key_path"], create=True)
    load_ed25519(values["dev_issuer_key_path"], create=True)
    return Settings(**values)


@pytest.fixture
def make_loket(tmp_path: Path, sandbox: Any) -> Iterator[Callable[..., Loket]]:
    made: list[Loket] = []

    from gateway.core.context import build_loket

    def factory(**overrides: Any) -> Loket:
        data_dir = overrides.pop("data_dir", tmp_path / f"loket-{len(made)}")
        loket = build_loket(settings_for(data_dir, dict(sandbox.agency_urls), **overrides))
        made.append(loket)
        return loket

    yield factory
    for loket in made:
        loket.close()


@pytest.fixture
def loket(make_loket: Callable[..., Loket]) -> Loket:
    return make_loket()


@pytest.fixture
def client(loket: Loket) -> Iterator[TestClient]:
    from gateway.app import create_app

    with TestClient(create_app(loket=loket)) as c:
        yield c


@pytest.fixture
def token(loket: Loket) -> Callable[..., str]:
    from gateway.identity.auth import Role, mint_token

    def mint(role: str = "casemanager", sub: str = "cm-001", **kw: Any) -> str:
        assert loket.dev_issuer_key is not None
        return mint_token(loket.dev_issuer_key, issuer=loket.settings.jwt_issuer,
                          audience=loket.settings.jwt_audience, sub=sub, role=Role(role), **kw)

    return mint


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}
