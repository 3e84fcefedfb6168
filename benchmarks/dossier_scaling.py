"""Dossier latency against the number of agencies asked (issue 17), and gateway memory over
10,000 requests.

Agencies: one ``schuldhulp_intake`` case for Eva (the purpose with the widest scope: nine
agencies on a legal basis; the pilot switch on, since its Wgs bases are still unverified),
``GET /v1/cases/{id}/dossier?categories=…`` naming every basis category of the first k
agencies, k = 1, 2, 4, 8, one client, sequential. The number of agencies actually asked is
read back from the audit log (one ``dossier:agency_call`` child record per agency called,
consecutive after the dossier's record), not assumed from the request.

Memory: a fresh `loket serve` answers 1,000 dossier requests at 8 clients, then 9,000 more;
the RSS of its process tree after each (``--quick``: 300 and 3,000, reported but not judged).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.harness import GatewayConfig, cpu_seconds, gateway_process, open_cases, rss_bytes
from benchmarks.loadgen import run_load_sync

SCALING_PURPOSE = "schuldhulp_intake"
# Eva's data is spread over these; SVB holds nothing for her, so it comes last (asked at k = 8
# only if it is among the first eight).
AGENCY_ORDER = ("brp", "uwv", "toeslagen", "belastingdienst", "duo", "cjib", "cak", "schuldhulp", "svb")
AGENCY_COUNTS = (1, 2, 4, 8)


def basis_categories(purpose: str = SCALING_PURPOSE) -> dict[str, list[str]]:
    """agency -> its categories released on a legal basis (no consent needed), in scope order."""
    from gateway.policy import load_policy_data

    scope = load_policy_data().raw_purposes[purpose]["scope"]
    return {a: [c for c, d in cats.items() if "basis" in d] for a, cats in scope.items()
            if any("basis" in d for d in cats.values())}


def agencies_asked(bodies: list[Any]) -> int | None:
    """Agencies called per request, from the audit log: a dossier record is followed by one
    child record per agency called, so with one sequential client the distance between two
    consecutive dossier records' indexes, less one, is the number of agencies asked."""
    idx = [b["audit"]["index"] for b in bodies if isinstance(b, Mapping) and "audit" in b]
    gaps = {b - a - 1 for a, b in zip(idx, idx[1:], strict=False)}
    return gaps.pop() if len(gaps) == 1 else None


def bench_agencies(sb: Any, tmp: Path, samples: int) -> dict[str, Any]:
    cats = basis_categories()
    order = [a for a in AGENCY_ORDER if a in cats and a in sb.agency_urls]
    cfg = GatewayConfig(tmp / "gw-agencies", sb.agency_urls, extra={"LOKET_PILOT_UNVERIFIED_BASES": "true"})
    out: dict[str, Any] = {"purpose": SCALING_PURPOSE, "order": order, "points": {}}
    with gateway_process(cfg) as gw:
        (case,) = open_cases(gw.base_url, cfg.token(sub="co-001", role="coordinator"), [sb.eva],
                             purpose=SCALING_PURPOSE)
        auth = {"Authorization": f"Bearer {cfg.token()}"}
        for k in AGENCY_COUNTS:
            chosen = order[:k]
            query = ",".join(f"{a}.{c}" for a in chosen for c in cats[a])
            path = f"/v1/cases/{case}/dossier?categories={query}"
            res = run_load_sync(gw.base_url, [("GET", path, auth, None)], concurrency=1,
                                max_requests=samples, max_seconds=30.0, warmup=5)
            body = next((b for b in res.bodies if isinstance(b, Mapping) and "fields" in b), {})
            answered = sorted({f["agency"] for f in body.get("fields", [])}
                              | {u["agency"] for u in body.get("unavailable", [])})
            summ = res.summary()
            out["points"][str(k)] = {
                "agencies_requested": chosen, "agencies_asked": agencies_asked(res.bodies), "agencies_with_data_or_unavailable": answered,
                "p50_ms": summ["p50_ms"], "p99_ms": summ["p99_ms"], "requests": summ["requests"],
                "ok": summ["ok"],
            }
    return out


def bench_memory(sb: Any, tmp: Path, first: int, total: int, seconds_cap: float) -> dict[str, Any]:
    """RSS of a fresh gateway after ``first`` and after ``total`` dossier requests (8 clients)."""
    cfg = GatewayConfig(tmp / "gw-memory", sb.agency_urls)
    out: dict[str, Any] = {"first": first, "total": total}
    with gateway_process(cfg) as gw:
        ids = open_cases(gw.base_url, cfg.token(sub="co-001", role="coordinator"), [sb.eva, *sb.citizens[:7]])
        auth = {"Authorization": f"Bearer {cfg.token()}"}
        reqs = [("GET", f"/v1/cases/{i}/dossier", auth, None) for i in ids]
        out["rss_idle_mb"] = round(rss_bytes(gw.pid) / 1e6, 1)
        started = time.perf_counter()
        cpu0 = cpu_seconds(gw.pid)
        a = run_load_sync(gw.base_url, reqs, concurrency=8, max_requests=first, max_seconds=seconds_cap,
                          keep_bodies=False)
        out["rss_after_first_mb"] = round(rss_bytes(gw.pid) / 1e6, 1)
        b = run_load_sync(gw.base_url, reqs, concurrency=8, max_requests=total - a.count,
                          max_seconds=seconds_cap, keep_bodies=False)
        out["rss_after_total_mb"] = round(rss_bytes(gw.pid) / 1e6, 1)
        out["served"] = a.count + b.count
        out["ok"] = a.ok + b.ok
        out["gateway_cpu_ms_per_request"] = round((cpu_seconds(gw.pid) - cpu0) * 1000 / max(out["served"], 1), 2)
        out["elapsed_s"] = round(time.perf_counter() - started, 1)
    out["growth_pct"] = round(100 * (out["rss_after_total_mb"] / out["rss_after_first_mb"] - 1), 1)
    return out
