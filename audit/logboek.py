"""Audit records as Logboek Dataverwerkingen 0.8 log lines (the export other tools read).

One line per record, in the standard's own field names (Logius, Logboek Dataverwerkingen 0.8.0,
"Component: Logboek — Interface"): ``trace_id``, ``span_id``, ``parent_span_id``,
``status_code`` (0 unset, 1 ok, 2 error), ``name``, ``start_time``/``end_time`` as milliseconds
since the epoch, ``foreign_operation`` {trace_id, span_id, entity}, ``resource`` {attributes}
and ``attributes`` with the ``dpl.core.*`` keys only. Later drafts name the calling party in
``dpl.core.foreign_operation.processor``; that attribute is set too.

What Loket adds to its own records (actor, case, disclosures, decision) stays out: the standard
keeps user identities out of these lines ("geen gebruikers in logregels") and allows other
attribute namespaces only once an extension defines them. The leaf in the Merkle log, which
holds everything, is the audit log beside this one; ``loket.index``-style links are therefore
not added either — a reader joins on trace_id/span_id.

Pure: a record in, a dict out.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from audit.export import write_each
from audit.log import AuditFilter, AuditLog
from audit.record import AuditRecord

LOGBOEK_VERSION = "0.8.0"
Progress = Callable[[int], None]


def epoch_ms(timestamp: str) -> int:
    """``2026-11-25T11:48:00.123Z`` -> milliseconds since the Unix epoch."""
    t = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return calendar.timegm(t.utctimetuple()) * 1000 + t.microsecond // 1000  # exact, no floats


def logboek_line(record: AuditRecord) -> dict[str, Any]:
    attributes: dict[str, Any] = {"dpl.core.processing_activity_id": record.processing_activity_id}
    if record.data_subject_id is not None:  # a line refers to 0 or 1 data subjects
        attributes["dpl.core.data_subject_id"] = record.data_subject_id
        attributes["dpl.core.data_subject_id_type"] = record.data_subject_id_type
    assert record.end_time is not None  # filled in by AuditRecord
    line: dict[str, Any] = {
        "trace_id": record.trace_id,
        "span_id": record.span_id,
        "status_code": record.status_code,
        "name": record.name,
        "start_time": epoch_ms(record.start_time),
        "end_time": epoch_ms(record.end_time),
        "attributes": attributes,
    }
    if record.parent_span_id is not None:
        line["parent_span_id"] = record.parent_span_id
    if record.foreign_operation is not None:
        line["foreign_operation"] = record.foreign_operation.to_dict()
        attributes["dpl.core.foreign_operation.processor"] = record.foreign_operation.entity
    if record.resource is not None:
        line["resource"] = {"attributes": dict(record.resource)}
    return line


def iter_logboek(log: AuditLog, flt: AuditFilter | None = None, *,
                 stop: int | None = None) -> Iterator[dict[str, Any]]:
    stop = log.head().tree_size if stop is None else stop
    for stored in log.iter_records(flt, stop=stop):
        yield logboek_line(stored.record)


def write_logboek_jsonl(log: AuditLog, out: IO[bytes], flt: AuditFilter | None = None, *,
                        progress: Progress | None = None, stop: int | None = None) -> int:
    """One Logboek line per record below ``stop`` (default: the head now), oldest first, as
    JSON Lines; returns the count."""
    return write_each(
        iter_logboek(log, flt, stop=stop),
        lambda line: out.write(json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
                               + b"\n"),
        progress,
    )
