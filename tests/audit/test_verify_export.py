"""Offline verification of exports and proof bundles: any tampering fails, naming where."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from audit.checkpoint import Checkpoint, NoteVerifier, sign_checkpoint
from audit.cli import audit_app
from audit.export import proof_bundle, write_full_export
from audit.log import AuditLog
from audit.models import metadata
from audit.verify import verify_export, verify_proof_bundle
from gateway.core.db import create_db_engine
from gateway.core.errors import IntegrityError

from .conftest import ORIGIN, record

N_RECORDS = 40


@pytest.fixture(scope="module")
def exported(
    tmp_path_factory: pytest.TempPathFactory, signing_key: Ed25519PrivateKey
) -> Iterator[tuple[bytes, AuditLog]]:
    path = tmp_path_factory.mktemp("export") / "audit.db"
    engine = create_db_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    log = AuditLog(engine, signing_key, origin=ORIGIN, key_name=ORIGIN, checkpoint_every_records=16)
    for i in range(N_RECORDS):
        log.append(record(i))
    log.checkpoint(force=True)
    buf = io.BytesIO()
    write_full_export(log, buf)
    yield buf.getvalue(), log
    engine.dispose()


@pytest.fixture(scope="module")
def verifier(signing_key: Ed25519PrivateKey) -> NoteVerifier:
    return NoteVerifier.for_private_key(ORIGIN, signing_key)


def split(export: bytes) -> tuple[list[bytes], list[bytes], list[bytes]]:
    lines = export.splitlines(keepends=True)
    header = json.loads(lines[0])
    k = header["checkpoints"]
    return lines[:1], lines[1 : 1 + k], lines[1 + k :]


def join(*parts: list[bytes]) -> bytes:
    return b"".join(line for part in parts for line in part)


def check(data: bytes, verifier: NoteVerifier, **kwargs: object) -> None:
    verify_export(io.BytesIO(data), verifier, **kwargs)  # type: ignore[arg-type]


def test_untouched_export_verifies(
    exported: tuple[bytes, AuditLog], verifier: NoteVerifier
) -> None:
    data, log = exported
    report = verify_export(io.BytesIO(data), verifier, deep=True)
    assert report.tree_size == N_RECORDS
    assert report.root_hash == log.head().root_hash
    assert report.checkpoints_verified == 3  # sizes 16, 32 and the forced 40


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_flipped_bit_in_any_record_fails_naming_it(
    exported: tuple[bytes, AuditLog], verifier: NoteVerifier, data: st.DataObject
) -> None:
    export, _ = exported
    head, cps, recs = split(export)
    i = data.draw(st.integers(min_value=0, max_value=N_RECORDS - 1), label="record")
    line = bytearray(recs[i])
    pos = data.draw(
        st.integers(min_value=0, max_value=len(line) - 2), label="byte"
    )  # not the final newline
    line[pos] ^= 1 << data.draw(st.integers(min_value=0, max_value=7), label="bit")
    recs = [*recs[:i], bytes(line), *recs[i + 1 :]]
    with pytest.raises(IntegrityError) as info:
        check(join(head, cps, recs), verifier)
    line_no = 1 + len(cps) + 1 + i
    assert f"record {i}" in str(info.value) or f"line {line_no}" in str(info.value), str(info.value)


def rewrite_record(line: bytes, old: bytes, new: bytes) -> bytes:
    """Change a record AND fix up its leaf hash, as a careful forger would."""
    m = re.match(rb'\{"index":(\d+),"leaf_hash":"([0-9a-f]{64})","record":', line)
    assert m is not None
    body = line[m.end() : -2].replace(old, new, 1)
    h = hashlib.sha256(b"\x00loket-audit-v1\n" + body).hexdigest().encode()
    return b'{"index":%s,"leaf_hash":"%s","record":%s}\n' % (m.group(1), h, body)


@pytest.mark.parametrize(("i", "first", "last"), [(3, 0, 15), (20, 16, 31), (39, 32, 39)])
def test_changed_record_with_fixed_leaf_hash_fails_at_its_checkpoint(
    exported: tuple[bytes, AuditLog], verifier: NoteVerifier, i: int, first: int, last: int
) -> None:
    head, cps, recs = split(exported[0])
    recs[i] = rewrite_record(recs[i], b'"outcome":"disclosed"', b'"outcome":"refused"')
    with pytest.raises(
        IntegrityError,
        match=f"checkpoint at tree size {last + 1}: root does not match records {first}..{last}",
    ):
        check(join(head, cps, recs), verifier)


def _swap(recs: list[bytes]) -> list[bytes]:
    out = list(recs)
    out[5], out[6] = out[6], out[5]
    return out


@pytest.mark.parametrize(
    ("tamper", "where"),
    [
        (lambda r: _swap(r), "record 5"),  # reordered
        (lambda r: r[:7] + r[8:], "record 7"),  # deleted
        (lambda r: r[:9] + [r[3]] + r[9:], "record 9"),  # inserted (a replayed record)
        (lambda r: r[:-3], "record 37"),  # truncated
        (lambda r: [*r[:-1], r[-1][:-20]], "line"),  # cut in the middle of the last line
    ],
    ids=["reorder", "delete", "insert", "truncate", "cut-line"],
)
def test_reordered_deleted_inserted_or_truncated_records_fail(
    exported: tuple[bytes, AuditLog],
    verifier: NoteVerifier,
    tamper: Callable[[list[bytes]], list[bytes]],
    where: str,
) -> None:
    head, cps, recs = split(exported[0])
    with pytest.raises(IntegrityError, match=where):
        check(join(head, cps, tamper(recs)), verifier)


def test_forged_checkpoint_fails_naming_its_size(
    exported: tuple[bytes, AuditLog], verifier: NoteVerifier
) -> None:
    head, cps, recs = split(exported[0])
    note = json.loads(cps[1])["checkpoint"]
    forged = note.replace("\n32\n", "\n33\n")
    cps[1] = json.dumps({"checkpoint": forged}).encode() + b"\n"
    with pytest.raises(IntegrityError, match="line 3: checkpoint signature for tree size 33"):
        check(join(head, cps, recs), verifier)


def test_checkpoint_signed_by_another_key_fails(
    exported: tuple[bytes, AuditLog], verifier: NoteVerifier
) -> None:
    head, cps, recs = split(exported[0])
    evil = sign_checkpoint(
        Checkpoint(ORIGIN, 40, b"\x00" * 32), Ed25519PrivateKey.generate(), ORIGIN
    )
    cps[2] = json.dumps({"checkpoint": evil.note}).encode() + b"\n"
    with pytest.raises(IntegrityError, match="tree size 40 has no signature by key"):
        check(join(head, cps, recs), verifier)


def test_rewritten_tail_without_its_checkpoints_is_caught_by_a_trusted_checkpoint(
    exported: tuple[bytes, AuditLog], verifier: NoteVerifier
) -> None:
    # A forger who drops records 32.. AND their checkpoints, and edits the header, produces a
    # self-consistent shorter export; only a checkpoint obtained elsewhere can reveal it.
    head, cps, recs = split(exported[0])
    h = json.loads(head[0])
    h.update(tree_size=32, checkpoints=2)
    short = join([json.dumps(h).encode() + b"\n"], cps[:2], recs[:32])
    check(short, verifier)  # undetectable alone
    latest = json.loads(cps[2])["checkpoint"]
    with pytest.raises(IntegrityError, match="tree size 40 .* truncated"):
        check(short, verifier, trusted_checkpoints=[latest])


def test_export_with_a_split_view_checkpoint_fails(
    exported: tuple[bytes, AuditLog], signing_key: Ed25519PrivateKey, verifier: NoteVerifier
) -> None:
    # The log's own key signed a second, different tree of size 16 (a split view).
    head, cps, recs = split(exported[0])
    other = sign_checkpoint(Checkpoint(ORIGIN, 16, b"\x01" * 32), signing_key, ORIGIN)
    with pytest.raises(IntegrityError, match="tree size 16"):
        check(join(head, cps, recs), verifier, trusted_checkpoints=[other.note])


def test_proof_bundle_verifies_and_detects_changes(
    exported: tuple[bytes, AuditLog], verifier: NoteVerifier
) -> None:
    _, log = exported
    bundle = proof_bundle(log, 17)
    report = verify_proof_bundle(bundle, verifier)
    assert report.index == 17 and report.checkpoint.tree_size == N_RECORDS
    changed = json.loads(json.dumps(bundle))
    changed["record"]["actor_sub"] = "cm-999"
    changed.pop("leaf_hash")
    with pytest.raises(IntegrityError, match="record 17: not included"):
        verify_proof_bundle(changed, verifier)
    moved = dict(bundle, index=18)
    with pytest.raises(IntegrityError, match="record 18"):
        verify_proof_bundle(moved, verifier)


# --- the CLI's exit codes -----------------------------------------------------------------------

runner = CliRunner()


@pytest.mark.parametrize(
    ("tamper", "where"),
    [
        (None, None),
        (
            lambda recs: [*recs[:12], recs[12].replace(b"cm-000", b"cm-001"), *recs[13:]],
            "record 12",
        ),
        (lambda recs: recs[:-1], "record 39"),
        (lambda recs: _swap(recs), "record 5"),
    ],
    ids=["intact", "flip", "truncate", "reorder"],
)
def test_cli_verify_exit_code(
    exported: tuple[bytes, AuditLog],
    tmp_path: Path,
    tamper: Callable[[list[bytes]], list[bytes]] | None,
    where: str | None,
) -> None:
    export, log = exported
    head, cps, recs = split(export)
    path = tmp_path / "export.jsonl"
    path.write_bytes(join(head, cps, tamper(recs) if tamper else recs))
    result = runner.invoke(audit_app, ["verify", str(path), "--pubkey", log.vkey()])
    if where is None:
        assert result.exit_code == 0, result.output
        assert f"OK: {N_RECORDS} records" in result.output
    else:
        assert result.exit_code == 1, result.output
        assert "INTEGRITY FAILURE" in result.output and where in result.output


def test_cli_verify_with_wrong_pubkey_fails(
    exported: tuple[bytes, AuditLog], tmp_path: Path
) -> None:
    path = tmp_path / "export.jsonl"
    path.write_bytes(exported[0])
    other = NoteVerifier.for_private_key(ORIGIN, Ed25519PrivateKey.generate()).vkey()
    vkey_file = tmp_path / "vkey.txt"
    vkey_file.write_text(other + "\n")
    result = runner.invoke(audit_app, ["verify", str(path), "--pubkey", str(vkey_file)])
    assert result.exit_code == 1
    assert "no signature by key" in result.output


def test_cli_prove_and_verify_proof(
    exported: tuple[bytes, AuditLog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, log = exported
    bundle_path = tmp_path / "proof.json"
    bundle_path.write_text(json.dumps(proof_bundle(log, 3)))
    ok = runner.invoke(audit_app, ["verify-proof", str(bundle_path), "--pubkey", log.vkey()])
    assert ok.exit_code == 0, ok.output
    assert "record 3" in ok.output
    bad = json.loads(bundle_path.read_text())
    bad["record"]["outcome"] = "nothing to see"
    bundle_path.write_text(json.dumps(bad))
    fail = runner.invoke(audit_app, ["verify-proof", str(bundle_path), "--pubkey", log.vkey()])
    assert fail.exit_code == 1 and "record 3" in fail.output
