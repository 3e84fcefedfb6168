"""Examples for the published contract: one per request and response body, synthetic data only
(BSNs from the 9999xxxxx test range, valid under the elfproef; no real person). Spectral's
``oas3-valid-media-example`` checks each against its schema, so a schema change that breaks an
example fails CI (tests/contract/test_openapi_rules.py)."""

from __future__ import annotations

from typing import Any

#: operationId → request body example
REQUESTS: dict[str, Any] = {}

#: operationId → example of the 2xx JSON body
RESPONSES: dict[str, Any] = {}


def apply(op: dict[str, Any]) -> None:
    op_id = op.get("operationId", "")
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None and op_id in REQUESTS:
        body["example"] = REQUESTS[op_id]
    for status, resp in op.get("responses", {}).items():
        media = resp.get("content", {}).get("application/json")
        if status.startswith("2") and media is not None and op_id in RESPONSES:
            media["example"] = RESPONSES[op_id]


def apply_schemas(schemas: dict[str, Any]) -> None:
    """Nothing at schema level yet: examples live with the operations."""
