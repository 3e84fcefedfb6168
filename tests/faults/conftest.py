from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def faults(sandbox: Any) -> Iterator[dict[str, Any]]:
    """The sandbox agencies' runtime faults, reset after the test whatever happens."""
    sandbox.reset_faults()
    yield sandbox.faults
    sandbox.reset_faults()
