"""OpenTelemetry spans, exported over OTLP/HTTP when ``LOKET_OTLP_ENDPOINT`` is set.

Off by default, and then nothing here is imported: the request path pays nothing. On, the
observability middleware opens one SERVER span per request, named for the route template and
continuing the caller's W3C ``traceparent``; the handlers then continue that span's trace, so the
span, the audit record and the log line carry the same trace id. Span attributes are the method,
route template and status only — no path, no query, no header, no BSN.

The provider is private to the app (not the process-global one), so tests can hand in an
in-memory exporter and several apps in one process do not mix their spans.
"""

from __future__ import annotations

from typing import Any

from gateway.core.errors import ConfigurationError
from gateway.core.settings import Settings


def build_tracer(settings: Settings, exporter: Any = None) -> Any:
    """A tracer whose spans go to ``exporter`` (tests) or to the configured OTLP endpoint."""
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as e:
        raise ConfigurationError("LOKET_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
                                 "pip install 'loket[otel]'") from e
    provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}),
                              id_generator=_bsn_free_ids())
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as e:
            raise ConfigurationError("LOKET_OTLP_ENDPOINT is set but the OTLP exporter is not installed: "
                                     "pip install 'loket[otel]'") from e
        endpoint = str(settings.otlp_endpoint).rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        # Batched, off the request path; a collector that is down loses spans, never requests.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=5)))
    return provider.get_tracer("loket.gateway")


def _bsn_free_ids() -> Any:
    """Span and trace ids from gateway/core/tracing.py: random, and never holding nine digits
    that pass the elfproef (the handler would refuse to continue such a trace, and the id is
    stored in the audit log and sent to agencies)."""
    from opentelemetry.sdk.trace.id_generator import IdGenerator

    from gateway.core.tracing import new_span_id, new_trace_id

    class BsnFreeIds(IdGenerator):
        def generate_span_id(self) -> int:
            return int(new_span_id(), 16)

        def generate_trace_id(self) -> int:
            return int(new_trace_id(), 16)

    return BsnFreeIds()


class ServerSpans:
    """Opens the per-request span and gives the ``traceparent`` the handlers should continue."""

    def __init__(self, tracer: Any) -> None:
        from opentelemetry.trace import SpanKind
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self._tracer = tracer
        self._kind = SpanKind.SERVER
        self._propagator = TraceContextTextMapPropagator()

    def start(self, method: str, traceparent: str | None) -> tuple[Any, str, str]:
        """(span, its traceparent, its trace id as 32 hex) for a request. The caller's context
        is continued only if the gateway's own check accepts it (gateway/core/tracing.py)."""
        from gateway.core.tracing import parse_traceparent

        valid = traceparent if parse_traceparent(traceparent) is not None else None
        parent = self._propagator.extract({"traceparent": valid}) if valid else None
        span = self._tracer.start_span(method, context=parent, kind=self._kind)
        carrier: dict[str, str] = {}
        from opentelemetry.trace import set_span_in_context

        self._propagator.inject(carrier, context=set_span_in_context(span))
        return span, carrier["traceparent"], format(span.get_span_context().trace_id, "032x")

    @staticmethod
    def finish(span: Any, method: str, route: str, status: int) -> None:
        span.update_name(f"{method} {route}")
        span.set_attribute("http.request.method", method)
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR))
        span.end()
