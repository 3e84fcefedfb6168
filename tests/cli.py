"""`loket ...` run in process, as the tests of the CLI need it."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.cli import main  # at import: it registers the gateway's log source with audit/cli.py


def run_loket(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``loket *args`` through gateway.cli.main; its exit code, stdout and stderr."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def use_gateway_settings(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """Point ``loket audit ...`` (which reads LOKET_*) at a test gateway's data dir, key and origin."""
    monkeypatch.setenv("LOKET_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LOKET_SIGNING_KEY_PATH", str(settings.signing_key_path))
    monkeypatch.setenv("LOKET_LOG_ORIGIN", settings.log_origin)
