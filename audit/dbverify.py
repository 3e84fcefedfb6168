"""Verification of the database itself: ``loket audit verify`` and the FG's "verify now".

:func:`verify_store` recomputes everything the log serves and the pages read from the leaves,
and raises IntegrityError naming the first record, column, subtree or checkpoint that differs.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from audit import merkle, subjects
from audit.checkpoint import KeyChain, Verifier
from audit.errors import IntegrityError
from audit.models import audit_checkpoints, audit_subtrees
from audit.record import LEAF_FORMAT, LEAF_PREFIX, AuditRecord
from audit.store import blob, map_sqlite_file, read_head
from audit.subjects import SubjectIndex
from audit.verify import CheckpointTrack, VerifyReport

_SELECT_NOTES = select(audit_checkpoints.c.note).order_by(audit_checkpoints.c.tree_size)


def verify_store(
    engine: Engine,
    verifier: Verifier,
    *,
    origin: str,
    subject_map_key: bytes | None = None,
    progress: Callable[[int], None] | None = None,
    trusted_checkpoints: Sequence[str] = (),
    deep: bool = False,
) -> VerifyReport:
    """Recompute everything the log serves and the pages read from the leaves, and raise
    IntegrityError naming the first record, column, subtree or checkpoint that differs.

    - every leaf hash, and the root at every signed checkpoint and at the head;
    - every index column of ``audit_records`` (kind, actor, purpose, case, data subject,
      times, …) against the leaf it sits beside: the citizen's and the FG's pages filter on
      these, so an edited column would hide a record from them;
    - every cached ``audit_subtrees`` hash (proofs are served from them), and that there
      are exactly as many as a tree of this size has;
    - with ``subject_map_key``, the subject map root of every checkpoint that carries one
      (ADR 0005), the map kept incrementally over the same pass.

    Checkpoints verify with ``verifier`` (AuditLog.verify: the log's current and retired keys) and
    the keys its transition checkpoints link to them (audit.checkpoint.KeyChain).
    ``trusted_checkpoints`` are notes obtained elsewhere (a witness, a citizen, yesterday's
    export): they must verify with the same keys and match the records, so a tail deleted
    together with the checkpoints that covered it is caught. ``deep`` also decodes and
    validates every record. ``progress`` is called with the number of records checked.
    This is the one verifier: ``loket audit verify`` and the FG's "verify now" both call it.
    """
    started = time.perf_counter()
    with engine.connect() as conn:
        notes = [str(n) for n in conn.execute(_SELECT_NOTES).scalars()]
        head_size, head_root, _ = read_head(conn, lock=False)
    chain = KeyChain.for_notes(notes, verifier, origin=origin)
    checkpoints = [chain.open(note, origin=origin) for note in notes]
    for note in trusted_checkpoints:
        try:
            cp = chain.open(note, origin=origin)
        except IntegrityError as e:
            raise IntegrityError(f"trusted checkpoint: {e.detail}") from e
        if cp.tree_size > head_size:
            raise IntegrityError(
                f"checkpoint at tree size {cp.tree_size} (trusted, obtained elsewhere) covers "
                f"records beyond the end of the log ({head_size} records): the log was "
                "truncated, and the checkpoints that covered its tail were removed"
            )
        checkpoints.append(cp)
    with engine.connect() as conn:
        stored_subtrees = int(
            conn.execute(select(func.count()).select_from(audit_subtrees)).scalar_one()
        )
        expected_subtrees = head_size - head_size.bit_count()
        if stored_subtrees != expected_subtrees:
            raise IntegrityError(
                f"audit_subtrees holds {stored_subtrees} subtree hashes, a tree of "
                f"{head_size} records has {expected_subtrees} (rows were added or removed)"
            )
        roots = subjects.signed_roots(checkpoints)
        index = (
            SubjectIndex(subject_map_key)
            if subject_map_key is not None and roots
            else None
        )
        size, root = _verify_rows(
            conn, head_size, CheckpointTrack(checkpoints, head_size), deep=deep,
            subject_index=index, subject_roots=roots, progress=progress,
        )
    if root != head_root:
        raise IntegrityError(
            f"log head at tree size {size}: stored root does not match the records"
        )
    return VerifyReport(
        size, root, len({c.tree_size for c in checkpoints}), origin,
        time.perf_counter() - started,
    )


#: Rows read per query while verifying; also how often cached subtrees are compared.
VERIFY_PAGE_ROWS = 4096

#: The index columns of ``audit_records``, each a top-level field of the leaf of the same name.
INDEX_COLUMNS = (
    "actor_role",
    "actor_sub",
    "break_glass",
    "case_id",
    "data_subject_id",
    "kind",
    "purpose",
    "record_id",
    "start_time",
    "trace_id",
)
_VERIFY_SQL = (
    "SELECT idx, leaf, leaf_hash, " + ", ".join(INDEX_COLUMNS) + " FROM audit_records"  # noqa: S608 -- constant names, values bound
    " WHERE idx > {p} ORDER BY idx LIMIT {p}"
)


def _verify_rows(
    conn: Connection,
    tree_size: int,
    track: CheckpointTrack,
    *,
    deep: bool,
    subject_index: SubjectIndex | None,
    subject_roots: Mapping[int, bytes],
    progress: Callable[[int], None] | None,
) -> tuple[int, bytes]:
    """The one pass over the stored records, in index order: each row's index columns against
    its leaf, its leaf hash, the tree (every perfect subtree it completes, compared with
    ``audit_subtrees`` page by page), the signed root at every checkpoint size and the subject
    map root where a checkpoint carries one. Returns (tree size, root).

    Rows come through the DBAPI cursor in pages, not SQLAlchemy's result rows, and the loop
    is one function: on a 10⁶-record log the per-row overhead cost more than the hashing."""
    p = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = _VERIFY_SQL.format(p=p)
    prefix_len = len(LEAF_PREFIX)
    match = index_columns_match
    roots = subject_roots
    sha256 = hashlib.sha256
    node = b"\x01"
    leaf_tag = b"\x00"
    frontier: list[bytes] = []
    completed: list[tuple[int, bytes]] = []
    add_subject = subject_index.add if subject_index is not None else None
    next_cp = track.next_size
    size = 0
    raw = conn.connection.dbapi_connection
    assert raw is not None
    map_sqlite_file(raw, conn.connection.info)
    cursor = raw.cursor()
    try:
        while True:
            cursor.execute(sql, (size - 1, VERIFY_PAGE_ROWS))
            page = cursor.fetchall()
            for row in page:
                index = row[0]
                if index != size:
                    index = int(index)
                    if index >= tree_size:
                        raise IntegrityError(
                            f"record {index}: stored beyond the log head at size {tree_size}"
                        )
                    if index != size:
                        raise IntegrityError(
                            f"record {size}: found index {index} where index {size} belongs "
                            "(records were deleted, inserted or reordered)"
                        )
                if size >= tree_size:
                    raise IntegrityError(
                        f"record {size}: stored beyond the log head at size {tree_size}"
                    )
                leaf, leaf_hash = row[1], row[2]
                if type(leaf) is not bytes or type(leaf_hash) is not bytes:
                    leaf = blob(leaf, f"record {size}: leaf")
                    leaf_hash = blob(leaf_hash, f"record {size}: leaf hash")
                if not leaf.startswith(LEAF_PREFIX):
                    raise IntegrityError(f"record {size}: stored leaf is not a {LEAF_FORMAT} leaf")
                if deep:
                    try:
                        AuditRecord.from_leaf(leaf)
                    except ValueError as e:
                        raise IntegrityError(f"record {size}: not a valid audit record: {e}") from e
                columns = row[3:]
                if not match(leaf, columns, prefix_len):
                    raise IntegrityError(f"record {size}: {_column_difference(leaf[prefix_len:], columns)}")
                x = sha256(leaf_tag + leaf).digest()
                if x != leaf_hash:
                    raise IntegrityError(
                        f"record {size}: content does not match its leaf hash (the record was changed)"
                    )
                if add_subject is not None:
                    add_subject(size, row[7], x)  # the column was just checked against the leaf
                # RFC 9162 §2.1.1 split, incrementally: merge the perfect subtrees completed
                n, level = size, 0
                while n & 1:
                    x = sha256(node + frontier.pop() + x).digest()
                    n >>= 1
                    level += 1
                    completed.append(((size >> level) << 6 | level, x))
                frontier.append(x)
                size += 1
                if size == next_cp:
                    track.reached(frontier)
                    next_cp = track.next_size
                if subject_index is not None and size in roots:
                    subjects.check_root(subject_index, roots)
                if progress is not None and size & 0x3FFF == 0:
                    progress(size)
            _check_subtrees(cursor, p, completed)
            if len(page) < VERIFY_PAGE_ROWS:
                break
    finally:
        cursor.close()
    if progress is not None:
        progress(size)
    track.finish(size, tree_size)
    return size, merkle.frontier_root(frontier)


_SAFE_JSON_TEXT = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII that JSON does not escape
_encoded: dict[object, bytes | None] = {}
_ENCODED_MAX = 65_536


def _json_value(value: object) -> bytes | None:
    """The canonical JSON of an index column value (None if no leaf could hold it)."""
    if value is None:
        return b"null"
    if value is True or (type(value) is int and value == 1):  # SQLite stores booleans as 0/1
        return b"true"
    if value is False or (type(value) is int and value == 0):
        return b"false"
    if not isinstance(value, str):
        return None
    if _SAFE_JSON_TEXT.fullmatch(value):
        return b'"' + value.encode("ascii") + b'"'
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _cached_json_value(value: object) -> bytes | None:
    """:func:`_json_value` for columns whose values repeat (actor, role, case, purpose)."""
    try:
        return _encoded[value]
    except KeyError:
        got = _encoded[value] = _json_value(value)
        if len(_encoded) > _ENCODED_MAX:
            _encoded.clear()
        return got
    except TypeError:  # unhashable: no leaf holds it
        return None


def _plain(value: object) -> bytes | None:
    """The JSON of a column whose valid values need no escaping (ids, hex, times, the kind):
    quoted as is. Exact for a valid leaf, whose value then has no escapes either; an invalid
    leaf is what ``--deep`` is for."""
    if value is None:
        return b"null"
    if type(value) is str:
        return b'"' + value.encode("utf-8", "surrogatepass") + b'"'
    return None


_prefixes: dict[tuple[object, ...], bytes | None] = {}


def _prefix(first: tuple[object, ...]) -> bytes | None:
    """The canonical body's first bytes for (actor_role, actor_sub, break_glass, case_id,
    data_subject_id); cached, since a case's records share them."""
    try:
        return _prefixes[first]
    except KeyError:
        pass
    except TypeError:  # unhashable: no leaf holds it
        return None
    role_v, sub_v, bg_v, case_v, subject_v = first
    role, sub, case, subject = (
        _json_value(role_v), _json_value(sub_v), _json_value(case_v), _plain(subject_v)
    )
    bg = _json_value(bg_v) if type(bg_v) in (bool, int) else None
    got = None
    if role and sub and bg in (b"true", b"false") and case and subject:
        got = (
            b'{"actor_role":' + role + b',"actor_sub":' + sub + b',"break_glass":' + bg
            + b',"case_id":' + case + b',"data_subject_id":' + subject
            + b',"data_subject_id_type":'
        )
    if len(_prefixes) >= _ENCODED_MAX:
        _prefixes.clear()
    _prefixes[first] = got
    return got


