"""The `loket` command: tokens, schema, and the demo's promise (URLs, token, case, curl)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import inspect

from gateway.core.db import create_db_engine


def run(args: list[str], cwd: Path, env_extra: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "gateway", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_token_prints_a_verifiable_dev_token(tmp_path: Path) -> None:
    r = run(["token", "--role", "privacy_officer", "--sub", "fg-1"], tmp_path)
    assert r.returncode == 0, r.stderr
    claims = jwt.decode(r.stdout.strip(), options={"verify_signature": False})
    assert claims["role"] == "privacy_officer" and claims["sub"] == "fg-1"
    assert claims["exp"] > claims["iat"]
    assert (tmp_path / ".loket" / "dev-issuer-key.pem").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("args, needle", [
    (["token", "--role", "citizen"], "--bsn"),
    (["token", "--role", "citizen", "--bsn", "123456789"], "not a valid BSN"),
    (["token", "--role", "wizard"], "unknown role"),
    (["token", "--role", "casemanager", "--bsn", "999993847"], "only for citizen"),
])
def test_token_refuses_bad_input_with_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    r = run(args, tmp_path)
    assert r.returncode == 2
    assert needle in r.stderr
    assert "123456789" not in r.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    r = run(["db", "upgrade"], tmp_path, {"LOKET_DATABASE_URL": url})
    assert r.returncode == 0, r.stderr
    assert {"cases", "consents", "audit_records"} <= set(inspect(create_db_engine(url)).get_table_names())


def test_demo_prints_urls_token_case_and_a_working_curl(tmp_path: Path) -> None:
    r = run(["demo", "--no-run", "--port", "8765", "--data-dir", str(tmp_path / "d")], tmp_path,
            timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "http://127.0.0.1:8765/v1" in out and "/burger" in out and "/fg" in out
    assert "curl -s -H \"Authorization: Bearer $TOKEN\"" in out
    token = out.split("export TOKEN=")[1].split()[0]
    assert jwt.decode(token, options={"verify_signature": False})["role"] == "casemanager"
    for name in ("pseudonym.key", "bsn-encryption.key", "audit-signing-key.pem", "dev-issuer-key.pem"):
        assert (tmp_path / "d" / name).stat().st_mode & 0o077 == 0, name


def test_demo_serves_the_printed_curl(tmp_path: Path) -> None:
    """`loket demo` really serves: run it, then do what it says."""
    import os
    import time

    from tests.servers import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "demo", "--port", str(port),
                             "--data-dir", str(tmp_path / "d")], cwd=tmp_path, env=env,
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
        token = out.split("export TOKEN=")[1].split()[0]
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
    finally:
        proc.terminate()
        proc.wait(timeout=20)
