"""Completeness per data subject: a sparse Merkle map committed in every signed checkpoint.

Design and what it proves: docs/adr/0005-completeness-per-data-subject.md. In short:

- For each data subject (pseudonym P) the log keeps ``count`` (records about P in the first
  N leaves) and ``list`` = a hash chain over their (leaf index, leaf hash), in log order::

      list_0 = SHA-256("loket-subject-list-v1")
      list_k = SHA-256(list_{k-1} || uint64be(index_k) || leaf_hash_k)

- The map holds one entry per subject at a 256-bit position ``key = HMAC-SHA256(map key,
  "loket-subject-key-v1\\n" || P)``; the entry's hash commits the position, P, the count and
  the list (so an entry can only vouch for the subject it names)::

      entry = SHA-256(0x00 || "loket-subject-entry-v1\\n" || key || P (32 bytes) ||
                      uint64be(count) || list)

- The map is a sparse Merkle tree over the key bits (most significant first) with RFC 9162's
  node hashing, SHA-256(0x01 || left || right), an empty subtree hashing to 32 zero bytes,
  and a subtree holding exactly one entry hashing to that entry (as Diem's / Aptos' Jellyfish
  Merkle tree does): a proof has one sibling per level down to the entry, ~log2(subjects).

- The root goes into the checkpoint as the extension line ``loket-subjects <base64 root>``,
  so the log's Ed25519 signature covers it.

Everything here is pure (bytes in, raise on bad); the log (audit.log) keeps the state.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit.errors import IntegrityError

SUBJECTS_EXTENSION = "loket-subjects"
KEY_SIZE = 32
ZERO = bytes(32)  # the hash of an empty subtree
LIST_START = hashlib.sha256(b"loket-subject-list-v1").digest()
_KEY_TAG = b"loket-subject-key-v1\n"
_ENTRY_TAG = b"\x00loket-subject-entry-v1\n"
_NODE = b"\x01"
_sha256 = hashlib.sha256


class MapProofError(ValueError):
    """A subject map proof does not verify (or is malformed)."""


def subject_key(map_key: bytes, pseudonym: str) -> bytes:
    """The subject's position in the map. Keyed, so that a proof (its siblings and depth)
    and the map's shape say nothing to someone who holds pseudonyms but not the map key."""
    if len(map_key) < 32:
        raise ValueError("the subject map key must be at least 32 bytes")
    return hmac.digest(map_key, _KEY_TAG + pseudonym.encode("ascii"), "sha256")


def extend_list(list_hash: bytes, index: int, leaf_hash: bytes) -> bytes:
    return _sha256(list_hash + index.to_bytes(8, "big") + leaf_hash).digest()


def list_hash(records: Iterable[tuple[int, bytes]]) -> tuple[int, bytes]:
    """(count, list hash) of a subject's (leaf index, leaf hash) pairs, in log order."""
    h, n, last = LIST_START, 0, -1
    for index, leaf_hash in records:
        if index <= last:
            raise ValueError("a subject's records must be in strictly increasing index order")
        h, n, last = extend_list(h, index, leaf_hash), n + 1, index
    return n, h


def entry_hash(key: bytes, pseudonym: str, count: int, list_: bytes) -> bytes:
    try:
        p = bytes.fromhex(pseudonym)
    except ValueError as e:
        raise ValueError("a pseudonym is 64 hex digits") from e
    if len(key) != KEY_SIZE or len(p) != 32 or len(list_) != 32 or not 0 < count < 2**64:
        raise ValueError("bad subject entry")
    return _sha256(_ENTRY_TAG + key + p + count.to_bytes(8, "big") + list_).digest()


def _bit(key: bytes, depth: int) -> int:
    return key[depth >> 3] >> (7 - (depth & 7)) & 1


# --- the map: a persistent (path-copying) tree, so earlier roots stay readable -------------


# A map node is a tuple, cheaper to make than an object: a leaf is (entry hash, key, key as a
# 256-bit number: bit tests and order in C), an inner node (hash, left, right) with None for
# an empty side. They tell apart by their second item (bytes for a leaf).
_Tree = tuple[Any, ...] | None
_TOP_BIT = 8 * KEY_SIZE - 1


def _is_leaf(node: tuple[Any, ...]) -> bool:
    return type(node[1]) is bytes


