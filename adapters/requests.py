"""Sending a request *to* an agency (pause collection, payment plan, warm handover) and reading
its answer, over the agency adapter's own HTTP client and base URL.

The body is what the gateway's policy allowed and nothing more (gateway/workspace/
agency_requests.py builds it); the BSN travels only in the POST body, never in a URL. Errors
are :class:`AgencyFetchError` with the adapter's error codes; the response is read with the
adapter's size limit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from adapters.base import AgencyAdapter, AgencyErrorCode, AgencyFetchError, http_error_code

ANSWER_STATUSES = {"in_behandeling": "sent", "geaccepteerd": "accepted", "geweigerd": "refused"}


async def _json(adapter: AgencyAdapter, response: aiohttp.ClientResponse) -> dict[str, Any]:
    raw = await response.content.read(adapter.max_response_bytes + 1)
    if len(raw) > adapter.max_response_bytes:
        raise AgencyFetchError(AgencyErrorCode.TOO_LARGE)
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise AgencyFetchError(AgencyErrorCode.MALFORMED) from e
    if not isinstance(doc, dict):
        raise AgencyFetchError(AgencyErrorCode.MALFORMED)
    return doc


async def _exchange(adapter: AgencyAdapter, method: str, url: str, ok: tuple[int, ...], *,
                    body: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
                    ) -> dict[str, Any]:
    """One call to the agency within the adapter's timeout; its JSON object or AgencyFetchError."""
    try:
        async with asyncio.timeout(adapter.timeout_s):
            async with adapter.client.request(method, url, json=None if body is None else dict(body),
                                              headers=dict(headers or {}), allow_redirects=False) as r:
                if r.status not in ok:
                    raise AgencyFetchError(http_error_code(r.status))
                return await _json(adapter, r)
    except TimeoutError as e:
        raise AgencyFetchError(AgencyErrorCode.TIMEOUT) from e
    except (aiohttp.ClientError, OSError) as e:
        raise AgencyFetchError(AgencyErrorCode.CONNECTION_ERROR) from e


async def send_agency_request(adapter: AgencyAdapter, agency: str, body: Mapping[str, Any], *,
                              traceparent: str | None = None) -> str:
    """POST the request; returns the agency's status (``sent`` while it is being handled)."""
    headers = {"traceparent": traceparent} if traceparent else {}
    url = f"{adapter.agency_urls[agency]}/{agency}/verzoeken"
    doc = await _exchange(adapter, "POST", url, (200, 201, 202), body=body, headers=headers)
    return ANSWER_STATUSES.get(str(doc.get("status")), "sent")


async def agency_request_answer(adapter: AgencyAdapter, agency: str, reference: str) -> tuple[str, str | None]:
    """(status, reason): ``sent`` while pending, then ``accepted`` or ``refused``."""
    url = f"{adapter.agency_urls[agency]}/{agency}/verzoeken/{reference}"
    doc = await _exchange(adapter, "GET", url, (200,))
    status = ANSWER_STATUSES.get(str(doc.get("status")))
    if status is None:
        raise AgencyFetchError(AgencyErrorCode.MALFORMED)
    reason = doc.get("reden")
    return status, (str(reason)[:500] if isinstance(reason, str) else None)
