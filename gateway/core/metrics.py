"""Prometheus metrics for the operator (`GET /metrics`, text exposition format, prometheus-client).

One registry per gateway app, never the process-global one: tests and `loket demo` build several
apps in one process. Labels are bounded sets only — the route *template* (``/v1/cases/{case_id}``,
never the raw path, which holds ids), a known HTTP method, the status code, an audit event kind,
a decision outcome slug, an agency id from the catalog. No label or value ever holds a BSN, a
pseudonym, a token or data content.

What is counted where:
  * requests and latency: the observability middleware (gateway/core/observability.py);
  * decisions by outcome, audit appends by kind and result, agency errors by agency, witness
    alerts by witness (a configured name) and reason: from the
    audit records the gateway appends (every decision and every agency failure is recorded
    there anyway — fail-closed — so the metrics cannot disagree with the log);
  * checkpoint age and unsigned records: read from the log when Prometheus scrapes, so they
    cost nothing on the request path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from audit.record import AuditEventKind, AuditRecord

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "<unmatched>"  # a path no route matched (404s of scanners): one label, not one per path
DECISION_KINDS = frozenset({
    AuditEventKind.DOSSIER_READ,
    AuditEventKind.DOSSIER_REFUSED,
    AuditEventKind.DOSSIER_ERROR,
    AuditEventKind.DOSSIER_BREAK_GLASS,
})
# Latency buckets around the dossier's budget: a few ms of gateway CPU, agencies time out at 2 s.
LATENCY_BUCKETS_S = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def route_template(scope: Mapping[str, Any]) -> str:
    """The matched route's template (Starlette puts the route in the scope), else one constant."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


class GatewayMetrics:
    def __init__(self, checkpoint_state: Callable[[], tuple[int, int, str | None]] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self.requests = Counter("loket_http_requests", "HTTP requests by route template, method and status.",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("loket_http_request_duration_seconds",
                                 "Time from request to the last byte of the response, by route template.",
                                 ["route", "method"], buckets=LATENCY_BUCKETS_S, registry=r)
        self.decisions = Counter("loket_decisions", "Dossier policy decisions by outcome (from the audit records).",
                                 ["outcome"], registry=r)
        self.audit_appends = Counter("loket_audit_appends", "Audit record appends by event kind and result.",
                                     ["kind", "result"], registry=r)
        self.agency_errors = Counter("loket_agency_errors",
                                     "Agencies reported unavailable in a dossier answer, by agency.",
                                     ["agency"], registry=r)
        self.witness_alerts = Counter("loket_witness_alerts",
                                      "Witness refusals of the log's checkpoints (inconsistent, or no valid "
                                      "cosignature), by configured witness and reason (from witness:alert records).",
                                      ["witness", "reason"], registry=r)
        if checkpoint_state is not None:
            r.register(_CheckpointCollector(checkpoint_state))

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in HTTP_METHODS else "OTHER"
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def observe_appends(self, records: Sequence[AuditRecord], *, ok: bool) -> None:
        result = "ok" if ok else "failed"
        for record in records:
            self.audit_appends.labels(record.kind.value, result).inc()
            if not ok:
                continue  # nothing was decided or disclosed under a record that is not in the log
            if record.kind in DECISION_KINDS:
                self.decisions.labels(record.outcome).inc()
            if record.kind is AuditEventKind.WITNESS_ALERT:
                self.witness_alerts.labels(record.extra.get("witness", "?"), record.outcome).inc()
            if record.kind is AuditEventKind.DOSSIER_AGENCY_CALL:
                continue  # a child span repeats its dossier line's unavailable agency: count once
            for agency in record.unavailable:
                self.agency_errors.labels(agency).inc()

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _CheckpointCollector(Collector):
    """Checkpoint freshness, read at scrape time: how old the newest signed checkpoint is and
    how many records no checkpoint covers yet (both grow when signing is stuck)."""

    def __init__(self, state: Callable[[], tuple[int, int, str | None]]) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        try:
            tree_size, checkpoint_size, created_at = self._state()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database blinked
            return
        yield GaugeMetricFamily("loket_audit_tree_size", "Records in the audit log.", value=tree_size)
        yield GaugeMetricFamily("loket_audit_unsigned_records",
                                "Records not yet covered by a signed checkpoint.",
                                value=max(0, tree_size - checkpoint_size))
        if created_at is not None:
            signed = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
            age = max(0.0, time.time() - signed.replace(tzinfo=signed.tzinfo or UTC).timestamp())
            yield GaugeMetricFamily("loket_audit_checkpoint_age_seconds",
                                    "Seconds since the newest checkpoint was signed.", value=age)

    def describe(self) -> Iterator[Metric]:
        return iter(())
