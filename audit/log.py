"""The audit log on a database: durable appends, signed checkpoints, proofs, search.

:class:`AuditLog` is a thin facade over the log's three parts, each in its own module:

- audit.append — the queue that gathers concurrent appends into one transaction (group
  commit) and the write under the database lock (audit.store.locked);
- audit.signing — C2SP checkpoints (every ``checkpoint_every_records`` records or
  ``checkpoint_every_s`` seconds, and on demand, never for a tree inconsistent with the last
  one), key rotation, and the per-subject map whose root every checkpoint carries;
- audit.reading — records, the privacy officer's search, the head and proofs;

and audit.dbverify, the verifier of the store itself (:meth:`AuditLog.verify`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from audit import merkle
from audit.append import Appender, AppendReceipt, Companion
from audit.checkpoint import (
    Checkpoint,
    KeyTransition,
    NoteVerifier,
    RetiredKey,
    SignedCheckpoint,
    TrustedKeys,
    Verifier,
)
from audit.dbverify import INDEX_COLUMNS, VERIFY_PAGE_ROWS, index_columns_match, verify_store
from audit.errors import AuditWriteError
from audit.merkle import ConsistencyProof, InclusionProof
from audit.reading import AuditFilter, LogHead, Reader, StoredRecord, SubtreeCache
from audit.record import AuditRecord
from audit.signing import SUBJECT_MAPS_KEPT, Signer
from audit.store import HEAD_ID, MAX_INDEX
from audit.subjects import SubjectMap
from audit.verify import VerifyReport

__all__ = [
    "HEAD_ID",
    "INDEX_COLUMNS",
    "MAX_INDEX",
    "SUBJECT_MAPS_KEPT",
    "VERIFY_PAGE_ROWS",
    "AppendReceipt",
    "AuditFilter",
    "AuditLog",
    "AuditWriteError",
    "Companion",
    "LogHead",
    "StoredRecord",
    "SubtreeCache",
    "index_columns_match",
]


class AuditLog:
    def __init__(
        self,
        engine: Engine,
        signing_key: Ed25519PrivateKey | None,
        *,
        origin: str,
        key_name: str,
        checkpoint_every_records: int = 256,
        checkpoint_every_s: float = 5.0,
        max_batch: int = 256,
        subtree_cache_entries: int = 32_768,
        retired_keys: Sequence[NoteVerifier | RetiredKey] = (),
        subject_map_key: bytes | None = None,
    ) -> None:
        if checkpoint_every_records < 1 or checkpoint_every_s <= 0 or not 1 <= max_batch <= 10_000:
            raise ValueError("checkpoint intervals and batch size must be positive")
        if subtree_cache_entries < 0:
            raise ValueError("subtree_cache_entries must be >= 0")
        Checkpoint(origin, 0, merkle.EMPTY_ROOT)  # validates the origin
        self.engine = engine
        self.origin = origin
        self.key_name = key_name
        self._signing_key = signing_key
        self._subject_map_key = subject_map_key
        self._dialect = engine.dialect.name
        # The keys checkpoints of this log are verified with: the current (signing) key and the
        # retired keys earlier checkpoints were signed with (see ``rotate_key``).
        self.verifier: TrustedKeys | None = (
            TrustedKeys(NoteVerifier.for_private_key(key_name, signing_key), tuple(retired_keys))
            if signing_key is not None
            else None
        )
        self._signing = Signer(
            engine,
            signing_key,
            self.verifier,
            origin=origin,
            key_name=key_name,
            checkpoint_every_records=checkpoint_every_records,
            checkpoint_every_s=checkpoint_every_s,
            subject_map_key=subject_map_key,
        )
        self._appending = Appender(
            engine, max_batch=max_batch, after_append=self._after_append,
            committed=self._signing.note_appended,
        )
        self._reading = Reader(engine, subtree_cache_entries=subtree_cache_entries)

    def __repr__(self) -> str:  # never show the key
        return f"AuditLog(origin={self.origin!r}, dialect={self._dialect!r})"

    # --- settings and state of the parts ------------------------------------------------------

    @property
    def checkpoint_every_records(self) -> int:
        return self._signing.checkpoint_every_records

    @property
    def checkpoint_every_s(self) -> float:
        return self._signing.checkpoint_every_s

    @property
    def max_batch(self) -> int:
        return self._appending.max_batch

    @property
    def subtree_cache(self) -> SubtreeCache:
        return self._reading.subtree_cache

    @property
    def checkpoint_listeners(self) -> list[Callable[[SignedCheckpoint], None]]:
        """Called with each newly signed checkpoint, after its commit (audit.witnessing)."""
        return self._signing.checkpoint_listeners

    @property
    def has_subject_map(self) -> bool:
        return self._signing.has_subject_map

    def vkey(self) -> str:
        """The C2SP verifier key to publish (``loket audit pubkey``, well-known URL)."""
        if self.verifier is None:
            raise RuntimeError("this AuditLog has no signing key")
        return self.verifier.vkey()

    # --- appends (audit.append) ---------------------------------------------------------------

    def append(self, record: AuditRecord, *, companion: Companion | None = None) -> AppendReceipt:
        """Durably append one record; concurrent callers share one transaction (group commit).

        Returns only after the commit. Raises AuditWriteError (chained) if the record could not
        be written; then none of the records of that transaction are in the log.

        ``companion`` writes the caller's own rows in the same transaction, so they and the
        record commit together or not at all. A companion that fails fails only its own
        append: the batch is retried one record at a time.
        """
        (receipt,) = self.append_group((record,), companion=companion)
        return receipt

    def append_group(
        self, records: Sequence[AuditRecord], *, companion: Companion | None = None
    ) -> list[AppendReceipt]:
        """:meth:`append` for several records of one processing (a dossier span and its child
        spans, say): consecutive leaves, committed in one transaction with ``companion``, all or
        nothing."""
        return self._appending.append_group(records, companion=companion)

    def append_many(self, records: Sequence[AuditRecord]) -> list[AppendReceipt]:
        """Durably append records in order, in transactions of at most ``max_batch``.

        All-or-nothing per transaction; raises AuditWriteError on the first failure.
        """
        return self._appending.append_many(records)

    def _after_append(self, new_size: int | None) -> None:
        # self.checkpoint looked up per call: a wrapper or a test may replace it
        self._signing.after_append(new_size, self.checkpoint)

    # --- checkpoints and the subject map (audit.signing) ----------------------------------------

    def maybe_checkpoint(self) -> SignedCheckpoint | None:
        """Sign a checkpoint if the tree grew and one is due (call this from a timer)."""
        if self._signing_key is None:
            return None
        return self.checkpoint(force=False)

    def checkpoint(self, force: bool = False) -> SignedCheckpoint:
        """Return the latest checkpoint, signing a new one for the current tree if it grew and
        ``force`` is set or one is due. Never signs a tree inconsistent with the last one."""
        return self._signing.checkpoint(force)

    def rotate_key(self, new_key: Ed25519PrivateKey) -> SignedCheckpoint:
        """Sign a transition checkpoint for the current tree with the current key *and*
        ``new_key`` (see audit.signing.Signer.rotate_key)."""
        return self._signing.rotate_key(new_key)

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        """The most recent signed checkpoint, verified with this log's key if it has one."""
        return self._signing.latest_checkpoint()

    def latest_checkpoint_signed_at(self) -> tuple[int, str] | None:
        """(tree size, signing time) of the newest checkpoint, read without verifying the note:
        for monitoring how fresh the checkpoints are, never as a proof."""
        return self._signing.latest_checkpoint_signed_at()

    def checkpoints(self, up_to: int | None = None) -> list[str]:
        """All signed checkpoint notes (oldest first), optionally up to a tree size."""
        return self._signing.checkpoints(up_to)

    def checkpoint_at(self, tree_size: int) -> str | None:
        return self._signing.checkpoint_at(tree_size)

    def key_transitions(self) -> list[KeyTransition]:
        """The log's transition checkpoints (key rotations), oldest first, signatures checked."""
        return self._signing.key_transitions()

    def subject_key(self, pseudonym: str) -> bytes:
        return self._signing.subject_key(pseudonym)

    def subject_map_at(self, tree_size: int) -> SubjectMap:
        """The subject map over the first ``tree_size`` leaves: remembered from signing, or
        rebuilt from the leaves (O(n): older checkpoints only)."""
        return self._signing.subject_map_at(tree_size)

    # --- reading, search, proofs (audit.reading) --------------------------------------------

    def head(self) -> LogHead:
        return self._reading.head()

    def inclusion_proof(self, index: int, tree_size: int) -> InclusionProof:
        """RFC 9162 §2.1.3 proof that leaf ``index`` is in the tree of ``tree_size``."""
        return self._reading.inclusion_proof(index, tree_size)

    def consistency_proof(self, old_size: int, new_size: int) -> ConsistencyProof:
        """RFC 9162 §2.1.4 proof that the tree of ``old_size`` is a prefix of ``new_size``."""
        return self._reading.consistency_proof(old_size, new_size)

    def get_record(self, index: int) -> StoredRecord:
        return self._reading.get_record(index)

    def find_index(self, record_id: str) -> int:
        return self._reading.find_index(record_id)

    def find(
        self,
        flt: AuditFilter | None = None,
        *,
        after: int = -1,
        before: int | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> list[StoredRecord]:
        """One page of matching records. Keyset pagination on the leaf index:
        pass the last index seen as ``after`` (oldest first) or ``before`` (newest first)."""
        return self._reading.find(flt, after=after, before=before, limit=limit, newest_first=newest_first)

    def iter_records(
        self,
        flt: AuditFilter | None = None,
        *,
        start: int = 0,
        stop: int | None = None,
        page_size: int = 2000,
    ) -> Iterator[StoredRecord]:
        """Stream matching records with ``start <= index < stop`` in index order, page by page."""
        return self._reading.iter_records(flt, start=start, stop=stop, page_size=page_size)

    def count(self, flt: AuditFilter | None = None, *, stop: int | None = None) -> int:
        return self._reading.count(flt, stop=stop)

    def subject_records(self, pseudonym: str, tree_size: int) -> list[StoredRecord]:
        """The records about ``pseudonym`` among the first ``tree_size`` leaves (by the
        ``data_subject_id`` index column, which verify() checks against the leaves)."""
        return self._reading.subject_records(pseudonym, tree_size)

    # --- verification of the database itself (audit.dbverify) ----------------------------------

    def verify(
        self,
        verifier: Verifier | None = None,
        *,
        progress: Callable[[int], None] | None = None,
        trusted_checkpoints: Sequence[str] = (),
        deep: bool = False,
    ) -> VerifyReport:
        """Recompute everything the log serves and the pages read from the leaves, and raise
        IntegrityError naming the first record, column, subtree or checkpoint that differs
        (audit.dbverify.verify_store). Checkpoints verify with ``verifier`` (default: this
        log's current and retired keys). This is the one verifier: ``loket audit verify`` and
        the FG's "verify now" both call it."""
        v = verifier or self.verifier
        if v is None:
            raise RuntimeError("verify() needs a verifier key")
        return verify_store(
            self.engine,
            v,
            origin=self.origin,
            subject_map_key=self._subject_map_key,
            progress=progress,
            trusted_checkpoints=trusted_checkpoints,
            deep=deep,
        )

