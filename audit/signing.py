"""Signing: C2SP checkpoints of the log, key rotation, and the per-subject map they carry.

The log signs a checkpoint every ``checkpoint_every_records`` records or
``checkpoint_every_s`` seconds (checked after appends; AuditLog.maybe_checkpoint is called
from a timer to cover idle periods) and on demand — and only after checking that the new tree
is consistent with the last checkpoint it signed (RFC 9162 §2.1.4).

The per-subject map (audit/subjects.py, ADR 0005) is a pure function of the committed leaves,
its root signed in every checkpoint. It is kept incrementally: this process's own appends are
fed to it after their commit (:meth:`Signer.note_appended`), other processes' leaves are read
from the table, and the map is hashed before the write lock is taken — inside it only what was
appended since. Never in the append transaction. Maps at recent checkpoint sizes are kept for
proofs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, insert, select, update

from audit import merkle, store, subjects
from audit.checkpoint import (
    KEY_ROTATION_EXTENSION,
    Checkpoint,
    KeyTransition,
    NoteVerifier,
    SignedCheckpoint,
    TrustedKeys,
    open_checkpoint,
    open_transition,
    parse_checkpoint_body,
    sign_checkpoint_with,
    transition_checkpoint,
)
from audit.errors import AuditWriteError, IntegrityError, NotFound
from audit.merkle import ProofError
from audit.models import audit_checkpoints
from audit.record import LEAF_PREFIX, utc_timestamp
from audit.store import blob, fetch_nodes, locked, read_head
from audit.subjects import SubjectIndex, SubjectMap

log = logging.getLogger("audit.log")

#: Subject maps kept in memory for proofs, one per recently signed checkpoint size.
SUBJECT_MAPS_KEPT = 64
#: Rows read per query while catching the subject map up with the leaves.
SUBJECT_PAGE_ROWS = 4096


class Signer:
    """The log's signing side: checkpoints, key rotation, the subject map."""

    def __init__(
        self,
        engine: Engine,
        signing_key: Ed25519PrivateKey | None,
        verifier: TrustedKeys | None,
        *,
        origin: str,
        key_name: str,
        checkpoint_every_records: int,
        checkpoint_every_s: float,
        subject_map_key: bytes | None,
    ) -> None:
        self.engine = engine
        self.origin = origin
        self.key_name = key_name
        self.checkpoint_every_records = checkpoint_every_records
        self.checkpoint_every_s = checkpoint_every_s
        self._signing_key = signing_key
        self.verifier = verifier
        self._last_cp_size: int | None = None  # process-local hint only
        self._last_cp_time = time.monotonic()
        self._cp_retry_at = 0.0  # after a failed checkpoint, appends wait this long to retry
        self._subject_map_key = subject_map_key
        self._subjects = SubjectIndex(subject_map_key) if subject_map_key is not None else None
        self._subjects_lock = threading.Lock()
        self._subject_maps: OrderedDict[int, SubjectMap] = OrderedDict()
        #: Called with each newly signed checkpoint, after its commit (audit.witnessing).
        self.checkpoint_listeners: list[Callable[[SignedCheckpoint], None]] = []

    def after_append(self, new_size: int | None, checkpoint: Callable[..., object]) -> None:
        """Sign a checkpoint if one is due after an append (``checkpoint``: the log's)."""
        if self._signing_key is None or new_size is None:
            return
        if self._last_cp_size is None:
            latest = self._latest_row()
            self._last_cp_size = 0 if latest is None else latest[0]
        due = new_size - self._last_cp_size >= self.checkpoint_every_records or (
            new_size > self._last_cp_size
            and time.monotonic() - self._last_cp_time >= self.checkpoint_every_s
        )
        if due and time.monotonic() >= self._cp_retry_at:
            try:
                checkpoint(force=True)
            except Exception:  # the records are committed; a late checkpoint is only late
                # A checkpoint that cannot be signed (e.g. the last one carries another key, or
                # the stored tree was tampered with) would fail on every append: retry once per
                # interval, not per append, so the failure costs neither throughput nor a flood
                # of tracebacks. The timer and `loket audit checkpoint` still retry it.
                self._cp_retry_at = time.monotonic() + self.checkpoint_every_s
                log.exception("audit checkpoint failed; next attempt in %.0f s", self.checkpoint_every_s)

    def checkpoint(self, force: bool = False) -> SignedCheckpoint:
        """Return the latest checkpoint, signing a new one for the current tree if it grew and
        ``force`` is set or one is due. Never signs a tree inconsistent with the last one."""
        return self._sign(force=force, new_key=None)

    def rotate_key(self, new_key: Ed25519PrivateKey) -> SignedCheckpoint:
        """Sign a transition checkpoint for the current tree with the current key *and*
        ``new_key``; its extension line names both vkeys (audit.checkpoint.transition_checkpoint).

        The same checks as :meth:`checkpoint` run first (the last checkpoint verifies with a
        trusted key, the tree is consistent with it). If the last checkpoint already covers the
        current tree, its stored note is replaced by the transition note: same origin, size and
        root, so the replaced note stays a valid, consistent checkpoint for whoever holds it.
        This log object keeps signing with its current key; open the log with ``new_key`` (and
        the old vkey among the retired keys) to sign with the new one.
        """
        if self.verifier is not None and self.verifier.current is not None:
            if NoteVerifier.for_private_key(self.key_name, new_key).key_id == self.verifier.current.key_id:
                raise ValueError("the new key is the current key")
        return self._sign(force=True, new_key=new_key)

    def _sign(self, *, force: bool, new_key: Ed25519PrivateKey | None) -> SignedCheckpoint:
        if self._signing_key is None:
            raise RuntimeError("this AuditLog has no signing key; it cannot sign checkpoints")
        assert self.verifier is not None and self.verifier.current is not None
        if self._subjects is not None:  # the bulk of the catching up, outside the write lock
            with self.engine.connect() as conn:
                self._catch_up_subjects(conn, store.tree_size(conn))
        try:
            with locked(self.engine) as conn:
                size, root, _ = read_head(conn, lock=True)
                last_row = conn.execute(
                    select(
                        audit_checkpoints.c.tree_size,
                        audit_checkpoints.c.note,
                        audit_checkpoints.c.created_at,
                    )
                    .order_by(audit_checkpoints.c.tree_size.desc())
                    .limit(1)
                ).first()
                last: Checkpoint | None = None
                if last_row is not None:
                    # Any trusted key, current or retired: a log keeps growing across rotations,
                    # and the consistency check below still ties the new tree to this one.
                    last = open_checkpoint(last_row.note, self.verifier, origin=self.origin)
                    if last.tree_size > size:
                        raise IntegrityError(
                            f"log head at size {size} is behind the signed checkpoint at size {last.tree_size}"
                        )
                    if last.tree_size == size:
                        if last.root_hash != root:
                            raise IntegrityError(
                                f"log head root differs from the signed checkpoint at size {size}"
                            )
                        if new_key is None:
                            self._note_checkpoint(size)
                            return SignedCheckpoint(last, last_row.note)
                    elif new_key is None and not force and not self._due(
                        size, last.tree_size, last_row.created_at
                    ):
                        return SignedCheckpoint(last, last_row.note)
                # Recompute the root from stored subtrees; it must match the head.
                plan = (merkle.root_plan(size),) if size else ()
                if (
                    plan
                    and merkle.assemble(plan, fetch_nodes(conn, merkle.plan_nodes(plan)))[0]
                    != root
                ):
                    raise IntegrityError(
                        f"stored subtrees do not reproduce the head root at size {size}"
                    )
                if last is not None and last.tree_size == 0 and last.root_hash != merkle.EMPTY_ROOT:
                    raise IntegrityError("checkpoint at tree size 0: root is not the empty-tree hash")
                if last is not None and last_row is not None and new_key is None:
                    t = open_transition(last_row.note, origin=self.origin)
                    if t is not None and t.old.key_id == self.verifier.current.key_id:
                        # fail-closed: a retired key is trusted only up to its transition; a
                        # process still holding it must not sign beyond (restart it).
                        raise IntegrityError(
                            f"this key (key id {t.old.key_id.hex()}) was retired at tree size "
                            f"{t.tree_size}; restart with the new signing key"
                        )
                if last is not None and 0 < last.tree_size < size:
                    proof = self._consistency_hashes(conn, last.tree_size, size)
                    try:
                        merkle.verify_consistency(last.tree_size, size, last.root_hash, root, proof)
                    except ProofError as e:
                        raise IntegrityError(
                            f"refusing to sign: tree at size {size} is not consistent with "
                            f"the signed checkpoint at size {last.tree_size}"
                        ) from e
                signers = [(self._signing_key, self.key_name)]
                subject_map = self._subject_map_locked(conn, size)
                extensions = () if subject_map is None else (subjects.extension_line(subject_map.root),)
                if new_key is None:
                    body = Checkpoint(self.origin, size, root, extensions)
                else:
                    body = transition_checkpoint(
                        self.origin,
                        size,
                        root,
                        self.verifier.current,
                        NoteVerifier.for_private_key(self.key_name, new_key),
                        extensions,
                    )
                    signers.append((new_key, self.key_name))
                signed = sign_checkpoint_with(body, signers)
                if last is not None and last.tree_size == size:  # a transition at a signed size
                    conn.execute(
                        update(audit_checkpoints)
                        .where(audit_checkpoints.c.tree_size == size)
                        .values(note=signed.note, created_at=utc_timestamp())
                    )
                else:
                    conn.execute(
                        insert(audit_checkpoints).values(
                            tree_size=size, root_hash=root, note=signed.note, created_at=utc_timestamp()
                        )
                    )
        except IntegrityError:
            raise
        except Exception as e:
            raise AuditWriteError("audit checkpoint could not be written") from e
        self._note_checkpoint(size)
        for listener in list(self.checkpoint_listeners):
            try:
                listener(signed)
            except Exception:  # a listener (e.g. witness submission) never fails the signing
                log.exception("audit checkpoint listener failed")
        return signed

    # --- the per-subject map (audit/subjects.py) --------------------------------------------

    def note_appended(self, first: int, records: list[tuple[str | None, bytes]]) -> None:
        """Feed this process's just committed leaves (their data subject and leaf hash) to the
        subject index, so signing need not read them back; skipped unless they are the next
        leaves the index expects (another process's appends are read from the table)."""
        if self._subjects is None:
            return
        with self._subjects_lock:
            index = self._subjects
            if index.size != first:
                return
            add = index.add
            for i, (subject, leaf_hash) in enumerate(records, first):
                add(i, subject, leaf_hash)

    def _catch_up_subjects(self, conn: Connection, up_to: int) -> None:
        """Add the committed leaves below ``up_to`` that the subject index has not seen, and
        hash the map over them (outside the write lock: signing then only adds what was
        appended since)."""
        assert self._subjects is not None
        with self._subjects_lock:
            _add_subjects(conn, self._subjects, up_to)
            self._subjects.commit()

    def _subject_map_locked(self, conn: Connection, size: int) -> SubjectMap | None:
        """The subject map over the first ``size`` leaves, inside the write lock (so no leaf
        below ``size`` can be missing); remembered for proofs at that size."""
        if self._subjects is None:
            return None
        with self._subjects_lock:
            if self._subjects.size > size:  # another process's view was ahead: rebuild
                self._subjects = SubjectIndex(self._subject_map_key)  # type: ignore[arg-type]
            _add_subjects(conn, self._subjects, size)
            m = self._subjects.commit()
            self._subject_maps[size] = m
            while len(self._subject_maps) > SUBJECT_MAPS_KEPT:
                self._subject_maps.popitem(last=False)
        return m

    @property
    def has_subject_map(self) -> bool:
        return self._subjects is not None

    def subject_key(self, pseudonym: str) -> bytes:
        if self._subject_map_key is None:
            raise RuntimeError("this AuditLog keeps no subject map")
        return subjects.subject_key(self._subject_map_key, pseudonym)

    def subject_map_at(self, tree_size: int) -> SubjectMap:
        """The subject map over the first ``tree_size`` leaves: remembered from signing, or
        rebuilt from the leaves (O(n): older checkpoints only)."""
        if self._subject_map_key is None:
            raise RuntimeError("this AuditLog keeps no subject map")
        with self._subjects_lock:
            m = self._subject_maps.get(tree_size)
        if m is not None:
            return m
        index = SubjectIndex(self._subject_map_key)
        with self.engine.connect() as conn:
            _add_subjects(conn, index, tree_size)
        if index.size != tree_size:
            raise NotFound(f"the log holds fewer than {tree_size} records")
        return index.commit()


    def key_transitions(self) -> list[KeyTransition]:
        """The log's transition checkpoints (key rotations), oldest first, signatures checked."""
        q = (
            select(audit_checkpoints.c.note)
            .where(audit_checkpoints.c.note.contains("\n" + KEY_ROTATION_EXTENSION + " ", autoescape=True))
            .order_by(audit_checkpoints.c.tree_size)
        )
        with self.engine.connect() as conn:
            notes = [str(n) for n in conn.execute(q).scalars()]
        out = []
        for note in notes:
            t = open_transition(note, origin=self.origin)
            if t is not None:
                out.append(t)
        return out

    def _due(self, size: int, last_size: int, last_created_at: str) -> bool:
        if size - last_size >= self.checkpoint_every_records:
            return True
        age_cutoff = utc_timestamp(_now_minus(self.checkpoint_every_s))
        return bool(last_created_at <= age_cutoff)

    def _note_checkpoint(self, size: int) -> None:
        self._last_cp_size = size
        self._last_cp_time = time.monotonic()

    def _latest_row(self) -> tuple[int, str] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(audit_checkpoints.c.tree_size, audit_checkpoints.c.note)
                .order_by(audit_checkpoints.c.tree_size.desc())
                .limit(1)
            ).first()
        return None if row is None else (int(row.tree_size), str(row.note))

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        """The most recent signed checkpoint, verified with this log's key if it has one."""
        row = self._latest_row()
        if row is None:
            return None
        _, note = row
        if self.verifier is not None:
            return SignedCheckpoint(open_checkpoint(note, self.verifier, origin=self.origin), note)
        return SignedCheckpoint(parse_checkpoint_body(note.partition("\n\n")[0] + "\n"), note)

    def latest_checkpoint_signed_at(self) -> tuple[int, str] | None:
        """(tree size, signing time) of the newest checkpoint, read without verifying the note:
        for monitoring how fresh the checkpoints are, never as a proof."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(audit_checkpoints.c.tree_size, audit_checkpoints.c.created_at)
                .order_by(audit_checkpoints.c.tree_size.desc())
                .limit(1)
            ).first()
        return None if row is None else (int(row.tree_size), str(row.created_at))

    def checkpoints(self, up_to: int | None = None) -> list[str]:
        """All signed checkpoint notes (oldest first), optionally up to a tree size."""
        q = select(audit_checkpoints.c.note).order_by(audit_checkpoints.c.tree_size)
        if up_to is not None:
            q = q.where(audit_checkpoints.c.tree_size <= up_to)
        with self.engine.connect() as conn:
            return [str(n) for n in conn.execute(q).scalars()]

    def checkpoint_at(self, tree_size: int) -> str | None:
        with self.engine.connect() as conn:
            note = conn.execute(
                select(audit_checkpoints.c.note).where(audit_checkpoints.c.tree_size == tree_size)
            ).scalar()
        return None if note is None else str(note)

    # --- proofs -------------------------------------------------------------------------

    def _consistency_hashes(
        self, conn: Connection, old_size: int, new_size: int
    ) -> tuple[bytes, ...]:
        plan = merkle.consistency_plan(old_size, new_size)
        return merkle.assemble(plan, fetch_nodes(conn, merkle.plan_nodes(plan)))



def _now_minus(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


_SUBJECT_ROWS_SQL = (
    "SELECT idx, leaf, leaf_hash FROM audit_records WHERE idx >= {p} AND idx < {p} ORDER BY idx LIMIT {p}"
)
def _add_subjects(conn: Connection, index: SubjectIndex, up_to: int) -> None:
    """Feed the committed leaves [index.size, up_to) to ``index`` (subject read from the leaf)."""
    sql = _SUBJECT_ROWS_SQL.format(p="?" if conn.dialect.paramstyle == "qmark" else "%s")
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    prefix_len = len(LEAF_PREFIX)
    try:
        while index.size < up_to:
            cursor.execute(sql, (index.size, up_to, SUBJECT_PAGE_ROWS))
            page = cursor.fetchall()
            if not page:
                raise IntegrityError(f"record {index.size}: missing below the log head")
            for idx, leaf, leaf_hash in page:
                i = int(idx)
                if i != index.size:
                    raise IntegrityError(f"record {index.size}: missing (found {i} in its place)")
                leaf = blob(leaf, f"record {i}: leaf")
                index.add(i, subjects.subject_of_body(leaf[prefix_len:]), blob(leaf_hash, f"record {i}: leaf hash"))
    finally:
        cursor.close()
