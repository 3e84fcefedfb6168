"""Pure RFC 9162 Merkle tree functions: hashes, roots, inclusion and consistency proofs.

Everything here is bytes in, bytes out, and raises on bad input: no database, no clock.

Subtrees are addressed as *perfect* subtrees ``(level, index)``: the hash of the ``2**level``
leaves ``[index * 2**level, (index + 1) * 2**level)``. Every node of an RFC 9162 tree of size
``n`` is either such a perfect subtree or a right-edge subtree ``[start, n)`` whose hash is a
right fold of O(log n) perfect subtrees. Proof generation is therefore split into a pure
*plan* (which perfect subtrees are needed) and an *assembly* step that receives their hashes,
so a database can fetch all of them in one query and a proof costs O(log² n) lookups at worst.

The log itself only ever needs the *frontier* (compact range) of the tree — the perfect
subtrees matching the 1-bits of the size — to append in O(log n) and to compute the root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
_sha256 = hashlib.sha256

# RFC 9162 §2.1.1: domain separation between leaves and interior nodes.
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

EMPTY_ROOT = _sha256(b"").digest()  # RFC 9162 §2.1.1: MTH({}) = SHA-256()

NodeId = tuple[int, int]  # (level, index) of a perfect subtree
Plan = tuple[tuple[NodeId, ...], ...]  # one entry per proof hash: perfect subtrees to right-fold


class ProofError(ValueError):
    """A proof, root or frontier does not verify (or is malformed)."""


@dataclass(frozen=True)
class InclusionProof:
    """RFC 9162 §2.1.3: audit path of leaf ``index`` in the tree of ``tree_size`` leaves."""

    index: int
    tree_size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.tree_size:
            raise ValueError(f"index {self.index} outside tree of size {self.tree_size}")
        _check_hashes(self.hashes)


@dataclass(frozen=True)
class ConsistencyProof:
    """RFC 9162 §2.1.4: proof that the tree of ``old_size`` is a prefix of ``new_size``."""

    old_size: int
    new_size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.old_size <= self.new_size:
            raise ValueError(f"bad consistency sizes {self.old_size} -> {self.new_size}")
        _check_hashes(self.hashes)


def _check_hashes(hashes: Iterable[bytes]) -> None:
    for h in hashes:
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise ValueError("every proof hash must be 32 bytes")


# --- hashing (RFC 9162 §2.1.1) -------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf)."""
    return _sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return _sha256(NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162 §2.1.1: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) straight from the definition (RFC 9162 §2.1.1); O(n), used as a reference."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _largest_power_of_two_below(n)
    return node_hash(root_from_leaf_hashes(hashes[:k]), root_from_leaf_hashes(hashes[k:]))


# --- frontier (compact range [0, n)) -------------------------------------------------------


def frontier_levels(size: int) -> list[int]:
    """Levels of the perfect subtrees making up [0, size), left (largest) to right."""
    return [lvl for lvl in range(size.bit_length() - 1, -1, -1) if size >> lvl & 1]


