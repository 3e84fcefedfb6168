"""The per-subject map (audit/subjects.py): a sparse Merkle map, property-tested against its
definition; proofs of presence and absence verify, and nothing else does."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.subjects import (
    ZERO,
    MapProof,
    MapProofError,
    SubjectIndex,
    SubjectMap,
    entry_hash,
    list_hash,
    subject_key,
    subject_of_body,
    verify_map_proof,
)

_keys = st.binary(min_size=32, max_size=32)
_hashes = st.binary(min_size=32, max_size=32).filter(lambda h: h != ZERO)


def reference_root(items: dict[bytes, bytes], depth: int = 0) -> bytes:
    """The map root straight from its definition (ADR 0005)."""
    if not items:
        return ZERO
    if len(items) == 1:
        return next(iter(items.values()))
    bit = lambda k: k[depth >> 3] >> (7 - (depth & 7)) & 1  # noqa: E731
    left = {k: v for k, v in items.items() if not bit(k)}
    right = {k: v for k, v in items.items() if bit(k)}
    return hashlib.sha256(b"\x01" + reference_root(left, depth + 1) + reference_root(right, depth + 1)).digest()


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_keys, _hashes, max_size=40), st.lists(_keys, max_size=5))
def test_root_matches_the_definition_and_proofs_verify(items: dict[bytes, bytes], absent: list[bytes]) -> None:
    m = SubjectMap().with_entries(items, new=len(items))
    assert m.root == reference_root(items)
    for k, v in items.items():
        verify_map_proof(m.root, k, v, m.proof(k))
        with pytest.raises(MapProofError):
            verify_map_proof(m.root, k, hashlib.sha256(v).digest(), m.proof(k))
        with pytest.raises(MapProofError):  # a present subject cannot be shown absent
            verify_map_proof(m.root, k, None, m.proof(k))
    for k in absent:
        if k in items:
            continue
        verify_map_proof(m.root, k, None, m.proof(k))
        if items:
            with pytest.raises(MapProofError):  # nor an absent one present
                verify_map_proof(m.root, k, next(iter(items.values())), m.proof(k))


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(_keys, _hashes, min_size=1, max_size=30), st.dictionaries(_keys, _hashes, max_size=10))
def test_updates_leave_earlier_maps_unchanged(first: dict[bytes, bytes], later: dict[bytes, bytes]) -> None:
    a = SubjectMap().with_entries(first)
    b = a.with_entries(later)
    assert a.root == reference_root(first)
    assert b.root == reference_root({**first, **later})


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(_keys, _hashes, min_size=2, max_size=30), st.data())
def test_a_tampered_proof_fails(items: dict[bytes, bytes], data: st.DataObject) -> None:
    m = SubjectMap().with_entries(items)
    k = data.draw(st.sampled_from(sorted(items)))
    p = m.proof(k)
    i = data.draw(st.integers(0, len(p.siblings) - 1))
    sib = list(p.siblings)
    sib[i] = hashlib.sha256(sib[i]).digest()
    with pytest.raises(MapProofError):
        verify_map_proof(m.root, k, items[k], MapProof(tuple(sib), p.other))
    with pytest.raises(MapProofError):
        verify_map_proof(m.root, k, items[k], MapProof(p.siblings[:-1], p.other))
    assert MapProof.from_json(p.to_json()) == p


def test_proofs_are_logarithmic() -> None:
    idx = SubjectIndex(b"k" * 32)
    for i in range(4096):
        idx.add(i, hashlib.sha256(b"%d" % i).hexdigest(), hashlib.sha256(b"L%d" % i).digest())
    m = idx.commit()
    depths = [len(m.proof(subject_key(b"k" * 32, hashlib.sha256(b"%d" % i).hexdigest())).siblings)
              for i in range(0, 4096, 97)]
    assert max(depths) <= 30 and sum(depths) / len(depths) < 16  # ~log2(4096) = 12


def test_the_index_is_the_definition_over_its_leaves() -> None:
    key = b"m" * 32
    idx = SubjectIndex(key)
    subjects = ["aa" * 32, "bb" * 32, None, "aa" * 32]
    hashes = [hashlib.sha256(bytes([i])).digest() for i in range(4)]
    for i, (p, h) in enumerate(zip(subjects, hashes, strict=True)):
        idx.add(i, p, h)
    n, lst = list_hash([(0, hashes[0]), (3, hashes[3])])
    ka, kb = subject_key(key, "aa" * 32), subject_key(key, "bb" * 32)
    want = {ka: entry_hash(ka, "aa" * 32, n, lst),
            kb: entry_hash(kb, "bb" * 32, *list_hash([(1, hashes[1])]))}
    assert idx.commit().root == reference_root(want)


def test_subject_of_body_reads_the_top_level_field(make_record) -> None:  # type: ignore[no-untyped-def]
    r = make_record(1, extra={"data_subject_id": "ff" * 32})
    body = r.to_leaf()[len(b"loket-audit-v1\n"):]
    assert subject_of_body(body) == r.data_subject_id
    assert subject_of_body(make_record(2, data_subject_id=None).to_leaf()[15:]) is None


@pytest.mark.parametrize("map_key", [b"\x5a" * 32, bytes(range(64)), bytes(range(100))])
def test_the_index_places_subjects_where_subject_key_says(map_key: bytes) -> None:
    """The index's precomputed HMAC pads give the keyed position of ``subject_key`` (for keys
    shorter than, equal to and longer than the SHA-256 block)."""
    index = SubjectIndex(map_key)
    pseudonyms = [hashlib.sha256(b"p%d" % i).hexdigest() for i in range(5)]
    for i, p in enumerate(pseudonyms):
        index.add(i, p, hashlib.sha256(b"L%d" % i).digest())
    for p in pseudonyms:
        assert index.entry(p)[0] == subject_key(map_key, p)
