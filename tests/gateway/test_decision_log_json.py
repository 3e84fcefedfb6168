"""The decision log stores sorted, compact JSON: the same document json.dumps(sort_keys) writes,
through orjson on the hot path and through json for what orjson refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.dossier.decision_log import _dumps


def _reference(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("value", [
    {"b": 1, "a": [True, None, "ü €"], "c": {"z": "x", "y": -3}},
    {"now_ns": 1_764_000_000_000_000_000, "nested": [{"k": "v", "a": 0}]},
    {"big": 2**70},  # orjson refuses integers beyond 64 bits: json writes it
    [],
])
def test_same_document_as_sorted_compact_json(value: Any) -> None:
    assert _dumps(value) == _reference(value)