def frontier_append(
    frontier: Sequence[bytes], size: int, new_leaf_hash: bytes
) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Append one leaf hash to the frontier of a tree of ``size`` leaves.

    Returns the new frontier and the perfect subtrees ``(level, index, hash)`` of level >= 1
    that this append completed (at most log2(size + 1), one on average).
    """
    if len(frontier) != size.bit_count():
        raise ProofError(f"frontier of {len(frontier)} hashes does not fit tree size {size}")
    out = list(frontier)
    completed: list[tuple[int, int, bytes]] = []
    h = new_leaf_hash
    level = 0
    index = size  # index of the new leaf at level 0
    # Each trailing 1-bit of `size` is a perfect subtree that the new leaf's subtree completes.
    while size >> level & 1:
        h = node_hash(out.pop(), h)
        level += 1
        index >>= 1
        completed.append((level, index, h))
    out.append(h)
    return out, completed


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """MTH of the tree whose frontier this is: right fold of the perfect subtrees."""
    if not frontier:
        return EMPTY_ROOT
    h = frontier[-1]
    for left in reversed(frontier[:-1]):
        h = node_hash(left, h)
    return h


def pack_frontier(frontier: Sequence[bytes]) -> bytes:
    return b"".join(frontier)


def unpack_frontier(blob: bytes, size: int) -> list[bytes]:
    count = size.bit_count()
    if len(blob) != count * HASH_SIZE:
        raise ProofError(
            f"stored frontier has {len(blob)} bytes, tree size {size} needs {count * 32}"
        )
    return [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


# --- proof plans ---------------------------------------------------------------------------


def _range_nodes(start: int, end: int) -> tuple[NodeId, ...]:
    """Perfect subtrees whose right fold is MTH(D[start:end]) for a node of an RFC 9162 tree.

    Valid for the ranges that occur as tree nodes: ``start`` is aligned to a power of two at
    least as large as ``end - start``, so the binary decomposition of the range is the same
    as the recursive split at the largest power of two.
    """
    nodes: list[NodeId] = []
    size = end - start
    pos = start
    for lvl in range(size.bit_length() - 1, -1, -1):
        if size >> lvl & 1:
            nodes.append((lvl, pos >> lvl))
            pos += 1 << lvl
    return tuple(nodes)


def inclusion_plan(index: int, tree_size: int) -> Plan:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]), as perfect-subtree plans, leaf-side first.

    Each step splits ``[start, end)`` at the largest power of two ``k``; the sibling is a
    perfect subtree (one node) except a right sibling on the tree's right edge."""
    if not 0 <= index < tree_size:
        raise ValueError(f"index {index} outside tree of size {tree_size}")
    path: list[tuple[NodeId, ...]] = []
    start, end, m = 0, tree_size, index
    while end - start > 1:
        n = end - start
        lvl = (n - 1).bit_length() - 1
        k = 1 << lvl
        if m < k:
            r = n - k
            if r & (r - 1):
                path.append(_range_nodes(start + k, end))
            else:  # a perfect right sibling, aligned at start + k (a multiple of k >= r)
                rl = r.bit_length() - 1
                path.append(((rl, (start + k) >> rl),))
            end = start + k
        else:
            path.append(((lvl, start >> lvl),))
            start, m = start + k, m - k
    path.reverse()  # PATH lists the hashes from the leaf up
    return tuple(path)


def consistency_plan(old_size: int, new_size: int) -> Plan:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true), as perfect-subtree plans."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"bad consistency sizes {old_size} -> {new_size}")
    if old_size == 0 or old_size == new_size:
        return ()
    out: list[tuple[NodeId, ...]] = []
    start, end, m, complete = 0, new_size, old_size, True
    while True:
        n = end - start
        if m == n:
            # SUBPROOF(m, D[m], b): [] if b, else [MTH(D[m])]
            if not complete:
                out.append(_range_nodes(start, end))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:
            # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            out.append(_range_nodes(start + k, end))
            end = start + k
        else:
            # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            out.append(_range_nodes(start, start + k))
            start, m, complete = start + k, m - k, False
    # The recursion appends on the way *out*: innermost first.
    out.reverse()
    return tuple(out)


def plan_nodes(plan: Plan) -> set[NodeId]:
    return {node for entry in plan for node in entry}


def assemble(
    plan: Plan, hashes: Mapping[NodeId, bytes] | Callable[[NodeId], bytes]
) -> tuple[bytes, ...]:
    """Turn a plan into proof hashes, given the hashes of its perfect subtrees."""
    get = hashes.__getitem__ if isinstance(hashes, Mapping) else hashes
    out: list[bytes] = []
    for entry in plan:
        h = get(entry[-1])
        if len(entry) > 1:
            for node in reversed(entry[:-1]):
                h = node_hash(get(node), h)
        out.append(h)
    return tuple(out)


# --- an in-memory tree (benchmarks, tests, offline tools) ----------------------------------


