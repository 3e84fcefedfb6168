"""Streaming exports of the audit log: a full verifiable JSONL export, filtered JSONL and CSV,
single-record proof bundles and a citizen's completeness bundle. Formats: docs/adr/0003-audit-log-format.md.

Full export (``loket-audit-export-v1``), one JSON object per line::

    {"checkpoints":K,"complete":true,"format":"loket-audit-export-v1",...,"tree_size":N}
    {"checkpoint":"<signed note>"}                                  # K lines, by tree size
    {"index":0,"leaf_hash":"<hex>","record":<leaf body, RFC 8785>}  # N lines, in index order

The ``record`` value is byte for byte the leaf body, so a verifier hashes the line slice
without re-encoding. The records run from 0 to the last signed checkpoint, so every exported
record is covered by a signature.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from audit.checkpoint import parse_checkpoint_body
from audit.errors import IntegrityError, NotFound
from audit.log import AuditFilter, AuditLog, StoredRecord
from audit.record import LEAF_FORMAT, LEAF_PREFIX, AuditRecord, utc_timestamp
from audit.subjects import entry_hash, list_hash, root_of_extensions
from audit.verify import COMPLETENESS_FORMAT, EXPORT_FORMAT, PROOF_FORMAT

Progress = Callable[[int], None]

# Logboek Dataverwerkingen names first (dpl.core.* attributes), then Loket's own (loket.*).
CSV_COLUMNS = (
    "trace_id",
    "span_id",
    "name",
    "start_time",
    "end_time",
    "status_code",
    "dpl.core.processing_activity_id",
    "dpl.core.data_subject_id",
    "dpl.core.data_subject_id_type",
    "parent_span_id",
    "foreign_operation.trace_id",
    "foreign_operation.span_id",
    "foreign_operation.entity",
    "resource",
    "loket.receiver",
    "loket.index",
    "loket.leaf_hash",
    "loket.record_id",
    "loket.actor_sub",
    "loket.actor_role",
    "loket.case_id",
    "loket.purpose",
    "loket.decision_id",
    "loket.policy_revision",
    "loket.break_glass",
    "loket.justification_sha256",
    "loket.disclosed",
    "loket.refused",
    "loket.unavailable",
    "loket.outcome",
    "loket.extra",
)


@dataclass(frozen=True)
class ExportSummary:
    records: int
    tree_size: int
    checkpoints: int
    complete: bool


def _header(log: AuditLog, *, tree_size: int, checkpoints: int, complete: bool) -> bytes:
    header: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "leaf_format": LEAF_FORMAT,
        "origin": log.origin,
        "tree_size": tree_size,
        "checkpoints": checkpoints,
        "complete": complete,
        "exported_at": utc_timestamp(),
    }
    if log.verifier is not None:
        header["vkey"] = log.verifier.vkey()  # informational: verifiers bring their own key
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def record_line(rec: StoredRecord) -> bytes:
    body = rec.leaf.removeprefix(LEAF_PREFIX)
    return b'{"index":%d,"leaf_hash":"%s","record":%s}\n' % (
        rec.index,
        rec.leaf_hash.hex().encode(),
        body,
    )


T = TypeVar("T")


def write_each(items: Iterable[T], write: Callable[[T], object], progress: Callable[[int], None] | None) -> int:
    """Write every item, reporting progress every 1,000 and at the end; return the count."""
    count = 0
    for item in items:
        write(item)
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    if progress is not None:
        progress(count)
    return count


def write_full_export(
    log: AuditLog, out: IO[bytes], *, progress: Progress | None = None, stop: int | None = None
) -> ExportSummary:
    """Export the log up to its latest signed checkpoint, with all checkpoints, verifiably.

    Sign a fresh checkpoint first (``log.checkpoint(force=True)``) to include the newest records.
    ``stop``: the size of a signed checkpoint to end at instead (the export's own audit record,
    written after it, is then not part of it).
    """
    latest = log.latest_checkpoint()
    if latest is None:
        raise NotFound("the audit log has no signed checkpoint yet; run `loket audit checkpoint`")
    n = latest.tree_size if stop is None else min(stop, latest.tree_size)
    notes = log.checkpoints(up_to=n)
    out.write(_header(log, tree_size=n, checkpoints=len(notes), complete=True))
    for note in notes:
        out.write(json.dumps({"checkpoint": note}, separators=(",", ":")).encode() + b"\n")
    count = write_each(log.iter_records(stop=n), lambda rec: out.write(record_line(rec)), progress)
    return ExportSummary(count, n, len(notes), True)


def write_jsonl(
    log: AuditLog, out: IO[bytes], flt: AuditFilter, *, progress: Progress | None = None,
    stop: int | None = None,
) -> ExportSummary:
    """Export the records matching ``flt`` (same line layout; header says ``complete: false``)
    among the first ``stop`` records (default: all)."""
    stop = log.head().tree_size if stop is None else stop
    out.write(_header(log, tree_size=stop, checkpoints=0, complete=False))
    count = write_each(log.iter_records(flt, stop=stop), lambda rec: out.write(record_line(rec)), progress)
    return ExportSummary(count, stop, 0, False)


def _cell(value: str) -> str:
    # Spreadsheet formula injection: a cell must not start with = + - @ (OWASP CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_row(rec: StoredRecord) -> list[str]:
    try:
        r = AuditRecord.from_leaf(rec.leaf)
    except ValueError as e:
        raise IntegrityError(f"record {rec.index}: stored leaf is not a valid audit record") from e

    def js(v: object) -> str:
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    d = r.to_dict()
    values = [
        r.trace_id,
        r.span_id,
        r.name,
        r.start_time,
        r.end_time or "",
        str(r.status_code),
        r.processing_activity_id or "",
        r.data_subject_id or "",
        r.data_subject_id_type or "",
        r.parent_span_id or "",
        r.foreign_operation.trace_id if r.foreign_operation else "",
        r.foreign_operation.span_id if r.foreign_operation else "",
        r.foreign_operation.entity if r.foreign_operation else "",
        js(dict(r.resource)) if r.resource else "",
        r.receiver or "",
        str(rec.index),
        rec.leaf_hash.hex(),
        r.record_id,
        r.actor_sub,
        r.actor_role,
        r.case_id or "",
        r.purpose or "",
        r.decision_id or "",
        r.policy_revision or "",
        "true" if r.break_glass else "false",
        r.justification_sha256 or "",
        js(d["disclosed"]),
        js(d["refused"]),
        js(d["unavailable"]),
        r.outcome,
        js(d["extra"]),
    ]
    return [_cell(v) for v in values]


def write_csv(
    log: AuditLog, out: IO[str], flt: AuditFilter, *, progress: Progress | None = None,
    stop: int | None = None,
) -> ExportSummary:
    """CSV with Logboek Dataverwerkingen column names (``out`` opened with ``newline=""``)."""
    stop = log.head().tree_size if stop is None else stop
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    count = write_each(log.iter_records(flt, stop=stop), lambda rec: w.writerow(csv_row(rec)), progress)
    return ExportSummary(count, stop, 0, False)


def proof_bundle(log: AuditLog, index: int) -> dict[str, Any]:
    """A single-record proof bundle (``loket-audit-proof-v1``) against the latest checkpoint.

    Signs a fresh checkpoint if the record is not yet covered and the log can sign.
    """
    latest = log.latest_checkpoint()
    if latest is None or latest.tree_size <= index:
        if log.verifier is None:
            raise NotFound(f"record {index} is not yet covered by a signed checkpoint")
        latest = log.checkpoint(force=True)
        if latest.tree_size <= index:
            raise NotFound(f"no audit record at index {index}")
    rec = log.get_record(index)
    proof = log.inclusion_proof(index, latest.tree_size)
    try:
        record_obj = json.loads(rec.leaf[len(LEAF_PREFIX) :])
    except ValueError as e:
        raise IntegrityError(f"record {index}: stored leaf is not JSON") from e
    bundle: dict[str, Any] = {
        "format": PROOF_FORMAT,
        "origin": log.origin,
        "index": index,
        "tree_size": latest.tree_size,
        "leaf_hash": rec.leaf_hash.hex(),
        "record": record_obj,
        "inclusion_proof": [h.hex() for h in proof.hashes],
        "checkpoint": latest.note,
    }
    if log.verifier is not None:
        bundle["vkey"] = log.verifier.vkey()  # informational: verifiers bring their own key
    return bundle


def completeness_bundle(log: AuditLog, pseudonym: str, *, tree_size: int | None = None) -> dict[str, Any]:
    """A citizen's completeness bundle (``loket-audit-completeness-v1``, ADR 0005): every
    record about ``pseudonym`` up to a signed checkpoint, with one proof from the subject map
    whose root that checkpoint signs. Against the latest checkpoint (signing a fresh one if the
    log can) or the signed checkpoint at ``tree_size``.

    Fail-closed: if the records the index column finds are not the list the signed map holds
    (a row was edited), this raises IntegrityError rather than hand out a short list.
    """
    if not log.has_subject_map:
        raise NotFound("this log keeps no per-subject map")
    if tree_size is None:
        latest = log.checkpoint(force=True) if log.verifier is not None else log.latest_checkpoint()
        if latest is None:
            raise NotFound("the audit log has no signed checkpoint yet")
        note, size = latest.note, latest.tree_size
    else:
        found = log.checkpoint_at(tree_size)
        if found is None:
            raise NotFound(f"no signed checkpoint at tree size {tree_size}")
        note, size = found, tree_size
    signed_root = root_of_extensions(parse_checkpoint_body(note.rpartition("\n\n")[0] + "\n").extensions)
    if signed_root is None:
        raise NotFound(f"the checkpoint at tree size {size} carries no subject map")
    subject_map = log.subject_map_at(size)
    if subject_map.root != signed_root:
        raise IntegrityError(f"checkpoint at tree size {size}: the subject map differs from the signed one")
    key = log.subject_key(pseudonym)
    records = log.subject_records(pseudonym, size)
    count, lst = list_hash((r.index, r.leaf_hash) for r in records)
    entry = entry_hash(key, pseudonym, count, lst) if count else None
    if subject_map.get(key) != entry:
        raise IntegrityError(
            f"the records found for this data subject up to tree size {size} are not the list "
            "the signed subject map holds (an index column was edited)"
        )
    try:
        record_objs = [json.loads(r.leaf[len(LEAF_PREFIX) :]) for r in records]
    except ValueError as e:
        raise IntegrityError("a stored leaf is not JSON") from e
    bundle: dict[str, Any] = {
        "format": COMPLETENESS_FORMAT,
        "origin": log.origin,
        "tree_size": size,
        "data_subject_id": pseudonym,
        "subject_key": key.hex(),
        "records": [{"index": r.index, "record": obj} for r, obj in zip(records, record_objs, strict=True)],
        "map_proof": subject_map.proof(key).to_json(),
        "checkpoint": note,
    }
    if log.verifier is not None:
        bundle["vkey"] = log.verifier.vkey()  # informational: verifiers bring their own key
    return bundle
