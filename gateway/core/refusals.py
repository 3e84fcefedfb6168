"""Every refusal after authentication leaves an audit record (PRODUCT.md "Principles").

The API's dependencies put the authenticated principal on the request; the one place that turns
errors into problems (gateway/core/problems.py) calls :func:`record_refusal` for every 4xx it
answers to an authenticated caller. A service that already wrote a more specific record (a
probed case, say) marks the error ``recorded`` so it is not logged twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import anyio
from starlette.requests import Request

from audit.record import AuditEventKind
from gateway.core.auditing import event_record
from gateway.core.errors import LoketError
from gateway.core.tracing import TraceContext

log = logging.getLogger("loket.refusals")


def mark_recorded(e: BaseException) -> None:
    e.recorded = True  # type: ignore[attr-defined]


def already_recorded(e: BaseException) -> bool:
    return getattr(e, "recorded", False) is True


async def record_refusal(request: Request, status: int, code: str, exc: BaseException | None = None) -> bool:
    """Write the ``access:denied`` record of a refused request; False if it could not be written.

    Only for authenticated callers and 4xx answers other than 401 (before authentication there
    is nobody to record; a 5xx is the gateway's failure, recorded where it happens)."""
    principal = getattr(request.state, "principal", None)
    if principal is None or not 400 <= status < 500 or status == 401:
        return True
    if exc is not None and already_recorded(exc):
        return True
    loket = request.app.state.loket
    trace = getattr(request.state, "trace", None) or TraceContext.from_header(None)
    route = request.scope.get("route")
    path = getattr(route, "path", None) or "unmatched"
    record = event_record(kind=AuditEventKind.ACCESS_DENIED, principal=principal, trace=trace,
                          started=datetime.now(UTC), status_code=2, outcome=code[:64] or "refused",
                          purposes=loket.purposes,
                          extra={"route": f"{request.method} {path}"[:200], "http_status": str(status)})
    try:
        await anyio.to_thread.run_sync(loket.audit.append, record)
    except LoketError:
        log.error("refusal could not be recorded: %s", code)
        return False
    if exc is not None:
        mark_recorded(exc)
    return True
