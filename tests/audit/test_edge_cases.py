"""Edge cases an outside verifier (Go's sumdb/note and transparency-dev's Merkle code) found."""

from __future__ import annotations

import base64
import math

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import merkle
from audit.checkpoint import (
    Checkpoint,
    KeyChain,
    NoteVerifier,
    RetiredKey,
    TrustedKeys,
    open_checkpoint,
    parse_checkpoint_body,
    sign_checkpoint,
    transition_checkpoint,
)
from audit.errors import IntegrityError
from audit.record import AuditEventKind, AuditRecord, canonical_json

ORIGIN = "loket.test/edge"
ROOT = merkle.leaf_hash(b"x")


@pytest.mark.parametrize(
    ("value", "jcs"),
    [({"x": 1.0}, b'{"x":1}'), ({"x": -0.0}, b'{"x":0}'), ({"x": 1e21}, b'{"x":1e+21}'),
     ({"x": 0.1}, b'{"x":0.1}'), ({"x": [2.50, 3]}, b'{"x":[2.5,3]}')],
)
def test_canonical_json_writes_floats_as_rfc_8785_does(value: dict[str, object], jcs: bytes) -> None:
    assert canonical_json(value) == jcs


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_canonical_json_refuses_nan_and_infinities(bad: float) -> None:
    with pytest.raises(ValueError, match="RFC 8785"):
        canonical_json({"x": bad})


def test_consistency_from_size_zero_is_refused_unless_both_trees_are_empty() -> None:
    t = merkle.MemoryTree()
    for i in range(5):
        t.append_leaf_hash(merkle.leaf_hash(b"%d" % i))
    with pytest.raises(merkle.ProofError, match="size 0"):
        merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, t.root(), [])
    with pytest.raises(merkle.ProofError, match="size 0"):
        merkle.verify_consistency(0, 0, ROOT, ROOT, [])
    merkle.verify_consistency(0, 0, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [])


def test_a_note_is_split_at_its_last_blank_line_as_go_note_open_does() -> None:
    key = Ed25519PrivateKey.generate()
    note = sign_checkpoint(Checkpoint(ORIGIN, 3, ROOT), key, ORIGIN).note
    body, sigs = note.split("\n\n")
    verifier = NoteVerifier.for_private_key(ORIGIN, key)
    # Text with a blank line inside is not one checkpoint body: the last blank line separates
    # the signatures, so the text before it (with its blank line) is what must be signed.
    with pytest.raises(IntegrityError, match="checkpoint"):
        open_checkpoint(body + "\n\n" + body + "\n\n" + sigs, verifier)
    assert open_checkpoint(note, verifier).tree_size == 3


@pytest.mark.parametrize("size", [str(2**64), "99999999999999999999"])
def test_tree_sizes_beyond_uint64_are_refused(size: str) -> None:
    body = f"{ORIGIN}\n{size}\n{base64.b64encode(ROOT).decode()}\n"
    with pytest.raises(IntegrityError, match="2\\*\\*64"):
        parse_checkpoint_body(body)
    with pytest.raises(ValueError, match="2\\*\\*64"):
        Checkpoint(ORIGIN, int(size), ROOT)
    assert parse_checkpoint_body(body.replace(size, str(2**64 - 1))).tree_size == 2**64 - 1


def test_a_retired_key_is_trusted_only_up_to_its_retirement() -> None:
    old_key, new_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    old, new = (NoteVerifier.for_private_key(ORIGIN, k) for k in (old_key, new_key))
    early = sign_checkpoint(Checkpoint(ORIGIN, 10, ROOT), old_key, ORIGIN).note
    late = sign_checkpoint(Checkpoint(ORIGIN, 30, ROOT), old_key, ORIGIN).note  # stolen key?
    explicit = TrustedKeys(new, (RetiredKey(old, 20),))
    assert open_checkpoint(early, explicit).tree_size == 10
    with pytest.raises(IntegrityError, match="tree size 30"):
        open_checkpoint(late, explicit)
    # Learned from the transition checkpoint the old key signed at 20.
    from audit.checkpoint import open_transition, sign_checkpoint_with

    t = sign_checkpoint_with(transition_checkpoint(ORIGIN, 20, ROOT, old, new),
                             [(old_key, ORIGIN), (new_key, ORIGIN)]).note
    transition = open_transition(t)
    assert transition is not None
    chain = KeyChain(TrustedKeys(new, (old,)), [transition])
    assert chain.open(early).tree_size == 10
    with pytest.raises(IntegrityError, match="tree size 30"):
        chain.open(late)


def test_a_trusted_checkpoint_given_twice_is_counted_once(tmp_path, signing_key) -> None:  # type: ignore[no-untyped-def]
    import io

    from sqlalchemy import create_engine

    from audit.export import write_full_export
    from audit.log import AuditLog
    from audit.models import metadata
    from audit.verify import verify_export

    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    metadata.create_all(engine)
    log = AuditLog(engine, signing_key, origin=ORIGIN, key_name=ORIGIN, checkpoint_every_records=5)
    log.append_many([AuditRecord(kind=AuditEventKind.CASE_OPENED, actor_sub=f"cm-{i}",
                                 actor_role="casemanager", outcome="ok") for i in range(10)])
    note = log.checkpoint(force=True).note
    out = io.BytesIO()
    write_full_export(log, out)
    assert log.verify(trusted_checkpoints=[note, note]).checkpoints_verified == 1
    out.seek(0)
    report = verify_export(out, log.verifier, trusted_checkpoints=[note, note])  # type: ignore[arg-type]
    assert report.checkpoints_verified == 1


def test_a_purpose_of_256_four_byte_characters_still_makes_a_valid_record() -> None:
    """The derived processing_activity_id percent-encodes the purpose; the record must not
    refuse a valid purpose because of what it derived (was a flaky property test)."""
    r = AuditRecord(kind=AuditEventKind.DOSSIER_READ, actor_sub="cm-1", actor_role="cm",
                    outcome="ok", purpose="\U0001f600" * 256)
    assert AuditRecord.from_leaf(r.to_leaf()) == r
