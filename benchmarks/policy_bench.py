"""Decision latency: embedded regopy vs OPA over HTTP, on the same inputs and the same bundle.

    python -m benchmarks.policy_bench [--samples 600] [--threads 4] [--out benchmarks/results/policy.json]

Reports p50/p99 per engine for single-thread calls (the parity corpus, and per purpose a
whole-scope request without consents as docs/contracts.md shows it), and throughput of the two embedded
concurrency modes (thread-local interpreters vs one interpreter behind a lock) under a thread
pool, as FastAPI's threadpool would call it. On a 2-core machine the client competes with OPA:
read the OPA figures as "loopback HTTP + OPA", not as OPA alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gateway.policy import load_policy_data
from gateway.policy.bundle import build_bundle
from gateway.policy.embedded import EmbeddedPolicyEngine
from gateway.policy.opa import OpaServerPolicyEngine, find_opa_binary, start_opa_server
from tests.parity.corpus import corpus
from tests.policy.conftest import make_input


def _percentile(sorted_ms: Sequence[float], p: float) -> float:
    index = min(len(sorted_ms) - 1, max(0, round(p / 100 * len(sorted_ms)) - 1))
    return sorted_ms[index]


def _latencies(fn: Callable[[dict[str, Any]], Any], inputs: Sequence[dict[str, Any]], n: int) -> dict[str, float]:
    for i in inputs[:20]:  # warm up (thread-local compile, HTTP connection)
        fn(i)
    samples = []
    for k in range(n):
        started = time.perf_counter()
        fn(inputs[k % len(inputs)])
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(_percentile(samples, 50), 3),
        "p99_ms": round(_percentile(samples, 99), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "n": n,
    }


def _throughput(fn: Callable[[dict[str, Any]], Any], inputs: Sequence[dict[str, Any]], n: int, threads: int) -> float:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(fn, inputs[: threads * 2]))  # warm every thread
        started = time.perf_counter()
        list(pool.map(fn, [inputs[k % len(inputs)] for k in range(n)]))
        return round(n / (time.perf_counter() - started), 1)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/policy.json"))
    args = parser.parse_args(argv)

    bundle = build_bundle()
    # Realistic requests only (the dossier flow): well-formed inputs from the parity corpus.
    inputs = [i for i in corpus() if isinstance(i.get("consents"), list) and "subject" in i]
    embedded = EmbeddedPolicyEngine(bundle)
    locked = EmbeddedPolicyEngine(bundle, mode="lock")
    report: dict[str, Any] = {
        "revision": bundle.revision,
        "inputs": len(inputs),
        "threads": args.threads,
    }
    report["embedded"] = _latencies(embedded.evaluate, inputs, args.samples)
    report["embedded_whole_scope"] = {
        p: _latencies(embedded.evaluate, [make_input(p)], 200) for p in sorted(load_policy_data().raw_purposes)
    }
    report["embedded_throughput_per_s"] = {
        "thread_local": _throughput(embedded.evaluate, inputs, args.samples, args.threads),
        "lock": _throughput(locked.evaluate, inputs, args.samples, args.threads),
    }
    opa_bin = find_opa_binary()
    if opa_bin is None:
        report["opa_http"] = None
        report["note"] = "opa binary not found (LOKET_OPA_BIN): OPA side skipped"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bundle.tar.gz"
            path.write_bytes(bundle.raw)
            with start_opa_server(path, opa_bin=opa_bin) as server:
                opa = OpaServerPolicyEngine(server.url, timeout_s=5.0, revision=bundle.revision)
                report["identical"] = all(opa.evaluate(i) == embedded.evaluate(i) for i in inputs[:100])
                report["opa_http"] = _latencies(opa.evaluate, inputs, args.samples)
                opa.close()

    print(f"{'engine':<22}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for name in ("embedded", "opa_http"):
        row = report.get(name)
        if row:
            print(f"{name:<22}{row['p50_ms']:>10}{row['p99_ms']:>10}{row['mean_ms']:>10}")
    for purpose, row in report["embedded_whole_scope"].items():
        print(f"  {purpose:<40}{row['p50_ms']:>10}{row['p99_ms']:>10}")
    tp = report["embedded_throughput_per_s"]
    print(f"embedded throughput ({args.threads} threads): thread_local {tp['thread_local']}/s, lock {tp['lock']}/s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
