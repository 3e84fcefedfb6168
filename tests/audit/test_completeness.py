"""A citizen's completeness proof (ADR 0005): all records about them up to a signed
checkpoint, verifiable offline with the public key alone; a hidden record fails it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from audit.checkpoint import Checkpoint, parse_checkpoint_body, sign_checkpoint
from audit.cli import audit_app
from audit.errors import IntegrityError
from audit.export import completeness_bundle
from audit.log import AuditLog
from audit.models import audit_checkpoints, audit_records
from audit.subjects import extension_line, root_of_extensions
from audit.verify import verify_completeness_bundle

from .conftest import ORIGIN, cli_log, record

MAP_KEY = b"\x42" * 32
EVA, SEM = "e7" * 32, "5e" * 32
EVA_AT = [2, 7, 11, 30, 31, 44]


@pytest.fixture
def log(sqlite_engine: Engine, make_log: Callable[..., AuditLog]) -> AuditLog:
    log = make_log(sqlite_engine, subject_map_key=MAP_KEY)
    for start in (0, 20, 40):
        log.append_many([
            record(i, data_subject_id=EVA if i in EVA_AT else SEM if i % 3 == 0 else None)
            for i in range(start, start + 20)
        ])
        log.checkpoint(force=True)
    return log


def test_every_checkpoint_signs_the_subject_map_and_verify_checks_it(log: AuditLog) -> None:
    notes = log.checkpoints()
    assert [n.split("\n")[3].split(" ")[0] for n in notes] == ["loket-subjects"] * 3
    assert log.verify().checkpoints_verified == 3


def test_a_citizen_gets_all_their_records_and_verifies_offline(log: AuditLog) -> None:
    bundle = json.loads(json.dumps(completeness_bundle(log, EVA)))
    report = verify_completeness_bundle(bundle, log.verifier.current)  # type: ignore[union-attr]
    assert [i for i, _ in report.records] == EVA_AT
    assert report.absence_checked and report.checkpoint.tree_size == 60
    assert len(bundle["map_proof"]["siblings"]) <= 4  # two subjects: a short path


def test_the_proof_at_an_earlier_checkpoint_lists_only_what_it_covered(
    log: AuditLog, make_log: Callable[..., AuditLog]
) -> None:
    fresh = make_log(log.engine, subject_map_key=MAP_KEY)  # another process: rebuilds the map
    bundle = completeness_bundle(fresh, EVA, tree_size=20)
    report = verify_completeness_bundle(bundle, log.verifier.current)  # type: ignore[union-attr]
    assert [i for i, _ in report.records] == [2, 7, 11]


def _tamper(bundle: dict[str, Any], how: str, other: dict[str, Any]) -> dict[str, Any]:
    b = copy.deepcopy(bundle)
    if how == "hide":
        del b["records"][3]
    elif how == "add":
        b["records"].insert(0, other["records"][0])
    elif how == "change":
        b["records"][1]["record"]["actor_sub"] = "cm-x"
    elif how == "reorder":
        b["records"][0], b["records"][1] = b["records"][1], b["records"][0]
    elif how == "reindex":
        b["records"][0]["index"] = 3
    elif how == "older-checkpoint":
        b["tree_size"] = 20
    return b


@pytest.mark.parametrize("how", ["hide", "add", "change", "reorder", "reindex", "older-checkpoint"])
def test_a_hidden_added_or_changed_record_fails_offline(log: AuditLog, how: str) -> None:
    bundle = completeness_bundle(log, EVA)
    sem = completeness_bundle(log, SEM)
    with pytest.raises(IntegrityError):
        verify_completeness_bundle(_tamper(bundle, how, sem), log.verifier.current)  # type: ignore[union-attr]


def test_a_proof_for_a_shorter_list_cannot_be_made(log: AuditLog, signing_key: Ed25519PrivateKey) -> None:
    """An insider hides Eva's record 30 from her page (the index column): the log refuses to
    serve a short list, and `verify` names the edited row."""
    with log.engine.begin() as conn:
        conn.execute(update(audit_records).where(audit_records.c.idx == 30).values(data_subject_id=None))
    with pytest.raises(IntegrityError, match="not the list the signed subject map holds"):
        completeness_bundle(log, EVA)
    with pytest.raises(IntegrityError, match="record 30: index column data_subject_id"):
        log.verify()


def test_a_forged_subject_map_root_fails_whole_log_verification(
    log: AuditLog, signing_key: Ed25519PrivateKey
) -> None:
    """A log that signs a map that is not the one its leaves make is caught by any auditor."""
    note = log.checkpoint_at(40)
    assert note is not None
    cp = parse_checkpoint_body(note.split("\n\n")[0] + "\n")
    assert root_of_extensions(cp.extensions) is not None
    forged = Checkpoint(ORIGIN, 40, cp.root_hash, (extension_line(b"\x01" * 32),))
    with log.engine.begin() as conn:
        conn.execute(update(audit_checkpoints).where(audit_checkpoints.c.tree_size == 40)
                     .values(note=sign_checkpoint(forged, signing_key, ORIGIN).note))
    with pytest.raises(IntegrityError, match="checkpoint at tree size 40: the signed subject map root"):
        log.verify()


def test_no_records_is_the_logs_word(log: AuditLog) -> None:
    nobody = "00" * 32
    report = verify_completeness_bundle(completeness_bundle(log, nobody), log.verifier.current)  # type: ignore[union-attr]
    assert report.records == () and not report.absence_checked
    # The log cannot show Eva as absent: her entry is in the map.
    b = completeness_bundle(log, EVA)
    b["records"] = []
    with pytest.raises(IntegrityError):
        verify_completeness_bundle(b, log.verifier.current)  # type: ignore[union-attr]


def test_cli_prove_complete_and_verify_complete(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch, signing_key: Ed25519PrivateKey
) -> None:
    monkeypatch.setenv("LOKET_PSEUDONYM_KEY", "ab" * 32)
    base = cli_log(tmp_path, key_file, monkeypatch, signing_key)
    from gateway.core.audit_source import SettingsLogSource

    log = SettingsLogSource().open_log(require_key=True)
    assert log.has_subject_map
    log.append_many([record(i, data_subject_id=EVA if i % 2 else None) for i in range(12)])
    runner = CliRunner()
    out = tmp_path / "eva.json"
    made = runner.invoke(audit_app, ["prove-complete", EVA, "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert "wrote 6 records" in made.output
    ok = runner.invoke(audit_app, ["verify-complete", str(out), "--pubkey", base.vkey()])
    assert ok.exit_code == 0 and "these 6 records are all the records" in ok.output
    bundle = json.loads(out.read_text())
    del bundle["records"][2]
    out.write_text(json.dumps(bundle))
    bad = runner.invoke(audit_app, ["verify-complete", str(out), "--pubkey", base.vkey()])
    assert bad.exit_code == 1 and "a record was hidden" in bad.output


def test_the_citizen_api_serves_a_bundle_that_verifies_offline(
    loket: Any, client: Any, token: Callable[..., str]
) -> None:
    from tests.conftest import bearer

    bsn = "999993847"
    pseudonym = loket.pseudonymiser.pseudonym_for(bsn)
    loket.audit.append_many([record(i, data_subject_id=pseudonym if i % 3 == 0 else None) for i in range(9)])
    tok = token(role="citizen", sub="burger-complete", bsn=bsn)
    r = client.get("/v1/me/accesses/completeness", headers=bearer(tok))
    assert r.status_code == 200, r.text
    report = verify_completeness_bundle(r.json(), loket.audit.verifier.current)
    assert [i for i, _ in report.records] == [0, 3, 6]


def test_an_export_is_checked_against_the_subject_map_with_the_map_key(
    log: AuditLog, tmp_path: Path, signing_key: Ed25519PrivateKey
) -> None:
    from audit.export import write_full_export
    from audit.verify import verify_export_file

    path = tmp_path / "full.jsonl"
    with path.open("wb") as f:
        write_full_export(log, f)
    assert verify_export_file(str(path), log.verifier, subject_map_key=MAP_KEY).tree_size == 60  # type: ignore[arg-type]
    with pytest.raises(IntegrityError, match="subject map key is not the log's"):
        verify_export_file(str(path), log.verifier, subject_map_key=b"\x07" * 32)  # type: ignore[arg-type]
    assert verify_export_file(str(path), log.verifier).tree_size == 60  # type: ignore[arg-type]  # no key: skipped


@pytest.mark.postgres
def test_on_postgresql_the_map_is_signed_served_and_verified(
    postgres_engine: Engine, make_log: Callable[..., AuditLog]
) -> None:
    log = make_log(postgres_engine, subject_map_key=MAP_KEY)
    for start in (0, 20):
        log.append_many([record(i, data_subject_id=EVA if i in EVA_AT else None) for i in range(start, start + 20)])
        log.checkpoint(force=True)
    report = verify_completeness_bundle(completeness_bundle(log, EVA), log.verifier.current)  # type: ignore[union-attr]
    assert [i for i, _ in report.records] == [2, 7, 11, 30, 31]
    assert log.verify().checkpoints_verified == 2
    with log.engine.begin() as conn:
        conn.execute(update(audit_records).where(audit_records.c.idx == 30).values(data_subject_id=None))
    with pytest.raises(IntegrityError, match="record 30: index column data_subject_id"):
        log.verify()
