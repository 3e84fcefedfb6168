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

A note may carry several signatures (C2SP signed-note), and verifiers hold a *set* of trusted
keys (:class:`TrustedKeys`: the log's current key and its retired ones). Key rotation is a
*transition checkpoint*: an ordinary checkpoint whose extension line names the old and the new
vkey, signed by both keys (:func:`transition_checkpoint`). :class:`KeyChain` lets a verifier
that holds either key follow such a link to the other one (rule in its docstring).

Everything here is pure: signing takes the private key, verifying only the vkey.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.errors import IntegrityError
from audit.merkle import HASH_SIZE

ED25519_SIG_TYPE = b"\x01"  # C2SP signed-note signature type for Ed25519
SIGNATURE_PREFIX = "\u2014 "  # em dash + space
MAX_NOTE_BYTES = 1_000_000  # C2SP signed-note: verifiers may reject larger notes
MAX_SIGNATURES = 100
#: C2SP tlog-checkpoint: the tree size is a uint64.
MAX_TREE_SIZE = 2**64 - 1

#: The extension line of a transition checkpoint: ``loket-key-rotation <old vkey> <new vkey>``.
KEY_ROTATION_EXTENSION = "loket-key-rotation"

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
        if type(self.tree_size) is not int or not 0 <= self.tree_size <= MAX_TREE_SIZE:
            raise ValueError("tree size must be an integer from 0 to 2**64 - 1")
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


@dataclass(frozen=True)
class RetiredKey:
    """A key the log signed with before a rotation, trusted only up to ``retired_at``: the
    largest tree size it signed. ``None``: learn that size from the log's transition checkpoint
    naming it as the old key (signed by it); with no such transition in sight, unbounded."""

    key: NoteVerifier
    retired_at: int | None = None

    def __post_init__(self) -> None:
        if self.retired_at is not None and not 0 <= self.retired_at <= MAX_TREE_SIZE:
            raise ValueError("retired_at must be a tree size")


@dataclass(frozen=True)
class TrustedKeys:
    """The verifier keys a checkpoint may be signed by: the log's current key (the one it signs
    with now, published at /.well-known/loket-audit-key) and the keys it signed with before
    (each trusted only up to the tree size at which it was retired, see :class:`RetiredKey`)."""

    current: NoteVerifier | None
    retired: tuple[NoteVerifier | RetiredKey, ...] = ()

    @property
    def retired_keys(self) -> tuple[RetiredKey, ...]:
        return tuple(r if isinstance(r, RetiredKey) else RetiredKey(r) for r in self.retired)

    @property
    def all(self) -> tuple[NoteVerifier, ...]:
        current = (self.current,) if self.current is not None else ()
        return current + tuple(r.key for r in self.retired_keys)

    def vkey(self) -> str:
        """The current verifier key (what the log signs new checkpoints with)."""
        if self.current is None:
            raise RuntimeError("no current verifier key")
        return self.current.vkey()


#: Anything a checkpoint can be verified with: one key or a set of trusted keys.
Verifier = NoteVerifier | TrustedKeys


def sign_checkpoint_with(
    checkpoint: Checkpoint, signers: Sequence[tuple[Ed25519PrivateKey, str]]
) -> SignedCheckpoint:
    """Sign ``checkpoint`` as a C2SP signed note with one signature line per (key, key name)."""
    if not signers:
        raise ValueError("a checkpoint needs at least one signer")
    body = checkpoint.body()
    lines = []
    for private_key, key_name in signers:
        _check_key_name(key_name)
        kid = key_id(key_name, private_key.public_key())
        sig = private_key.sign(body.encode("utf-8"))
        lines.append(f"{SIGNATURE_PREFIX}{key_name} {_b64(kid + sig)}\n")
    return SignedCheckpoint(checkpoint, f"{body}\n{''.join(lines)}")


def sign_checkpoint(
    checkpoint: Checkpoint, private_key: Ed25519PrivateKey, key_name: str
) -> SignedCheckpoint:
    """Sign ``checkpoint`` as a C2SP signed note with one Ed25519 signature line.

    Callers that are a log must first make sure the checkpoint is consistent with the last one
    they signed (audit.log.AuditLog.checkpoint does, under the database lock).
    """
    return sign_checkpoint_with(checkpoint, [(private_key, key_name)])


def parse_checkpoint_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise IntegrityError("checkpoint needs origin, tree size and root hash lines")
    origin, size_text, root_text, *extensions = lines[:-1]
    # Decimal without sign or leading zeros (C2SP tlog-checkpoint).
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_text):
        raise IntegrityError(f"checkpoint tree size {size_text!r} is not a decimal number")
    if int(size_text) > MAX_TREE_SIZE:
        raise IntegrityError(f"checkpoint tree size {size_text} is beyond 2**64 - 1")
    root = _unb64(root_text, "checkpoint root hash")
    try:
        return Checkpoint(origin, int(size_text), root, tuple(extensions))
    except ValueError as e:
        raise IntegrityError(f"malformed checkpoint: {e}") from e


