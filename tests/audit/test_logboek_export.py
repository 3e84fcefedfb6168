"""The Logboek Dataverwerkingen 0.8 export: every line validates against the standard's schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from audit.cli import audit_app
from audit.logboek import epoch_ms, logboek_line
from audit.record import AuditEventKind, AuditRecord, ForeignOperation
from tests.audit.conftest import cli_log, record
from tests.standards.logboek import logboek_errors

runner = CliRunner()
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize("stamp, ms", [
    ("1970-01-01T00:00:00.000Z", 0),
    ("2026-11-25T11:48:00.123Z", 1795607280123),
    ("2026-11-25T11:48:00.999Z", 1795607280999),
])
def test_times_are_exact_milliseconds_since_the_epoch(stamp: str, ms: int) -> None:
    assert epoch_ms(stamp) == ms


def spans() -> list[AuditRecord]:
    parent = record(1, trace_id=TRACE, span_id="1111111111111111",
                    foreign_operation=ForeignOperation(TRACE, "00f067aa0ba902b7", "urn:loket:rol:casemanager"),
                    resource={"service.name": "loket-gateway", "service.version": "0.1.0"})
    child = record(2, kind=AuditEventKind.DOSSIER_AGENCY_CALL, trace_id=TRACE, span_id="2222222222222222",
                   parent_span_id="1111111111111111", data_subject_id=parent.data_subject_id,
                   start_time=parent.start_time, status_code=2, outcome="unavailable:timeout")
    no_subject = AuditRecord(kind=AuditEventKind.ACCESS_LOG_SEARCHED, actor_sub="fg-1",
                             actor_role="privacy_officer", outcome="searched")
    return [parent, child, no_subject]


def test_lines_carry_the_standard_fields_and_nothing_of_loket_s_own() -> None:
    parent, child, no_subject = (logboek_line(r) for r in spans())
    for line in (parent, child, no_subject):
        assert logboek_errors(line) == []
    assert parent["foreign_operation"] == {"trace_id": TRACE, "span_id": "00f067aa0ba902b7",
                                           "entity": "urn:loket:rol:casemanager"}
    assert parent["attributes"]["dpl.core.foreign_operation.processor"] == "urn:loket:rol:casemanager"
    assert parent["resource"] == {"attributes": {"service.name": "loket-gateway", "service.version": "0.1.0"}}
    assert child["parent_span_id"] == parent["span_id"] and child["status_code"] == 2
    assert "dpl.core.data_subject_id" not in no_subject["attributes"]
    text = json.dumps([parent, child, no_subject])
    for own in ("actor_sub", "cm-00", "case-", "disclosed", "policy_revision"):
        assert own not in text  # user identities stay in the audit log, not in these lines


@pytest.mark.parametrize("breaks, where", [
    (lambda line: line.pop("trace_id"), "trace_id"),
    (lambda line: line.update(status_code=3), "status_code"),
    (lambda line: line.update(start_time="2026-11-25T11:48:00.123Z"), "start_time"),
    (lambda line: line["attributes"].pop("dpl.core.processing_activity_id"), "processing_activity_id"),
    (lambda line: line["attributes"].update({"loket.case_id": "x"}), "loket.case_id"),
    (lambda line: line["attributes"].pop("dpl.core.data_subject_id_type"), "data_subject_id_type"),
    (lambda line: line.update(foreign_operation={"trace_id": TRACE}), "foreign_operation"),
])
def test_the_schema_refuses_a_line_the_standard_would(breaks: object, where: str) -> None:
    line = logboek_line(spans()[0])
    breaks(line)  # type: ignore[operator]
    errors = logboek_errors(line)
    assert errors and any(where in e for e in errors), errors


def test_cli_exports_logboek_lines_that_validate(tmp_path: Path, key_file: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 signing_key: Ed25519PrivateKey) -> None:
    log = cli_log(tmp_path, key_file, monkeypatch, signing_key)
    written = [*spans(), *(record(i) for i in range(5))]
    for r in written:
        log.append(r)
    out = tmp_path / "logboek.jsonl"
    result = runner.invoke(audit_app, ["export", "--out", str(out), "--format", "logboek"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_bytes().splitlines()]
    assert [(x["trace_id"], x["span_id"]) for x in lines] == [(r.trace_id, r.span_id) for r in written]
    for line in lines:
        assert logboek_errors(line) == [], line