def index_columns_match(leaf: bytes, columns: Sequence[object], start: int = 0) -> bool:
    """True if the index columns (in :data:`INDEX_COLUMNS` order) are exactly the fields of
    the canonical leaf body ``leaf[start:]``; no JSON parse (one cost 5-15 µs per record).

    A canonical body (RFC 8785: sorted keys, no whitespace, ``"`` and ``\\`` escaped inside
    strings) lays the top level out in a fixed key order, so each column's encoded value must
    sit right after its key: the first five columns are one prefix of the body, and each later
    key is found as the first ``,"key":`` after the previous one — a byte sequence that can
    occur only as an object key, and the only objects between those keys hold other keys.
    ``justification_sha256`` is searched from the end since ``extra`` (any keys) precedes it.
    A non-canonical body fails the match; :func:`_column_difference` then says why.
    """
    prefix = _prefix(tuple(columns[:5]))
    if prefix is None or not leaf.startswith(prefix, start):
        return False
    kind_v, purpose_v, rid_v, start_v, trace_v = columns[5:]
    kind, purpose = _plain(kind_v), _cached_json_value(purpose_v)
    if kind is None or purpose is None:
        return False
    j = leaf.rfind(b',"justification_sha256":', start)
    if j < 0:
        return False
    k = j + 24 + (4 if leaf.startswith(b"null", j + 24) else 66)
    if not leaf.startswith(b',"kind":' + kind + b',"name":' + kind + b',"outcome":', k):
        return False
    k = leaf.find(b',"purpose":', k)
    if k < 0 or not leaf.startswith(b',"purpose":' + purpose + b',"receiver":', k):
        return False
    for key, value, next_key in (
        (b',"record_id":', rid_v, b'","refused":'),
        (b',"start_time":', start_v, b'","status_code":'),
        (b',"trace_id":', trace_v, b'","unavailable":'),
    ):
        if type(value) is not str:
            return False
        k = leaf.find(key, k)
        if k < 0 or not leaf.startswith(key + b'"' + value.encode() + next_key, k):
            return False
        k += 12
    return True


