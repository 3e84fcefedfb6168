"""What the operator sees of a running gateway: metrics, access log lines and trace spans.

:func:`install_observability` adds one pure-ASGI middleware and the ``/metrics`` route, and wraps
the audit log so appends are counted. Each feature is a setting; a feature that is off costs
nothing per request (with all three off the middleware is not installed at all):

  * ``LOKET_METRICS`` (on): gateway/core/metrics.py;
  * ``LOKET_ACCESS_LOG`` (on, written when logging is configured at INFO, as `loket serve` and
    `loket demo` do): one JSON line per request, gateway/core/logs.py;
  * ``LOKET_OTLP_ENDPOINT`` (unset): OpenTelemetry spans, gateway/core/otel.py.

Trace ids: a request without a well-formed ``traceparent`` gets one here (when logging or
tracing is on), written into the request's headers, so the handler's TraceContext, the audit
record, the log line and the span share one trace id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, TypeVar, cast

from fastapi import FastAPI
from fastapi.responses import Response

from audit.log import AppendReceipt, AuditLog, Companion
from audit.record import AuditRecord
from gateway.core.context import Loket
from gateway.core.errors import AuditWriteError
from gateway.core.logs import ACCESS_LOGGER, current_trace_id
from gateway.core.metrics import GatewayMetrics, route_template
from gateway.core.tracing import TraceContext

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger(ACCESS_LOGGER)
T = TypeVar("T")


class ObservedAuditLog:
    """The gateway's audit log, counting each append (by kind and result) for the metrics.
    Everything else is the log's own; the count happens after the append returned or raised.
    Reading an attribute reads the log's; setting one sets it on this wrapper only (a test that
    patches the log's internals patches ``loket.audit._log``)."""

    _log: AuditLog
    _metrics: GatewayMetrics

    def __init__(self, log: AuditLog, metrics: GatewayMetrics) -> None:
        self._log = log
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        return getattr(self._log, name)

    def _counted(self, records: Sequence[AuditRecord], write: Callable[[], T]) -> T:
        try:
            result = write()
        except AuditWriteError:  # what the log raises when nothing of it was written
            self._metrics.observe_appends(records, ok=False)
            raise
        self._metrics.observe_appends(records, ok=True)
        return result

    def append(self, record: AuditRecord, *, companion: Companion | None = None) -> AppendReceipt:
        return self._counted((record,), lambda: self._log.append(record, companion=companion))

    def append_group(self, records: Sequence[AuditRecord], *,
                     companion: Companion | None = None) -> list[AppendReceipt]:
        return self._counted(records, lambda: self._log.append_group(records, companion=companion))

    def append_many(self, records: Sequence[AuditRecord]) -> list[AppendReceipt]:
        return self._counted(records, lambda: self._log.append_many(records))


class Observability:
    """Pure ASGI (no BaseHTTPMiddleware task hop): times the request, reads the route template
    the router left in the scope, counts, logs one line and ends the span."""

    def __init__(self, app: ASGIApp, *, metrics: GatewayMetrics | None, spans: Any = None) -> None:
        self.app = app
        self.metrics = metrics
        self.spans = spans

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        logging_on = access_log.isEnabledFor(logging.INFO)
        method: str = scope["method"]
        span = None
        token = None
        if self.spans is not None or logging_on:
            trace_id = self._continue_trace(scope, method)
            if isinstance(trace_id, tuple):
                span, trace_id = trace_id
            token = current_trace_id.set(trace_id)
        status = 500  # if the app fails before it starts a response

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - start
            route = route_template(scope)
            if self.metrics is not None:
                self.metrics.observe_request(route, method, status, elapsed)
            if span is not None:
                self.spans.finish(span, method, route, status)
            if logging_on:
                # makeRecord + handle, not .info(): skips the caller lookup (a stack walk per line).
                access_log.handle(access_log.makeRecord(
                    ACCESS_LOGGER, logging.INFO, __file__, 0, "request", (), None,
                    extra={"method": method, "route": route, "status": status,
                           "duration_ms": round(elapsed * 1000, 2)}))
            if token is not None:
                current_trace_id.reset(token)

    def _continue_trace(self, scope: Scope, method: str) -> str | tuple[Any, str]:
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        raw = next((v for k, v in headers if k == b"traceparent"), None)
        header = raw.decode("latin-1") if raw is not None else None
        if self.spans is not None:
            span, traceparent, trace_id = self.spans.start(method, header)
            self._set_traceparent(scope, traceparent)
            return span, trace_id
        trace = TraceContext.from_header(header)
        if trace.parent_span_id is None:  # none or malformed: the handler would start another
            self._set_traceparent(scope, trace.traceparent())
        return trace.trace_id

    @staticmethod
    def _set_traceparent(scope: Scope, value: str) -> None:
        headers = [(k, v) for k, v in scope["headers"] if k != b"traceparent"]
        headers.append((b"traceparent", value.encode("latin-1")))
        scope["headers"] = headers


def install_observability(app: FastAPI, loket: Loket, *, span_exporter: Any = None) -> GatewayMetrics | None:
    """Metrics route and audit counting, the middleware, and spans when an endpoint (or, in
    tests, an exporter) is given. Returns the app's metrics, if on."""
    s = loket.settings
    metrics: GatewayMetrics | None = None
    if s.metrics:
        metrics = loket.extra.get("metrics")
        if metrics is None:  # one per Loket: an app built twice on one context counts once
            audit = loket.audit

            def checkpoint_state() -> tuple[int, int, str | None]:
                latest = audit.latest_checkpoint_signed_at()
                size = audit.head().tree_size
                return (size, 0, None) if latest is None else (size, latest[0], latest[1])

            metrics = GatewayMetrics(checkpoint_state)
            loket.extra["metrics"] = metrics
            # Typed as the log it wraps: it has the same interface (delegation) for every caller.
            loket.audit = cast(AuditLog, ObservedAuditLog(audit, metrics))
        exposed = metrics

        @app.get("/metrics", include_in_schema=False)
        def prometheus_metrics() -> Response:
            body, content_type = exposed.exposition()
            return Response(body, media_type=content_type)

    spans = None
    if s.otlp_endpoint or span_exporter is not None:
        from gateway.core.otel import ServerSpans, build_tracer

        spans = ServerSpans(build_tracer(s, span_exporter))
    if metrics is not None or spans is not None or s.access_log:
        app.add_middleware(Observability, metrics=metrics, spans=spans)
    return metrics
