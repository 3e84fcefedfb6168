"""`loket audit rotate-key` and LOKET_RETIRED_AUDIT_VKEYS."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from typer.testing import CliRunner

from audit.checkpoint import NoteVerifier, open_checkpoint, open_transition
from audit.cli import audit_app
from audit.log import AuditLog
from audit.models import audit_checkpoints
from gateway.core.context import Loket, audit_log_for, retired_verifiers
from gateway.core.errors import ConfigurationError
from gateway.core.keys import load_ed25519
from gateway.core.settings import Settings
from tests import cli

from .conftest import ORIGIN, cli_log, record

runner = CliRunner()


def run_loket(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`loket ...` in process through gateway.cli.main: the errors audit/ does not own (the
    gateway's configuration) get their exit code from the gateway's one table."""
    code, _, err = cli.run_loket(capsys, *args)
    return code, err


@pytest.fixture
def configured(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch, signing_key: Ed25519PrivateKey
) -> AuditLog:
    log = cli_log(tmp_path, key_file, monkeypatch, signing_key)
    log.append_many([record(i) for i in range(25)])
    return log


def _sizes(log: AuditLog) -> list[int]:
    with log.engine.connect() as conn:
        return list(conn.execute(select(audit_checkpoints.c.tree_size)).scalars())


