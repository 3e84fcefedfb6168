"""The gateway's settings as the source of ``loket audit``'s log (audit.cli.LogSource).

``audit/`` knows no settings; gateway/cli.py registers this when it mounts ``loket audit``.
Settings, engine and keys are built per command, never at import.
"""

from __future__ import annotations

from pathlib import Path

from audit.log import AuditLog
from audit.record import AuditRecord


class SettingsLogSource:
    def open_log(self, *, require_key: bool) -> AuditLog:
        from audit.models import metadata
        from gateway.core.context import audit_log_for, signing_key_path
        from gateway.core.db import open_existing_database
        from gateway.core.keys import load_ed25519
        from gateway.core.settings import Settings

        s = Settings()
        # A missing database is one line and exit 3, never a new empty file (issue 15).
        engine = open_existing_database(s.resolved_database_url(), tables=metadata.tables)
        key_path = signing_key_path(s)
        key = load_ed25519(key_path) if (require_key or key_path.exists()) else None
        return audit_log_for(s, engine, key)

    def signing_key_path(self) -> Path:
        from gateway.core.context import signing_key_path
        from gateway.core.settings import Settings

        return signing_key_path(Settings())

    def retired_vkeys(self) -> list[str]:
        from gateway.core.settings import Settings

        return list(Settings().retired_audit_vkeys)

    def export_record(self, fmt: str, selection: dict[str, str | None], *,
                      data_subject: str | None) -> AuditRecord:
        """The operator (``cli:<OS user>``, role admin) in place of the FG, the selection as given."""
        import getpass
        import os
        from datetime import UTC, datetime

        from audit.record import AuditEventKind
        from gateway.core.auditing import event_record
        from gateway.core.tracing import TraceContext
        from gateway.identity.auth import Principal, Role

        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (containers)
            user = str(os.getuid())
        extra = {f"filter_{k}": v[:200] for k, v in selection.items() if v}
        extra.update(format=fmt, channel="cli")
        return event_record(kind=AuditEventKind.ACCESS_LOG_EXPORTED,
                            principal=Principal(sub=f"cli:{user}"[:128], role=Role.ADMIN),
                            trace=TraceContext.from_header(None), started=datetime.now(UTC), status_code=1,
                            outcome="exported", purposes={}, data_subject=data_subject, extra=extra)
