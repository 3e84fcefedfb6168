"""The HTTP exchange every Loket agency speaks: Haal Centraal BRP Bevragen style.

``POST {base_url}/{agency}/personen`` (the BRP: ``{base_url}/personen``, adapters/brp.py) with
``{"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [bsn], "fields": [...]}``
answers ``{"personen": [ {...} ]}``; an empty list means the agency has no record. The BSN is
in the body only (Haal Centraal uses POST for exactly this reason), and the body is read as a
stream that is abandoned as soon as it passes ``max_response_bytes``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from adapters.base import AgencyAdapter, AgencyErrorCode, AgencyFetchError, http_error_code

QUERY_TYPE = "RaadpleegMetBurgerservicenummer"
#: The client's API key header, as the Haal Centraal proefomgeving takes it. Never logged.
API_KEY_HEADER = "X-API-KEY"


def _header(response: aiohttp.ClientResponse, name: str, default: str) -> str:
    """All values of a header joined by ", " (RFC 9110 §5.3), so a second Content-Type or
    Content-Encoding cannot hide behind an acceptable first one."""
    values = response.headers.getall(name, ())
    return ", ".join(values) if values else default


def _is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class HaalCentraalAdapter(AgencyAdapter):
    """Shared transport for all kinds; a kind subclass sets ``kind`` and, if needed, hooks."""

    async def _fetch(
        self,
        agency: str,
        base_url: str,
        bsn: str,
        fields: tuple[str, ...],
        *,
        traceparent: str | None,
    ) -> Mapping[str, Any] | None:
        headers = {
            "Accept": "application/json",
            # A compressed body would be inflated past the limit before we could count it.
            "Accept-Encoding": "identity",
            "Content-Type": "application/json",
        }
        if traceparent:
            headers["traceparent"] = traceparent
        api_key = self.credentials.get(agency)
        if api_key is not None:
            headers[API_KEY_HEADER] = api_key
        query = {"type": QUERY_TYPE, "burgerservicenummer": [bsn], "fields": list(fields)}
        body = json.dumps(query, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        async with self.client.post(
            self._personen_url(agency, base_url),
            data=body.encode("utf-8"),
            headers=headers,
            # A redirect would re-send the BSN body to another place; a 3xx is an error.
            allow_redirects=False,
        ) as response:
            if response.status != 200:
                raise AgencyFetchError(http_error_code(response.status))
            encoding = _header(response, "Content-Encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                raise AgencyFetchError(AgencyErrorCode.MALFORMED, "encoded body refused")
            if not _is_json_media_type(_header(response, "Content-Type", "")):
                raise AgencyFetchError(AgencyErrorCode.MALFORMED, "not JSON")
            declared = _header(response, "Content-Length", "")
            if declared.isdigit() and int(declared) > self.max_response_bytes:
                raise AgencyFetchError(AgencyErrorCode.TOO_LARGE, "declared length over limit")
            raw = bytearray()
            # The session does not decompress and the body is identity-encoded, so these are
            # the bytes on the wire (less any chunked framing): the limit counts what the
            # agency sent, and reading stops at the first chunk past it.
            async for chunk in response.content.iter_any():
                raw += chunk
                if len(raw) > self.max_response_bytes:
                    raise AgencyFetchError(AgencyErrorCode.TOO_LARGE, "body over limit")
        return self._parse(bytes(raw))

    def _personen_url(self, agency: str, base_url: str) -> str:
        """Loket's agencies answer at ``{base}/{agency}/personen`` (one server per kind)."""
        return f"{base_url}/{agency}/personen"

    def _check_answer(self, doc: dict[str, Any]) -> None:
        """Hook: a kind that knows its spec checks the answer's envelope here."""

    def _parse(self, raw: bytes) -> Mapping[str, Any] | None:
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise AgencyFetchError(AgencyErrorCode.MALFORMED, "body is not JSON") from e
        if not isinstance(doc, dict) or not isinstance(doc.get("personen"), list):
            raise AgencyFetchError(AgencyErrorCode.MALFORMED, "no personen list")
        self._check_answer(doc)
        personen = doc["personen"]
        if not personen:
            return None
        # We asked for one BSN; more than one person back is an agency error, not a choice.
        if len(personen) != 1 or not isinstance(personen[0], dict):
            raise AgencyFetchError(AgencyErrorCode.MALFORMED, "expected exactly one person")
        person: dict[str, Any] = personen[0]
        return person
