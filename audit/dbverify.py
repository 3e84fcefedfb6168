"""Verification of the database itself: ``loket audit verify`` and the FG's "verify now".

:func:`verify_store` recomputes everything the log serves and the pages read from the leaves,
and raises IntegrityError naming the first record, column, subtree or checkpoint that differs.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

from sqlalchemy import Connection, Engine, bindparam, func, select

from audit import subjects
from audit.checkpoint import KeyChain, Verifier
from audit.errors import IntegrityError
from audit.models import audit_checkpoints, audit_subtrees
from audit.record import LEAF_FORMAT, LEAF_PREFIX, AuditRecord
from audit.store import blob, read_head
from audit.subjects import SubjectIndex
from audit.verify import VerifyReport, verify_leaf_stream

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
      are exactly as many as a tree of this size has.

    Checkpoints verify with ``verifier`` (AuditLog.verify: the log's current and retired keys) and
    the keys its transition checkpoints link to them (audit.checkpoint.KeyChain).
    ``trusted_checkpoints`` are notes obtained elsewhere (a witness, a citizen, yesterday's
    export): they must verify with the same keys and match the records, so a tail deleted
    together with the checkpoints that covered it is caught. ``deep`` also decodes and
    validates every record. ``progress`` is called with the number of records checked.
    This is the one verifier: ``loket audit verify`` and the FG's "verify now" both call it.
    """
    v = verifier
    started = time.perf_counter()
    with engine.connect() as conn:
        notes = [str(n) for n in conn.execute(_SELECT_NOTES).scalars()]
        head_size, head_root, _ = read_head(conn, lock=False)
    chain = KeyChain.for_notes(notes, v, origin=origin)
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
    completed: list[tuple[int, bytes]] = []
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
        rows = _verified_rows(conn, head_size, completed, deep=deep,
                              subject_index=index, subject_roots=roots)
        size, root = verify_leaf_stream(
            rows,
            checkpoints,
            expected_size=head_size,
            progress=progress,
            subtrees=completed,
        )
        _check_subtrees(conn, completed)
        if index is not None:
            subjects.check_root(index, roots)
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


def _verified_rows(
    conn: Connection,
    tree_size: int,
    completed: list[tuple[int, bytes]],
    *,
    deep: bool,
    subject_index: SubjectIndex | None = None,
    subject_roots: Mapping[int, bytes] | None = None,
) -> Iterator[tuple[int, bytes | memoryview, bytes | None]]:
    """The stored records as (index, leaf body, leaf hash), each row's index columns checked
    against its leaf on the way; between pages, the subtrees completed so far are checked.

    Rows come through the DBAPI cursor, not SQLAlchemy's result rows: on a 10⁶-record log the
    per-row processing cost more than hashing the leaves."""
    sql = _VERIFY_SQL.format(p="?" if conn.dialect.paramstyle == "qmark" else "%s")
    prefix_len = len(LEAF_PREFIX)
    match = index_columns_match
    roots = subject_roots or {}
    after = -1
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        while True:
            cursor.execute(sql, (after, VERIFY_PAGE_ROWS))
            page = cursor.fetchall()
            for row in page:
                index = int(row[0])
                if index >= tree_size:
                    raise IntegrityError(
                        f"record {index}: stored beyond the log head at size {tree_size}"
                    )
                leaf, leaf_hash = row[1], row[2]
                if type(leaf) is not bytes or type(leaf_hash) is not bytes:
                    leaf = blob(leaf, f"record {index}: leaf")
                    leaf_hash = blob(leaf_hash, f"record {index}: leaf hash")
                if not leaf.startswith(LEAF_PREFIX):
                    raise IntegrityError(f"record {index}: stored leaf is not a {LEAF_FORMAT} leaf")
                if deep:
                    try:
                        AuditRecord.from_leaf(leaf)
                    except ValueError as e:
                        raise IntegrityError(f"record {index}: not a valid audit record: {e}") from e
                if not match(leaf, row[3:], prefix_len):
                    body = leaf[prefix_len:]
                    raise IntegrityError(f"record {index}: {_column_difference(body, row[3:])}")
                if subject_index is not None:
                    if index in roots:
                        subjects.check_root(subject_index, roots)
                    # the column was just checked against the leaf
                    subject_index.add(index, row[7], leaf_hash)
                yield index, memoryview(leaf)[prefix_len:], leaf_hash
            _check_subtrees(conn, completed)
            if len(page) < VERIFY_PAGE_ROWS:
                return
            after = int(page[-1][0])
    finally:
        cursor.close()


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


_SELECT_SUBTREES_BY_KEY = select(audit_subtrees.c.node, audit_subtrees.c.hash).where(
    audit_subtrees.c.node.in_(bindparam("keys", expanding=True))
)


def _check_subtrees(conn: Connection, completed: list[tuple[int, bytes]]) -> None:
    """Compare the subtree hashes recomputed from the leaves with the cached rows; clear."""
    if not completed:
        return
    stored = {
        int(k): h for k, h in conn.execute(_SELECT_SUBTREES_BY_KEY, {"keys": [k for k, _ in completed]})
    }
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

