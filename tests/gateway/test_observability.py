"""Operator basics: /metrics (Prometheus), JSON access lines with trace ids, OpenTelemetry spans
when configured — each off by a setting, and then not on the request path at all."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.core.context import Loket
from gateway.core.logs import JsonFormatter, configure_logging, scrub
from gateway.core.observability import Observability, install_observability
from tests import cases
from tests.conftest import bearer, settings_for

EVA = "999994001"  # synthetic (sandbox)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def open_case(client: TestClient, token: Callable[..., str]) -> Callable[..., str]:
    def _open(purpose: str = "student_in_crisis") -> str:
        return cases.open_case(client, token(), EVA, purpose)  # assigned by the coordinator

    return _open


def test_metrics_count_requests_per_route_template_never_per_raw_path(
    client: TestClient, token: Callable[..., str], open_case: Callable[..., str]
) -> None:
    case_id = open_case()
    for _ in range(2):
        assert client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(token())).status_code == 200
    client.get("/v1/no/such/123456789/path")
    client.get(f"/v1/no/such/{EVA}/path")  # refused before routing (no BSN in a URL): still no path label
    client.request("BREW", "/v1/cases")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert value(text, "loket_http_requests_total", route="/v1/cases/{case_id}/dossier", method="GET",
                 status="200") == 2
    assert value(text, "loket_http_request_duration_seconds_count", route="/v1/cases/{case_id}/dossier",
                 method="GET") == 2
    assert value(text, "loket_http_requests_total", route="<unmatched>", method="GET", status="404") == 1
    assert 'method="OTHER"' in text and "BREW" not in text  # an invented method is one label
    assert case_id not in text and EVA not in text and "/no/such" not in text and "123456789" not in text


def test_metrics_count_decisions_audit_appends_and_agency_errors(
    tmp_path: Path, sandbox: Any
) -> None:
    from gateway.core.context import build_loket
    from gateway.identity.auth import Role, mint_token

    urls = dict(sandbox.agency_urls) | {"duo": "http://127.0.0.1:9"}  # nothing listens: unavailable
    loket = build_loket(settings_for(tmp_path / "d", urls))

    assert loket.dev_issuer_key is not None
    cm = mint_token(loket.dev_issuer_key, issuer=loket.settings.jwt_issuer, audience="loket",
                    sub="cm-001", role=Role.CASEMANAGER)
    with TestClient(create_app(loket=loket)) as c:
        case = cases.open_case(c, cm, EVA, "student_in_crisis")
        assert c.get(f"/v1/cases/{case}/dossier", headers=bearer(cm)).status_code == 200
        loket.audit.checkpoint(force=True)
        text = c.get("/metrics").text
    assert value(text, "loket_audit_appends_total", kind="case:opened", result="ok") == 1
    assert value(text, "loket_audit_appends_total", kind="dossier:read", result="ok") == 1
    assert sum(v for (n, labels), v in samples(text).items() if n == "loket_decisions_total") == 1
    assert value(text, "loket_agency_errors_total", agency="duo") == 1
    # case opened, the dossier's line, and one child span per agency asked (Logboek 0.8)
    calls = value(text, "loket_audit_appends_total", kind="dossier:agency_call", result="ok")
    assert calls >= 1
    assert value(text, "loket_audit_tree_size") == 2 + calls and value(text, "loket_audit_unsigned_records") == 0
    assert 0 <= value(text, "loket_audit_checkpoint_age_seconds") < 60
    loket.close()


def test_a_failed_audit_append_is_counted_as_failed(
    loket: Loket, client: TestClient, token: Callable[..., str]
) -> None:
    with loket.db.begin() as conn:  # the store refuses every leaf, as a full disk would
        conn.exec_driver_sql("CREATE TRIGGER refuse_leaves BEFORE INSERT ON audit_records "
                             "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    r = client.post("/v1/cases", headers=cases.coordinator_headers(client),
                    json=cases.toewijzing(EVA, "student_in_crisis"))
    assert r.status_code == 503
    text = client.get("/metrics").text
    assert value(text, "loket_audit_appends_total", kind="case:opened", result="failed") == 1
    assert value(text, "loket_audit_appends_total", kind="case:opened", result="ok") == 0


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(level="INFO", fmt="json", stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("uvicorn.access").disabled = False


def test_access_lines_are_json_with_the_trace_id_of_the_audit_record(
    json_log: io.StringIO, loket: Loket, client: TestClient, token: Callable[..., str],
    open_case: Callable[..., str],
) -> None:
    case_id = open_case()
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(token())
                   | {"traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"})
    assert r.status_code == 200
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    access = [x for x in lines if x["logger"] == "loket.access"]
    assert [x["route"] for x in access] == ["/v1/cases", "/v1/cases/{case_id}/dossier"]
    assert access[1]["trace_id"] == caller_trace and access[1]["status"] == 200
    records = list(loket.audit.iter_records())
    assert records[-1].record.trace_id == caller_trace
    # A request without a traceparent gets one: the line and the record still agree.
    assert records[0].record.trace_id == access[0]["trace_id"]
    assert case_id not in json_log.getvalue() and EVA not in json_log.getvalue()


@pytest.mark.parametrize("text, expected", [
    ("bsn 999994001 in a library message", "bsn [bsn] in a library message"),
    ("not a bsn: 123456789", "not a bsn: 123456789"),
    ("Authorization: Bearer abc.def.ghi", "Authorization: [token]"),
    ("token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln seen", "token [token] seen"),
])
def test_scrub_removes_bsns_and_tokens_from_any_message(text: str, expected: str) -> None:
    assert scrub(text) == expected
    record = logging.LogRecord("lib", logging.WARNING, __file__, 1, text, None, None)
    assert json.loads(JsonFormatter().format(record))["msg"] == expected


def test_spans_are_exported_when_configured_and_share_the_audit_trace_id(
    loket: Loket, token: Callable[..., str]
) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    app = create_app(loket=loket)
    install_observability(app, loket, span_exporter=exporter)  # as LOKET_OTLP_ENDPOINT would
    with TestClient(app) as c:
        r = c.post("/v1/cases", headers=cases.coordinator_headers(c), json=cases.toewijzing(EVA, "student_in_crisis"))
        assert r.status_code == 201, r.text
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["POST /v1/cases"]
    span = spans[0]
    assert span.attributes is not None and span.attributes["http.response.status_code"] == 201
    assert EVA not in json.dumps(dict(span.attributes))
    record = list(loket.audit.iter_records())[-1].record
    assert record.trace_id == format(span.context.trace_id, "032x")
    assert record.span_id != format(span.context.span_id, "016x")  # the handler's own child span


def test_with_every_feature_off_nothing_is_on_the_request_path(make_loket: Callable[..., Loket]) -> None:
    loket = make_loket(metrics=False, access_log=False)
    app = create_app(loket=loket)
    assert not any(m.cls is Observability for m in app.user_middleware)
    assert type(loket.audit).__name__ == "AuditLog"
    assert TestClient(app).get("/metrics").status_code == 404


def test_an_app_built_twice_on_one_context_counts_each_append_once(
    loket: Loket, token: Callable[..., str]
) -> None:
    create_app(loket=loket)
    with TestClient(create_app(loket=loket)) as c:
        cases.open_case(c, token(), EVA, "student_in_crisis")
        text = c.get("/metrics").text
    assert value(text, "loket_audit_appends_total", kind="case:opened", result="ok") == 1


@pytest.mark.parametrize("caller_trace, continued", [
    ("4bf92f3577b34da6a3ce929d0e0e4736", True),
    ("aaaaaaa" + EVA + "a" * 16, False),  # a chosen id carrying a BSN: not continued, not exported
])
def test_a_span_continues_the_callers_trace_only_if_the_gateway_would(
    loket: Loket, token: Callable[..., str], caller_trace: str, continued: bool
) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    app = create_app(loket=loket)
    install_observability(app, loket, span_exporter=exporter)
    with TestClient(app) as c:
        case_id = cases.open_case(c, token(), EVA, "student_in_crisis")
        r = c.get(f"/v1/cases/{case_id}/dossier",
                  headers=bearer(token()) | {"traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"})
        assert r.status_code == 200
    span = exporter.get_finished_spans()[-1]
    trace_id = format(span.context.trace_id, "032x")
    assert (trace_id == caller_trace) is continued
    assert EVA not in trace_id
    assert list(loket.audit.iter_records())[-1].record.trace_id == trace_id
