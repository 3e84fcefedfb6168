"""One gateway per module for the contract tests (document, linter, generated client)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.core.context import Loket
from tests.security.helpers import build_test_loket, minter


@pytest.fixture(scope="module")
def contract_loket(tmp_path_factory: pytest.TempPathFactory, sandbox: Any) -> Iterator[Loket]:
    loket = build_test_loket(tmp_path_factory.mktemp("contract-loket"), sandbox)
    yield loket
    loket.close()


@pytest.fixture(scope="module")
def api(contract_loket: Loket) -> Iterator[TestClient]:
    with TestClient(create_app(loket=contract_loket)) as c:
        yield c


@pytest.fixture(scope="module")
def mint(contract_loket: Loket) -> Callable[..., str]:
    return minter(contract_loket)


@pytest.fixture(scope="module")
def document(api: TestClient) -> dict[str, Any]:
    r = api.get("/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc
