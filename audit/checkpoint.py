"""Checkpoints in the C2SP tlog-checkpoint format, signed as C2SP signed notes (Ed25519).

A checkpoint note (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note)::

    <origin>\\n
    <tree size, decimal>\\n
    <base64 root hash>\\n
    [extension lines\\n]
    \\n
    — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>\\n

The signature covers the note text (everything before the blank line, with its final
newline). The key id is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || public key),
where 0x01 is the signed-note signature type for Ed25519. Verifiers are published as a
*vkey*: ``<name>+<hex key id>+<base64(0x01 || public key)>``.

Everything here is pure: signing takes the private key, verifying only the vkey.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.merkle import HASH_SIZE
from gateway.errors import IntegrityError

ED25519_SIG_TYPE = b"\x01"  # C2SP signed-note signature type for Ed25519
SIGNATURE_PREFIX = "\u2014 "  # em dash + space
MAX_NOTE_BYTES = 1_000_000  # C2SP signed-note: verifiers may reject larger notes
MAX_SIGNATURES = 100

_KEY_NAME = re.compile(r"[^\s+]+")  # C2SP: no Unicode spaces, no plus


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise IntegrityError(f"{what} is not valid base64") from e


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """C2SP signed-note key id: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519_SIG_TYPE + raw).digest()[:4]


def _check_key_name(name: str) -> None:
    if not _KEY_NAME.fullmatch(name):
        raise ValueError(f"key name {name!r} must be non-empty without spaces or '+'")


@dataclass(frozen=True)
class Checkpoint:
    """The signed statement: in log ``origin`` the tree of ``tree_size`` leaves has ``root_hash``."""

    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or self.origin != self.origin.strip():
            raise ValueError("origin must be one non-empty line without surrounding space")
        if type(self.tree_size) is not int or self.tree_size < 0:
            raise ValueError("tree size must be a non-negative integer")
        if len(self.root_hash) != HASH_SIZE:
            raise ValueError("root hash must be 32 bytes")
        for line in self.extensions:
            if not line or "\n" in line:
                raise ValueError("extension lines must be non-empty single lines")

    def body(self) -> str:
        """The note text that is signed (C2SP tlog-checkpoint)."""
        lines = [self.origin, str(self.tree_size), _b64(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str  # the full signed note, as published

    @property
    def tree_size(self) -> int:
        return self.checkpoint.tree_size

    @property
    def root_hash(self) -> bytes:
        return self.checkpoint.root_hash


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 verifier key, parsed from (or rendered as) a C2SP vkey."""

    name: str
    public_key: Ed25519PublicKey

    def __post_init__(self) -> None:
        _check_key_name(self.name)

    @functools.cached_property
    def key_id(self) -> bytes:  # computed once: verify checks one signature per checkpoint
        return key_id(self.name, self.public_key)

    def vkey(self) -> str:
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return f"{self.name}+{self.key_id.hex()}+{_b64(ED25519_SIG_TYPE + raw)}"

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        parts = vkey.strip().split("+", 2)  # base64 may itself contain "+"
        if len(parts) != 3:
            raise ValueError("a vkey is <name>+<hex key id>+<base64 key>")
        name, hex_id, b64_key = parts
        _check_key_name(name)
        try:
            raw = base64.b64decode(b64_key, validate=True)
            claimed_id = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError) as e:
            raise ValueError(f"malformed vkey: {e}") from e
        if len(raw) != 33 or raw[:1] != ED25519_SIG_TYPE:
            raise ValueError("vkey is not an Ed25519 (type 0x01) key")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
        if len(claimed_id) != 4 or not hmac.compare_digest(claimed_id, verifier.key_id):
            raise ValueError("vkey key id does not match its name and key")
        return verifier

    @classmethod
    def for_private_key(cls, name: str, private_key: Ed25519PrivateKey) -> NoteVerifier:
        return cls(name, private_key.public_key())


def vkey_for(name: str, private_key: Ed25519PrivateKey) -> str:
    """The published verifier key of the log's signing key."""
    return NoteVerifier.for_private_key(name, private_key).vkey()


def sign_checkpoint(
    checkpoint: Checkpoint, private_key: Ed25519PrivateKey, key_name: str
) -> SignedCheckpoint:
    """Sign ``checkpoint`` as a C2SP signed note with one Ed25519 signature line.

    Callers that are a log must first make sure the checkpoint is consistent with the last one
    they signed (audit.log.AuditLog.checkpoint does, under the database lock).
    """
    _check_key_name(key_name)
    body = checkpoint.body()
    kid = key_id(key_name, private_key.public_key())
    sig = private_key.sign(body.encode("utf-8"))
    note = f"{body}\n{SIGNATURE_PREFIX}{key_name} {_b64(kid + sig)}\n"
    return SignedCheckpoint(checkpoint, note)


def parse_checkpoint_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise IntegrityError("checkpoint needs origin, tree size and root hash lines")
    origin, size_text, root_text, *extensions = lines[:-1]
    # Decimal without sign or leading zeros (C2SP tlog-checkpoint).
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_text):
        raise IntegrityError(f"checkpoint tree size {size_text!r} is not a decimal number")
    root = _unb64(root_text, "checkpoint root hash")
    try:
        return Checkpoint(origin, int(size_text), root, tuple(extensions))
    except ValueError as e:
        raise IntegrityError(f"malformed checkpoint: {e}") from e


def open_checkpoint(note: str, verifier: NoteVerifier, *, origin: str | None = None) -> Checkpoint:
    """Parse a signed checkpoint note and verify it with ``verifier``; raise IntegrityError.

    Signature lines from other keys are ignored (C2SP signed-note); at least one line must be
    a valid signature by the trusted key. ``origin``, if given, must match.
    """
    if len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise IntegrityError("checkpoint note too large")
    body, sep, sigs = note.partition("\n\n")
    if not sep or not body:
        raise IntegrityError("checkpoint note has no signature block")
    body += "\n"
    checkpoint = parse_checkpoint_body(body)
    if origin is not None and checkpoint.origin != origin:
        raise IntegrityError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    if not sigs.endswith("\n"):
        raise IntegrityError("checkpoint signature block must end with a newline")
    sig_lines = sigs[:-1].split("\n")
    if len(sig_lines) > MAX_SIGNATURES:
        raise IntegrityError("too many signature lines")
    want_id = verifier.key_id
    for line in sig_lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise IntegrityError("malformed signature line in checkpoint")
        name, _, b64sig = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if name != verifier.name:
            continue
        blob = _unb64(b64sig, "checkpoint signature")
        if len(blob) != 4 + 64 or not hmac.compare_digest(blob[:4], want_id):
            continue
        try:
            verifier.public_key.verify(blob[4:], body.encode("utf-8"))
        except InvalidSignature as e:
            raise IntegrityError(
                f"checkpoint signature for tree size {checkpoint.tree_size} does not verify"
            ) from e
        return checkpoint
    raise IntegrityError(
        f"checkpoint for tree size {checkpoint.tree_size} has no signature by key {verifier.name!r}"
    )