def _column_difference(body: bytes, columns: Sequence[object]) -> str:
    """Why :func:`index_columns_match` failed, naming the column (slow path, once)."""
    try:
        data = json.loads(body)
    except ValueError:
        return "the leaf is not JSON"
    if not isinstance(data, dict):
        return "the leaf is not a JSON object"
    for name, stored in zip(INDEX_COLUMNS, columns, strict=True):
        want = data.get(name)
        if _json_value(stored) != _json_value(want) or name not in data:
            return (
                f"index column {name} differs from the leaf (the row was edited; searches and "
                "the citizen's page read this column)"
            )
    return "the leaf is not the canonical encoding of an audit record"


_SUBTREES_SQL = "SELECT node, hash FROM audit_subtrees WHERE node IN ({})"


def _check_subtrees(cursor: Any, p: str, completed: list[tuple[int, bytes]]) -> None:
    """Compare the subtree hashes recomputed from the leaves with the cached rows (one query,
    ``p`` the DBAPI's placeholder); clear the list."""
    if not completed:
        return
    cursor.execute(_SUBTREES_SQL.format(",".join([p] * len(completed))), [k for k, _ in completed])
    stored = dict(cursor.fetchall())
    for key, h in completed:
        got = stored.get(key)
        if got is None or blob(got, "subtree hash") != h:
            level, index = key & 63, key >> 6
            first, last = index << level, ((index + 1) << level) - 1
            raise IntegrityError(
                f"subtree {level}/{index} (records {first}..{last}): the cached hash in "
                f"audit_subtrees is {'missing' if got is None else 'not the hash of those records'} "
                "(proofs served from it would fail)"
            )
    completed.clear()
