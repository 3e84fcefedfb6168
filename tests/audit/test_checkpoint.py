"""C2SP tlog-checkpoint / signed-note format, Ed25519 signatures, vkeys."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import Checkpoint, NoteVerifier, open_checkpoint, sign_checkpoint, vkey_for
from gateway.core.errors import IntegrityError

NAME = "loket.test/audit"
ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_note_layout_is_c2sp(key: Ed25519PrivateKey) -> None:
    signed = sign_checkpoint(Checkpoint(NAME, 1050, ROOT), key, NAME)
    lines = signed.note.split("\n")
    assert lines[:4] == [NAME, "1050", base64.b64encode(ROOT).decode(), ""]
    assert lines[4].startswith("\u2014 " + NAME + " ")
    assert lines[5] == "" and len(lines) == 6
    blob = base64.b64decode(lines[4].split(" ")[2])
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert blob[:4] == hashlib.sha256(NAME.encode() + b"\n\x01" + raw).digest()[:4]
    key.public_key().verify(blob[4:], f"{NAME}\n1050\n{base64.b64encode(ROOT).decode()}\n".encode())


def test_vkey_round_trips_and_verifies(key: Ed25519PrivateKey) -> None:
    vkey = vkey_for(NAME, key)
    name, hex_id, b64 = vkey.split("+", 2)
    assert name == NAME and len(hex_id) == 8 and base64.b64decode(b64)[0] == 1
    verifier = NoteVerifier.from_vkey(vkey)
    signed = sign_checkpoint(Checkpoint(NAME, 7, ROOT), key, NAME)
    assert open_checkpoint(signed.note, verifier, origin=NAME) == Checkpoint(NAME, 7, ROOT)


def test_vkey_with_wrong_key_id_is_rejected(key: Ed25519PrivateKey) -> None:
    name, _, b64 = vkey_for(NAME, key).split("+", 2)
    with pytest.raises(ValueError, match="key id"):
        NoteVerifier.from_vkey(f"{name}+00000000+{b64}")


def _tamper(note: str, old: str, new: str) -> str:
    assert old in note
    return note.replace(old, new, 1)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda n: _tamper(n, "\n42\n", "\n43\n"),  # tree size
        lambda n: _tamper(n, NAME + "\n", "evil.example/log\n"),  # origin (signed)
        lambda n: n.replace(
            base64.b64encode(ROOT).decode(), base64.b64encode(b"\x00" * 32).decode()
        ),
    ],
    ids=["size", "origin", "root"],
)
def test_changed_checkpoint_fails(key: Ed25519PrivateKey, tamper: object) -> None:
    signed = sign_checkpoint(Checkpoint(NAME, 42, ROOT), key, NAME)
    verifier = NoteVerifier.for_private_key(NAME, key)
    with pytest.raises(IntegrityError, match="tree size|origin|signature"):
        open_checkpoint(tamper(signed.note), verifier)  # type: ignore[operator]


def test_checkpoint_signed_by_another_key_fails(key: Ed25519PrivateKey) -> None:
    forged = sign_checkpoint(Checkpoint(NAME, 42, ROOT), Ed25519PrivateKey.generate(), NAME)
    with pytest.raises(IntegrityError, match="no signature by key"):
        open_checkpoint(forged.note, NoteVerifier.for_private_key(NAME, key))


def test_foreign_signature_lines_are_ignored(key: Ed25519PrivateKey) -> None:
    # C2SP signed-note: a witness cosignature from an unknown key must not break verification.
    ours = sign_checkpoint(Checkpoint(NAME, 42, ROOT), key, NAME)
    witness = sign_checkpoint(
        Checkpoint(NAME, 42, ROOT), Ed25519PrivateKey.generate(), "witness.example"
    )
    note = witness.note + ours.note.split("\n\n")[1]
    assert open_checkpoint(note, NoteVerifier.for_private_key(NAME, key)).tree_size == 42


def test_wrong_origin_is_rejected(key: Ed25519PrivateKey) -> None:
    signed = sign_checkpoint(Checkpoint(NAME, 1, ROOT), key, NAME)
    with pytest.raises(IntegrityError, match="origin"):
        open_checkpoint(
            signed.note, NoteVerifier.for_private_key(NAME, key), origin="other.example/log"
        )


@pytest.mark.parametrize(
    "note",
    [
        "",
        "only\none\n",
        f"{NAME}\n01\nAAAA\n\n\u2014 x AAAA\n",
        f"{NAME}\n1\n!!!\n\n\u2014 x AAAA\n",
        "a\n1\nAA==\n\nno dash\n",
    ],
)
def test_malformed_notes_are_integrity_errors(key: Ed25519PrivateKey, note: str) -> None:
    with pytest.raises(IntegrityError):
        open_checkpoint(note, NoteVerifier.for_private_key(NAME, key))