def test_rotate_key_writes_a_new_key_signs_a_transition_and_the_log_verifies_after_the_switch(
    configured: AuditLog, tmp_path: Path, signing_key: Ed25519PrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = NoteVerifier.for_private_key(ORIGIN, signing_key)
    new_path = tmp_path / "keys" / "audit-signing-key-2.pem"
    new_path.parent.mkdir()
    result = runner.invoke(audit_app, ["rotate-key", "--new-key", str(new_path)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(new_path.stat().st_mode) == 0o600
    assert list(new_path.parent.iterdir()) == [new_path]  # no temporary file left behind
    new = NoteVerifier.for_private_key(ORIGIN, load_ed25519(new_path))
    out = result.output
    assert f"retired verifier key (add it to LOKET_RETIRED_AUDIT_VKEYS):\n  {old.vkey()}\n" in out
    assert new.vkey() in out and "transition checkpoint at tree size 25" in out
    assert "PRIVATE" not in out and new_path.read_text() not in out
    t = open_transition(configured.checkpoint_at(25) or "", origin=ORIGIN)
    assert t is not None and (t.old.vkey(), t.new.vkey()) == (old.vkey(), new.vkey())

    # The operator switches the gateway to the new key and lists the old one as retired.
    monkeypatch.setenv("LOKET_SIGNING_KEY_PATH", str(new_path))
    monkeypatch.setenv("LOKET_RETIRED_AUDIT_VKEYS", json.dumps([old.vkey()]))
    assert runner.invoke(audit_app, ["pubkey"]).output.strip() == new.vkey()
    configured.append_many([record(i) for i in range(25, 30)])
    signed = runner.invoke(audit_app, ["checkpoint"])
    assert signed.exit_code == 0 and signed.output.startswith(f"{ORIGIN}\n30\n")
    open_checkpoint(signed.output, new)
    with pytest.raises(Exception, match="no signature by key"):
        open_checkpoint(signed.output, old)
    verified = runner.invoke(audit_app, ["verify"])
    assert verified.exit_code == 0 and "OK: 30 records, 2 signed checkpoints" in verified.output
    export = tmp_path / "export.jsonl"
    assert runner.invoke(audit_app, ["export", "--out", str(export)]).exit_code == 0
    for keys in ([new.vkey(), old.vkey()], [new.vkey()], [old.vkey()]):  # the transition links them
        args = ["verify", str(export)] + [a for k in keys for a in ("--pubkey", k)]
        r = runner.invoke(audit_app, args)
        assert r.exit_code == 0 and "OK: 30 records" in r.output, (keys, r.output)
    stranger = NoteVerifier.for_private_key(ORIGIN, Ed25519PrivateKey.generate())
    r = runner.invoke(audit_app, ["verify", str(export), "--pubkey", stranger.vkey()])
    assert r.exit_code == 1 and f"key id {old.key_id.hex()}" in r.output


def test_rotate_key_refuses_to_overwrite_an_existing_file_without_force(
    configured: AuditLog, tmp_path: Path
) -> None:
    existing = tmp_path / "precious.pem"
    existing.write_text("do not touch\n")
    before = _sizes(configured)
    result = runner.invoke(audit_app, ["rotate-key", "--new-key", str(existing)])
    assert result.exit_code == 2 and "already exists" in result.output and "--force" in result.output
    assert existing.read_text() == "do not touch\n"
    assert _sizes(configured) == before  # no transition signed
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".precious")) == []

    forced = runner.invoke(audit_app, ["rotate-key", "--new-key", str(existing), "--force"])
    assert forced.exit_code == 0, forced.output
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    assert isinstance(load_ed25519(existing), Ed25519PrivateKey)
    assert _sizes(configured) == before == [25]  # the transition replaced the note at 25
    assert open_transition(configured.checkpoint_at(25) or "", origin=ORIGIN) is not None


def test_rotate_key_without_a_signing_key_fails_and_writes_nothing(
    configured: AuditLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOKET_SIGNING_KEY_PATH", str(tmp_path / "missing.pem"))
    target = tmp_path / "new.pem"
    code, err = run_loket(capsys, "audit", "rotate-key", "--new-key", str(target))
    assert code == 3 and "signing key not found" in err  # configuration: exit 3
    assert not target.exists()


def _vkey(name: str = ORIGIN, seed: int | None = None) -> str:
    """A verifier key; with a seed the same on every collection (pytest-xdist workers compare ids)."""
    key = Ed25519PrivateKey.generate() if seed is None else Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    return NoteVerifier.for_private_key(name, key).vkey()


@pytest.mark.parametrize("env_value", ["json", "comma"])
def test_retired_vkeys_are_read_as_a_json_list_or_comma_separated(
    env_value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _vkey(), _vkey()
    value = json.dumps([a, b]) if env_value == "json" else f" {a} , {b} "
    monkeypatch.setenv("LOKET_RETIRED_AUDIT_VKEYS", value)
    monkeypatch.setenv("LOKET_LOG_ORIGIN", ORIGIN)
    assert [v.vkey() for v in retired_verifiers(Settings())] == [a, b]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("not-a-vkey", "entry 2 is not a usable verifier key"),
        (_vkey(seed=1)[:-4] + "AAA=", "entry 2 is not a usable verifier key"),
        (ORIGIN + "+00000000+" + _vkey(seed=2).split("+", 2)[2], "key id does not match"),
        (_vkey("other.example/log", seed=3), "is for key name 'other.example/log'"),
    ],
    ids=["garbage", "truncated-key", "wrong-key-id", "other-key-name"],
)
def test_a_bad_retired_vkey_fails_at_start_up_with_a_clear_error(
    bad: str, message: str, configured: AuditLog, monkeypatch: pytest.MonkeyPatch,
    make_loket: Callable[..., Loket], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LOKET_RETIRED_AUDIT_VKEYS", json.dumps([_vkey(), bad]))
    with pytest.raises(ConfigurationError, match=message):
        audit_log_for(Settings(), configured.engine, None)
    # The CLI says so in one line and exits 3 (configuration) ...
    code, err = run_loket(capsys, "audit", "verify")
    assert code == 3 and "LOKET_RETIRED_AUDIT_VKEYS entry 2" in err and err.count("\n") == 1
    # ... and the gateway does not start.
    with pytest.raises(ConfigurationError, match="LOKET_RETIRED_AUDIT_VKEYS entry 1"):
        make_loket(log_origin=ORIGIN, retired_audit_vkeys=[bad],
                   database_url=f"sqlite:///{tmp_path / 'gateway.core.db'}")
