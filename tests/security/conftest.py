"""Module-scoped gateways for the attack suites: one Loket per test module, not per test.

Each test that changes state uses its own casemanager subject and its own case, so tests in
one module do not see each other's cases; counts are taken as before/after differences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.core.context import Loket
from tests.security.helpers import build_test_loket, minter


@pytest.fixture(scope="module")
def shared_loket(tmp_path_factory: pytest.TempPathFactory, sandbox: Any) -> Iterator[Loket]:
    loket = build_test_loket(tmp_path_factory.mktemp("shared-loket"), sandbox)
    yield loket
    loket.close()


@pytest.fixture(scope="module")
def api(shared_loket: Loket) -> Iterator[TestClient]:
    with TestClient(create_app(loket=shared_loket)) as c:
        yield c


@pytest.fixture(scope="module")
def mint(shared_loket: Loket) -> Callable[..., str]:
    return minter(shared_loket)
