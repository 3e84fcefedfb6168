"""The `loket` command: tokens, schema, and the demo's promise (URLs, token, case, curl)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import inspect

from gateway.core.db import create_db_engine
from gateway.core.keys import load_ed25519
from tests.cli import run_loket


def run(args: list[str], cwd: Path, env_extra: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env.update(env_extra or {})
    # Any DeprecationWarning on any command (e.g. Authlib's about httpx) fails these tests.
    return subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-m", "gateway", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def loket_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """`loket ...` in this process (through gateway.cli.main, as the console script), in an
    empty directory with no LOKET_* settings: (exit code, stdout, stderr)."""
    import os


    for name in [k for k in os.environ if k.startswith("LOKET_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def loket(*args: str) -> tuple[int, str, str]:
        return run_loket(capsys, *args)

    return loket


def test_token_prints_a_dev_token_signed_with_the_gateways_issuer_key(
    tmp_path: Path, loket_cli: Callable[..., tuple[int, str, str]]
) -> None:
    key = load_ed25519(tmp_path / ".loket" / "dev-issuer-key.pem", create=True)  # as the gateway does
    code, out, err = loket_cli("token", "--role", "privacy_officer", "--sub", "fg-1")
    assert code == 0, err
    claims = jwt.decode(out.strip(), key.public_key(), algorithms=["EdDSA"], audience="loket")
    assert claims["role"] == "privacy_officer" and claims["sub"] == "fg-1"
    assert claims["exp"] > claims["iat"]


def test_token_without_a_gateway_key_refuses_instead_of_minting_with_a_new_one(
    tmp_path: Path, loket_cli: Callable[..., tuple[int, str, str]]
) -> None:
    code, out, err = loket_cli("token")
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "no development issuer key" in err and "loket demo" in err
    assert not (tmp_path / ".loket").exists()


@pytest.mark.parametrize("args, needle", [
    (["token", "--role", "citizen"], "--bsn"),
    (["token", "--role", "citizen", "--bsn", "123456789"], "not a valid BSN"),
    (["token", "--role", "wizard"], "unknown role"),
    (["token", "--role", "casemanager", "--bsn", "999993847"], "only for citizen"),
])
def test_token_refuses_bad_input_with_exit_2(
    args: list[str], needle: str, loket_cli: Callable[..., tuple[int, str, str]]
) -> None:
    code, _, err = loket_cli(*args)
    assert code == 2
    assert needle in err
    assert "123456789" not in err


# One interpreter for all of them: warnings are raised on import, once per process.
COMMANDS_WITHOUT_WARNINGS = """
import sys
from gateway.cli import main
for argv in (["--help"], ["policy", "purposes"], ["audit", "--help"], ["token", "--sub", "cm-9"],
             ["db", "upgrade"]):
    try:
        main(argv)
    except SystemExit as e:
        assert not e.code, (argv, e.code)
import warnings
from gateway.web.oidc import _oauth_registry  # what an OIDC-configured gateway imports
before = list(warnings.filters)
_oauth_registry()
assert warnings.filters == before, "filters changed"
"""


@pytest.mark.slow  # five `loket` commands in a fresh interpreter (~4 s)
def test_commands_print_no_deprecation_warning_and_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    """Run with -W error::DeprecationWarning; Authlib's import-time warning about httpx is
    silenced at its one import (filters restored), any other warning fails this test."""
    import os

    load_ed25519(tmp_path / ".loket" / "dev-issuer-key.pem", create=True)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")} | {"LOKET_DATABASE_URL": url}
    r = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", COMMANDS_WITHOUT_WARNINGS],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr, r.stderr
    assert {"cases", "consents", "audit_records"} <= set(inspect(create_db_engine(url)).get_table_names())


@pytest.mark.slow  # a real `loket demo` process, its curl and its token hint (~7 s)
def test_demo_serves_the_printed_curl_and_token_hint(tmp_path: Path) -> None:
    """`loket demo` on any port and data dir prints the URLs, a token, a case and a curl, and
    really serves: run it, then do what it says — the curl with its token, and the `loket token`
    hint run as printed from another directory."""
    import os
    import time

    from tests.servers import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    proc = subprocess.Popen([sys.executable, "-W", "error::DeprecationWarning", "-m", "gateway", "demo",
                             "--port", str(port), "--data-dir", str(tmp_path / "d")], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 90
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        out = "".join(lines)
        assert f"http://127.0.0.1:{port}/v1" in out and "/burger" in out and "/fg" in out
        assert "curl -s -H \"Authorization: Bearer $TOKEN\"" in out
        for name in ("pseudonym.key", "bsn-encryption.key", "audit-signing-key.pem", "dev-issuer-key.pem"):
            assert (tmp_path / "d" / name).stat().st_mode & 0o077 == 0, name
        token = out.split("export TOKEN=")[1].split()[0]
        assert jwt.decode(token, options={"verify_signature": False})["role"] == "casemanager"
        case_id = out.split("Sample case")[1].split()[0]
        body = None
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/cases/{case_id}/dossier",
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
                body = r.json()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert body is not None and body["fields"] and body["audit"]["index"] >= 0

        hint = out.split("More tokens:")[1].split("   (synthetic")[0].strip()
        argv = shlex.split(hint)
        assert argv[:2] == ["loket", "token"] and "<" not in hint, hint
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        loket = shutil.which("loket")
        cmd = [loket, *argv[1:]] if loket else [sys.executable, "-m", "gateway", *argv[1:]]
        minted = subprocess.run(cmd, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
        assert minted.returncode == 0 and minted.stderr == "", minted.stderr
        me = httpx.get(f"http://127.0.0.1:{port}/v1/me/consents",
                       headers={"Authorization": f"Bearer {minted.stdout.strip()}"}, timeout=10)
        assert me.status_code == 200, me.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.stderr is not None
    assert "Warning" not in proc.stderr.read()