@dataclass(frozen=True)
class _Signature:
    name: str
    blob: bytes  # 4-byte key id || signature, or anything a foreign signer put there


@dataclass(frozen=True)
class _ParsedNote:
    checkpoint: Checkpoint
    body: bytes
    signatures: tuple[_Signature, ...]


def _parse_note(note: str, origin: str | None) -> _ParsedNote:
    if len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise IntegrityError("checkpoint note too large")
    # Split at the *last* blank line, as Go's golang.org/x/mod/sumdb/note.Open does.
    body, sep, sigs = note.rpartition("\n\n")
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
    signatures = []
    for line in sig_lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise IntegrityError("malformed signature line in checkpoint")
        name, _, b64sig = line[len(SIGNATURE_PREFIX) :].partition(" ")
        signatures.append(_Signature(name, _unb64(b64sig, "checkpoint signature")))
    return _ParsedNote(checkpoint, body.encode("utf-8"), tuple(signatures))


def _signed_by(parsed: _ParsedNote, verifier: NoteVerifier) -> bool:
    """True if ``parsed`` carries a valid signature by ``verifier``. A line that claims the
    verifier's name and key id but does not verify is tampering, not a foreign signature."""
    for sig in parsed.signatures:
        if sig.name != verifier.name:
            continue
        if len(sig.blob) != 4 + 64 or not hmac.compare_digest(sig.blob[:4], verifier.key_id):
            continue
        try:
            verifier.public_key.verify(sig.blob[4:], parsed.body)
        except InvalidSignature as e:
            raise IntegrityError(
                f"checkpoint signature for tree size {parsed.checkpoint.tree_size} "
                f"by key id {verifier.key_id.hex()} does not verify"
            ) from e
        return True
    return False


def _describe_signers(parsed: _ParsedNote) -> str:
    """Who signed, by key name and id only (a signature line holds no key material)."""
    return ", ".join(
        f"{s.name!r} key id {s.blob[:4].hex() if len(s.blob) >= 4 else '?'}"
        for s in parsed.signatures
    )


def _open_parsed(parsed: _ParsedNote, keys: Sequence[NoteVerifier]) -> Checkpoint:
    for verifier in keys:
        if _signed_by(parsed, verifier):
            return parsed.checkpoint
    names = sorted({k.name for k in keys})
    trusted = ", ".join(k.key_id.hex() for k in keys) or "none"
    raise IntegrityError(
        f"checkpoint for tree size {parsed.checkpoint.tree_size} has no signature by key "
        f"{' or '.join(repr(n) for n in names) or '(none)'} with a trusted key id ({trusted}); "
        f"it is signed by {_describe_signers(parsed)}"
    )


def open_checkpoint(note: str, verifier: Verifier, *, origin: str | None = None) -> Checkpoint:
    """Parse a signed checkpoint note and verify it; raise IntegrityError.

    Signature lines from other keys are ignored (C2SP signed-note); at least one line must be
    a valid signature by a trusted key (``verifier``: one key, or current + retired keys; a
    retired key only up to the size at which it was retired). A line under a trusted key's
    name and id that does not verify fails the note. ``origin``, if given, must match.
    """
    parsed = _parse_note(note, origin)
    return _open_parsed(parsed, KeyChain(verifier).keys_at(parsed.checkpoint.tree_size))


# --- key rotation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyTransition:
    """A verified transition checkpoint: at ``tree_size`` the log moved from ``old`` to ``new``."""

    tree_size: int
    old: NoteVerifier
    new: NoteVerifier
    note: str


def transition_checkpoint(
    origin: str,
    tree_size: int,
    root_hash: bytes,
    old: NoteVerifier,
    new: NoteVerifier,
    extensions: Sequence[str] = (),
) -> Checkpoint:
    """The checkpoint to sign with both keys when the log's key changes from ``old`` to ``new``.

    The extension line puts both vkeys *inside the signed text*: the old key's signature
    vouches for the new key and the new key's for the old one. A second signature line alone
    would not — anyone can append a signature line by a key of their own.
    """
    if old.key_id == new.key_id:
        raise ValueError("the new key is the old key")
    return Checkpoint(
        origin,
        tree_size,
        root_hash,
        (f"{KEY_ROTATION_EXTENSION} {old.vkey()} {new.vkey()}", *extensions),
    )


