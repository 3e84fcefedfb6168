"""The FastAPI app factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from adapters.registry import aclose_adapters
from gateway.api import (
    accesses,
    agency_requests,
    authzen,
    cases,
    consent_requests,
    consents,
    docs,
    intake,
    machtigingen,
    meta,
    privacy_officer,
    register,
    reports,
    transparency,
)
from gateway.api.openapi import API_VERSION, install_openapi, operation_id
from gateway.core.body_limit import BodyLimit
from gateway.core.context import Loket, build_loket
from gateway.core.headers import SecurityHeaders
from gateway.core.observability import install_observability
from gateway.core.problems import install_problem_handlers
from gateway.core.settings import Settings
from gateway.identity.bsn_guard import BsnFreeUrls
from gateway.oversight.witnesses import start_witnessing

log = logging.getLogger("loket.app")


async def _checkpoint_timer(loket: Loket) -> None:
    """Sign a checkpoint within ``checkpoint_every_s`` even when no appends come in (appends
    check it themselves). A failure here must not stop the gateway: it is logged and retried."""
    interval = max(0.5, loket.settings.checkpoint_every_s)
    while True:
        await anyio.sleep(interval)
        try:
            await anyio.to_thread.run_sync(loket.audit.maybe_checkpoint)
        except Exception as e:  # noqa: BLE001 - keep serving; verification will show any gap
            log.warning("checkpoint timer: %s", type(e).__name__)


def create_app(settings: Settings | None = None, *, loket: Loket | None = None) -> FastAPI:
    """Build the gateway. Pass ``loket`` to share an already built context (tests, demo)."""
    if loket is None:
        loket = build_loket(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Witnesses (LOKET_WITNESS_POLICY): each new checkpoint goes out from a background
        # thread, never in a request.
        submitter = start_witnessing(loket)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_checkpoint_timer, loket)
                yield
                tg.cancel_scope.cancel()
        finally:
            if submitter is not None:
                await anyio.to_thread.run_sync(submitter.stop)
        await aclose_adapters(loket.adapters)

    app = FastAPI(
        title="Loket API",
        version=API_VERSION,
        description="Privacy-preserving data-sharing gateway for 1 Loket casework.",
        lifespan=lifespan,
        docs_url=None,  # gateway/api/docs.py serves /docs from vendored files, not a CDN
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.loket = loket
    install_problem_handlers(app)

    # Pure ASGI (not BaseHTTPMiddleware): a declared Content-Length over the limit is refused
    # up front, a chunked body is counted while it is read.
    app.add_middleware(BodyLimit, max_body_bytes=loket.settings.max_request_body_bytes)
    app.add_middleware(BsnFreeUrls)  # no BSN in a path or query string, before anything reads it
    app.add_middleware(SecurityHeaders, tls_proxy_header=loket.settings.tls_proxy_header)
    # Outermost: metrics, access log and spans see every answer, 413s included.
    install_observability(app, loket)
    # The published contract (api/openapi.py); its API-Version middleware goes outside the others,
    # so the 413 of the body limit and a refused URL carry the header too.
    install_openapi(app)

    app.include_router(meta.router)
    app.include_router(docs.router)
    app.include_router(transparency.router)
    app.include_router(cases.router)
    app.include_router(intake.router)
    app.include_router(consents.router)
    app.include_router(consent_requests.router)
    app.include_router(accesses.router)
    app.include_router(privacy_officer.router)
    app.include_router(register.router)
    app.include_router(authzen.router)
    app.include_router(reports.router)
    app.include_router(agency_requests.router)
    app.include_router(machtigingen.router)
    from gateway.web import install_web  # citizen and FG pages (issue 8)

    install_web(app, loket)
    from gateway.web.oidc import install_oidc  # production login for the pages, when configured

    install_oidc(app, loket)
    if loket.dev_issuer_key is not None:
        app.include_router(meta.dev_router)
    return app