def _fresh(depth: int, ik: list[int], ent: list[tuple[bytes, bytes]], lo: int, hi: int) -> tuple[Any, ...]:
    """The subtree at ``depth`` holding exactly the sorted entries ``[lo, hi)`` (which share
    their first ``depth`` bits): a leaf for one, else a node per bit down to where they part."""
    if hi - lo == 1:
        key, h = ent[lo]
        return (h, key, ik[lo])
    shift = _TOP_BIT - depth
    mid = bisect_left(ik, (ik[lo] >> shift | 1) << shift, lo, hi)  # first with bit `depth` set
    left = _fresh(depth + 1, ik, ent, lo, mid) if mid > lo else None
    right = _fresh(depth + 1, ik, ent, mid, hi) if mid < hi else None
    return (
        _sha256(_NODE + (ZERO if left is None else left[0]) + (ZERO if right is None else right[0])).digest(),
        left,
        right,
    )


def _update(node: _Tree, depth: int, ik: list[int], ent: list[tuple[bytes, bytes]], lo: int, hi: int) -> _Tree:
    """``node`` (the subtree at ``depth``) with the sorted entries ``[lo, hi)`` set; nodes off
    their paths are shared with ``node`` (path copying), each changed node is hashed once."""
    if node is None:
        return _fresh(depth, ik, ent, lo, hi)
    if type(node[1]) is bytes:  # a leaf
        ikey = node[2]
        j = bisect_left(ik, ikey, lo, hi)
        if j < hi and ik[j] == ikey:  # the leaf's own entry is replaced
            return _fresh(depth, ik, ent, lo, hi)
        ik2 = ik[lo:j] + [ikey] + ik[j:hi]
        ent2 = [*ent[lo:j], (node[1], node[0]), *ent[j:hi]]
        return _fresh(depth, ik2, ent2, 0, len(ik2))
    shift = _TOP_BIT - depth
    mid = bisect_left(ik, (ik[lo] >> shift | 1) << shift, lo, hi)
    left = _update(node[1], depth + 1, ik, ent, lo, mid) if mid > lo else node[1]
    right = _update(node[2], depth + 1, ik, ent, mid, hi) if mid < hi else node[2]
    return (
        _sha256(_NODE + (ZERO if left is None else left[0]) + (ZERO if right is None else right[0])).digest(),
        left,
        right,
    )


@dataclass(frozen=True)
class MapProof:
    """The siblings from the root down to where ``key``'s path ends, and what it ends in:
    the subject's own entry, another subject's entry (``other``: its key and hash — the key
    was never added), or an empty subtree."""

    siblings: tuple[bytes, ...]
    other: tuple[bytes, bytes] | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "siblings": [s.hex() for s in self.siblings],
            "other": None if self.other is None else {"key": self.other[0].hex(), "hash": self.other[1].hex()},
        }

    @classmethod
    def from_json(cls, data: object) -> MapProof:
        try:
            assert isinstance(data, dict)
            sib = data["siblings"]
            assert isinstance(sib, list) and len(sib) <= 8 * KEY_SIZE
            siblings = tuple(bytes.fromhex(s) for s in sib)
            other = data.get("other")
            pair = None if other is None else (bytes.fromhex(other["key"]), bytes.fromhex(other["hash"]))
        except (AssertionError, KeyError, TypeError, ValueError, AttributeError) as e:
            raise MapProofError("malformed subject map proof") from e
        if any(len(s) != 32 for s in siblings) or (pair and (len(pair[0]) != 32 or len(pair[1]) != 32)):
            raise MapProofError("subject map proof hashes must be 32 bytes")
        return cls(siblings, pair)


class SubjectMap:
    """An immutable map key -> entry hash; :meth:`with_entries` returns a new map that shares
    all unchanged nodes with this one (O(log n) new nodes per changed entry)."""

    __slots__ = ("_root", "size")

    def __init__(self, root: _Tree = None, size: int = 0) -> None:
        self._root = root
        self.size = size  # entries

    @property
    def root(self) -> bytes:
        return ZERO if self._root is None else bytes(self._root[0])

    def with_entries(self, entries: Mapping[bytes, bytes], *, new: int = 0) -> SubjectMap:
        """This map with ``entries`` (key -> entry hash) set; ``new``: how many are new keys.
        One pass for the whole batch: each changed node is rebuilt once, however many of the
        batch's keys lie below it."""
        from_bytes = int.from_bytes
        keyed = sorted((from_bytes(k, "big"), k, h) for k, h in entries.items())
        for _, key, _h in keyed:
            if len(key) != KEY_SIZE:
                raise ValueError("a map key is 32 bytes")
        ik = [i for i, _, _ in keyed]
        ent = [(k, h) for _, k, h in keyed]
        root = _update(self._root, 0, ik, ent, 0, len(ik)) if ik else self._root
        return SubjectMap(root, self.size + new)

    def get(self, key: bytes) -> bytes | None:
        node, depth = self._root, 0
        while node is not None and not _is_leaf(node):
            node = node[2] if _bit(key, depth) else node[1]
            depth += 1
        return bytes(node[0]) if node is not None and node[1] == key else None

    def proof(self, key: bytes) -> MapProof:
        siblings: list[bytes] = []
        node, depth = self._root, 0
        while node is not None and not _is_leaf(node):
            if _bit(key, depth):
                siblings.append(ZERO if node[1] is None else node[1][0])
                node = node[2]
            else:
                siblings.append(ZERO if node[2] is None else node[2][0])
                node = node[1]
            depth += 1
        other = (node[1], node[0]) if node is not None and node[1] != key else None
        return MapProof(tuple(siblings), other)


