"""Which adapter serves which agency, and asking several agencies at once.

The catalog (``policies/catalog/agencies.json``) names each agency's adapter ``kind``; one
adapter instance (and so one HTTP client) serves all configured agencies of a kind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

import aiohttp

from adapters.base import AgencyAdapter, AgencyAnswer, AgencyErrorCode
from adapters.belastingdienst import BelastingdienstAdapter
from adapters.brp import BrpAdapter
from adapters.cak import CakAdapter
from adapters.catalog import load_catalog
from adapters.ccbr import CcbrAdapter
from adapters.cjib import CjibAdapter
from adapters.duo import DuoAdapter
from adapters.gemeente import GemeenteAdapter
from adapters.svb import SvbAdapter
from adapters.uwv import UwvAdapter

logger = logging.getLogger("loket.adapters")

ADAPTER_KINDS: Mapping[str, type[AgencyAdapter]] = {
    cls.kind: cls
    for cls in (
        BrpAdapter,
        UwvAdapter,
        BelastingdienstAdapter,
        DuoAdapter,
        SvbAdapter,
        GemeenteAdapter,
        CakAdapter,
        CjibAdapter,
        CcbrAdapter,
    )
}


def build_adapters(
    agency_urls: Mapping[str, str],
    *,
    timeout_s: float,
    max_response_bytes: int,
    client: aiohttp.ClientSession | None = None,
    credentials: Mapping[str, str] | None = None,
) -> dict[str, AgencyAdapter]:
    """Agency id -> the adapter that serves it, for every agency with a configured base URL.

    Without ``client`` each adapter kind gets its own ``aiohttp.ClientSession``; close them with
    :func:`aclose_adapters`. With ``client`` all kinds share it and the caller closes it.
    ``credentials`` maps an agency id to the API key it knows Loket by (the BRP's afnemer key).
    Raises ``ValueError`` for an agency id the catalog does not know or a non-http(s) URL:
    that is a configuration error, found at start-up rather than per request.
    """
    catalog = load_catalog()
    orphans = sorted(set(credentials or {}) - set(agency_urls))
    if orphans:
        raise ValueError(f"API keys for agencies without a base URL: {', '.join(orphans)}")
    by_kind: dict[str, dict[str, str]] = {}
    for agency, url in agency_urls.items():
        if agency not in catalog.agencies:
            raise ValueError(f"agency {agency!r} is not in the catalog")
        by_kind.setdefault(catalog.agencies[agency].adapter, {})[agency] = url
    adapters: dict[str, AgencyAdapter] = {}
    for kind, urls in by_kind.items():
        if kind not in ADAPTER_KINDS:
            raise ValueError(f"no adapter for kind {kind!r}")
        adapter = ADAPTER_KINDS[kind](
            urls,
            timeout_s=timeout_s,
            max_response_bytes=max_response_bytes,
            client=client,
            catalog=catalog,
            credentials={a: k for a, k in (credentials or {}).items() if a in urls},  # this kind's
        )
        for agency in urls:
            adapters[agency] = adapter
    return adapters


async def aclose_adapters(adapters: Mapping[str, AgencyAdapter]) -> None:
    """Close each adapter (and the HTTP client it owns) once."""
    unique = {id(a): a for a in adapters.values()}
    for adapter in unique.values():
        await adapter.aclose()


async def fetch_all(
    adapters: Mapping[str, AgencyAdapter],
    requests: Sequence[tuple[str, Sequence[str]]],
    bsn: str,
    *,
    traceparent: str | None = None,
    traceparents: Mapping[str, str] | None = None,
) -> list[AgencyAnswer]:
    """Ask every ``(agency, fields)`` in parallel; one answer per request, in request order.

    Each adapter enforces its own deadline, so the whole call takes about as long as the
    slowest agency up to ``timeout_s``, not the sum. An agency without an adapter (no base URL
    configured) is answered ``unavailable`` / ``not_configured`` without any network call.
    Never raises. ``traceparents`` gives an agency its own span (the dossier's child span for
    that call, Logboek Dataverwerkingen 0.8); an agency not in it gets ``traceparent``.
    """

    async def one(agency: str, fields: Sequence[str]) -> AgencyAnswer:
        adapter = adapters.get(agency)
        if adapter is None:
            logger.warning("agency %s unavailable: %s", agency, AgencyErrorCode.NOT_CONFIGURED)
            return AgencyAnswer.unavailable(agency, AgencyErrorCode.NOT_CONFIGURED)
        own = traceparents.get(agency, traceparent) if traceparents else traceparent
        return await adapter.fetch(agency, bsn, fields, traceparent=own)

    results = await asyncio.gather(
        *(one(agency, fields) for agency, fields in requests), return_exceptions=True
    )
    answers: list[AgencyAnswer] = []
    for (agency, _), result in zip(requests, results, strict=True):
        if isinstance(result, AgencyAnswer):
            answers.append(result)
        elif isinstance(result, asyncio.CancelledError):
            raise result  # the caller cancelled us: do not pretend we answered
        else:
            # fetch() never raises; this is the belt to its braces.
            logger.error("fetch for agency %s raised %s", agency, type(result).__name__)
            answers.append(AgencyAnswer.unavailable(agency, AgencyErrorCode.INTERNAL))
    return answers