class MemoryTree:
    """All perfect subtree hashes in memory: O(log n) append, O(log² n) proofs."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]
        self.frontier: list[bytes] = []

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append_leaf_hash(self, h: bytes) -> None:
        self.frontier, completed = frontier_append(self.frontier, self.size, h)
        self.levels[0].append(h)
        for level, _index, node in completed:
            if level == len(self.levels):
                self.levels.append([])
            self.levels[level].append(node)

    def node(self, node_id: NodeId) -> bytes:
        level, index = node_id
        return self.levels[level][index]

    def root(self, tree_size: int | None = None) -> bytes:
        n = self.size if tree_size is None else tree_size
        if not 0 <= n <= self.size:
            raise ValueError(f"tree size {n} beyond {self.size}")
        if n == 0:
            return EMPTY_ROOT
        return assemble((_range_nodes(0, n),), self.node)[0]

    def inclusion_proof(self, index: int, tree_size: int) -> InclusionProof:
        if tree_size > self.size:
            raise ValueError(f"tree size {tree_size} beyond {self.size}")
        return InclusionProof(
            index, tree_size, assemble(inclusion_plan(index, tree_size), self.node)
        )

    def consistency_proof(self, old_size: int, new_size: int) -> ConsistencyProof:
        if new_size > self.size:
            raise ValueError(f"tree size {new_size} beyond {self.size}")
        plan = consistency_plan(old_size, new_size)
        return ConsistencyProof(old_size, new_size, assemble(plan, self.node))


def root_plan(tree_size: int) -> tuple[NodeId, ...]:
    """Perfect subtrees whose right fold is the root of a tree of ``tree_size`` leaves."""
    return _range_nodes(0, tree_size)


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) -----------------------------------------


def root_from_inclusion_proof(
    index: int, tree_size: int, leaf_hash_: bytes, proof: Sequence[bytes]
) -> bytes:
    """RFC 9162 §2.1.3.2 steps 1-5: the root that ``proof`` implies for the leaf."""
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} outside tree of size {tree_size}")
    if len(leaf_hash_) != HASH_SIZE:
        raise ProofError("leaf hash must be 32 bytes")
    fn, sn = index, tree_size - 1
    r = leaf_hash_
    for p in proof:
        if len(p) != HASH_SIZE:
            raise ProofError("proof hash must be 32 bytes")
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path")
    return r


def verify_inclusion(
    index: int, tree_size: int, leaf_hash_: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ProofError unless ``proof`` shows the leaf at ``index`` is in ``root``."""
    if root_from_inclusion_proof(index, tree_size, leaf_hash_, proof) != root:
        raise ProofError(
            f"inclusion proof for leaf {index} does not lead to the root of size {tree_size}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise ProofError unless tree ``old_size`` is a prefix of ``new_size``."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"bad consistency sizes {old_size} -> {new_size}")
    for p in proof:
        if len(p) != HASH_SIZE:
            raise ProofError("proof hash must be 32 bytes")
    if old_size == new_size and old_size:
        if proof:
            raise ProofError("consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for tree size {old_size}")
        return
    if old_size == 0:
        # RFC 9162 defines no proof from the empty tree: it says nothing about the new tree, so
        # a verifier must not count it as one. Accepted only as the empty tree to itself.
        if proof or old_root != EMPTY_ROOT or new_root != EMPTY_ROOT:
            raise ProofError(
                "no consistency proof from size 0: only the empty tree is consistent with it here"
            )
        return
    # Step 1: an empty path fails (it can only be empty for equal or zero sizes, above).
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    # Step 2: if first is an exact power of two, prepend first_hash to the proof.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    # Step 4: while LSB(fn) is set, right-shift both.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than expected")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than expected")
    if fr != old_root:
        raise ProofError(f"consistency proof does not reproduce the root of size {old_size}")
    if sr != new_root:
        raise ProofError(f"consistency proof does not reproduce the root of size {new_size}")
