"""Offline verification with only the public key: whole exports and single-record proofs.

No database, no secrets. A full export (format in docs/adr/0003-audit-log-format.md) is
checked by recomputing every leaf hash (RFC 9162 §2.1.1) and the tree root at every signed
checkpoint size from the one sequence of leaves — which also shows that all checkpoints are
consistent with each other — and by verifying each checkpoint's Ed25519 signature (C2SP
signed note). Errors are IntegrityError with a message naming where the log broke: the record
index / export line, or the checkpoint's tree size.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import rfc8785

from audit import merkle, subjects
from audit.checkpoint import Checkpoint, KeyChain, NoteVerifier, TrustedKeys, Verifier, open_checkpoint
from audit.errors import BadInput, IntegrityError
from audit.record import LEAF_FORMAT, LEAF_PREFIX, AuditRecord

EXPORT_FORMAT = "loket-audit-export-v1"
PROOF_FORMAT = "loket-audit-proof-v1"
COMPLETENESS_FORMAT = "loket-audit-completeness-v1"
MAX_COMPLETENESS_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_EXPORT_LINE_BYTES = 64 * 1024
MAX_PROOF_BUNDLE_BYTES = 256 * 1024
# Read buffer for export files: with the default 8 KiB, iterating ~1 KB lines spends a tenth of
# verify's CPU refilling the buffer; 1 MiB halves the per-line read cost.
EXPORT_READ_BUFFER_BYTES = 1 << 20

# A record line exactly as audit.export writes it; the record object is the leaf body.
_RECORD_LINE = re.compile(rb'\{"index":(0|[1-9][0-9]{0,18}),"leaf_hash":"([0-9a-f]{64})","record":')


@dataclass(frozen=True)
class VerifyReport:
    """What a successful verification established."""

    tree_size: int
    root_hash: bytes
    checkpoints_verified: int
    origin: str
    elapsed_s: float

    @property
    def records_per_s(self) -> float:
        return self.tree_size / self.elapsed_s if self.elapsed_s > 0 else float("inf")


@dataclass(frozen=True)
class ProofReport:
    record: AuditRecord
    index: int
    checkpoint: Checkpoint


def _sorted_checkpoints(checkpoints: Iterable[Checkpoint]) -> list[Checkpoint]:
    by_size: dict[int, Checkpoint] = {}
    for cp in checkpoints:
        seen = by_size.get(cp.tree_size)
        if seen is not None and seen.root_hash != cp.root_hash:
            # The log signed two different trees of one size: a split view (C2SP / RFC 9162 §8).
            raise IntegrityError(
                f"checkpoint at tree size {cp.tree_size}: two signed checkpoints disagree"
            )
        by_size[cp.tree_size] = cp
    return [by_size[s] for s in sorted(by_size)]


class CheckpointTrack:
    """The signed checkpoints a stream of leaves must meet, in tree-size order."""

    def __init__(self, checkpoints: Sequence[Checkpoint], expected_size: int) -> None:
        cps = _sorted_checkpoints(checkpoints)
        if cps and cps[-1].tree_size > expected_size:
            raise IntegrityError(
                f"checkpoint at tree size {cps[-1].tree_size} covers records beyond the end of the log "
                f"({expected_size} records): the log was truncated"
            )
        for cp in cps:
            if cp.tree_size == 0 and cp.root_hash != merkle.EMPTY_ROOT:
                raise IntegrityError("checkpoint at tree size 0: root is not the empty-tree hash")
        self._pending = [cp for cp in cps if cp.tree_size > 0][::-1]  # popped from the end
        self.next_size = self._pending[-1].tree_size if self._pending else -1
        self._verified_up_to = 0

    def reached(self, frontier: Sequence[bytes]) -> None:
        """The stream holds exactly ``next_size`` leaves: their root must be the signed one."""
        cp = self._pending.pop()
        size = cp.tree_size
        if merkle.frontier_root(frontier) != cp.root_hash:
            raise IntegrityError(
                f"checkpoint at tree size {size}: root does not match records {self._verified_up_to}..{size - 1} "
                f"(a record in that range was changed, inserted, removed or reordered; "
                f"everything before record {self._verified_up_to} verified)"
            )
        self._verified_up_to = size
        self.next_size = self._pending[-1].tree_size if self._pending else -1

    def finish(self, size: int, expected_size: int) -> None:
        if size != expected_size:
            raise IntegrityError(
                f"record {size}: the log ends after {size} records but should hold {expected_size} (truncated)"
            )
        if self._pending:
            raise IntegrityError(
                f"checkpoint at tree size {self._pending[-1].tree_size}: the log has only {size} records (truncated)"
            )


def verify_leaf_stream(
    leaves: Iterable[tuple[int, bytes | memoryview, bytes | None]],
    checkpoints: Sequence[Checkpoint],
    *,
    expected_size: int,
    progress: Callable[[int], None] | None = None,
    subtrees: list[tuple[int, bytes]] | None = None,
) -> tuple[int, bytes]:
    """Check ``(index, leaf body, claimed leaf hash)`` items against signed checkpoints.

    ``leaf body`` is the leaf without its ``loket-audit-v1\\n`` prefix. The items must be the
    log from index 0 in order. Every checkpoint root must equal the root recomputed at its
    size, and the stream must end at ``expected_size``. Returns (tree size, root).

    If ``subtrees`` is a list, every perfect subtree of level >= 1 the stream completes is
    appended to it as ``(audit.models.subtree_key(level, index), hash)``, in completion order
    (the caller compares them with a store's cached subtrees and may clear the list).
    """
    track = CheckpointTrack(checkpoints, expected_size)
    leaf_base = hashlib.sha256(merkle.LEAF_PREFIX + LEAF_PREFIX)
    sha256 = hashlib.sha256
    node = merkle.NODE_PREFIX
    frontier: list[bytes] = []
    size = 0
    for index, body, claimed in leaves:
        if index != size:
            raise IntegrityError(
                f"record {size}: found index {index} where index {size} belongs "
                "(records were deleted, inserted or reordered)"
            )
        h = leaf_base.copy()
        h.update(body)
        x = h.digest()
        if claimed is not None and claimed != x:
            raise IntegrityError(
                f"record {index}: content does not match its leaf hash (the record was changed)"
            )
        n = size
        if subtrees is None:
            while n & 1:  # RFC 9162 §2.1.1 split, incrementally: merge completed subtrees
                x = sha256(node + frontier.pop() + x).digest()
                n >>= 1
        else:
            level = 0
            while n & 1:
                x = sha256(node + frontier.pop() + x).digest()
                n >>= 1
                level += 1
                subtrees.append(((size >> level) << 6 | level, x))
        frontier.append(x)
        size += 1
        if size == track.next_size:
            track.reached(frontier)
        if progress is not None and size & 0x3FFF == 0:
            progress(size)
    if progress is not None:
        progress(size)
    track.finish(size, expected_size)
    return size, merkle.frontier_root(frontier)


def _bad_record_line(line: bytes, line_no: int, size: int) -> IntegrityError:
    """Explain why ``line`` is not the record line for index ``size``."""
    m = _RECORD_LINE.match(line)
    if m is not None and line.endswith(b"}\n") and int(m.group(1)) != size:
        return IntegrityError(
            f"record {size}: export line {line_no} holds index {m.group(1).decode()} where index {size} "
            "belongs (records were deleted, inserted or reordered)"
        )
    return IntegrityError(
        f"export line {line_no} (where record {size} belongs): not a record line in the export layout"
    )


def _verify_record_lines(
    stream: IO[bytes],
    track: CheckpointTrack,
    *,
    first_line: int,
    expected_size: int,
    deep: bool,
    progress: Callable[[int], None] | None,
    subject_index: subjects.SubjectIndex | None = None,
    subject_roots: Mapping[int, bytes] | None = None,
) -> tuple[int, bytes]:
    """The hot loop of export verification: no regex, no JSON parse, one leaf hash per line."""
    roots = subject_roots or {}
    leaf_base = hashlib.sha256(merkle.LEAF_PREFIX + LEAF_PREFIX)
    sha256 = hashlib.sha256
    node = merkle.NODE_PREFIX
    mid = b'","record":'
    hexlify = binascii.hexlify  # straight to bytes: no str object per record
    frontier: list[bytes] = []
    size = 0
    line_no = first_line
    next_cp = track.next_size
    add_subject = None if subject_index is None else subject_index.add
    for line in stream:
        line_no += 1
        head = b'{"index":%d,"leaf_hash":"' % size
        hp = len(head)
        if (
            not line.startswith(head)
            or not line.startswith(mid, hp + 64)
            or not line.endswith(b"}\n")
            or len(line) > MAX_EXPORT_LINE_BYTES
        ):
            raise _bad_record_line(line, line_no, size)
        body = line[hp + 75 : -2]
        h = leaf_base.copy()
        h.update(body)
        x = h.digest()
        if not line.startswith(hexlify(x), hp):  # the 64 hex digits before `mid`
            raise IntegrityError(
                f"record {size}: content does not match its leaf hash (the record was changed)"
            )
        if deep:
            try:
                AuditRecord.from_leaf(LEAF_PREFIX + body)
            except ValueError as e:
                raise IntegrityError(
                    f"record {size} (export line {line_no}): not a valid audit record: {e}"
                ) from e
        if add_subject is not None:
            add_subject(size, subjects.subject_of_body(body), x)
        n = size
        while n & 1:  # RFC 9162 §2.1.1 split, incrementally: merge completed perfect subtrees
            x = sha256(node + frontier.pop() + x).digest()
            n >>= 1
        frontier.append(x)
        size += 1
        if size == next_cp:
            track.reached(frontier)
            next_cp = track.next_size
        if subject_index is not None and size in roots:
            subjects.check_root(subject_index, roots)
        if progress is not None and size & 0x3FFF == 0:
            progress(size)
    if progress is not None:
        progress(size)
    track.finish(size, expected_size)
    return size, merkle.frontier_root(frontier)


def _json_line(line: bytes, line_no: int, what: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IntegrityError(f"export line {line_no}: {what} is not JSON") from e
    if not isinstance(value, dict):
        raise IntegrityError(f"export line {line_no}: {what} is not a JSON object")
    return value


def verify_export(
    stream: IO[bytes],
    verifier: Verifier,
    *,
    trusted_checkpoints: Sequence[str] = (),
    origin: str | None = None,
    deep: bool = False,
    progress: Callable[[int], None] | None = None,
    subject_map_key: bytes | None = None,
) -> VerifyReport:
    """Verify a full export read from a binary stream; raise IntegrityError naming where.

    With ``subject_map_key`` (the log's, ADR 0005) the subject map root of every checkpoint
    that carries one is recomputed from the records too; without it that check is skipped.

    ``trusted_checkpoints`` are notes obtained elsewhere (the gateway's published checkpoint,
    a citizen's proof bundle): they must verify and match the export too, which is how a
    truncation that also removed the trailing checkpoints is caught.

    ``verifier`` is one key or a set (current + retired); the export's transition checkpoints
    link further keys by the rule of audit.checkpoint.KeyChain.
    """
    started = time.perf_counter()
    header_line = stream.readline(MAX_EXPORT_LINE_BYTES)
    header = _json_line(header_line, 1, "the header")
    if header.get("format") != EXPORT_FORMAT or header.get("leaf_format") != LEAF_FORMAT:
        raise IntegrityError(
            f"export line 1: not a {EXPORT_FORMAT} export with {LEAF_FORMAT} leaves"
        )
    if header.get("complete") is not True:
        raise IntegrityError(
            "export line 1: a filtered export cannot be verified as a whole; use a full export"
        )
    tree_size = header.get("tree_size")
    n_cps = header.get("checkpoints")
    if type(tree_size) is not int or tree_size < 0 or type(n_cps) is not int or n_cps < 0:
        raise IntegrityError("export line 1: header tree_size/checkpoints are not counts")
    want_origin = origin if origin is not None else header.get("origin")
    if not isinstance(want_origin, str):
        raise IntegrityError("export line 1: header has no origin")
    notes: list[str] = []
    for i in range(n_cps):
        line_no = 2 + i
        obj = _json_line(stream.readline(MAX_EXPORT_LINE_BYTES), line_no, "a checkpoint line")
        note = obj.get("checkpoint")
        if not isinstance(note, str) or set(obj) != {"checkpoint"}:
            raise IntegrityError(f"export line {line_no}: expected a checkpoint line")
        notes.append(note)
    try:
        chain = KeyChain.for_notes(notes, verifier, origin=want_origin)
    except IntegrityError as e:
        raise IntegrityError(f"export checkpoints: {e}") from e
    checkpoints: list[Checkpoint] = []
    for i, note in enumerate(notes):
        try:
            checkpoints.append(chain.open(note, origin=want_origin))
        except IntegrityError as e:
            raise IntegrityError(f"export line {2 + i}: {e}") from e
    if not checkpoints:
        raise IntegrityError("export has no signed checkpoint: nothing vouches for its records")
    sizes = [cp.tree_size for cp in checkpoints]
    if sizes != sorted(set(sizes)):
        raise IntegrityError("export checkpoints are not in strictly increasing tree-size order")
    if sizes[-1] != tree_size:
        raise IntegrityError(
            f"checkpoint at tree size {sizes[-1]}: the export claims {tree_size} records, "
            "but the last signed checkpoint must cover exactly the exported records"
        )
    for note in trusted_checkpoints:
        cp = chain.open(note, origin=want_origin)
        if cp.tree_size > tree_size:
            raise IntegrityError(
                f"checkpoint at tree size {cp.tree_size} (trusted) is beyond the export's "
                f"{tree_size} records: the export was truncated"
            )
        checkpoints.append(cp)
    size, root = _verify_record_lines(
        stream,
        CheckpointTrack(checkpoints, tree_size),
        first_line=1 + n_cps,
        expected_size=tree_size,
        deep=deep,
        progress=progress,
        subject_index=subjects.SubjectIndex(subject_map_key) if subject_map_key is not None else None,
        subject_roots=subjects.signed_roots(checkpoints),
    )
    distinct = len({cp.tree_size for cp in checkpoints})  # a checkpoint given twice counts once
    return VerifyReport(size, root, distinct, want_origin, time.perf_counter() - started)


def verify_export_file(path: str, verifier: Verifier, **kwargs: Any) -> VerifyReport:
    with open(path, "rb", buffering=EXPORT_READ_BUFFER_BYTES) as f:
        return verify_export(f, verifier, **kwargs)


# --- single-record proof bundles -----------------------------------------------------------


def _unhex(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise IntegrityError(f"proof bundle: {what} is missing")
    try:
        out = bytes.fromhex(value)
    except ValueError as e:
        raise IntegrityError(f"proof bundle: {what} is not hex") from e
    if len(out) != merkle.HASH_SIZE:
        raise IntegrityError(f"proof bundle: {what} is not 32 bytes")
    return out


def _bundle_checkpoint(bundle: Mapping[str, Any], verifier: Verifier, origin: str | None, tree_size: int, *,
                       bundle_name: str, what: str) -> Checkpoint:
    """The bundle's signed checkpoint, opened with the trusted key(s), for exactly its tree size."""
    note = bundle.get("checkpoint")
    if not isinstance(note, str):
        raise IntegrityError(f"{bundle_name}: checkpoint is missing")
    cp = open_checkpoint(note, verifier, origin=origin)
    if cp.tree_size != tree_size:
        raise IntegrityError(f"checkpoint at tree size {cp.tree_size}: the {what} is for tree size {tree_size}")
    return cp


def verify_proof_bundle(
    bundle: Mapping[str, Any], verifier: Verifier, *, origin: str | None = None
) -> ProofReport:
    """Verify a single-record proof bundle (format ``loket-audit-proof-v1``, see audit.export).

    The record is re-encoded canonically (RFC 8785) into its leaf, its inclusion proof
    (RFC 9162 §2.1.3.2) must lead to the root of the signed checkpoint, and the checkpoint
    must carry a valid signature by ``verifier`` (one key, or current + retired keys) — the
    bundle's own ``vkey`` is never trusted. A bundle holds one checkpoint, so no transition
    links keys here: a pre-rotation bundle needs the retired key.
    """
    if bundle.get("format") != PROOF_FORMAT:
        raise IntegrityError(f"not a {PROOF_FORMAT} bundle")
    index, tree_size = bundle.get("index"), bundle.get("tree_size")
    if type(index) is not int or type(tree_size) is not int:
        raise IntegrityError("proof bundle: index and tree_size must be integers")
    record_data = bundle.get("record")
    if not isinstance(record_data, dict):
        raise IntegrityError("proof bundle: record is missing")
    try:
        leaf = LEAF_PREFIX + rfc8785.dumps(record_data)
        record = AuditRecord.from_leaf(leaf)
    except (ValueError, TypeError, rfc8785.CanonicalizationError) as e:
        raise IntegrityError(
            f"proof bundle: record {index} is not a valid audit record: {e}"
        ) from e
    lh = merkle.leaf_hash(leaf)
    if "leaf_hash" in bundle and _unhex(bundle["leaf_hash"], "leaf_hash") != lh:
        raise IntegrityError(
            f"record {index}: content does not match its leaf hash (the record was changed)"
        )
    proof_hex = bundle.get("inclusion_proof")
    if not isinstance(proof_hex, list):
        raise IntegrityError("proof bundle: inclusion_proof is missing")
    proof = [_unhex(h, "inclusion proof hash") for h in proof_hex]
    cp = _bundle_checkpoint(bundle, verifier, origin, tree_size, bundle_name="proof bundle", what="proof")
    try:
        merkle.verify_inclusion(index, tree_size, lh, proof, cp.root_hash)
    except merkle.ProofError as e:
        raise IntegrityError(
            f"record {index}: not included in the checkpoint at tree size {tree_size}: {e}"
        ) from e
    return ProofReport(record, index, cp)


def load_proof_bundle(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_PROOF_BUNDLE_BYTES:
        raise IntegrityError("proof bundle too large")
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IntegrityError("proof bundle is not JSON") from e
    if not isinstance(value, dict):
        raise IntegrityError("proof bundle is not a JSON object")
    return value


def read_verifier(value: str) -> NoteVerifier:
    """A vkey given inline or as the path of a file holding it."""
    text = value
    if "+" not in value or os.path.exists(value):
        try:
            with open(value, encoding="utf-8") as f:
                text = f.read().strip()
        except OSError as e:
            raise BadInput(f"cannot read verifier key file {value!r}: {e.strerror}") from e
    try:
        return NoteVerifier.from_vkey(text)
    except ValueError as e:
        raise BadInput(
            f"not a usable verifier key (expected <name>+<hex id>+<base64 key>): {e}"
        ) from e


def read_verifiers(values: Sequence[str]) -> TrustedKeys:
    """Verifier keys given inline or as files: the first is the current key, the rest retired."""
    if not values:
        raise BadInput("no verifier key given")
    keys = [read_verifier(v) for v in values]
    return TrustedKeys(keys[0], tuple(keys[1:]))


# --- a citizen's completeness bundle (ADR 0005) -----------------------------------------------


@dataclass(frozen=True)
class CompletenessReport:
    """What a verified completeness bundle established: these are *all* the records about
    ``data_subject_id`` among the first ``checkpoint.tree_size`` leaves of the signed log —
    or, if there are none, that the log *says* so (see ``absence_checked``)."""

    data_subject_id: str
    records: tuple[tuple[int, AuditRecord], ...]
    checkpoint: Checkpoint
    #: False for an empty list: the subject's map position is keyed (HMAC), which a citizen
    #: cannot recompute, so "no records" rests on the log's word and the auditors' full check.
    absence_checked: bool


def verify_completeness_bundle(
    bundle: Mapping[str, Any], verifier: Verifier, *, origin: str | None = None
) -> CompletenessReport:
    """Verify a ``loket-audit-completeness-v1`` bundle offline with the public key alone.

    The checkpoint must be signed by ``verifier`` and carry a subject map root; every record
    is re-encoded (RFC 8785) into its leaf and must be about the bundle's data subject; their
    (index, leaf hash) list, in strictly increasing index order below the tree size, makes the
    subject's entry, and the map proof must lead from that entry to the signed root. A record
    left out, added, changed or reordered changes the entry and fails the proof.
    """
    if bundle.get("format") != COMPLETENESS_FORMAT:
        raise IntegrityError(f"not a {COMPLETENESS_FORMAT} bundle")
    pseudonym, tree_size = bundle.get("data_subject_id"), bundle.get("tree_size")
    if not isinstance(pseudonym, str) or type(tree_size) is not int:
        raise IntegrityError("completeness bundle: data_subject_id and tree_size are required")
    cp = _bundle_checkpoint(bundle, verifier, origin, tree_size, bundle_name="completeness bundle",
                            what="bundle")
    root = subjects.root_of_extensions(cp.extensions)
    if root is None:
        raise IntegrityError(f"checkpoint at tree size {cp.tree_size} carries no subject map root")
    try:
        key = bytes.fromhex(str(bundle.get("subject_key")))
    except ValueError as e:
        raise IntegrityError("completeness bundle: subject_key is not hex") from e
    items = bundle.get("records")
    if not isinstance(items, list):
        raise IntegrityError("completeness bundle: records is missing")
    records: list[tuple[int, AuditRecord]] = []
    pairs: list[tuple[int, bytes]] = []
    for item in items:
        if not isinstance(item, dict) or type(item.get("index")) is not int:
            raise IntegrityError("completeness bundle: a record entry needs index and record")
        index = item["index"]
        try:
            leaf = LEAF_PREFIX + rfc8785.dumps(item.get("record"))
            record = AuditRecord.from_leaf(leaf)
        except (ValueError, TypeError, rfc8785.CanonicalizationError) as e:
            raise IntegrityError(f"completeness bundle: record {index} is not a valid audit record: {e}") from e
        if record.data_subject_id != pseudonym:
            raise IntegrityError(f"completeness bundle: record {index} is about another data subject")
        if not 0 <= index < tree_size or (pairs and index <= pairs[-1][0]):
            raise IntegrityError(
                f"completeness bundle: record {index} is out of order or beyond tree size {tree_size}"
            )
        pairs.append((index, merkle.leaf_hash(leaf)))
        records.append((index, record))
    count, lst = subjects.list_hash(pairs)
    try:
        entry = subjects.entry_hash(key, pseudonym, count, lst) if count else None
        subjects.verify_map_proof(root, key, entry, subjects.MapProof.from_json(bundle.get("map_proof")))
    except (subjects.MapProofError, ValueError) as e:
        raise IntegrityError(
            f"the list of {count} records about this data subject is not the complete list the "
            f"log signed at tree size {tree_size} ({e}): a record was hidden, added or changed"
        ) from e
    return CompletenessReport(pseudonym, tuple(records), cp, absence_checked=bool(count))
