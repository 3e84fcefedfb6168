"""A gateway-like writer process for the multi-process and kill -9 tests.

Usage: python -m tests.audit.writer_proc URL SCHEMA|- COUNT|-1 TAG [BATCH [KEY_PEM]]

Appends records to the log at URL and prints ``<index> <record_id>`` after each append has
returned (i.e. after the commit), flushing stdout, like a gateway sending its response.
"""

from __future__ import annotations

import sys
from pathlib import Path

from audit.log import AuditLog
from audit.record import AuditEventKind, AuditRecord
from gateway.core.db import create_db_engine
from gateway.core.keys import load_ed25519


def main(argv: list[str]) -> None:
    url, schema, count_text, tag = argv[:4]
    batch = int(argv[4]) if len(argv) > 4 else 1
    kwargs = {} if schema == "-" else {"connect_args": {"options": f"-csearch_path={schema}"}}
    engine = create_db_engine(url, **kwargs)
    key = load_ed25519(Path(argv[5])) if len(argv) > 5 else None
    log = AuditLog(
        engine,
        key,
        origin="loket.test/audit",
        key_name="loket.test/audit",
        checkpoint_every_records=7,
    )
    count = int(count_text)
    i = 0
    while count < 0 or i < count:
        records = [
            AuditRecord(
                kind=AuditEventKind.DOSSIER_READ,
                actor_sub=f"cm-{tag}",
                actor_role="casemanager",
                outcome="disclosed",
                purpose="bijstand",
                extra={"writer": tag, "seq": f"n{i + j}"},
            )
            for j in range(batch)
        ]
        receipts = log.append_many(records) if batch > 1 else [log.append(records[0])]
        for r in receipts:
            sys.stdout.write(f"{r.index} {r.record_id}\n")
        sys.stdout.flush()
        i += batch


if __name__ == "__main__":
    main(sys.argv[1:])
