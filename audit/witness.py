"""Witnesses: C2SP tlog-witness (``add-checkpoint``) and tlog-cosignature (``cosignature/v1``).

A witness (an FG, a neighbouring municipality, a national body) keeps, per log origin, the
latest checkpoint it cosigned. A log submits each new checkpoint with a consistency proof from
the size the witness last saw; the witness checks the log's signature and the proof, stores the
new size *atomically with the check* (one SQLite ``BEGIN IMMEDIATE`` transaction) and returns a
timestamped Ed25519 cosignature line. A checkpoint inconsistent with what it saw is refused with
409 and its size, so a log that rewrote history cannot collect cosignatures for the rewrite.

- https://c2sp.org/tlog-witness: request body ``old <size>\\n`` + up to 63 base64 proof lines +
  ``\\n`` + the signed checkpoint; 404 unknown origin, 403 no trusted signature, 400 malformed or
  old > new, 409 (``text/x.tlog.size``) old size is not the witness's, or same size other root,
  422 the consistency proof fails; 200 with ``— <name> <base64>`` cosignature lines.
- https://c2sp.org/tlog-cosignature: key id SHA-256(name || 0x0A || 0x04 || key)[:4]; the
  signature is ``uint64be(timestamp) || Ed25519(msg)`` with msg = ``cosignature/v1\\ntime
  <t>\\n`` + the checkpoint's whole note body.

The protocol core (:class:`Witness`) is a plain function of request bytes to a response; the
HTTP server (:func:`asgi_app`) and the log's client (:func:`submit`) are thin edges.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import sqlite3
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit import merkle
from audit.checkpoint import (
    SIGNATURE_PREFIX,
    Checkpoint,
    Verifier,
    open_checkpoint,
    parse_checkpoint_body,
)
from audit.errors import BadInput, IntegrityError

COSIGNATURE_V1 = b"\x04"  # C2SP signed-note signature type: Ed25519 cosignature/v1
MAX_REQUEST_BYTES = 128 * 1024
MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class CosignerKey:
    """A witness's public key for cosignature/v1, parsed from (or rendered as) a vkey."""

    name: str
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(self.name.encode() + b"\n" + COSIGNATURE_V1 + _raw(self.public_key)).digest()[:4]

    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(COSIGNATURE_V1 + _raw(self.public_key))}"

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignerKey:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not parts[0] or any(c.isspace() for c in parts[0]):
            raise ValueError("a witness vkey is <name>+<hex key id>+<base64 key>")
        name, hex_id, b64 = parts
        try:
            raw = base64.b64decode(b64, validate=True)
            claimed = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError) as e:
            raise ValueError(f"malformed witness vkey: {e}") from e
        if len(raw) != 33 or raw[:1] != COSIGNATURE_V1:
            raise ValueError("witness vkey is not an Ed25519 cosignature/v1 (type 0x04) key")
        key = cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
        if not hmac.compare_digest(claimed, key.key_id):
            raise ValueError("witness vkey key id does not match its name and key")
        return key


