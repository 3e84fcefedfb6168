"""After every flow (tests/security/flows.py, failing paths included), scan what Loket keeps and
says — captured log output with tracebacks, the operator's JSON log lines (access lines
included) and /metrics, the SQLite files, every audit leaf, every domain exception message,
every problem body, the FG export — for BSNs, bearer tokens, key material and data content
values the agencies returned. None may be there."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.core.context import Loket
from gateway.core.errors import LoketError
from gateway.core.logs import JsonFormatter
from tests.security.flows import FlowRun, run_flows
from tests.security.helpers import build_test_loket, minter


@dataclass
class Scan:
    loket: Loket
    run: FlowRun
    log_text: str
    json_lines: list[str]
    metrics: bytes
    exception_messages: list[str]
    export: bytes


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # includes exc_info tracebacks


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory, sandbox: Any) -> Iterator[Scan]:
    loket = build_test_loket(tmp_path_factory.mktemp("secrets"), sandbox)
    handler = _Collect()
    json_handler = _Collect()
    json_handler.setFormatter(JsonFormatter())  # what `loket serve` writes (gateway/core/logs.py)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.addHandler(json_handler)
    root.setLevel(logging.DEBUG)
    messages: list[str] = []
    real_init = LoketError.__init__

    def spying_init(self: LoketError, detail: str = "", *, code: str | None = None) -> None:
        messages.append(detail)
        real_init(self, detail, code=code)

    LoketError.__init__ = spying_init  # type: ignore[method-assign]
    try:
        with TestClient(create_app(loket=loket), raise_server_exceptions=False) as client:
            run = run_flows(loket, client, sandbox)
            fg = minter(loket)(role="privacy_officer", sub="fg-export")
            export = client.post("/v1/fg/export", headers={"Authorization": f"Bearer {fg}"}, json={}).content
            export += client.post("/v1/fg/export", params={"format": "csv"},
                                  headers={"Authorization": f"Bearer {fg}"}, json={}).content
            metrics = client.get("/metrics").content
    finally:
        LoketError.__init__ = real_init  # type: ignore[method-assign]
        root.removeHandler(json_handler)
        root.removeHandler(handler)
        root.setLevel(old_level)
    loket.db.dispose()  # checkpoint nothing away: the WAL is scanned as it is
    yield Scan(loket, run, "\n".join(handler.lines), json_handler.lines, metrics, messages, export)
    loket.close()


def secrets_of(scan: Scan) -> dict[str, bytes]:
    loket = scan.loket
    out: dict[str, bytes] = {}
    for i, bsn in enumerate(scan.run.bsns):
        out[f"bsn[{i}]"] = bsn.encode()
    for i, tok in enumerate(scan.run.tokens):
        out[f"token[{i}]"] = tok.encode()
        out[f"token[{i}] signature"] = tok.rsplit(".", 1)[1].encode()
    for name in ("pseudonym_key", "bsn_encryption_key"):
        secret = getattr(loket.settings, name)
        out[name] = secret.get_secret_value().encode()
    for name, key in (("audit signing key", loket.audit._signing_key), ("dev issuer key", loket.dev_issuer_key)):
        assert key is not None
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        out[f"{name} (raw hex)"] = raw.hex().encode()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        out[f"{name} (PEM body)"] = pem.splitlines()[1]
    out["PEM header"] = b"PRIVATE KEY-----"
    for i, value in enumerate(scan.run.data_values):
        out[f"data value[{i}] {value[:12]!r}"] = value.encode()
    return out


def targets(scan: Scan) -> dict[str, bytes]:
    data_dir = Path(scan.loket.settings.data_dir)
    t = {f"sqlite file {p.name}": p.read_bytes() for p in sorted(data_dir.glob("loket.db*"))}
    assert any(name.endswith("loket.db") for name in t)
    t["log output"] = scan.log_text.encode()
    t["JSON log lines"] = "\n".join(scan.json_lines).encode()
    t["/metrics"] = scan.metrics
    t["audit leaves"] = b"\n".join(s.leaf for s in scan.loket.audit.iter_records())
    t["exception messages"] = "\n".join(scan.exception_messages).encode()
    t["problem bodies"] = "\n".join(scan.run.problem_bodies).encode()
    t["FG export"] = scan.export
    return t


TARGETS = ["sqlite", "log output", "JSON log lines", "/metrics", "audit leaves", "exception messages",
           "problem bodies", "FG export"]


@pytest.mark.parametrize("target", TARGETS)
def test_no_secret_bsn_or_data_content_in(scan: Scan, target: str) -> None:
    haystacks = {k: v for k, v in targets(scan).items() if k.startswith(target)}
    assert haystacks
    found = [f"{what} in {where}" for where, hay in haystacks.items()
             for what, needle in secrets_of(scan).items() if needle and needle in hay]
    assert not found, found


def test_the_scan_has_something_to_find(scan: Scan) -> None:
    """Guard against a vacuous scan: the flows really produced records, errors and problems."""
    assert scan.loket.audit.count() >= 10
    assert scan.exception_messages and scan.run.problem_bodies
    assert len(scan.run.data_values) >= 3
    kinds = {s.record.kind.value for s in scan.loket.audit.iter_records()}
    assert {"dossier:read", "dossier:break_glass", "dossier:error", "consent:granted",
            "consent:revoked", "consent_request:created", "break_glass:reviewed"} <= kinds
    access = [json.loads(line) for line in scan.json_lines if '"logger":"loket.access"' in line]
    assert len(access) >= 10 and all(len(a["trace_id"]) == 32 for a in access)
    assert {"/v1/cases/{case_id}/dossier", "/v1/me/consents"} <= {a["route"] for a in access}
    assert b"loket_decisions_total" in scan.metrics and b"loket_audit_appends_total" in scan.metrics


def test_every_json_log_line_is_one_json_object_with_the_requests_trace_id(scan: Scan) -> None:
    records = {s.record.trace_id for s in scan.loket.audit.iter_records()}
    lines = [json.loads(line) for line in scan.json_lines]
    assert all(isinstance(line, dict) and {"ts", "level", "logger", "msg"} <= set(line) for line in lines)
    dossier_lines = [a for a in lines if a.get("route") == "/v1/cases/{case_id}/dossier" and a["status"] == 200]
    assert dossier_lines and {a["trace_id"] for a in dossier_lines} <= records  # the audit record's trace
