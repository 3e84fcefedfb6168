"""Witness round trip on loopback (issue 11: "≤ 5 ms"): the log submits a new checkpoint with
its consistency proof to a real `loket witness serve` (a separate process, uvicorn, its own
SQLite state with synchronous=FULL) and checks the cosignature it gets back.

    python -m benchmarks.witness_bench [--rounds N]

One round = build the consistency proof from the witness's last size (SQLite) + POST
/add-checkpoint over a kept-alive connection + the witness's checks (log signature, proof,
atomic store, cosign) + verifying the returned cosignature: what the gateway's background
submitter does per witness per checkpoint. The witness's own share (proof + checks + store,
no HTTP) is measured in process too, and the disk's fsync time, the floor under a witness
that stores before it cosigns. Each round appends 8 records first (not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.log import AuditLog
from audit.models import metadata
from audit.record import AuditEventKind, AuditRecord
from audit.witness import CosignerKey, HttpPoster, Witness, WitnessEndpoint, WitnessState, request_body, submit

ORIGIN = "bench.loket.example/audit"
NAME = "bench.witness.example/w"
GOAL_MS = 5.0


def _records(start: int, n: int) -> list[AuditRecord]:
    return [AuditRecord(kind=AuditEventKind.CASE_OPENED, actor_sub=f"cm-{i % 5}", actor_role="casemanager",
                        outcome="ok", case_id=f"case-{i}") for i in range(start, start + n)]


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


@contextmanager
def _witness_process(directory: Path, log_vkey: str) -> Iterator[tuple[str, CosignerKey]]:
    from tests.servers import free_port

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, "-m", "gateway", "witness"]
    out = subprocess.run([*cmd, "init", "--dir", str(directory), "--name", NAME], check=True,
                         capture_output=True, text=True, env=env, timeout=60)
    key = CosignerKey.from_vkey(out.stdout.strip())
    port = free_port()
    proc = subprocess.Popen([*cmd, "serve", "--dir", str(directory), "--name", NAME, "--log", log_vkey,
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.post(url + "/add-checkpoint", content=b"", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the witness did not start") from None
                time.sleep(0.05)
        yield url, key
    finally:
        proc.terminate()
        proc.wait(10)


def bench_witness(rounds: int = 200) -> dict[str, Any]:
    """The round trip with the witness's state on this machine's disk, and once more on tmpfs
    (/dev/shm, if there is one): what protocol, proofs and HTTP cost without the disk's fsync."""
    out = _bench(rounds, None)
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        mem = _bench(rounds, shm)
        out["tmpfs_round_trip_p50_ms"] = mem["round_trip_p50_ms"]
        out["tmpfs_round_trip_p99_ms"] = mem["round_trip_p99_ms"]
    return out


def _bench(rounds: int, state_dir: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="loket-witness-bench-", dir=state_dir) as tmpdir:
        tmp = Path(tmpdir)
        from sqlalchemy import create_engine

        engine = create_engine(f"sqlite:///{tmp / 'log.db'}")
        metadata.create_all(engine)
        log = AuditLog(engine, Ed25519PrivateKey.generate(), origin=ORIGIN, key_name=ORIGIN,
                       checkpoint_every_records=10**9, checkpoint_every_s=10**9)
        log.append_many(_records(0, 1000))
        log.checkpoint(force=True)
        http_ms: list[float] = []
        with _witness_process(tmp / "w", log.vkey()) as (url, key):
            endpoint, post = WitnessEndpoint(key, url), HttpPoster(5.0)
            seen = 0
            for r in range(rounds + 5):  # 5 warm-up rounds
                log.append_many(_records(1000 + 8 * r, 8))
                cp = log.checkpoint(force=True)
                t = time.perf_counter()
                _line, seen = submit(endpoint, cp.note, cp.tree_size,
                                     lambda old, new: log.consistency_proof(old, new).hashes,
                                     old_size=seen, post=post)
                if r >= 5:
                    http_ms.append((time.perf_counter() - t) * 1000)
            post.close()
        # The witness's own work, without HTTP (same checks, same SQLite settings).
        core_ms: list[float] = []
        assert log.verifier is not None and log.verifier.current is not None
        w = Witness(NAME, Ed25519PrivateKey.generate(), {ORIGIN: log.verifier.current}, WitnessState(tmp / "core.db"))
        size = 0
        for r in range(min(rounds, 100)):
            log.append_many(_records(10_000 + 8 * r, 8))
            cp = log.checkpoint(force=True)
            t = time.perf_counter()
            proof = log.consistency_proof(size, cp.tree_size).hashes if size else []
            assert w.add_checkpoint(request_body(size, proof, cp.note)).status == 200
            core_ms.append((time.perf_counter() - t) * 1000)
            size = cp.tree_size
        fsync_ms = _fsync_floor(tmp / "fsync.probe")
        engine.dispose()
    return {
        "rounds": len(http_ms),
        "round_trip_p50_ms": round(statistics.median(http_ms), 3),
        "round_trip_p95_ms": round(_pct(http_ms, 95), 3),
        "round_trip_p99_ms": round(_pct(http_ms, 99), 3),
        "witness_core_p50_ms": round(statistics.median(core_ms), 3),
        # The floor under any durable witness on this disk: it must fsync before it cosigns.
        "fsync_p50_ms": round(fsync_ms, 3),
        "goal_ms": GOAL_MS,
    }


def _fsync_floor(path: Path, n: int = 50) -> float:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        times = []
        for _ in range(n):
            os.write(fd, b"x" * 4096)
            t = time.perf_counter()
            os.fsync(fd)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        os.close(fd)
    return statistics.median(times)


def witness_targets(res: Mapping[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """The row for benchmarks/run.py's targets table."""
    w = res.get("witness")
    if not w:
        return []
    p50 = w["round_trip_p50_ms"]
    tmpfs = w.get("tmpfs_round_trip_p50_ms")
    extra = f"; state on tmpfs {tmpfs:.2f}" if tmpfs is not None else ""
    return [("witness round trip, loopback (p50)", f"≤ {GOAL_MS:g} ms",
             f"{p50:.2f} ms (fsync {w['fsync_p50_ms']:.2f}{extra})", p50 <= GOAL_MS)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args(argv)
    print(json.dumps(bench_witness(args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