def root_from_proof(key: bytes, entry: bytes | None, proof: MapProof) -> bytes:
    """The map root ``proof`` implies for ``key`` holding ``entry`` (None: ``key`` absent)."""
    if len(key) != KEY_SIZE:
        raise MapProofError("a map key is 32 bytes")
    depth = len(proof.siblings)
    if depth > 8 * KEY_SIZE:
        raise MapProofError("subject map proof is deeper than the key")
    if entry is not None:
        if proof.other is not None:
            raise MapProofError("a proof of an entry cannot end in another subject's entry")
        h = entry
    elif proof.other is not None:
        other_key, h = proof.other
        if other_key == key:
            raise MapProofError("the proof of absence ends in the subject's own entry")
        for d in range(depth):  # the other entry must sit on key's path
            if _bit(other_key, d) != _bit(key, d):
                raise MapProofError("the other entry is not on the subject's path")
    else:
        h = ZERO
    for d in range(depth - 1, -1, -1):
        sibling = proof.siblings[d]
        if h == ZERO and sibling == ZERO:
            raise MapProofError("two empty subtrees never make a node in the map")
        h = _sha256(_NODE + sibling + h if _bit(key, d) else _NODE + h + sibling).digest()
    return h


def verify_map_proof(root: bytes, key: bytes, entry: bytes | None, proof: MapProof) -> None:
    """Raise MapProofError unless ``proof`` shows ``key`` -> ``entry`` (or absent) in ``root``."""
    if not hmac.compare_digest(root_from_proof(key, entry, proof), root):
        raise MapProofError("the subject map proof does not lead to the signed map root")


# --- the checkpoint extension line ----------------------------------------------------------


def extension_line(root: bytes) -> str:
    return f"{SUBJECTS_EXTENSION} {base64.b64encode(root).decode('ascii')}"


def root_of_extensions(extensions: Sequence[str]) -> bytes | None:
    """The subject map root a checkpoint's extension lines carry (None: none)."""
    lines = [x for x in extensions if x.startswith(SUBJECTS_EXTENSION + " ")]
    if not lines:
        return None
    if len(lines) > 1:
        raise IntegrityError("checkpoint carries more than one subject map root")
    try:
        root = base64.b64decode(lines[0].split(" ", 1)[1], validate=True)
    except (binascii.Error, ValueError) as e:
        raise IntegrityError("checkpoint subject map root is not base64") from e
    if len(root) != 32:
        raise IntegrityError("checkpoint subject map root is not 32 bytes")
    return root


# --- the leaves' subjects, without a JSON parse -------------------------------------------

_SUBJECT_KEY = b',"data_subject_id":'
_HEX64 = re.compile(rb"[0-9a-f]{64}")


def subject_of_body(body: bytes | memoryview) -> str | None:
    """The ``data_subject_id`` of a canonical leaf body (without its ``loket-audit-v1``
    prefix). In the canonical layout (sorted keys) it follows actor_role, actor_sub,
    break_glass and case_id, all scalars, so its first ``,"data_subject_id":`` is the key."""
    b = bytes(body[:1200]) if isinstance(body, memoryview) else body
    at = b.find(_SUBJECT_KEY)
    if at < 0:
        raise IntegrityError("leaf has no data_subject_id")
    v = at + len(_SUBJECT_KEY)
    if b.startswith(b"null,", v):
        return None
    if b[v : v + 1] == b'"' and b[v + 65 : v + 67] == b'",' and _HEX64.fullmatch(b, v + 1, v + 65):
        return b[v + 1 : v + 65].decode("ascii")
    raise IntegrityError("leaf data_subject_id is not a pseudonym")


