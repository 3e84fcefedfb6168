"""The adapter seam between the gateway and one kind of agency.

Modelled on python-tuf's fetcher: the public :meth:`AgencyAdapter.fetch` is the only thing the
gateway calls, and it never raises. Whatever the plug-in's ``_fetch`` raises (timeout,
connection error, an HTTP status, a malformed, oversized or wrongly shaped body, a bug) becomes
an :class:`AgencyAnswer` with ``status="unavailable"`` and a stable ``error_code``, so one
failing agency can never take a dossier down or leak partial data.

The limits on what an agency may send back are enforced here, in one place:

* ``timeout_s`` — a wall-clock deadline for the whole exchange (connect, send, read), so a slow
  agency cannot hold a dossier up beyond it;
* ``max_response_bytes`` — enforced while reading (see ``adapters/haalcentraal.py``);
* minimisation, defence in depth — any field the agency returned that was not asked for is
  dropped and reported in ``extra_fields_dropped`` (the catalog's ``always_included_flags``
  are always kept: they change how the rest must be read).

The BSN is a parameter of ``fetch`` and goes only into the POST body. It is never put into a
URL, a log line, an exception message or an ``error_code``.

"No record" is an answer, not a failure: a citizen unknown at an agency is ``status="ok"`` with
``data == {}``. A citizen the agency knows always carries the flags, so ``data`` is non-empty.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import aiohttp
import certifi

from adapters.catalog import Catalog, load_catalog
from adapters.fields import FieldPathError, minimise, normalise_fields, unselected_leaf_paths

logger = logging.getLogger("loket.adapters")

#: More fields than the whole catalog holds is a caller bug, not a request to forward.
MAX_FIELDS_PER_REQUEST = 128

#: Open connections per adapter kind (so per HTTP client), all to its agencies together.
MAX_CONNECTIONS_PER_CLIENT = 20
#: An idle pooled connection is dropped after this long: under the 5 s after which uvicorn,
#: Apache and Node close an idle connection. aiohttp does not look for a pending close before
#: reusing a pooled socket (httpx did) and does not retry a POST, so a request sent on a
#: connection the agency is just closing would fail as connection_error.
KEEPALIVE_S = 4.0

# W3C Trace Context §3.2: version-traceid-parentid-flags, lower-case hex. Anything else is
# dropped rather than forwarded, so a caller cannot smuggle text into an agency's headers.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
_BSN_SHAPE = re.compile(r"^[0-9]{9}$")
_API_KEY = re.compile(r"^[\x21-\x7e]{1,512}$")


class AgencyErrorCode(StrEnum):
    """Why an agency is reported as unavailable. HTTP statuses become ``http_<status>``."""

    TIMEOUT = "timeout"  # the deadline (timeout_s) passed
    CONNECTION_ERROR = "connection_error"  # could not connect / connection dropped
    MALFORMED = "malformed"  # not JSON, not the Haal Centraal shape, or an encoded body
    TOO_LARGE = "too_large"  # more than max_response_bytes
    INVALID_REQUEST = "invalid_request"  # refused before sending: bad fields, agency or BSN shape
    NOT_CONFIGURED = "not_configured"  # no base URL for this agency
    INTERNAL = "internal"  # a bug in the adapter; still reported, never raised


def http_error_code(status: int) -> str:
    return f"http_{int(status)}"


class AgencyFetchError(Exception):
    """Raised inside ``_fetch`` to report a failure with a stable code.

    The message is for developers and must never hold the BSN or response content; ``fetch``
    does not log it anyway, only the code.
    """

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


@dataclass(frozen=True)
class AgencyAnswer:
    """What one agency said about one citizen, already minimised to the fields asked for."""

    agency: str
    status: Literal["ok", "unavailable"]
    data: dict[str, Any]
    retrieved_at: datetime
    error_code: str | None
    duration_ms: float
    extra_fields_dropped: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.status == "ok" and self.error_code is not None:
            raise ValueError("an ok answer has no error_code")
        if self.status == "unavailable" and (not self.error_code or self.data):
            raise ValueError("an unavailable answer has an error_code and no data")
        if self.status not in ("ok", "unavailable"):
            raise ValueError(f"unknown status {self.status!r}")
        if self.retrieved_at.utcoffset() is None:
            raise ValueError("retrieved_at must be timezone-aware (UTC)")

    @property
    def known(self) -> bool:
        """True when the agency has a record of this citizen (ok and non-empty data)."""
        return self.status == "ok" and bool(self.data)

    @classmethod
    def unavailable(
        cls,
        agency: str,
        error_code: str,
        *,
        duration_ms: float = 0.0,
        retrieved_at: datetime | None = None,
    ) -> AgencyAnswer:
        return cls(
            agency=agency,
            status="unavailable",
            data={},
            retrieved_at=retrieved_at or datetime.now(UTC),
            error_code=str(error_code),
            duration_ms=duration_ms,
            extra_fields_dropped=(),
        )


class AgencyAdapter(ABC):
    """One kind of agency (``kind`` matches the catalog's ``adapter``), reached over HTTP.

    One adapter instance serves every agency of its kind and owns one ``aiohttp.ClientSession``
    (unless a client is passed in; then the caller closes it). Why aiohttp: ADR 0004.
    """

    kind: ClassVar[str]

    def __init__(
        self,
        agency_urls: Mapping[str, str],
        *,
        timeout_s: float,
        max_response_bytes: int,
        client: aiohttp.ClientSession | None = None,
        catalog: Catalog | None = None,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        """``credentials``: agency id -> the API key the agency knows this client by (sent in a
        header, never logged); an agency without one is asked without a key."""
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if max_response_bytes <= 0:
            raise ValueError("max_response_bytes must be positive")
        self.catalog = catalog or load_catalog()
        self.agencies: frozenset[str] = frozenset(
            a.id for a in self.catalog.agencies.values() if a.adapter == self.kind
        )
        urls = {}
        for agency, url in agency_urls.items():
            if agency not in self.agencies:
                raise ValueError(f"agency {agency!r} is not of adapter kind {self.kind!r}")
            _check_base_url(agency, url)
            urls[agency] = url.rstrip("/")
        self.agency_urls: Mapping[str, str] = urls
        keys = {}
        for agency, key in (credentials or {}).items():
            if agency not in urls:
                raise ValueError(f"credentials for agency {agency!r}, which has no base URL here")
            if not isinstance(key, str) or not _API_KEY.match(key):
                raise ValueError(f"the API key for agency {agency!r} is not printable ASCII")
            keys[agency] = key
        self.credentials: Mapping[str, str] = keys
        self.timeout_s = float(timeout_s)
        self.max_response_bytes = int(max_response_bytes)
        self._owns_client = client is None
        self._client = client
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._client_closer: asyncio.Task[None] | None = None

    @staticmethod
    def new_client(
        *, timeout_s: float, max_connections: int = MAX_CONNECTIONS_PER_CLIENT
    ) -> aiohttp.ClientSession:
        """The HTTP client settings every agency connection uses. Needs a running event loop.

        The environment's proxy settings are not trusted (``trust_env=False``): where agency
        traffic goes is configuration, not an accident of the process environment. Bodies are
        not decompressed (``auto_decompress=False``), so ``max_response_bytes`` counts the
        bytes on the wire. Cookies are neither kept nor sent back: they could link one
        citizen's lookups to the next. Redirects are refused per request (aiohttp has no
        session-wide switch); see ``adapters/haalcentraal.py``. Pooled connections are kept
        alive and, as every aiohttp connection, have ``TCP_NODELAY`` set, so a small POST is
        not held back by Nagle's algorithm waiting for a delayed ACK.
        ``timeout_s`` here is a belt: ``fetch`` holds the whole exchange to the same deadline.
        """
        connector = aiohttp.TCPConnector(
            limit=max_connections,
            limit_per_host=max_connections,
            keepalive_timeout=KEEPALIVE_S,
            ssl=_agency_tls_context(),
        )
        return aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            trust_env=False,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    @property
    def client(self) -> aiohttp.ClientSession:
        """The HTTP client for the running event loop.

        An owned client is made lazily and made again when the event loop changes or after
        :meth:`aclose`: pooled connections belong to the loop that opened them, and the
        gateway builds its adapters before any loop runs (and tests run several loops).
        A client of another loop cannot be closed from here; it is closed when its own loop
        shuts down (see :func:`_close_at_loop_end`) or by :meth:`aclose` in that loop.
        """
        if not self._owns_client:
            assert self._client is not None
            return self._client
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.closed or self._client_loop is not loop:
            if self._client_closer is not None and self._client_loop is loop:
                self._client_closer.cancel()  # its session was closed by someone else
            self._client = self.new_client(timeout_s=self.timeout_s)
            self._client_loop = loop
            self._client_closer = loop.create_task(
                _close_at_loop_end(self._client), name=f"close {self.kind} agency client"
            )
        return self._client

    async def aclose(self) -> None:
        """Close the owned client (a passed-in client is the caller's to close)."""
        if self._owns_client and self._client is not None:
            if self._client_loop is asyncio.get_running_loop():
                await self._client.close()
                if self._client_closer is not None:
                    self._client_closer.cancel()
            self._client = None
            self._client_loop = None
            self._client_closer = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(agencies={sorted(self.agency_urls)})"

    # -- the public, never-raising entry point -------------------------------------------

    async def fetch(
        self,
        agency: str,
        bsn: str,
        fields: Sequence[str],
        *,
        traceparent: str | None = None,
    ) -> AgencyAnswer:
        """Ask ``agency`` for ``fields`` of the citizen ``bsn``. Never raises."""
        started = time.perf_counter()

        def elapsed_ms() -> float:
            return (time.perf_counter() - started) * 1000.0

        code: str
        try:
            requested = self._check_request(agency, bsn, fields)
            if traceparent is not None and not _TRACEPARENT.match(traceparent):
                traceparent = None
            async with asyncio.timeout(self.timeout_s):
                person = await self._fetch(
                    agency, self.agency_urls[agency], bsn, requested, traceparent=traceparent
                )
            retrieved_at = datetime.now(UTC)
            if person is None:
                return self._ok(agency, {}, (), retrieved_at, elapsed_ms())
            person = self._normalise(agency, dict(person), requested)
            asked = (*requested, *self.catalog.always_included_flags)
            data = minimise(person, asked)
            dropped = tuple(sorted(unselected_leaf_paths(person, asked)))
            if dropped:
                # Field names only: never values, never the BSN.
                logger.warning(
                    "agency %s returned fields that were not asked for; dropped: %s",
                    agency,
                    ", ".join(dropped),
                )
            return self._ok(agency, data, dropped, retrieved_at, elapsed_ms())
        except AgencyFetchError as e:
            code = e.code
        except TimeoutError:
            # the deadline above, or aiohttp's own (ServerTimeoutError is a TimeoutError too)
            code = AgencyErrorCode.TIMEOUT
        except (aiohttp.ClientError, OSError):
            # Includes a response that breaks HTTP itself (bad status line or headers, a
            # truncated or badly chunked body): aiohttp raises ClientResponseError or
            # ClientPayloadError, never an HTTP status we asked for (no raise_for_status).
            code = AgencyErrorCode.CONNECTION_ERROR
        except (ValueError, RecursionError):
            # a JSON decode error (ValueError) or a body nested deeper than Python recurses
            code = AgencyErrorCode.MALFORMED
        except Exception as e:  # noqa: BLE001 - the contract is "never raises"
            logger.error("adapter %s failed unexpectedly (%s)", self.kind, type(e).__name__)
            code = AgencyErrorCode.INTERNAL
        duration = elapsed_ms()
        # The exception text is deliberately not logged: it may quote the response body.
        logger.warning("agency %s unavailable: %s after %.0f ms", agency, code, duration)
        return AgencyAnswer.unavailable(agency, str(code), duration_ms=duration)

    def _check_request(self, agency: str, bsn: str, fields: Sequence[str]) -> tuple[str, ...]:
        """Refuse before sending anything the agency must never see."""
        if agency not in self.agencies:
            raise AgencyFetchError(AgencyErrorCode.INVALID_REQUEST, "agency not of this kind")
        if agency not in self.agency_urls:
            raise AgencyFetchError(AgencyErrorCode.NOT_CONFIGURED, "no base URL")
        if not isinstance(bsn, str) or not _BSN_SHAPE.match(bsn):
            # The gateway validates the elfproef; this only keeps garbage off the wire.
            raise AgencyFetchError(AgencyErrorCode.INVALID_REQUEST, "BSN is not nine digits")
        if isinstance(fields, str) or not fields or len(fields) > MAX_FIELDS_PER_REQUEST:
            raise AgencyFetchError(AgencyErrorCode.INVALID_REQUEST, "bad fields list")
        try:
            # De-duplicated, and a path inside a requested group is folded into the group.
            return normalise_fields(fields)
        except FieldPathError as e:
            raise AgencyFetchError(AgencyErrorCode.INVALID_REQUEST, "bad field path") from e

    def _ok(
        self,
        agency: str,
        data: dict[str, Any],
        dropped: tuple[str, ...],
        retrieved_at: datetime,
        duration_ms: float,
    ) -> AgencyAnswer:
        return AgencyAnswer(
            agency=agency,
            status="ok",
            data=data,
            retrieved_at=retrieved_at,
            error_code=None,
            duration_ms=duration_ms,
            extra_fields_dropped=dropped,
        )

    # -- what a kind implements ----------------------------------------------------------

    @abstractmethod
    async def _fetch(
        self,
        agency: str,
        base_url: str,
        bsn: str,
        fields: tuple[str, ...],
        *,
        traceparent: str | None,
    ) -> Mapping[str, Any] | None:
        """Return the agency's raw record for the citizen, or None if it has none.

        Raise :class:`AgencyFetchError` (or let aiohttp/json errors escape) on failure; the
        caller turns every exception into an unavailable answer.
        """

    def _normalise(self, agency: str, person: dict[str, Any], requested: tuple[str, ...]) -> dict[str, Any]:
        """Hook for per-kind conventions, applied before minimisation (``requested``: the
        normalised fields that were asked)."""
        return person


def _check_base_url(agency: str, url: str) -> None:
    """Refuse at start-up a base URL that is not plain http(s) to a host."""
    try:
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a port
    except ValueError as e:
        raise ValueError(f"agency {agency!r} needs an http(s) base URL") from e
    # urlsplit silently drops tabs and newlines (bpo-43882); a URL with any whitespace or
    # control character is refused instead.
    unprintable = any(ord(c) < 0x21 or ord(c) == 0x7F for c in url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or unprintable:
        raise ValueError(f"agency {agency!r} needs an http(s) base URL")


@cache
def _agency_tls_context() -> ssl.SSLContext:
    """Mozilla's CA bundle via certifi: the CA set httpx used, kept so that changing the HTTP
    client does not change which agency certificates are trusted. One context for all."""
    return ssl.create_default_context(cafile=certifi.where())


async def _close_at_loop_end(session: aiohttp.ClientSession) -> None:
    """Close an adapter's own ``session`` when the event loop it belongs to shuts down.

    ``asyncio.run`` and ``asyncio.Runner`` (which uvicorn and anyio use) cancel every task
    still pending when their main coroutine returns; this one waits for that and then closes
    the pooled connections in the loop that opened them. Without it a client left behind by
    a finished loop (a test, a TestClient without lifespan) would hold its sockets until
    garbage collection, and aiohttp logs every such session as an error.
    """
    try:
        await asyncio.get_running_loop().create_future()
    finally:
        await session.close()
