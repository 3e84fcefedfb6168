"""Processes for benchmarks and scale tests: sandbox agencies, `loket serve`, PostgreSQL, OPA.

Everything listens on 127.0.0.1 only, on free ports, under a temporary directory, and is
stopped by the context managers here (by process id, never by name).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 60.0
PURPOSE = "student_in_crisis"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stderr_tail(proc: subprocess.Popen[Any]) -> str:
    log_path = getattr(proc, "loket_stderr_path", None)
    if log_path is not None:
        return Path(log_path).read_text("utf-8", "replace")[-2000:]
    return proc.stderr.read().decode("utf-8", "replace")[-2000:] if proc.stderr else ""


def _wait_http(url: str, proc: subprocess.Popen[Any] | None, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(trust_env=False, timeout=1.0) as c:
        while True:
            if proc is not None and proc.poll() is not None:
                err = _stderr_tail(proc)
                raise RuntimeError(f"process exited with {proc.returncode} before {url} answered: {err}")
            try:
                if c.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")
            time.sleep(0.05)


def _stop(proc: subprocess.Popen[Any], grace_s: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# --- sandbox agencies ---------------------------------------------------------------------


@dataclass
class Sandbox:
    agency_urls: dict[str, str]
    eva: str
    citizens: list[str]
    pid: int


@contextmanager
def sandbox_process(seed: int = 1) -> Iterator[Sandbox]:
    """The sandbox agencies in their own process (so they do not share the driver's GIL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._sandbox_proc", str(seed)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            err = proc.stderr.read().decode("utf-8", "replace")[-2000:] if proc.stderr else ""
            raise RuntimeError(f"sandbox did not start: {err}")
        info = json.loads(line)
        yield Sandbox(info["agency_urls"], info["eva"], info["citizens"], proc.pid)
    finally:
        if proc.stdin:
            proc.stdin.close()
        _stop(proc)


# --- PostgreSQL ---------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    for cand in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (cand / "initdb").exists():
            return cand
    return None


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (run as user postgres), yields a psycopg SQLAlchemy URL."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql")
    tmp = Path(tempfile.mkdtemp(prefix="loket-pg-"))
    datadir = tmp / "data"
    port = free_port()
    as_pg: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_pg, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust",
                    "--no-sync"], check=True, capture_output=True)
    opts = f"-p {port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on"
    subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(datadir), "-o", opts, "-w",
                    "-l", str(tmp / "pg.log"), "start"], check=True, capture_output=True)
    try:
        subprocess.run([*as_pg, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                        "postgres", "loket"], check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/loket"
    finally:
        subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "fast", "-w", "stop"],
                       capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


# --- the gateway --------------------------------------------------------------------------


@dataclass
class GatewayConfig:
    """Shared LOKET_* environment for one or several gateway processes."""

    data_dir: Path
    agency_urls: Mapping[str, str]
    database_url: str | None = None
    pseudonym_key: str = field(default_factory=lambda: secrets.token_hex(32))
    bsn_encryption_key: str = field(default_factory=lambda: secrets.token_hex(32))
    session_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from gateway.core.keys import load_ed25519

        self.data_dir.mkdir(parents=True, exist_ok=True)
        load_ed25519(self.signing_key_path, create=True)
        load_ed25519(self.dev_issuer_key_path, create=True)

    @property
    def signing_key_path(self) -> Path:
        return self.data_dir / "audit-signing-key.pem"

    @property
    def dev_issuer_key_path(self) -> Path:
        return self.data_dir / "dev-issuer-key.pem"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
        env.update({
            "LOKET_DATA_DIR": str(self.data_dir),
            "LOKET_DEV_ISSUER": "true",
            "LOKET_PSEUDONYM_KEY": self.pseudonym_key,
            "LOKET_BSN_ENCRYPTION_KEY": self.bsn_encryption_key,
            "LOKET_SESSION_SECRET": self.session_secret,
            "LOKET_SIGNING_KEY_PATH": str(self.signing_key_path),
            "LOKET_DEV_ISSUER_KEY_PATH": str(self.dev_issuer_key_path),
            "LOKET_AGENCY_URLS": json.dumps(dict(self.agency_urls)),
            "LOKET_CHECKPOINT_EVERY_RECORDS": "1000",
            "LOKET_CHECKPOINT_EVERY_S": "3600",
        })
        if self.database_url:
            env["LOKET_DATABASE_URL"] = self.database_url
        env.update(self.extra)
        return env

    def settings(self) -> Any:
        """The same configuration as a Settings object (for in-process use: tokens, verify)."""
        from gateway.core.settings import Settings

        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(self.env())
            return Settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def token(self, sub: str = "cm-001", role: str = "casemanager", ttl_s: int = 3600) -> str:
        from gateway.core.keys import load_ed25519
        from gateway.identity.auth import Role, mint_token

        s = self.settings()
        key = load_ed25519(self.dev_issuer_key_path, create=False)
        return mint_token(key, issuer=s.jwt_issuer, audience=s.jwt_audience, sub=sub, role=Role(role), ttl_s=ttl_s)


@dataclass
class Gateway:
    base_url: str
    proc: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextmanager
def gateway_process(config: GatewayConfig, *, workers: int = 1, port: int | None = None,
                    source: Path = REPO) -> Iterator[Gateway]:
    """`loket serve` as a real subprocess; waits for /health. ``source``: the tree whose
    gateway runs (benchmarks/ab_gateway.py runs an older commit's beside this one)."""
    port = port or free_port()
    # stderr goes to a file, never to a pipe nobody reads: a server that logs a lot would
    # otherwise block on a full pipe and look like a hang.
    stderr_path = config.data_dir / f"serve-{port}.stderr.log"
    stderr_path.parent.mkdir(parents=True, exist_ok=True)
    with stderr_path.open("wb") as stderr_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from gateway.cli import main; main()", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers)],
            cwd=source, env={**config.env(), "PYTHONPATH": str(source)}, stdout=subprocess.DEVNULL,
            stderr=stderr_file,
        )
    proc.loket_stderr_path = stderr_path  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(base + "/health", proc)
        yield Gateway(base, proc)
    finally:
        _stop(proc)


def open_cases(base_url: str, coordinator_token: str, bsns: list[str], purpose: str = PURPOSE,
               casemanager: str = "cm-001") -> list[str]:
    """Cases for ``casemanager``, each assigned by the coordinator (the only way a case opens)."""
    ids = []
    with httpx.Client(base_url=base_url, trust_env=False, timeout=30) as c:
        for bsn in bsns:
            r = c.post("/v1/cases", json={
                "burgerservicenummer": bsn, "purpose": purpose,
                "ground": {"type": "toewijzing", "casemanager": casemanager,
                           "reason": "Benchmark: een toegewezen zaak per synthetische burger."}},
                headers={"Authorization": f"Bearer {coordinator_token}"})
            if r.status_code != 201:
                raise RuntimeError(f"opening a case failed: {r.status_code} {r.text[:300]}")
            ids.append(str(r.json()["id"]))
    return ids


# --- process memory -----------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    """Current resident set size of ``pid`` plus its children (workers), from /proc."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` plus its children (workers) so far, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (stat fields 14 and 15)
    return total / tick


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        return out
    for k in kids:
        out.append(k)
        out.extend(_children(k))
    return out


def machine() -> dict[str, Any]:
    import platform

    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        with open("/proc/meminfo") as f:
            mem_gb = int(f.readline().split()[1]) / 1024 / 1024
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"cpus": os.cpu_count(), "cpu_model": cpu, "memory_gb": round(mem_gb, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "loadavg_at_start": [round(x, 2) for x in load]}
