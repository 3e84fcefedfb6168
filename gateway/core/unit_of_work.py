"""Every state change commits in the same transaction as its audit record.

A service describes its change as a function of an ORM session and hands it, with the audit
record(s) that describe it, to :func:`commit_with_records`. The change runs inside the audit
log's own write transaction (``AuditLog.append_group(companion=...)``), so the rows and the
records commit together or not at all: a failed audit write (a trigger, a full disk) leaves no
row changed, and a change that fails leaves no record claiming it happened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from audit.log import AppendReceipt, AuditLog
from audit.record import AuditRecord
from gateway.core.errors import AuditWriteError, LoketError

T = TypeVar("T")


def commit_with_records(
    audit: AuditLog, records: Sequence[AuditRecord], change: Callable[[Session], T]
) -> tuple[T, list[AppendReceipt]]:
    """Run ``change`` and append ``records`` in one transaction; return its result and receipts.

    ``change`` may raise a :class:`LoketError` (a compare-and-set lost a race, say): then nothing
    commits and that error is raised as is, for the service to record as a refusal.
    """
    result: list[T] = []

    def companion(conn: Connection) -> None:
        # The log may retry a group commit one caller at a time: start clean every time.
        result.clear()
        # A session bound to the log's connection joins its transaction and never commits it.
        with Session(bind=conn, expire_on_commit=False, autoflush=False) as session:
            value = change(session)
            session.flush()
            result.append(value)

    # fail-closed: an audit write that fails rolls the change back with it (503, no state change)
    try:
        receipts = audit.append_group(records, companion=companion)
    except AuditWriteError as e:
        cause = e.__cause__
        if isinstance(cause, LoketError) and not isinstance(cause, AuditWriteError):
            raise cause from None
        raise
    return result[0], receipts


def commit_with_record(audit: AuditLog, record: AuditRecord, change: Callable[[Session], T]) -> T:
    """:func:`commit_with_records` for one record."""
    value, _ = commit_with_records(audit, (record,), change)
    return value