def _transition_of(parsed: _ParsedNote, note: str) -> KeyTransition | None:
    cp = parsed.checkpoint
    lines = [x for x in cp.extensions if x.startswith(KEY_ROTATION_EXTENSION + " ")]
    if not lines:
        return None
    if len(lines) != 1:
        raise IntegrityError(f"checkpoint at tree size {cp.tree_size}: more than one key rotation line")
    parts = lines[0].split(" ")
    try:
        if len(parts) != 3:
            raise ValueError("expected two vkeys")
        old, new = NoteVerifier.from_vkey(parts[1]), NoteVerifier.from_vkey(parts[2])
    except ValueError as e:
        raise IntegrityError(
            f"checkpoint at tree size {cp.tree_size}: malformed key rotation line: {e}"
        ) from e
    for who, key in (("old", old), ("new", new)):
        if not _signed_by(parsed, key):
            raise IntegrityError(
                f"transition checkpoint at tree size {cp.tree_size} is not signed by the {who} "
                f"key it names (key id {key.key_id.hex()})"
            )
    return KeyTransition(cp.tree_size, old, new, note)


def open_transition(note: str, *, origin: str | None = None) -> KeyTransition | None:
    """The key transition ``note`` records (both signatures checked), or None if it is an
    ordinary checkpoint. Says nothing about whether either key is trusted: see KeyChain."""
    return _transition_of(_parse_note(note, origin), note)


_UNBOUNDED = 2**64


@dataclass(frozen=True)
class _Grant:
    key: NoteVerifier
    min_size: int
    max_size: int

    def covers(self, key: NoteVerifier, size: int) -> bool:
        return self.key.key_id == key.key_id and self.key.name == key.name and (
            self.min_size <= size <= self.max_size
        )


class KeyChain:
    """The keys that vouch for each tree size of one log, given the verifier's trusted keys and
    the log's transition checkpoints.

    Rule: the current key is trusted at every tree size; a retired key up to the size at which
    it was retired (:class:`RetiredKey`: given, or the smallest transition checkpoint naming it
    as the old key and signed by it; else at every size). A transition
    checkpoint at tree size T, signed by both keys it names, is *linked* when one of those keys
    is trusted at T; a linked transition makes its new key trusted for sizes >= T (a verifier
    holding the old key follows the log forward) and its old key for sizes <= T (a verifier
    holding the new key follows it back), and so on along a chain of rotations. An unlinked
    transition extends nothing. Only a log's own sequence of checkpoints (database or full
    export) links keys; a single checkpoint (a proof bundle) is checked with trusted keys only.
    """

    def __init__(self, trusted: Verifier, transitions: Iterable[KeyTransition] = ()) -> None:
        pending = list(transitions)
        if isinstance(trusted, TrustedKeys):
            self._grants = [_Grant(trusted.current, 0, _UNBOUNDED)] if trusted.current else []
            for r in trusted.retired_keys:
                until = r.retired_at
                if until is None:
                    until = min(
                        (t.tree_size for t in pending
                         if t.old.key_id == r.key.key_id and t.old.name == r.key.name),
                        default=_UNBOUNDED,
                    )
                self._grants.append(_Grant(r.key, 0, until))
        else:
            self._grants = [_Grant(trusted, 0, _UNBOUNDED)]
        linked: list[KeyTransition] = []
        changed = True
        while changed and pending:  # at most len(transitions) rounds
            changed = False
            for t in list(pending):
                if self._trusted(t.old, t.tree_size) or self._trusted(t.new, t.tree_size):
                    self._grants.append(_Grant(t.new, t.tree_size, _UNBOUNDED))
                    self._grants.append(_Grant(t.old, 0, t.tree_size))
                    pending.remove(t)
                    linked.append(t)
                    changed = True
        self.linked = tuple(linked)

    def _trusted(self, key: NoteVerifier, size: int) -> bool:
        return any(g.covers(key, size) for g in self._grants)

    def keys_at(self, tree_size: int) -> tuple[NoteVerifier, ...]:
        seen: dict[tuple[str, bytes], NoteVerifier] = {}
        for g in self._grants:
            if g.min_size <= tree_size <= g.max_size:
                seen.setdefault((g.key.name, g.key.key_id), g.key)
        return tuple(seen.values())

    @classmethod
    def for_notes(cls, notes: Iterable[str], trusted: Verifier, *, origin: str | None = None) -> KeyChain:
        """The chain from the transition checkpoints among ``notes``."""
        marker = "\n" + KEY_ROTATION_EXTENSION + " "
        transitions = []
        for note in notes:
            if marker in note.partition("\n\n")[0]:
                t = open_transition(note, origin=origin)
                if t is not None:
                    transitions.append(t)
        return cls(trusted, transitions)

    def open(self, note: str, *, origin: str | None = None) -> Checkpoint:
        """Verify ``note`` with the keys that vouch for its tree size."""
        parsed = _parse_note(note, origin)
        return _open_parsed(parsed, self.keys_at(parsed.checkpoint.tree_size))


def open_checkpoints(notes: Sequence[str], trusted: Verifier, *, origin: str | None = None) -> list[Checkpoint]:
    """Verify a log's checkpoint notes with ``trusted`` keys and the transitions among them."""
    chain = KeyChain.for_notes(notes, trusted, origin=origin)
    return [chain.open(note, origin=origin) for note in notes]