def cosigned_message(note_body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + note_body.encode("utf-8")


def cosign(note_body: str, private_key: Ed25519PrivateKey, name: str, timestamp: int) -> str:
    """One ``cosignature/v1`` signature line for a checkpoint's note body."""
    if not 0 <= timestamp <= 2**63 - 1:
        raise ValueError("cosignature timestamp out of range")
    kid = CosignerKey(name, private_key.public_key()).key_id
    sig = private_key.sign(cosigned_message(note_body, timestamp))
    return f"{SIGNATURE_PREFIX}{name} {_b64(kid + struct.pack('>Q', timestamp) + sig)}\n"


def cosignature_time(note: str, witness: CosignerKey) -> int | None:
    """The timestamp of ``witness``'s valid cosignature on ``note``; None if it has none. A line
    under the witness's name and key id that does not verify raises IntegrityError."""
    body, sep, sigs = note.rpartition("\n\n")
    if not sep:
        raise IntegrityError("checkpoint note has no signature block")
    body += "\n"
    for line in sigs.split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            continue
        name, _, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if name != witness.name:
            continue
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error:
            continue
        if len(blob) != 4 + 8 + 64 or not hmac.compare_digest(blob[:4], witness.key_id):
            continue
        (ts,) = struct.unpack(">Q", blob[4:12])
        try:
            witness.public_key.verify(blob[12:], cosigned_message(body, ts))
        except InvalidSignature as e:
            raise IntegrityError(f"cosignature by witness {witness.name!r} does not verify") from e
        return int(ts)
    return None


# --- the witness ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class _Request:
    old_size: int
    proof: tuple[bytes, ...]
    note: str


def _parse_request(body: bytes) -> _Request:
    if len(body) > MAX_REQUEST_BYTES:
        raise BadInput("request too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadInput("request is not UTF-8") from e
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise BadInput("request has no empty line before the checkpoint")
    lines = (head + "\n").split("\n")[:-1]
    first = lines[0]
    if not first.startswith("old ") or not (first[4:] == "0" or first[4:5] in "123456789"):
        raise BadInput("first line must be 'old <size>'")
    if not first[4:].isdigit() or len(first) > 24:
        raise BadInput("old size is not a decimal number")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise BadInput("more than 63 consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            h = base64.b64decode(line, validate=True)
        except binascii.Error as e:
            raise BadInput("a consistency proof line is not base64") from e
        if len(h) != merkle.HASH_SIZE:
            raise BadInput("a consistency proof hash is not 32 bytes")
        proof.append(h)
    return _Request(int(first[4:]), tuple(proof), note)


class WitnessState:
    """The witness's record per origin: latest cosigned size, root and note (SQLite, its own
    file). :meth:`update` checks and stores in one ``BEGIN IMMEDIATE`` transaction, so several
    witness processes on one file stay atomic too.

    One connection for the process, behind a lock: opening and closing one per request cost a
    WAL checkpoint (an extra fsync of the database file) at every close. ``synchronous=FULL``:
    the new size is on disk before the cosignature leaves, or a crash could make the witness
    forget what it cosigned and cosign a fork."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS witness_checkpoints (origin TEXT PRIMARY KEY, "
            "tree_size INTEGER NOT NULL, root_hash BLOB NOT NULL, note TEXT NOT NULL, "
            "updated_at INTEGER NOT NULL)"
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def latest(self, origin: str) -> tuple[int, bytes, str] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT tree_size, root_hash, note FROM witness_checkpoints WHERE origin = ?", (origin,)
            ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]), str(row[2]))

    def update(
        self, origin: str, check: Callable[[int, bytes], Response | None], cp: Checkpoint, note: str
    ) -> Response | None:
        """Under the write lock: ``check(stored size, stored root)`` returns a refusal or None,
        and on None the new checkpoint is stored before the transaction commits."""
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute(
                    "SELECT tree_size, root_hash FROM witness_checkpoints WHERE origin = ?", (origin,)
                ).fetchone()
                size, root = (0, merkle.EMPTY_ROOT) if row is None else (int(row[0]), bytes(row[1]))
                refusal = check(size, root)
                if refusal is not None:
                    db.execute("ROLLBACK")
                    return refusal
                db.execute(
                    "INSERT INTO witness_checkpoints (origin, tree_size, root_hash, note, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(origin) DO UPDATE SET tree_size = excluded.tree_size, "
                    "root_hash = excluded.root_hash, note = excluded.note, updated_at = excluded.updated_at",
                    (origin, cp.tree_size, cp.root_hash, note, int(time.time())),
                )
                db.execute("COMMIT")
                return None
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise


class Witness:
    """The tlog-witness ``add-checkpoint`` logic for the logs in ``logs`` (origin -> key)."""

    def __init__(
        self,
        name: str,
        private_key: Ed25519PrivateKey,
        logs: Mapping[str, Verifier],
        state: WitnessState,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.key = CosignerKey(name, private_key.public_key())
        self._private_key = private_key
        self._logs = dict(logs)
        self.state = state
        self._clock = clock

    def add_checkpoint(self, body: bytes) -> Response:
        try:
            req = _parse_request(body)
            cp_text = req.note.rpartition("\n\n")[0] + "\n"
            origin = parse_checkpoint_body(cp_text).origin
        except (BadInput, IntegrityError) as e:
            return Response(400, f"{e.detail}\n".encode())
        verifier = self._logs.get(origin)
        if verifier is None:
            return Response(404, b"unknown log origin\n")
        try:
            cp = open_checkpoint(req.note, verifier, origin=origin)
        except IntegrityError:
            return Response(403, b"no signature by a trusted key of this log\n")
        if req.old_size > cp.tree_size:
            return Response(400, b"old size is larger than the checkpoint size\n")
        if req.old_size == 0 and req.proof:
            return Response(400, b"the consistency proof must be empty for old size 0\n")

        def check(size: int, root: bytes) -> Response | None:
            if req.old_size != size:
                return Response(409, f"{size}\n".encode(), SIZE_CONTENT_TYPE)
            if size == cp.tree_size:
                if root != cp.root_hash:
                    return Response(409, f"{size}\n".encode(), SIZE_CONTENT_TYPE)
                return None
            if size > 0:
                try:
                    merkle.verify_consistency(size, cp.tree_size, root, cp.root_hash, req.proof)
                except merkle.ProofError:
                    return Response(422, b"the consistency proof does not verify\n")
            return None

        # The stored note carries this witness's own cosignature, so `loket witness latest`
        # hands out a note that counts toward a verifier's quorum.
        line = cosign(cp_text, self._private_key, self.name, int(self._clock()))
        refusal = self.state.update(origin, check, cp, _with_line(req.note, line))
        if refusal is not None:
            return refusal
        return Response(200, line.encode("utf-8"))


def _with_line(note: str, line: str) -> str:
    """``note`` with signature ``line`` added (once; an older line by the same key id replaced)."""
    prefix = line.split(" ", 2)
    kept = [s for s in note.splitlines(keepends=True) if not (
        s.startswith(prefix[0] + " " + prefix[1] + " ") and _key_id_of(s) == _key_id_of(line))]
    return "".join(kept) + line


def _key_id_of(line: str) -> bytes:
    try:
        return base64.b64decode(line.rstrip("\n").rpartition(" ")[2], validate=True)[:4]
    except binascii.Error:
        return b""


def asgi_app(witness: Witness) -> Any:
    """``POST /add-checkpoint`` over HTTP (Starlette)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response as HttpResponse
    from starlette.routing import Route

    async def add_checkpoint(request: Request) -> HttpResponse:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_REQUEST_BYTES:
                return HttpResponse("request too large\n", status_code=413)
        import anyio

        r = await anyio.to_thread.run_sync(witness.add_checkpoint, body)
        return HttpResponse(r.body, status_code=r.status, media_type=r.content_type)

    return Starlette(routes=[Route("/add-checkpoint", add_checkpoint, methods=["POST"])])


# --- the log's side: submitting, and the trust policy ----------------------------------------


def request_body(old_size: int, proof: Iterable[bytes], note: str) -> bytes:
    return (f"old {old_size}\n" + "".join(_b64(h) + "\n" for h in proof) + "\n" + note).encode("utf-8")


@dataclass(frozen=True)
class WitnessEndpoint:
    key: CosignerKey
    url: str | None = None  # the submission prefix


@dataclass(frozen=True)
class WitnessPolicy:
    """Which witnesses a checkpoint needs before a verifier accepts it (a tlog-policy-style
    file, see :func:`parse_policy`): ``quorum`` distinct witnesses among ``witnesses``."""

    witnesses: tuple[WitnessEndpoint, ...]
    quorum: int

    def cosigners(self, note: str) -> tuple[str, ...]:
        """The distinct configured witnesses that validly cosigned ``note`` (a witness that
        appears twice counts once)."""
        seen: dict[bytes, str] = {}
        for w in self.witnesses:
            if cosignature_time(note, w.key) is not None:
                seen.setdefault(w.key.key_id + w.key.name.encode(), w.key.name)
        return tuple(seen.values())

    def check(self, note: str) -> tuple[str, ...]:
        """Raise IntegrityError unless ``note`` carries the quorum; return who cosigned."""
        names = self.cosigners(note)
        if len(names) < self.quorum:
            cp = parse_checkpoint_body(note.rpartition("\n\n")[0] + "\n")
            raise IntegrityError(
                f"checkpoint at tree size {cp.tree_size} has {len(names)} of the {self.quorum} "
                f"witness cosignatures the policy requires ({', '.join(names) or 'none'})"
            )
        return names


def parse_policy(text: str) -> WitnessPolicy:
    """A policy file, one statement per line (``#`` comments)::

        witness <name> <cosignature vkey> [<submission URL>]
        quorum <k>            # k distinct witnesses; "all" or "none" also allowed
    """
    witnesses: list[WitnessEndpoint] = []
    quorum: str | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        word, *args = line.split()
        try:
            if word == "witness" and len(args) in (2, 3):
                key = CosignerKey.from_vkey(args[1])
                if key.name != args[0]:
                    raise ValueError("the name does not match the vkey's name")
                witnesses.append(WitnessEndpoint(key, args[2] if len(args) == 3 else None))
            elif word == "quorum" and len(args) == 1 and quorum is None:
                quorum = args[0]
            else:
                raise ValueError(f"unknown or malformed statement {word!r}")
        except ValueError as e:
            raise BadInput(f"witness policy line {n}: {e}") from e
    if quorum is None:
        raise BadInput("witness policy has no quorum line")
    k = len(witnesses) if quorum == "all" else 0 if quorum == "none" else int(quorum) if quorum.isdigit() else -1
    if not 0 <= k <= len({w.key.key_id for w in witnesses}):
        raise BadInput(f"witness policy quorum {quorum!r} is not a number of the configured witnesses")
    return WitnessPolicy(tuple(witnesses), k)


class WitnessRefused(IntegrityError):
    """A witness refused a checkpoint as inconsistent with what it saw (409 after catching up,
    or 422): an alert, never retried silently."""


class BadCosignature(IntegrityError):
    """A witness answered 200 without a valid cosignature by its configured key: an alert (a
    witness that signs with another key, or something in between that rewrites answers)."""


def submit(
    endpoint: WitnessEndpoint,
    note: str,
    tree_size: int,
    consistency_proof: Callable[[int, int], Sequence[bytes]],
    *,
    old_size: int = 0,
    post: Callable[[str, bytes], tuple[int, str]] | None = None,
) -> tuple[str, int]:
    """Submit a checkpoint to one witness; return (cosignature line, the size it now holds).

    ``old_size`` is what the log believes the witness last saw; on 409 the log learns the
    witness's size and tries once more from there (C2SP tlog-witness). ``post(url, body)`` ->
    (status, text) is the HTTP edge (default: :class:`HttpPoster`, 5 s timeout)."""
    if endpoint.url is None:
        raise BadInput(f"witness {endpoint.key.name!r} has no submission URL")
    send = post or _default_post
    url = endpoint.url.rstrip("/") + "/add-checkpoint"
    for _attempt in range(2):
        proof = consistency_proof(old_size, tree_size) if 0 < old_size < tree_size else ()
        status, text = send(url, request_body(old_size, proof, note))
        if status == 200:
            for line in text.splitlines(keepends=True):
                try:
                    if cosignature_time(note + line, endpoint.key) is not None:
                        return line, tree_size
                except IntegrityError as e:
                    raise BadCosignature(f"witness {endpoint.key.name!r} answered with a cosignature "
                                         f"that does not verify at tree size {tree_size}") from e
            raise BadCosignature(f"witness {endpoint.key.name!r} answered without a valid cosignature "
                                 f"at tree size {tree_size}")
        if status == 409 and text.strip().isdigit():
            seen = int(text.strip())
            if seen == old_size or seen > tree_size:
                raise WitnessRefused(
                    f"witness {endpoint.key.name!r} refused the checkpoint at tree size {tree_size}: "
                    f"it holds tree size {seen} with another root (the log is inconsistent with it)"
                )
            old_size = seen
            continue
        if status == 422:
            raise WitnessRefused(
                f"witness {endpoint.key.name!r} refused the checkpoint at tree size {tree_size}: "
                f"the consistency proof from {old_size} does not verify against what it saw"
            )
        raise IntegrityError(f"witness {endpoint.key.name!r} answered {status}: {text.strip()[:200]}")
    raise WitnessRefused(f"witness {endpoint.key.name!r} keeps moving its size; giving up")


#: A witness's answer is a few cosignature lines; anything larger is refused while reading.
MAX_RESPONSE_BYTES = 64 * 1024


class HttpPoster:
    """``post(url, body) -> (status, text)`` over one kept-alive connection per witness (C2SP:
    clients SHOULD keep connections), stdlib ``http.client``: per round trip it costs about
    half the client CPU of httpx (benchmarks/witness_bench.py), which on a loaded 2-core
    machine is most of the loopback latency. ``timeout_s`` bounds connect and each read; an
    answer over :data:`MAX_RESPONSE_BYTES` is refused while reading."""

    def __init__(self, timeout_s: float = 5.0) -> None:
        self.timeout_s = timeout_s
        self._conns: dict[tuple[str, str, int], http.client.HTTPConnection] = {}
        self._lock = threading.Lock()

    def _conn(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        key = (scheme, host, port)
        conn = self._conns.get(key)
        if conn is None:
            if scheme == "https":
                conn = http.client.HTTPSConnection(host, port, timeout=self.timeout_s,
                                                   context=ssl.create_default_context())
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.timeout_s)
            self._conns[key] = conn
        return conn

    def __call__(self, url: str, body: bytes) -> tuple[int, str]:
        u = urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"witness URL must be http(s)://host/...: {url[:100]}")
        port = u.port or (443 if u.scheme == "https" else 80)
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        headers = {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body))}
        with self._lock:
            for attempt in (0, 1):
                conn = self._conn(u.scheme, u.hostname, port)
                reused = conn.sock is not None
                try:
                    conn.request("POST", path, body=body, headers=headers)
                    r = conn.getresponse()
                    data = r.read(MAX_RESPONSE_BYTES + 1)
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    conn.close()
                    if reused and attempt == 0:  # the witness closed a kept-alive connection
                        continue
                    raise
                except BaseException:
                    conn.close()
                    raise
                if len(data) > MAX_RESPONSE_BYTES:
                    conn.close()
                    raise OSError(f"witness answer over {MAX_RESPONSE_BYTES} bytes")
                if r.will_close:
                    conn.close()
                return r.status, data.decode("utf-8", errors="replace")
        raise OSError("unreachable")  # pragma: no cover - the loop returns or raises

    def close(self) -> None:
        with self._lock:
            for conn in self._conns.values():
                conn.close()
            self._conns.clear()


_default_post = HttpPoster(5.0)
