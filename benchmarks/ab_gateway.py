"""Before/after in one run: the gateway of an older commit and of this tree, side by side.

Both run as `loket serve` subprocesses against the same sandbox agencies (one process, this
tree's) and the same load driver; the load alternates between them in rounds, so a change of
machine load hits both alike. Reported per side: gateway CPU per dossier request (from /proc),
req/s, p50 and p99, the median over the rounds.

    python -m benchmarks.ab_gateway --base e75b4e0 [--rounds 5] [--seconds 8] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tarfile
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO, GatewayConfig, cpu_seconds, gateway_process, open_cases, sandbox_process
from benchmarks.loadgen import run_load_sync


def export_commit(commit: str, into: Path) -> Path:
    """The tree of ``commit`` (git archive), unpacked under ``into``."""
    tar_path = into / "tree.tar"
    with tar_path.open("wb") as f:
        subprocess.run(["git", "archive", "--format=tar", commit], cwd=REPO, stdout=f, check=True)
    root = into / "tree"
    root.mkdir()
    with tarfile.open(tar_path) as tar:
        tar.extractall(root, filter="data")
    return root


def run(base: str, rounds: int, seconds: float, clients: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="loket-ab-") as tmp_s, sandbox_process() as sb, ExitStack() as stack:
        tmp = Path(tmp_s)
        sides = {f"base {base}": export_commit(base, tmp), "this tree": REPO}
        gateways = {}
        for label, source in sides.items():
            cfg = GatewayConfig(tmp / f"gw-{len(gateways)}", sb.agency_urls)
            gw = stack.enter_context(gateway_process(cfg, source=source))
            ids = open_cases(gw.base_url, cfg.token(sub="co-001", role="coordinator"), [sb.eva, *sb.citizens[:7]])
            auth = {"Authorization": f"Bearer {cfg.token()}"}
            reqs = [("GET", f"/v1/cases/{i}/dossier", auth, None) for i in ids]
            run_load_sync(gw.base_url, reqs, concurrency=clients, max_requests=200, max_seconds=5, keep_bodies=False)
            gateways[label] = (gw, reqs)
        samples: dict[str, list[dict[str, float]]] = {label: [] for label in sides}
        for _ in range(rounds):
            for label, (gw, reqs) in gateways.items():
                before = cpu_seconds(gw.pid)
                res = run_load_sync(gw.base_url, reqs, concurrency=clients, max_requests=100_000,
                                    max_seconds=seconds, keep_bodies=False)
                s = res.summary()
                samples[label].append({"cpu_ms": (cpu_seconds(gw.pid) - before) * 1000 / max(res.count, 1),
                                       "rps": s["throughput_rps"], "p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"],
                                       "ok_ratio": res.ok / max(res.count, 1)})
    out: dict[str, Any] = {"clients": clients, "rounds": rounds, "seconds": seconds, "sides": {}}
    for label, rows in samples.items():
        out["sides"][label] = {k: round(statistics.median(r[k] for r in rows), 3) for k in rows[0]}
        out["sides"][label]["cpu_ms_rounds"] = [round(r["cpu_ms"], 2) for r in rows]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--base", required=True, help="the older commit")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    print(json.dumps(run(args.base, max(1, min(args.rounds, 50)), max(1.0, min(args.seconds, 120.0)),
                         max(1, min(args.clients, 256))), indent=2))


if __name__ == "__main__":
    main()