# --- building the map from the leaves ---------------------------------------------------------


class _Entry:
    """One subject's running state while the map is built: position, pseudonym bytes, count
    and list hash (mutated in place: one object per subject, not one tuple per record)."""

    __slots__ = ("count", "key", "list", "p")

    def __init__(self, key: bytes, p: bytes) -> None:
        self.key, self.p, self.count, self.list = key, p, 0, LIST_START


class SubjectIndex:
    """The map being built from the leaves in log order (by the log and by every verifier).

    Incremental: :meth:`add` costs one hash per leaf (its subject's list); :meth:`commit`
    hashes the entries of the subjects seen since the last commit and rebuilds only the map
    paths above them."""

    def __init__(self, map_key: bytes) -> None:
        if len(map_key) < 32:
            raise ValueError("the subject map key must be at least 32 bytes")
        self._map_key = map_key
        # HMAC-SHA256(map key, tag || P) with the key's inner and outer pads hashed once
        # (RFC 2104): a key costs two hash copies instead of a new HMAC object.
        k = hashlib.sha256(map_key).digest() if len(map_key) > 64 else map_key
        k = k.ljust(64, b"\x00")
        self._key_inner = _sha256(bytes(b ^ 0x36 for b in k) + _KEY_TAG)
        self._key_outer = _sha256(bytes(b ^ 0x5C for b in k))
        self.size = 0  # leaves seen
        self.map = SubjectMap()
        self._entries: dict[str, _Entry] = {}
        self._dirty: dict[str, _Entry] = {}
        self._new = 0  # subjects first seen since the last commit

    def add(self, index: int, pseudonym: str | None, leaf_hash: bytes) -> None:
        if index != self.size:
            raise ValueError(f"leaf {index} added where leaf {self.size} belongs")
        self.size = index + 1
        if pseudonym is None:
            return
        e = self._entries.get(pseudonym)
        if e is None:
            e = self._entries[pseudonym] = self._new_entry(pseudonym)
            self._new += 1
        e.count += 1
        e.list = _sha256(e.list + index.to_bytes(8, "big") + leaf_hash).digest()
        self._dirty[pseudonym] = e

    def _new_entry(self, pseudonym: str) -> _Entry:
        inner = self._key_inner.copy()
        inner.update(pseudonym.encode("ascii"))
        outer = self._key_outer.copy()
        outer.update(inner.digest())
        key = outer.digest()  # == subject_key(self._map_key, pseudonym)
        try:
            p = bytes.fromhex(pseudonym)
        except ValueError as e:
            raise ValueError("a pseudonym is 64 hex digits") from e
        if len(p) != 32:
            raise ValueError("a pseudonym is 64 hex digits")
        return _Entry(key, p)

    def entry(self, pseudonym: str) -> tuple[bytes, int, bytes]:
        """(key, count, list hash) of ``pseudonym`` (count 0 if absent)."""
        got = self._entries.get(pseudonym)
        if got is None:
            return subject_key(self._map_key, pseudonym), 0, LIST_START
        return got.key, got.count, got.list

    def key_for(self, pseudonym: str) -> bytes:
        return subject_key(self._map_key, pseudonym)

    def commit(self) -> SubjectMap:
        """The map over the leaves added so far."""
        if self._dirty:
            tag = _ENTRY_TAG
            changed = {
                e.key: _sha256(tag + e.key + e.p + e.count.to_bytes(8, "big") + e.list).digest()
                for e in self._dirty.values()
            }
            self.map = self.map.with_entries(changed, new=self._new)
            self._dirty.clear()
            self._new = 0
        return self.map


def check_root(index: SubjectIndex, roots: Mapping[int, bytes]) -> None:
    """Raise IntegrityError if a checkpoint at ``index.size`` signed another subject map root."""
    want = roots.get(index.size)
    if want is not None and index.commit().root != want:
        raise IntegrityError(
            f"checkpoint at tree size {index.size}: the signed subject map root does not match "
            "the records (a record's data subject was changed, the map was forged, or this "
            "verifier's subject map key is not the log's)"
        )


def signed_roots(checkpoints: Iterable[object]) -> dict[int, bytes]:
    """tree size -> subject map root, for the checkpoints (audit.checkpoint.Checkpoint) that
    carry one."""
    out: dict[int, bytes] = {}
    for cp in checkpoints:
        root = root_of_extensions(cp.extensions)  # type: ignore[attr-defined]
        if root is not None:
            out[cp.tree_size] = root  # type: ignore[attr-defined]
    return out
