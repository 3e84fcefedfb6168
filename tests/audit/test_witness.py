"""Witnesses (C2SP tlog-witness / tlog-cosignature): a witness cosigns consistent checkpoints,
refuses an inconsistent one with 409 and its size, keeps its state atomically; the log
publishes cosignatures and `loket audit verify --policy` wants a quorum."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from audit.checkpoint import NoteVerifier
from audit.cli import audit_app
from audit.log import AuditLog
from audit.models import metadata
from audit.witness import (
    SIZE_CONTENT_TYPE,
    CosignerKey,
    Witness,
    WitnessEndpoint,
    WitnessPolicy,
    WitnessState,
    cosign,
    cosignature_time,
    parse_policy,
    request_body,
)
from audit.witnessing import witness_latest
from gateway.core.db import create_db_engine
from tests.witnesses import serving

from .conftest import ORIGIN, cli_log, record

W1, W2 = "witness.example/fg", "witness.example/gemeente"


@pytest.fixture
def witness_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def witness(tmp_path: Path, witness_key: Ed25519PrivateKey, signing_key: Ed25519PrivateKey) -> Witness:
    log_key = NoteVerifier.for_private_key(ORIGIN, signing_key)
    return Witness(W1, witness_key, {ORIGIN: log_key}, WitnessState(tmp_path / "w1.db"), clock=lambda: 1_700_000_000)


def _in_process(witness: Witness) -> Callable[[str, bytes], tuple[int, str]]:
    def post(url: str, body: bytes) -> tuple[int, str]:
        r = witness.add_checkpoint(body)
        return r.status, r.body.decode()

    return post


def test_the_cosignature_key_id_and_message_follow_c2sp(witness_key: Ed25519PrivateKey) -> None:
    raw = witness_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key = CosignerKey(W1, witness_key.public_key())
    assert key.key_id == hashlib.sha256(W1.encode() + b"\n\x04" + raw).digest()[:4]
    assert CosignerKey.from_vkey(key.vkey()) == key
    body = f"{ORIGIN}\n5\n{base64.b64encode(b'r' * 32).decode()}\n"
    line = cosign(body, witness_key, W1, 1_700_000_123)
    blob = base64.b64decode(line.split(" ")[2])
    assert blob[:4] == key.key_id and int.from_bytes(blob[4:12], "big") == 1_700_000_123
    witness_key.public_key().verify(blob[12:], b"cosignature/v1\ntime 1700000123\n" + body.encode())
    assert cosignature_time(body + "\n" + line, key) == 1_700_000_123


def test_a_witness_cosigns_a_growing_log_and_refuses_a_wrong_old_size(
    sqlite_log: AuditLog, witness: Witness, make_record: Callable[..., Any]
) -> None:
    sqlite_log.append_many([make_record(i) for i in range(10)])
    first = sqlite_log.checkpoint(force=True)
    r = witness.add_checkpoint(request_body(0, [], first.note))
    assert r.status == 200 and cosignature_time(first.note + r.body.decode(), witness.key) == 1_700_000_000
    sqlite_log.append_many([make_record(i) for i in range(10, 25)])
    second = sqlite_log.checkpoint(force=True)
    stale = witness.add_checkpoint(request_body(0, [], second.note))
    assert (stale.status, stale.body, stale.content_type) == (409, b"10\n", SIZE_CONTENT_TYPE)
    proof = sqlite_log.consistency_proof(10, 25).hashes
    assert witness.add_checkpoint(request_body(10, proof, second.note)).status == 200
    assert witness.state.latest(ORIGIN)[0] == 25  # type: ignore[index]
    # The same checkpoint again is fine; an older one is a 409 with the size it holds.
    assert witness.add_checkpoint(request_body(25, [], second.note)).status == 200
    assert witness.add_checkpoint(request_body(10, proof[:0], first.note)).status == 409


def test_a_witness_refuses_a_forked_log(
    tmp_path: Path, sqlite_log: AuditLog, witness: Witness, make_log: Callable[..., AuditLog],
    make_record: Callable[..., Any],
) -> None:
    sqlite_log.append_many([make_record(i) for i in range(8)])
    assert witness.add_checkpoint(request_body(0, [], sqlite_log.checkpoint(force=True).note)).status == 200
    # The same key signs a different history (a rewritten log restored from a backup, say).
    other = create_db_engine(f"sqlite:///{tmp_path / 'fork.db'}")
    metadata.create_all(other)
    fork = make_log(other)
    fork.append_many([make_record(100 + i) for i in range(8)])
    same_size = fork.checkpoint(force=True)
    r = witness.add_checkpoint(request_body(8, [], same_size.note))
    assert (r.status, r.body) == (409, b"8\n")
    fork.append_many([make_record(200 + i) for i in range(4)])
    longer = fork.checkpoint(force=True)
    bad = witness.add_checkpoint(request_body(8, fork.consistency_proof(8, 12).hashes, longer.note))
    assert bad.status == 422
    assert witness.state.latest(ORIGIN)[0] == 8  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"old 0\n\nnot a checkpoint", 400),
        (b"old x\n\n", 400),
        (b"old 01\n\n", 400),
        (b"old 0\n" + b"AAAA\n" + b"\n", 400),
    ],
)
def test_malformed_requests_are_400(witness: Witness, body: bytes, status: int) -> None:
    assert witness.add_checkpoint(body).status == status


def test_unknown_origin_is_404_and_a_foreign_signature_403(
    witness: Witness, sqlite_log: AuditLog, make_record: Callable[..., Any]
) -> None:
    from audit.checkpoint import Checkpoint, sign_checkpoint

    sqlite_log.append_many([make_record(i) for i in range(3)])
    cp = sqlite_log.checkpoint(force=True)
    other = sign_checkpoint(Checkpoint("elsewhere.example/log", 3, cp.root_hash), Ed25519PrivateKey.generate(),
                            "elsewhere.example/log")
    assert witness.add_checkpoint(request_body(0, [], other.note)).status == 404
    forged = sign_checkpoint(Checkpoint(ORIGIN, 3, cp.root_hash), Ed25519PrivateKey.generate(), ORIGIN)
    assert witness.add_checkpoint(request_body(0, [], forged.note)).status == 403
    assert witness.add_checkpoint(request_body(5, [], cp.note)).status == 400  # old > size


def test_concurrent_submissions_never_roll_the_witness_back(
    witness: Witness, sqlite_log: AuditLog, make_record: Callable[..., Any]
) -> None:
    """The race in C2SP tlog-witness: A (size N) and B (size N+K) checked at once; the stored
    size must never go back from N+K to N."""
    sqlite_log.append_many([make_record(i) for i in range(10)])
    n10 = sqlite_log.checkpoint(force=True).note
    sqlite_log.append_many([make_record(i) for i in range(10, 20)])
    n20 = sqlite_log.checkpoint(force=True).note
    results: list[int] = []
    bodies = [request_body(0, [], n10), request_body(0, [], n20)] * 4
    threads = [threading.Thread(target=lambda b=b: results.append(witness.add_checkpoint(b).status)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(200) == 1 and results.count(409) == 7
    size = witness.state.latest(ORIGIN)[0]  # type: ignore[index]
    assert size in (10, 20)


@pytest.fixture
def witness_url(witness: Witness) -> Iterator[str]:
    with serving(witness) as url:
        yield url


def _policy(path: Path, *entries: tuple[CosignerKey, str | None], quorum: str) -> Path:
    lines = [f"witness {k.name} {k.vkey()} {url or ''}".rstrip() for k, url in entries]
    path.write_text("# test policy\n" + "\n".join(lines) + f"\nquorum {quorum}\n")
    return path


def test_the_log_publishes_cosignatures_and_verify_wants_the_quorum(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch, signing_key: Ed25519PrivateKey,
    witness: Witness, witness_url: str,
) -> None:
    log = cli_log(tmp_path, key_file, monkeypatch, signing_key)
    log.append_many([record(i) for i in range(12)])
    log.checkpoint(force=True)
    second = CosignerKey(W2, Ed25519PrivateKey.generate().public_key())
    runner = CliRunner()
    one = _policy(tmp_path / "one.policy", (witness.key, witness_url), quorum="1")
    two = _policy(tmp_path / "two.policy", (witness.key, witness_url), (second, None), quorum="2")
    before = runner.invoke(audit_app, ["verify", "--policy", str(one)])
    assert before.exit_code == 1 and "no checkpoint of this log carries the policy's quorum" in before.output
    sent = runner.invoke(audit_app, ["witness", "--policy", str(one)])
    assert sent.exit_code == 0 and f"{W1}: cosigned at tree size 12" in sent.output
    note = log.latest_checkpoint().note  # type: ignore[union-attr]
    assert cosignature_time(note, witness.key) is not None
    ok = runner.invoke(audit_app, ["verify", "--policy", str(one)])
    assert ok.exit_code == 0 and f"witnessed at tree size 12 by {W1}" in ok.output, ok.output
    assert runner.invoke(audit_app, ["verify", "--policy", str(two)]).exit_code == 1
    # A witness listed twice is still one witness.
    twice = _policy(tmp_path / "twice.policy", (witness.key, witness_url), (witness.key, witness_url), quorum="1")
    assert parse_policy(twice.read_text()).cosigners(note) == (W1,)
    bad = _policy(tmp_path / "bad.policy", (witness.key, None), (witness.key, None), quorum="2")
    with pytest.raises(Exception, match="quorum"):
        parse_policy(bad.read_text())
    # The log grows; the witness catches up from what it saw (12) with a consistency proof.
    log.append_many([record(i) for i in range(12, 30)])
    log.checkpoint(force=True)
    assert "cosigned at tree size 30" in runner.invoke(audit_app, ["witness", "--policy", str(one)]).output
    # An outside checkpoint without the quorum is not accepted.
    bare = tmp_path / "bare.note"
    body, sigs = str(log.checkpoint_at(12)).split("\n\n")
    bare.write_text(body + "\n\n" + sigs.split("\n")[0] + "\n")  # the log's signature only
    refused = runner.invoke(audit_app, ["verify", "--policy", str(one), "--checkpoint", str(bare)])
    assert refused.exit_code == 1 and "0 of the 1 witness cosignatures" in refused.output


def test_a_witness_refusal_is_an_alert(
    tmp_path: Path, sqlite_log: AuditLog, witness: Witness, make_log: Callable[..., AuditLog],
    make_record: Callable[..., Any],
) -> None:
    policy = WitnessPolicy((WitnessEndpoint(witness.key, "http://witness.invalid"),), 1)
    sqlite_log.append_many([make_record(i) for i in range(8)])
    sqlite_log.checkpoint(force=True)
    assert [r.outcome for r in witness_latest(sqlite_log, policy, post=_in_process(witness))] == ["cosigned"]
    other = create_db_engine(f"sqlite:///{tmp_path / 'fork.db'}")
    metadata.create_all(other)
    fork = make_log(other)
    fork.append_many([make_record(100 + i) for i in range(8)])
    fork.checkpoint(force=True)
    alerts: list[Any] = []
    results = witness_latest(fork, policy, post=_in_process(witness), on_alert=alerts.append)
    assert [r.outcome for r in results] == ["refused"] and alerts and "holds tree size 8" in alerts[0].detail


def test_witness_round_trip_over_http(
    sqlite_log: AuditLog, witness: Witness, witness_url: str, make_record: Callable[..., Any]
) -> None:
    policy = WitnessPolicy((WitnessEndpoint(witness.key, witness_url),), 1)
    sqlite_log.append_many([make_record(i) for i in range(5)])
    sqlite_log.checkpoint(force=True)
    t = time.perf_counter()
    assert [r.outcome for r in witness_latest(sqlite_log, policy)] == ["cosigned"]
    assert time.perf_counter() - t < 5


@pytest.mark.go
def test_go_reference_code_verifies_the_log_signature_and_the_cosignature(
    tmp_path: Path, sqlite_log: AuditLog, witness: Witness, make_record: Callable[..., Any]
) -> None:
    """Conformance: Go's golang.org/x/mod/sumdb/note (log signature, type 0x01) and
    transparency-dev/formats/note (cosignature/v1, type 0x04), built here from source."""
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not os.path.exists(go):
        pytest.fail("the go marker needs the go toolchain")
    src = Path(__file__).parent / "go_cosignature"
    binary = tmp_path / "go_cosignature"
    subprocess.run([go, "build", "-o", str(binary), "."], cwd=src, check=True, capture_output=True, timeout=600)
    sqlite_log.append_many([make_record(i) for i in range(7)])
    cp = sqlite_log.checkpoint(force=True)
    line = witness.add_checkpoint(request_body(0, [], cp.note)).body.decode()
    note = tmp_path / "note"
    note.write_text(cp.note + line)
    out = subprocess.run([str(binary), sqlite_log.vkey(), witness.key.vkey(), str(note)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"{W1} 1700000000" in out.stdout and f"{ORIGIN} 0" in out.stdout
    # A cosignature over another tree does not verify in Go either.
    note.write_text(cp.note.replace(f"\n{cp.tree_size}\n", f"\n{cp.tree_size + 1}\n") + line)
    bad = subprocess.run([str(binary), sqlite_log.vkey(), witness.key.vkey(), str(note)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1


def test_the_submitter_sends_every_new_checkpoint_in_the_background(
    sqlite_log: AuditLog, witness: Witness, make_record: Callable[..., Any]
) -> None:
    from audit.witnessing import WitnessSubmitter

    submitter = WitnessSubmitter(sqlite_log, WitnessPolicy((WitnessEndpoint(witness.key, "http://w"),), 1),
                                 post=_in_process(witness)).start()
    try:
        for part in range(3):
            sqlite_log.append_many([make_record(i) for i in range(part * 16, part * 16 + 16)])  # signs at 16
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if cosignature_time(sqlite_log.latest_checkpoint().note, witness.key):  # type: ignore[union-attr]
                    break
                time.sleep(0.02)
            assert witness.state.latest(ORIGIN)[0] == 16 * (part + 1)  # type: ignore[index]
    finally:
        submitter.stop()


def test_the_witness_cli_inits_serves_its_state_and_hands_out_its_latest_checkpoint(
    tmp_path: Path, sqlite_log: AuditLog, make_record: Callable[..., Any]
) -> None:
    from audit.witness_cli import build_witness, witness_app

    runner = CliRunner()
    made = runner.invoke(witness_app, ["init", "--dir", str(tmp_path / "w"), "--name", W1])
    assert made.exit_code == 0 and made.output.startswith(f"{W1}+")
    assert (tmp_path / "w" / "witness-key.pem").stat().st_mode & 0o777 == 0o600
    w = build_witness(tmp_path / "w", W1, [sqlite_log.vkey()])
    assert w.key.vkey() == made.output.strip()
    sqlite_log.append_many([make_record(i) for i in range(4)])
    note = sqlite_log.checkpoint(force=True).note
    line = w.add_checkpoint(request_body(0, [], note)).body.decode()
    latest = runner.invoke(witness_app, ["latest", "--dir", str(tmp_path / "w"), "--origin", ORIGIN])
    # The witness hands out the note with its own cosignature: it counts toward a quorum.
    assert latest.exit_code == 0 and latest.output == note + line
    assert cosignature_time(latest.output, w.key) is not None
    # Cosigned again (same size), the note still carries one cosignature by this witness.
    again = w.add_checkpoint(request_body(4, [], note)).body.decode()
    stored = runner.invoke(witness_app, ["latest", "--dir", str(tmp_path / "w"), "--origin", ORIGIN]).output
    assert stored == note + again and stored.count(f"— {W1} ") == 1
    none = runner.invoke(witness_app, ["latest", "--dir", str(tmp_path / "w"), "--origin", "other/log"])
    assert none.exit_code == 2


def test_loket_mounts_the_witness_and_the_new_audit_verbs() -> None:
    from gateway.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["witness", "--help"]).exit_code == 0
    out = runner.invoke(app, ["audit", "--help"]).output
    assert all(verb in out for verb in ("prove-complete", "verify-complete", "witness"))


def test_notes_of_one_checkpoint_pool_their_cosignatures_and_a_note_given_twice_counts_once(
    tmp_path: Path, sqlite_log: AuditLog, witness: Witness, signing_key: Ed25519PrivateKey,
    make_record: Callable[..., Any],
) -> None:
    """`loket audit verify --checkpoint A --checkpoint B --policy P`: two witnesses' copies of
    one checkpoint make a quorum of two; the same copy twice (or one line twice) is one."""
    from audit.cli import check_given_quorum
    from audit.errors import IntegrityError

    log_key = NoteVerifier.for_private_key(ORIGIN, signing_key)
    other = Witness(W2, Ed25519PrivateKey.generate(), {ORIGIN: log_key}, WitnessState(tmp_path / "w2.db"))
    policy = WitnessPolicy((WitnessEndpoint(witness.key), WitnessEndpoint(other.key)), 2)
    sqlite_log.append_many([make_record(i) for i in range(6)])
    note = sqlite_log.checkpoint(force=True).note
    mine = note + witness.add_checkpoint(request_body(0, [], note)).body.decode()
    theirs = note + other.add_checkpoint(request_body(0, [], note)).body.decode()
    check_given_quorum(policy, [mine, theirs])
    for given in ([mine, mine], [mine + mine.rsplit("\n", 2)[1] + "\n"], [mine]):
        with pytest.raises(IntegrityError, match="1 of the 2 witness cosignatures"):
            check_given_quorum(policy, given)
    assert policy.cosigners(mine + mine.rsplit("\n", 2)[1] + "\n") == (W1,)


def test_a_bad_cosignature_is_an_alert_not_an_outage(
    sqlite_log: AuditLog, witness: Witness, make_record: Callable[..., Any]
) -> None:
    """A witness answering 200 with a line under its key id that does not verify, or with a
    cosignature by another key, raises an alert (a man in the middle, a witness with a new key)."""
    sqlite_log.append_many([make_record(i) for i in range(3)])
    sqlite_log.checkpoint(force=True)
    policy = WitnessPolicy((WitnessEndpoint(witness.key, "http://w"),), 1)
    good = _in_process(witness)

    def flipped(url: str, body: bytes) -> tuple[int, str]:
        status, text = good(url, body)
        blob = bytearray(base64.b64decode(text.split(" ")[2]))
        blob[-1] ^= 1
        return status, f"— {W1} {base64.b64encode(bytes(blob)).decode()}\n"

    def stranger(url: str, body: bytes) -> tuple[int, str]:
        note = body.decode().split("\n\n", 1)[1]
        return 200, cosign(note.rpartition("\n\n")[0] + "\n", Ed25519PrivateKey.generate(), W1, 1)

    for post in (flipped, stranger):
        alerts: list[Any] = []
        results = witness_latest(sqlite_log, policy, post=post, on_alert=alerts.append)
        assert [r.outcome for r in results] == ["bad-cosignature"] and alerts and alerts[0].alert
        assert cosignature_time(sqlite_log.latest_checkpoint().note, witness.key) is None  # type: ignore[union-attr]


def test_the_submitter_retries_an_unavailable_witness_a_bounded_number_of_times(
    sqlite_log: AuditLog, witness: Witness, make_record: Callable[..., Any]
) -> None:
    from audit.witnessing import WitnessSubmitter

    sqlite_log.append_many([make_record(i) for i in range(3)])
    sqlite_log.checkpoint(force=True)
    calls: list[int] = []
    good = _in_process(witness)

    def flaky(url: str, body: bytes) -> tuple[int, str]:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("connection refused")
        return good(url, body)

    policy = WitnessPolicy((WitnessEndpoint(witness.key, "http://w"),), 1)
    submitter = WitnessSubmitter(sqlite_log, policy, post=flaky, retry_s=0.0, max_attempts=5)
    assert [r.outcome for r in submitter.run_once()] == ["cosigned"] and len(calls) == 3

    def down(url: str, body: bytes) -> tuple[int, str]:
        calls.append(1)
        raise OSError("connection refused")

    sqlite_log.append_many([make_record(i) for i in range(3, 6)])
    sqlite_log.checkpoint(force=True)
    calls.clear()
    bounded = WitnessSubmitter(sqlite_log, policy, post=down, retry_s=0.0, max_attempts=4)
    assert [r.outcome for r in bounded.run_once()] == ["unavailable"] and len(calls) == 4


def test_a_witness_that_keeps_refusing_raises_one_alert_not_one_per_checkpoint(
    tmp_path: Path, sqlite_log: AuditLog, witness: Witness, make_log: Callable[..., AuditLog],
    make_record: Callable[..., Any],
) -> None:
    from audit.witnessing import WitnessSubmitter

    policy = WitnessPolicy((WitnessEndpoint(witness.key, "http://w"),), 1)
    sqlite_log.append_many([make_record(i) for i in range(8)])
    sqlite_log.checkpoint(force=True)
    witness_latest(sqlite_log, policy, post=_in_process(witness))
    other = create_db_engine(f"sqlite:///{tmp_path / 'fork.db'}")
    metadata.create_all(other)
    fork = make_log(other)
    alerts: list[Any] = []
    submitter = WitnessSubmitter(fork, policy, post=_in_process(witness), on_alert=alerts.append, retry_s=0.0)
    for n in range(3):
        fork.append_many([make_record(100 + 10 * n + i) for i in range(10)])
        fork.checkpoint(force=True)
        assert [r.outcome for r in submitter.run_once()] == ["refused"]
    assert len(alerts) == 1 and "tree size 10" in alerts[0].detail and "from 8" in alerts[0].detail


def test_witness_status_finds_the_newest_checkpoint_with_the_quorum(
    tmp_path: Path, sqlite_log: AuditLog, witness: Witness, signing_key: Ed25519PrivateKey,
    make_record: Callable[..., Any],
) -> None:
    from audit.witnessing import witness_status

    log_key = NoteVerifier.for_private_key(ORIGIN, signing_key)
    other = Witness(W2, Ed25519PrivateKey.generate(), {ORIGIN: log_key}, WitnessState(tmp_path / "w2.db"))
    both = WitnessPolicy((WitnessEndpoint(witness.key, "http://1"), WitnessEndpoint(other.key, "http://2")), 2)
    only_first = WitnessPolicy(both.witnesses[:1], 1)
    assert witness_status(sqlite_log, both).witnessed is None
    sqlite_log.append_many([make_record(i) for i in range(5)])
    sqlite_log.checkpoint(force=True)
    witness_latest(sqlite_log, both, post=lambda u, b: _in_process(witness if "1" in u else other)(u, b))
    sqlite_log.append_many([make_record(i) for i in range(5, 9)])
    sqlite_log.checkpoint(force=True)
    witness_latest(sqlite_log, only_first, post=_in_process(witness))
    sqlite_log.append_many([make_record(i) for i in range(9, 12)])
    sqlite_log.checkpoint(force=True)  # nobody has seen 12 yet
    status = witness_status(sqlite_log, both)
    assert status.witnessed is not None and (status.witnessed.tree_size, status.witnessed.cosigners) == (5, (W1, W2))
    assert status.cosigned == {W1: 9, W2: 5}
    one = witness_status(sqlite_log, only_first)
    assert one.witnessed is not None and one.witnessed.tree_size == 9


def test_a_witness_trusts_a_retired_log_key_only_up_to_its_retirement(
    tmp_path: Path, signing_key: Ed25519PrivateKey
) -> None:
    """`loket witness serve --log NEW --log OLD@20`: the old key's checkpoints up to 20 are
    cosigned, one beyond it (a stolen retired key extending the log) is 403."""
    from audit.checkpoint import Checkpoint, sign_checkpoint
    from audit.witness_cli import build_witness, witness_app

    assert CliRunner().invoke(witness_app, ["init", "--dir", str(tmp_path / "w"), "--name", W1]).exit_code == 0
    new_key = Ed25519PrivateKey.generate()
    old_vkey = NoteVerifier.for_private_key(ORIGIN, signing_key).vkey()
    new_vkey = NoteVerifier.for_private_key(ORIGIN, new_key).vkey()
    w = build_witness(tmp_path / "w", W1, [new_vkey, f"{old_vkey}@20"])
    root = hashlib.sha256(b"r").digest()
    early = sign_checkpoint(Checkpoint(ORIGIN, 20, root), signing_key, ORIGIN).note
    late = sign_checkpoint(Checkpoint(ORIGIN, 30, root), signing_key, ORIGIN).note
    assert w.add_checkpoint(request_body(0, [], late)).status == 403
    assert w.add_checkpoint(request_body(0, [], early)).status == 200
    with pytest.raises(Exception, match="retirement size"):
        build_witness(tmp_path / "w", W1, [f"{old_vkey}@soon"])
    # Without a size the old key stays trusted as before (unbounded), the last one current.
    assert CliRunner().invoke(witness_app, ["init", "--dir", str(tmp_path / "w2"), "--name", W1]).exit_code == 0
    unbounded = build_witness(tmp_path / "w2", W1, [old_vkey, new_vkey])
    assert unbounded.add_checkpoint(request_body(0, [], late)).status == 200


def test_two_submitters_of_one_checkpoint_store_one_cosignature_per_witness(
    sqlite_log: AuditLog, witness: Witness, make_record: Callable[..., Any]
) -> None:
    """Two gateway workers each submit the same checkpoint; the note keeps one line per witness."""
    from audit.witnessing import add_cosignature

    policy = WitnessPolicy((WitnessEndpoint(witness.key, "http://w"),), 1)
    sqlite_log.append_many([make_record(i) for i in range(4)])
    cp = sqlite_log.checkpoint(force=True)
    witness_latest(sqlite_log, policy, post=_in_process(witness))
    second = witness.add_checkpoint(request_body(4, [], cp.note)).body.decode()  # the other worker's
    note = add_cosignature(sqlite_log, 4, second, witness.key)
    assert note.count(f"— {W1} ") == 1 and cosignature_time(note, witness.key) is not None


def test_loket_audit_verify_pools_the_witnesses_notes_and_counts_a_repeated_one_once(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch, signing_key: Ed25519PrivateKey,
    witness: Witness,
) -> None:
    """`loket audit verify --policy P --checkpoint A --checkpoint B`: each witness's own copy of
    the checkpoint (`loket witness latest`) counts once; the same copy twice is short of 2."""
    log = cli_log(tmp_path, key_file, monkeypatch, signing_key)
    log.append_many([record(i) for i in range(6)])
    note = log.checkpoint(force=True).note
    log_key = NoteVerifier.for_private_key(ORIGIN, signing_key)
    other = Witness(W2, Ed25519PrivateKey.generate(), {ORIGIN: log_key}, WitnessState(tmp_path / "w2.db"))
    witness.add_checkpoint(request_body(0, [], note))
    other.add_checkpoint(request_body(0, [], note))
    a, b = tmp_path / "a.note", tmp_path / "b.note"
    a.write_text(witness.state.latest(ORIGIN)[2])  # type: ignore[index]
    b.write_text(other.state.latest(ORIGIN)[2])  # type: ignore[index]
    policy = _policy(tmp_path / "two.policy", (witness.key, None), (other.key, None), quorum="2")
    runner = CliRunner()

    def verify(*notes: Path) -> Any:
        return runner.invoke(audit_app, ["verify", "--policy", str(policy),
                                         *(x for n in notes for x in ("--checkpoint", str(n)))])

    twice = verify(a, a)
    assert twice.exit_code == 1, twice.output
    assert "has 1 of the 2 witness cosignatures" in twice.output and "not accepted as verified" in twice.output
    # The log's own notes carry no cosignature yet, so the log itself is not witnessed either.
    both = verify(a, b)
    assert both.exit_code == 1 and "no checkpoint of this log carries the policy's quorum" in both.output
    from audit.witnessing import add_cosignature

    for w in (witness, other):
        add_cosignature(log, 6, w.state.latest(ORIGIN)[2].rsplit("\n", 2)[1] + "\n", w.key)  # type: ignore[index]
    ok = verify(a, b)
    assert ok.exit_code == 0 and f"witnessed at tree size 6 by {W1}, {W2}" in ok.output, ok.output


def test_the_http_edge_reconnects_a_dropped_keep_alive_and_refuses_an_oversized_answer() -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from audit.witness import MAX_RESPONSE_BYTES, HttpPoster

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b"x" * (MAX_RESPONSE_BYTES + 1) if self.path == "/big" else b"ok\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True  # drops the kept-alive connection without saying so

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    post = HttpPoster(2.0)
    try:
        assert post(url + "/add-checkpoint", b"old 0\n\n") == (200, "ok\n")
        assert post(url + "/add-checkpoint", b"old 0\n\n") == (200, "ok\n")  # on a new connection
        with pytest.raises(OSError, match="over"):
            post(url + "/big", b"")
        with pytest.raises(ValueError, match="http"):
            post("file:///etc/passwd", b"")
    finally:
        post.close()
        server.shutdown()
