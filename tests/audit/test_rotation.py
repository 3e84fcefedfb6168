"""Rotating the checkpoint signing key: transition checkpoints, trusted key sets, key chains.

The rule under test (audit.checkpoint.KeyChain): current and retired keys verify checkpoints of
any tree size; a transition checkpoint at size T, signed by both keys it names, links them when
a verifier trusts one of them — the new key then vouches for sizes >= T, the old one for sizes
<= T. A single checkpoint (a proof bundle) gets no help from a transition.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, delete, insert, select, update

from audit import merkle
from audit.checkpoint import (
    KEY_ROTATION_EXTENSION,
    Checkpoint,
    KeyChain,
    NoteVerifier,
    RetiredKey,
    TrustedKeys,
    open_checkpoint,
    open_transition,
    sign_checkpoint,
    sign_checkpoint_with,
    transition_checkpoint,
)
from audit.export import proof_bundle, write_full_export
from audit.log import AuditLog
from audit.models import audit_checkpoints, audit_log_head, audit_subtrees, subtree_key
from audit.record import AuditRecord
from audit.verify import verify_export, verify_proof_bundle
from gateway.core.errors import IntegrityError

from .conftest import ORIGIN

MakeLog = Callable[..., AuditLog]
MakeRecord = Callable[..., AuditRecord]


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _vk(key: Ed25519PrivateKey) -> NoteVerifier:
    return NoteVerifier.for_private_key(ORIGIN, key)


def _notes(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_checkpoints.c.tree_size, audit_checkpoints.c.note))
        return {int(r.tree_size): str(r.note) for r in rows}


def _export(log: AuditLog) -> bytes:
    buf = io.BytesIO()
    write_full_export(log, buf)
    return buf.getvalue()


@pytest.fixture
def rotated(
    sqlite_engine: Engine, make_log: MakeLog, make_record: MakeRecord, signing_key: Ed25519PrivateKey
) -> dict[str, Any]:
    """20 records under the old key (checkpoints at 16 and 20), a rotation at 20, then 20 more
    records and checkpoints (36, 40) signed by the new key on a gateway that retired the old."""
    old_log = make_log(sqlite_engine)
    old_log.append_many([make_record(i) for i in range(16)])  # checkpoint at 16 (every 16)
    old_log.append_many([make_record(i) for i in range(16, 20)])
    old_log.checkpoint(force=True)  # at 20
    new_key = Ed25519PrivateKey.generate()
    transition = old_log.rotate_key(new_key)
    new_log = make_log(sqlite_engine, key=new_key, retired_keys=[_vk(signing_key)])
    new_log.append_many([make_record(i) for i in range(20, 36)])  # checkpoint at 36
    new_log.append_many([make_record(i) for i in range(36, 40)])
    new_log.checkpoint(force=True)  # at 40
    return {"old": _vk(signing_key), "new": _vk(new_key), "new_key": new_key,
            "log": new_log, "transition": transition}


def test_transition_checkpoint_names_both_keys_and_carries_both_signatures(
    rotated: dict[str, Any], sqlite_engine: Engine
) -> None:
    old, new = rotated["old"], rotated["new"]
    notes = _notes(sqlite_engine)
    assert sorted(notes) == [16, 20, 36, 40]
    note = notes[20]  # the plain checkpoint at 20 was replaced by the transition
    assert note == rotated["transition"].note
    body, _, sigs = note.partition("\n\n")
    assert f"\n{KEY_ROTATION_EXTENSION} {old.vkey()} {new.vkey()}" in body
    kids = [base64.b64decode(line.split(" ")[-1])[:4] for line in sigs.splitlines()]
    assert kids == [old.key_id, new.key_id]
    assert open_checkpoint(note, old).tree_size == 20
    assert open_checkpoint(note, new).tree_size == 20
    t = open_transition(note, origin=ORIGIN)
    assert t is not None and (t.tree_size, t.old.vkey(), t.new.vkey()) == (20, old.vkey(), new.vkey())
    assert rotated["log"].key_transitions() == [t]
    # After the rotation the gateway signs with the new key only.
    for size in (36, 40):
        with pytest.raises(IntegrityError, match="no signature by key"):
            open_checkpoint(notes[size], old)
        open_checkpoint(notes[size], new)


def test_log_rotated_mid_way_verifies_from_database_and_export_with_current_and_retired_keys(
    rotated: dict[str, Any],
) -> None:
    log: AuditLog = rotated["log"]
    both = TrustedKeys(rotated["new"], (rotated["old"],))
    report = log.verify()  # the gateway's own trusted set: new + retired old
    assert (report.tree_size, report.checkpoints_verified) == (40, 4)
    assert log.verify(both).tree_size == 40
    export = verify_export(io.BytesIO(_export(log)), both)
    assert (export.tree_size, export.checkpoints_verified) == (40, 4)


@pytest.mark.parametrize("holder", ["old", "new"])
def test_a_verifier_holding_one_key_follows_the_transition_to_the_other(
    rotated: dict[str, Any], holder: str
) -> None:
    log: AuditLog = rotated["log"]
    only = TrustedKeys(rotated[holder])
    assert log.verify(only).checkpoints_verified == 4
    assert verify_export(io.BytesIO(_export(log)), only).tree_size == 40


def test_without_the_transition_only_the_new_key_cannot_verify_pre_rotation_checkpoints(
    rotated: dict[str, Any], sqlite_engine: Engine
) -> None:
    old, new, log = rotated["old"], rotated["new"], rotated["log"]
    pre = _notes(sqlite_engine)[16]
    # One pre-rotation checkpoint on its own: the new key does not vouch for it ...
    with pytest.raises(IntegrityError, match=f"tree size 16 .*{old.key_id.hex()}") as info:
        open_checkpoint(pre, new)
    assert base64.b64encode(old.public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode() not in str(info.value)
    # ... nor in a proof bundle against it ...
    bundle = proof_bundle(log, 3) | {"checkpoint": pre, "tree_size": 16}
    bundle["inclusion_proof"] = [h.hex() for h in log.inclusion_proof(3, 16).hashes]
    with pytest.raises(IntegrityError, match="tree size 16 has no signature"):
        verify_proof_bundle(bundle, new, origin=ORIGIN)
    assert verify_proof_bundle(bundle, TrustedKeys(new, (old,)), origin=ORIGIN).index == 3
    # ... and a log whose transition checkpoint is gone is not linked either.
    with sqlite_engine.begin() as conn:
        conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.tree_size == 20))
    with pytest.raises(IntegrityError, match=f"tree size 16 .*signed by '{ORIGIN}' key id {old.key_id.hex()}"):
        log.verify(TrustedKeys(new))
    with pytest.raises(IntegrityError, match="line 2: checkpoint for tree size 16"):
        verify_export(io.BytesIO(_export(log)), TrustedKeys(new))
    assert log.verify(TrustedKeys(new, (old,))).checkpoints_verified == 3


def test_the_old_key_alone_does_not_vouch_for_post_rotation_checkpoints_without_the_transition(
    rotated: dict[str, Any], sqlite_engine: Engine
) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.tree_size == 20))
    with pytest.raises(IntegrityError, match=f"tree size 36 .*key id {rotated['new'].key_id.hex()}"):
        rotated["log"].verify(TrustedKeys(rotated["old"]))


def _insert_note(engine: Engine, size: int, root: bytes, note: str) -> None:
    with engine.begin() as conn:
        conn.execute(insert(audit_checkpoints).values(
            tree_size=size, root_hash=root, note=note, created_at="2026-11-25T10:00:00.000Z"))


def test_a_checkpoint_signed_by_an_unknown_key_fails_naming_its_key_id(
    rotated: dict[str, Any], sqlite_engine: Engine, make_record: MakeRecord
) -> None:
    log: AuditLog = rotated["log"]
    stranger = Ed25519PrivateKey.generate()
    log.append_many([make_record(i) for i in range(40, 44)])
    head = log.head()
    # A true statement about the tree, signed by a key nobody trusts.
    _insert_note(sqlite_engine, 44, head.root_hash,
                 sign_checkpoint(Checkpoint(ORIGIN, 44, head.root_hash), stranger, ORIGIN).note)
    kid = _vk(stranger).key_id.hex()
    for check in (log.verify, lambda: verify_export(io.BytesIO(_export(log)), log.verifier)):
        with pytest.raises(IntegrityError, match=f"tree size 44 has no signature .*key id {kid}") as info:
            check()  # type: ignore[operator]
        assert base64.b64encode(_raw(stranger)).decode() not in str(info.value)
    # The gateway refuses to build on it.
    with pytest.raises(IntegrityError, match=kid):
        log.checkpoint(force=True)


def test_a_forged_transition_does_not_link_an_attackers_key(
    rotated: dict[str, Any], sqlite_engine: Engine, make_record: MakeRecord
) -> None:
    log: AuditLog = rotated["log"]
    old, new = rotated["old"], rotated["new"]
    attacker = Ed25519PrivateKey.generate()
    log.append_many([make_record(i) for i in range(40, 44)])
    head = log.head()
    # Names the real new key as "old" but is signed by the attacker alone: not a transition.
    forged = transition_checkpoint(ORIGIN, 44, head.root_hash, new, _vk(attacker))
    _insert_note(sqlite_engine, 44, head.root_hash, sign_checkpoint(forged, attacker, ORIGIN).note)
    with pytest.raises(IntegrityError, match="not signed by the old key"):
        log.verify(TrustedKeys(old))
    # A well-formed transition between two keys nobody trusts links nothing.
    other = Ed25519PrivateKey.generate()
    with sqlite_engine.begin() as conn:
        conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.tree_size == 44))
    unlinked = transition_checkpoint(ORIGIN, 44, head.root_hash, _vk(other), _vk(attacker))
    _insert_note(sqlite_engine, 44, head.root_hash,
                 sign_checkpoint_with(unlinked, [(other, ORIGIN), (attacker, ORIGIN)]).note)
    chain = KeyChain.for_notes(log.checkpoints(), TrustedKeys(new), origin=ORIGIN)
    assert [t.tree_size for t in chain.linked] == [20]
    with pytest.raises(IntegrityError, match="tree size 44 has no signature"):
        log.verify()


def test_gateway_keeps_signing_after_a_checkpoint_by_the_retired_key(
    sqlite_engine: Engine, make_log: MakeLog, make_record: MakeRecord, signing_key: Ed25519PrivateKey
) -> None:
    old_log = make_log(sqlite_engine)
    old_log.append_many([make_record(i) for i in range(10)])
    old_log.checkpoint(force=True)  # at 10, old key only (no transition: e.g. a lost rotation)
    new_key = Ed25519PrivateKey.generate()
    bare = make_log(sqlite_engine, key=new_key)
    bare.append_many([make_record(i) for i in range(10, 12)])
    # Without the retired key the gateway refuses, naming the key id it does not trust.
    with pytest.raises(IntegrityError, match=f"tree size 10 .*key id {_vk(signing_key).key_id.hex()}"):
        bare.checkpoint(force=True)
    log = make_log(sqlite_engine, key=new_key, retired_keys=[_vk(signing_key)])
    assert log.checkpoint(force=True).tree_size == 12
    log.append_many([make_record(i) for i in range(12, 20)])
    assert log.checkpoint(force=True).tree_size == 20
    assert log.verify().checkpoints_verified == 3


def test_consistency_with_a_retired_keys_checkpoint_is_still_checked(
    sqlite_engine: Engine, make_log: MakeLog, make_record: MakeRecord, signing_key: Ed25519PrivateKey
) -> None:
    make_log(sqlite_engine).append_many([make_record(i) for i in range(10)])
    make_log(sqlite_engine).checkpoint(force=True)  # at 10, by the key that is then retired
    log = make_log(sqlite_engine, key=Ed25519PrivateKey.generate(), retired_keys=[_vk(signing_key)])
    log.append_many([make_record(i) for i in range(10, 12)])
    # Rewrite history so that the stored tree of 12 is self-consistent (head root = subtrees)
    # but no longer extends the signed tree of 10: only the consistency proof can tell.
    bad = b"\x00" * 32
    with sqlite_engine.begin() as conn:
        conn.execute(update(audit_subtrees).where(audit_subtrees.c.node == subtree_key(3, 0))
                     .values(hash=bad))
        right = conn.execute(select(audit_subtrees.c.hash)
                             .where(audit_subtrees.c.node == subtree_key(2, 2))).scalar_one()
        conn.execute(update(audit_log_head).values(
            root_hash=hashlib.sha256(merkle.NODE_PREFIX + bad + right).digest()))
    with pytest.raises(IntegrityError, match="refusing to sign: tree at size 12 is not consistent "
                                             "with the signed checkpoint at size 10"):
        log.checkpoint(force=True)
    assert sorted(_notes(sqlite_engine)) == [10]


def test_rotation_at_a_size_without_a_checkpoint_adds_the_transition(
    sqlite_engine: Engine, make_log: MakeLog, make_record: MakeRecord
) -> None:
    log = make_log(sqlite_engine)
    log.append_many([make_record(i) for i in range(16)])  # checkpoint at 16
    log.append_many([make_record(i) for i in range(16, 18)])
    signed = log.rotate_key(Ed25519PrivateKey.generate())
    assert signed.tree_size == 18 and sorted(_notes(sqlite_engine)) == [16, 18]
    assert log.verify().checkpoints_verified == 2


def test_rotation_refuses_the_current_key_and_a_tampered_tree(
    sqlite_log: AuditLog, sqlite_engine: Engine, make_record: MakeRecord,
    signing_key: Ed25519PrivateKey,
) -> None:
    with pytest.raises(ValueError, match="current key"):
        sqlite_log.rotate_key(signing_key)
    sqlite_log.append_many([make_record(i) for i in range(8)])
    sqlite_log.checkpoint(force=True)
    sqlite_log.append_many([make_record(i) for i in range(8, 12)])
    with sqlite_engine.begin() as conn:
        conn.execute(update(audit_subtrees).where(audit_subtrees.c.node == subtree_key(3, 0))
                     .values(hash=b"\x00" * 32))
    with pytest.raises(IntegrityError, match="refusing to sign|do not reproduce"):
        sqlite_log.rotate_key(Ed25519PrivateKey.generate())
    assert sorted(_notes(sqlite_engine)) == [8]


def test_a_linked_key_vouches_only_for_its_side_of_the_transition(
    rotated: dict[str, Any], sqlite_engine: Engine, make_record: MakeRecord,
    signing_key: Ed25519PrivateKey,
) -> None:
    old, new, log = rotated["old"], rotated["new"], rotated["log"]
    # A checkpoint at 44 signed with the old key only (say, by a gateway not yet restarted).
    log.append_many([make_record(i) for i in range(40, 44)])
    root44 = log.head().root_hash
    _insert_note(sqlite_engine, 44, root44,
                 sign_checkpoint(Checkpoint(ORIGIN, 44, root44), signing_key, ORIGIN).note)
    # A retired key is trusted only up to the size at which it was retired (its transition).
    with pytest.raises(IntegrityError, match=f"tree size 44 .*key id {old.key_id.hex()}"):
        log.verify(TrustedKeys(new, (old,)))
    assert log.verify(TrustedKeys(new, (RetiredKey(old, 44),))).checkpoints_verified == 5
    with pytest.raises(IntegrityError, match=f"tree size 44 .*key id {old.key_id.hex()}"):
        log.verify(TrustedKeys(new))  # linked through the transition at 20: sizes <= 20 only
    # And the new key, learned by a verifier holding the old one, does not reach back before 20.
    with sqlite_engine.begin() as conn:
        conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.tree_size == 44))
        root16 = conn.execute(select(audit_checkpoints.c.root_hash)
                              .where(audit_checkpoints.c.tree_size == 16)).scalar_one()
        conn.execute(update(audit_checkpoints).where(audit_checkpoints.c.tree_size == 16).values(
            note=sign_checkpoint(Checkpoint(ORIGIN, 16, root16), rotated["new_key"], ORIGIN).note))
    assert log.verify(TrustedKeys(new)).checkpoints_verified == 4
    with pytest.raises(IntegrityError, match=f"tree size 16 .*key id {new.key_id.hex()}"):
        log.verify(TrustedKeys(old))


@pytest.mark.postgres
def test_rotation_on_postgresql_replaces_the_note_and_the_log_keeps_verifying(
    postgres_engine: Engine, make_log: MakeLog, make_record: MakeRecord,
    signing_key: Ed25519PrivateKey,
) -> None:
    make_log(postgres_engine).append_many([make_record(i) for i in range(16)])  # checkpoint at 16
    new_key = Ed25519PrivateKey.generate()
    make_log(postgres_engine).rotate_key(new_key)
    log = make_log(postgres_engine, key=new_key, retired_keys=[_vk(signing_key)])
    log.append_many([make_record(i) for i in range(16, 20)])
    log.checkpoint(force=True)
    assert sorted(_notes(postgres_engine)) == [16, 20]
    assert open_transition(_notes(postgres_engine)[16], origin=ORIGIN) is not None
    assert log.verify().checkpoints_verified == 2
    assert log.verify(TrustedKeys(_vk(signing_key))).tree_size == 20


def test_the_fg_verify_now_follows_the_transition_like_the_offline_verifier(
    rotated: dict[str, Any], sqlite_engine: Engine, make_log: MakeLog
) -> None:
    """gateway.oversight.integrity.verify_full (the FG's "verify now") on a gateway that knows only the new
    key: the transition at 20 vouches for the old key's checkpoints at 16 and 20."""
    from gateway.oversight.integrity import verify_full

    only_new = make_log(sqlite_engine, key=rotated["new_key"])
    report = verify_full(only_new)
    assert (report.tree_size, report.checkpoints_verified) == (40, 4)
