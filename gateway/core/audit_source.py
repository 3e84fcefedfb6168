"""The gateway's settings as the source of ``loket audit``'s log (audit.cli.LogSource).

``audit/`` knows no settings; gateway/cli.py registers this when it mounts ``loket audit``.
Settings, engine and keys are built per command, never at import.
"""

from __future__ import annotations

from pathlib import Path

from audit.log import AuditLog


class SettingsLogSource:
    def open_log(self, *, require_key: bool) -> AuditLog:
        from gateway.core.context import audit_log_for, signing_key_path
        from gateway.core.db import create_db_engine
        from gateway.core.keys import load_ed25519
        from gateway.core.settings import Settings

        s = Settings()
        key_path = signing_key_path(s)
        key = load_ed25519(key_path) if (require_key or key_path.exists()) else None
        return audit_log_for(s, create_db_engine(s.resolved_database_url()), key)

    def signing_key_path(self) -> Path:
        from gateway.core.context import signing_key_path
        from gateway.core.settings import Settings

        return signing_key_path(Settings())

    def retired_vkeys(self) -> list[str]:
        from gateway.core.settings import Settings

        return list(Settings().retired_audit_vkeys)
