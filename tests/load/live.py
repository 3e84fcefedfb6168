"""A real ``loket serve`` process on a free loopback port, with the sandbox agencies of the test
process (``LOKET_AGENCY_URLS`` as JSON). Used by the crash test and the load test."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from audit.log import AuditLog
from gateway.core.db import create_db_engine
from gateway.core.keys import load_ed25519
from gateway.core.settings import Settings
from gateway.identity.auth import Role, mint_token
from tests.cases import toewijzing
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LiveGateway:
    data_dir: Path
    agency_urls: dict[str, str]
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        load_ed25519(self.data_dir / "audit-signing-key.pem", create=True)
        load_ed25519(self.data_dir / "dev-issuer-key.pem", create=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LOKET_")},
            "LOKET_DATA_DIR": str(self.data_dir),
            "LOKET_DEV_ISSUER": "true",
            "LOKET_PSEUDONYM_KEY": secrets.token_hex(32),
            "LOKET_BSN_ENCRYPTION_KEY": secrets.token_hex(32),
            "LOKET_SESSION_SECRET": secrets.token_hex(32),
            "LOKET_SIGNING_KEY_PATH": str(self.data_dir / "audit-signing-key.pem"),
            "LOKET_DEV_ISSUER_KEY_PATH": str(self.data_dir / "dev-issuer-key.pem"),
            "LOKET_AGENCY_URLS": json.dumps(self.agency_urls),
            "LOKET_AGENCY_TIMEOUT_S": "5",
            "LOKET_CHECKPOINT_EVERY_S": "1",
            "PYTHONPATH": str(ROOT),
        }

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> Settings:
        saved = dict(os.environ)
        try:
            os.environ.update({k: v for k, v in self.env.items() if k.startswith("LOKET_")})
            return Settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def start(self, timeout_s: float = 30.0) -> None:
        # stderr to a file, not a pipe nobody reads (a full pipe blocks the server).
        self.stderr_path = self.data_dir / f"serve-{self.port}.stderr.log"
        with self.stderr_path.open("ab") as stderr_file:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from gateway.cli import main; main()", "serve",
                 "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr_file,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.stderr_path.read_text("utf-8", "replace")
                raise RuntimeError(f"loket serve exited with {self.process.returncode}: {err[-2000:]}")
            try:
                if httpx.get(self.base_url + "/health", timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("loket serve did not become healthy")

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    def token(self, sub: str, role: str = "casemanager", **kw: Any) -> str:
        s = self.settings()
        key = load_ed25519(self.data_dir / "dev-issuer-key.pem")
        return mint_token(key, issuer=s.jwt_issuer, audience=s.jwt_audience, sub=sub, role=Role(role),
                          ttl_s=3600, **kw)

    def audit_log(self) -> AuditLog:
        s = self.settings()
        return AuditLog(create_db_engine(s.resolved_database_url()),
                        load_ed25519(self.data_dir / "audit-signing-key.pem"),
                        origin=s.log_origin, key_name=s.log_origin)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", "from gateway.cli import main; main()", *args],
                              check=False, env=self.env, cwd=ROOT, capture_output=True, text=True,
                              timeout=120)


def open_cases(gw: LiveGateway, casemanagers: list[str], bsns: list[str], purpose: str) -> dict[str, tuple[str, str]]:
    """One case per casemanager: sub -> (token, case id)."""
    out: dict[str, tuple[str, str]] = {}
    with httpx.Client(base_url=gw.base_url, trust_env=False, timeout=30) as http:
        coordinator = {"Authorization": f"Bearer {gw.token('co-001', role='coordinator')}"}
        for i, sub in enumerate(casemanagers):
            tok = gw.token(sub)
            r = http.post("/v1/cases", headers=coordinator, json=toewijzing(bsns[i % len(bsns)], purpose, sub))
            r.raise_for_status()
            out[sub] = (tok, r.json()["id"])
    return out
