"""RFC 9162 Merkle tree: roots, inclusion and consistency proofs (property tests)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import merkle
from audit.merkle import MemoryTree, ProofError

# RFC 6962 / Certificate Transparency reference vectors: these 8 leaves and the roots of their
# prefixes (as in the CT and Trillian test suites).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def tree_of(n: int) -> tuple[MemoryTree, list[bytes]]:
    t = MemoryTree()
    hashes = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    for h in hashes:
        t.append_leaf_hash(h)
    return t, hashes


def test_hashes_are_domain_separated_as_rfc_9162() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert (
        merkle.node_hash(b"a" * 32, b"b" * 32)
        == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    assert MemoryTree().root() == hashlib.sha256(b"").digest()


def test_roots_match_certificate_transparency_vectors() -> None:
    t = MemoryTree()
    for leaf in CT_LEAVES:
        t.append_leaf_hash(merkle.leaf_hash(leaf))
    for n, want in enumerate(CT_ROOTS, start=1):
        assert t.root(n).hex() == want
        assert merkle.frontier_root(tree_of_leaves(CT_LEAVES[:n])).hex() == want


def tree_of_leaves(leaves: list[bytes]) -> list[bytes]:
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        frontier, _ = merkle.frontier_append(frontier, size, merkle.leaf_hash(leaf))
    return frontier


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=300))
def test_incremental_root_equals_recursive_definition(n: int) -> None:
    t, hashes = tree_of(n)
    assert merkle.frontier_root(t.frontier) == merkle.root_from_leaf_hashes(hashes)
    assert t.root() == merkle.root_from_leaf_hashes(hashes)


def test_inclusion_and_consistency_verify_for_every_size_and_index_up_to_40() -> None:
    t, _ = tree_of(40)
    for n in range(1, 41):
        root = t.root(n)
        for i in range(n):
            p = t.inclusion_proof(i, n)
            merkle.verify_inclusion(i, n, t.levels[0][i], p.hashes, root)
        for m in range(1, n + 1):  # from 0: no proof (tests/audit/test_edge_cases.py)
            c = t.consistency_proof(m, n)
            merkle.verify_consistency(m, n, t.root(m), root, c.hashes)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_inclusion_proof_verifies_for_any_size_and_index(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=2000))
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    t, hashes = tree_of(n)
    p = t.inclusion_proof(i, n)
    merkle.verify_inclusion(i, n, hashes[i], p.hashes, t.root())
    assert len(p.hashes) <= (n - 1).bit_length()
    # The same proof is not valid for another leaf, index or root.
    other = merkle.leaf_hash(b"not in the tree")
    with pytest.raises(ProofError):
        merkle.verify_inclusion(i, n, other, p.hashes, t.root())
    if n > 1:
        j = (i + 1) % n
        if hashes[j] != hashes[i]:
            with pytest.raises(ProofError):
                merkle.verify_inclusion(j, n, hashes[i], p.hashes, t.root())


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_consistency_proof_verifies_for_any_pair_of_sizes(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=2000))
    m = data.draw(st.integers(min_value=1, max_value=n))
    t, _ = tree_of(n)
    c = t.consistency_proof(m, n)
    merkle.verify_consistency(m, n, t.root(m), t.root(n), c.hashes)
    if m < n:
        # A different old root (a rewritten history) must not verify.
        forged_old = merkle.node_hash(t.root(m), t.root(m))
        with pytest.raises(ProofError):
            merkle.verify_consistency(m, n, forged_old, t.root(n), c.hashes)
        with pytest.raises(ProofError):
            merkle.verify_consistency(m, n, t.root(m), forged_old, c.hashes)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_flipped_bit_in_a_proof_fails(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=2, max_value=500))
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    t, hashes = tree_of(n)
    p = list(t.inclusion_proof(i, n).hashes)
    k = data.draw(st.integers(min_value=0, max_value=len(p) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    p[k] = bytes(b ^ (1 << (bit % 8)) if j == bit // 8 else b for j, b in enumerate(p[k]))
    with pytest.raises(ProofError):
        merkle.verify_inclusion(i, n, hashes[i], p, t.root())
    m = data.draw(st.integers(min_value=1, max_value=n - 1))
    c = list(t.consistency_proof(m, n).hashes)
    k = data.draw(st.integers(min_value=0, max_value=len(c) - 1))
    c[k] = bytes(b ^ 1 if j == 0 else b for j, b in enumerate(c[k]))
    with pytest.raises(ProofError):
        merkle.verify_consistency(m, n, t.root(m), t.root(n), c)


@pytest.mark.parametrize(
    ("index", "size", "proof_len_delta"),
    [(0, 8, -1), (0, 8, 1), (7, 8, 1), (5, 6, -1)],
)
def test_inclusion_proof_of_wrong_length_fails(index: int, size: int, proof_len_delta: int) -> None:
    t, hashes = tree_of(size)
    p = list(t.inclusion_proof(index, size).hashes)
    p = p[:-1] if proof_len_delta < 0 else [*p, b"\x00" * 32]
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, size, hashes[index], p, t.root())


@pytest.mark.parametrize(("old", "new"), [(3, 2), (-1, 4)])
def test_consistency_rejects_bad_sizes(old: int, new: int) -> None:
    with pytest.raises(ProofError):
        merkle.verify_consistency(old, new, b"\x00" * 32, b"\x00" * 32, [])


def test_empty_consistency_proof_between_different_sizes_fails() -> None:
    t, _ = tree_of(5)
    with pytest.raises(ProofError):
        merkle.verify_consistency(4, 5, t.root(4), t.root(5), [])


def test_frontier_append_reports_completed_subtrees() -> None:
    t, hashes = tree_of(8)
    assert t.levels[1][0] == merkle.node_hash(hashes[0], hashes[1])
    assert t.levels[3][0] == t.root()
    assert [len(level) for level in t.levels] == [8, 4, 2, 1]


def test_frontier_of_wrong_length_is_rejected() -> None:
    with pytest.raises(ProofError):
        merkle.frontier_append([], 3, b"\x00" * 32)
    with pytest.raises(ProofError):
        merkle.unpack_frontier(b"\x00" * 32, 3)
