"""Logboek Dataverwerkingen 0.8 in the log: one line per processing action, linked as spans."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from audit.log import AuditFilter
from audit.record import AuditEventKind, AuditRecord
from gateway.core.context import Loket
from gateway.register import load_register
from tests.conftest import bearer
from tests.gateway.test_dossier_flow import eva_bsn, open_case

# BRP, the municipality's Wmo and CAK answer this purpose on a verified legal basis: three calls.
THREE_AGENCY_PURPOSE = "wmo_na_ziekte"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def trace_records(loket: Loket, trace_id: str) -> list[AuditRecord]:
    return [s.record for s in loket.audit.iter_records() if s.record.trace_id == trace_id]


def test_one_dossier_with_three_agencies_is_one_parent_and_three_child_spans(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox), purpose=THREE_AGENCY_PURPOSE)
    r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 200, r.text
    body = r.json()

    records = trace_records(loket, body["trace_id"])
    parents = [x for x in records if x.parent_span_id is None and x.kind != AuditEventKind.CASE_OPENED]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.kind == AuditEventKind.DOSSIER_READ and parent.record_id == body["audit"]["record_id"]
    children = [x for x in records if x.parent_span_id == parent.span_id]
    assert sorted(c.extra["agency"] for c in children) == ["brp", "cak", "gemeente_wmo"]
    assert {c.kind for c in children} == {AuditEventKind.DOSSIER_AGENCY_CALL}
    assert {c.trace_id for c in children} == {parent.trace_id}
    assert len({parent.span_id, *(c.span_id for c in children)}) == 4
    # Consecutive leaves, committed with the dossier's own line.
    indexes = [body["audit"]["index"] + n for n in range(4)]
    assert [loket.audit.get_record(i).record.span_id for i in indexes][1:] == [c.span_id for c in children]

    register = load_register()
    assert parent.processing_activity_id == register.for_purpose(THREE_AGENCY_PURPOSE).id  # type: ignore[union-attr]
    for child in children:
        agency = child.extra["agency"]
        assert child.processing_activity_id == register.for_agency(agency).id  # type: ignore[union-attr]
        assert child.data_subject_id == parent.data_subject_id
        assert child.status_code == 1
        assert parent.start_time <= child.start_time <= child.end_time  # type: ignore[operator]
        assert {d.agency for d in child.disclosed} <= {agency}
    # Each child's disclosures add up to the dossier's.
    assert sorted(d.to_dict()["fields"] for c in children for d in c.disclosed) == sorted(
        d.to_dict()["fields"] for d in parent.disclosed)
    assert parent.resource == {"service.name": "loket-gateway", "service.version": parent.resource["service.version"]}
    assert parent.foreign_operation is None  # no traceparent came in


def test_foreign_operation_is_filled_when_a_traceparent_came_in(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    tok = token(organisation="Gemeente Voorbeeld")
    case_id = open_case(client, tok, eva_bsn(sandbox), purpose=THREE_AGENCY_PURPOSE)
    r = client.get(f"/v1/cases/{case_id}/dossier",
                   headers={**bearer(tok), "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"})
    assert r.status_code == 200, r.text
    assert r.json()["trace_id"] == CALLER_TRACE  # the caller's trace continues
    records = trace_records(loket, CALLER_TRACE)
    (parent,) = [x for x in records if x.parent_span_id is None]
    assert parent.foreign_operation is not None
    assert parent.foreign_operation.trace_id == CALLER_TRACE
    assert parent.foreign_operation.span_id == CALLER_SPAN
    assert parent.foreign_operation.entity == "urn:loket:organisatie:Gemeente%20Voorbeeld"
    assert parent.span_id != CALLER_SPAN
    children = [x for x in records if x.parent_span_id == parent.span_id]
    assert len(children) == 3
    assert all(c.foreign_operation is None for c in children)  # their caller is the dossier span


def test_a_malformed_traceparent_starts_a_new_trace_without_foreign_operation(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox), purpose=THREE_AGENCY_PURPOSE)
    r = client.get(f"/v1/cases/{case_id}/dossier",
                   headers={**bearer(tok), "traceparent": f"00-{CALLER_TRACE}-{'0' * 16}-01"})
    assert r.status_code == 200
    assert r.json()["trace_id"] != CALLER_TRACE
    (parent,) = [x for x in trace_records(loket, r.json()["trace_id"]) if x.parent_span_id is None]
    assert parent.foreign_operation is None


def test_child_spans_are_not_extra_looks_for_the_citizen_or_the_fg(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    bsn = eva_bsn(sandbox)
    tok = token()
    case_id = open_case(client, tok, bsn, purpose=THREE_AGENCY_PURPOSE)
    assert client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).status_code == 200
    pseudonym = loket.pseudonymiser.pseudonym_for(bsn)
    assert loket.audit.count(AuditFilter(data_subject_id=pseudonym,
                                         kind=AuditEventKind.DOSSIER_AGENCY_CALL)) == 3

    citizen = token(role="citizen", sub="burger-eva", bsn=bsn)
    r = client.get("/v1/me/accesses", headers=bearer(citizen))
    assert r.status_code == 200, r.text
    kinds = [a["kind"] for a in r.json()["items"]]
    assert kinds.count("dossier:read") == 1 and "dossier:agency_call" not in kinds

    fg = token(role="privacy_officer", sub="fg-001")
    r = client.post("/v1/fg/search", headers=bearer(fg), json={"bsn": bsn})
    assert r.status_code == 200, r.text
    assert "dossier:agency_call" not in {x["record"]["kind"] for x in r.json()["items"]}
    r = client.post("/v1/fg/search", headers=bearer(fg), json={"bsn": bsn, "kind": "dossier:agency_call"})
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) == 3


def test_every_line_of_a_real_log_exports_as_a_valid_logboek_record(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    import io

    from audit.logboek import write_logboek_jsonl
    from tests.standards.logboek import logboek_errors

    bsn = eva_bsn(sandbox)
    tok = token()
    case_id = open_case(client, tok, bsn, purpose=THREE_AGENCY_PURPOSE)
    client.get(f"/v1/cases/{case_id}/dossier",
               headers={**bearer(tok), "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"})
    client.get("/v1/cases/not-mine/dossier", headers=bearer(tok))  # an audited refusal
    client.post("/v1/fg/search", headers=bearer(token(role="privacy_officer", sub="fg-001")),
                json={"bsn": bsn})
    out = io.BytesIO()
    n = write_logboek_jsonl(loket.audit, out)
    lines = [__import__("json").loads(x) for x in out.getvalue().splitlines()]
    assert n == len(lines) == loket.audit.head().tree_size >= 7
    for line in lines:
        assert logboek_errors(line) == [], line
    register = load_register()
    for line in lines:
        assert register.by_id(line["attributes"]["dpl.core.processing_activity_id"]) is not None, line
    assert sum("foreign_operation" in x for x in lines) == 1
