"""`loket audit …` against a configured database (settings from LOKET_* env)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update
from typer.testing import CliRunner

from audit.cli import audit_app
from audit.export import CSV_COLUMNS
from audit.log import AuditLog
from audit.models import audit_records
from audit.record import AuditEventKind

from .conftest import ORIGIN, cli_log, record

runner = CliRunner()
PSEUDONYM = "cd" * 32


@pytest.fixture
def configured(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch, signing_key: Ed25519PrivateKey
) -> AuditLog:
    log = cli_log(tmp_path, key_file, monkeypatch, signing_key)
    for i in range(25):
        log.append(
            record(
                i,
                data_subject_id=PSEUDONYM if i in (2, 9) else None,
                start_time=f"2026-11-{10 + i % 10:02d}T10:00:00.000Z",
                actor_sub="=HYPERLINK(1)" if i == 24 else f"cm-{i % 3:03d}",
            )
        )
    return log


def test_pubkey_prints_the_vkey(configured: AuditLog) -> None:
    result = runner.invoke(audit_app, ["pubkey"])
    assert result.exit_code == 0 and result.output.strip() == configured.vkey()


def test_checkpoint_signs_the_current_tree(configured: AuditLog) -> None:
    result = runner.invoke(audit_app, ["checkpoint"])
    assert result.exit_code == 0
    assert result.output.startswith(f"{ORIGIN}\n25\n")


def test_full_export_verifies_offline(configured: AuditLog, tmp_path: Path) -> None:
    out = tmp_path / "full.jsonl"
    result = runner.invoke(audit_app, ["export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 25 records (full, verifiable)" in result.output
    vkey = tmp_path / "vkey"
    vkey.write_text(configured.vkey())
    ok = runner.invoke(audit_app, ["verify", str(out), "--pubkey", str(vkey)])
    assert ok.exit_code == 0, ok.output
    assert "OK: 25 records, 3 signed checkpoints" in ok.output


def test_filtered_export_and_csv_with_logboek_columns(configured: AuditLog, tmp_path: Path) -> None:
    out = tmp_path / "subject.jsonl"
    result = runner.invoke(audit_app, ["export", "--out", str(out), "--pseudonym", PSEUDONYM])
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().splitlines()
    assert json.loads(lines[0])["complete"] is False
    assert [json.loads(line)["index"] for line in lines[1:]] == [2, 9]
    refused = runner.invoke(audit_app, ["verify", str(out), "--pubkey", configured.vkey()])
    assert refused.exit_code == 1 and "filtered export" in refused.output

    csv_out = tmp_path / "fg.csv"
    result = runner.invoke(
        audit_app,
        [
            "export",
            "--out",
            str(csv_out),
            "--format",
            "csv",
            "--actor",
            "cm-001",
            "--since",
            "2026-11-12",
            "--until",
            "2026-11-15",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {
        "trace_id",
        "span_id",
        "dpl.core.processing_activity_id",
        "dpl.core.data_subject_id",
    } <= set(CSV_COLUMNS)
    assert [r["loket.index"] for r in rows] == ["4", "13", "22"]  # cm-001 on 12-14 Nov
    assert all(r["name"] == AuditEventKind.DOSSIER_READ.value for r in rows)


def test_cli_export_is_itself_logged_like_the_apis(configured: AuditLog, tmp_path: Path) -> None:
    """`loket audit export` writes an access_log:exported record (as POST /v1/fg/export does),
    before the file, and the export does not contain it."""
    out = tmp_path / "subject.csv"
    result = runner.invoke(audit_app, ["export", "--out", str(out), "--format", "csv", "--pseudonym", PSEUDONYM])
    assert result.exit_code == 0, result.output
    (rec,) = [s.record for s in configured.iter_records() if s.record.kind == AuditEventKind.ACCESS_LOG_EXPORTED]
    assert rec.actor_sub.startswith("cli:") and rec.actor_role == "admin"
    assert rec.extra["format"] == "csv" and rec.extra["channel"] == "cli"
    assert rec.data_subject_id == PSEUDONYM  # shows in that citizen's own overview
    assert "access_log:exported" not in out.read_text()
    full = tmp_path / "full.jsonl"
    assert runner.invoke(audit_app, ["export", "--out", str(full)]).exit_code == 0
    lines = [json.loads(line) for line in full.read_bytes().splitlines()[1:]]
    kinds = [x["record"]["kind"] for x in lines if "record" in x]
    assert len(kinds) == 26 and kinds[-1] == "access_log:exported"  # the first export's, not its own
    assert [s.record.kind for s in configured.iter_records()][-1] == AuditEventKind.ACCESS_LOG_EXPORTED
    assert configured.head().tree_size == 27


def test_csv_neutralises_formula_cells(configured: AuditLog, tmp_path: Path) -> None:
    csv_out = tmp_path / "all.csv"
    assert (
        runner.invoke(audit_app, ["export", "--out", str(csv_out), "--format", "csv"]).exit_code
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text())))
    assert rows[24]["loket.actor_sub"] == "'=HYPERLINK(1)"


def test_verify_database_and_tampering_in_it(configured: AuditLog) -> None:
    configured.checkpoint(force=True)
    ok = runner.invoke(audit_app, ["verify"])
    assert ok.exit_code == 0, ok.output
    leaf = configured.get_record(7).leaf
    with configured.engine.begin() as conn:
        conn.execute(
            update(audit_records)
            .where(audit_records.c.idx == 7)
            .values(leaf=leaf.replace(b"disclosed", b"refused!!"))
        )
    bad = runner.invoke(audit_app, ["verify"])
    assert bad.exit_code == 1 and "record 7" in bad.output


def test_prove_writes_a_bundle_that_verify_proof_accepts(
    configured: AuditLog, tmp_path: Path
) -> None:
    out = tmp_path / "proof.json"
    result = runner.invoke(audit_app, ["prove", "24", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["tree_size"] == 25  # a fresh checkpoint covers record 24
    ok = runner.invoke(audit_app, ["verify-proof", str(out), "--pubkey", configured.vkey()])
    assert ok.exit_code == 0 and "record 24" in ok.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "--out", "x.csv", "--format", "xml"], "--format"),
        (["export", "--out", "x.csv", "--since", "yesterday"], "--since"),
        (["verify", "nonexistent.jsonl", "--pubkey", "not-a-vkey"], "error"),
    ],
)
def test_bad_input_exits_2(configured: AuditLog, args: list[str], message: str) -> None:
    result = runner.invoke(audit_app, args)
    assert result.exit_code == 2 and message in result.output
