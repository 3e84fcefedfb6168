"""The case overview end to end (issue 13, "Performance"): a ``schuldhulp_intake`` case for Eva
touches all 8 agency adapter kinds (BRP, UWV, Belastingdienst/Toeslagen, DUO, SVB, gemeente,
CAK, CJIB). ``GET /v1/cases/{id}/overview`` against `loket serve` (a real subprocess) with the
sandbox agencies in their own process, one client, sequential; the plain dossier of the same
case in the same run for comparison. Target: overview p50 ≤ 50 ms.

    python -m benchmarks.overview_bench [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from adapters.catalog import load_catalog
from benchmarks.harness import GatewayConfig, gateway_process, machine, open_cases, sandbox_process
from benchmarks.loadgen import percentile

PURPOSE = "schuldhulp_intake"
TARGET_P50_MS = 50.0


def _kinds_in_scope() -> set[str]:
    from gateway.policy import load_policy_data

    scope = load_policy_data().raw_purposes[PURPOSE]["scope"]
    return {load_catalog().agencies[a].adapter for a in scope}


def _timed(client: httpx.Client, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(url)
        out.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")
    return out


def run(requests: int = 300) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, sandbox_process() as sandbox:
        # The Wgs bases of the debt-help purpose are still unverified: a pilot releases them only
        # with the switch on (as the overview's debt rules need).
        config = GatewayConfig(data_dir=Path(tmp) / "gw", agency_urls=sandbox.agency_urls,
                               extra={"LOKET_PILOT_UNVERIFIED_BASES": "true"})
        with gateway_process(config) as gw:
            token = config.token()
            (case,) = open_cases(gw.base_url, config.token(sub="co-001", role="coordinator"), [sandbox.eva],
                                 purpose=PURPOSE)
            with httpx.Client(base_url=gw.base_url, trust_env=False, timeout=30,
                              headers={"Authorization": f"Bearer {token}"}) as c:
                first = c.get(f"/v1/cases/{case}/overview").json()
                dossier = c.get(f"/v1/cases/{case}/dossier").json()
                kinds = {load_catalog().agencies[f["agency"]].adapter for f in dossier["fields"]}
                _timed(c, f"/v1/cases/{case}/overview", 20)  # warm up
                overview_ms: list[float] = []
                dossier_ms: list[float] = []
                for _ in range(requests):  # interleaved, so machine load hits both alike
                    overview_ms += _timed(c, f"/v1/cases/{case}/overview", 1)
                    dossier_ms += _timed(c, f"/v1/cases/{case}/dossier", 1)
    result = {
        "machine": machine(), "purpose": PURPOSE, "requests": requests,
        "adapter_kinds_asked": sorted(_kinds_in_scope()), "adapter_kinds_with_data": sorted(kinds),
        "actions": len(first["deadlines_and_threats"]),
        "overview_ms": {"p50": statistics.median(overview_ms), "p99": percentile(sorted(overview_ms), 99)},
        "dossier_ms": {"p50": statistics.median(dossier_ms), "p99": percentile(sorted(dossier_ms), 99)},
    }
    result["target_met"] = result["overview_ms"]["p50"] <= TARGET_P50_MS
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print(json.dumps(run(min(max(args.requests, 10), 5000)), indent=2))


if __name__ == "__main__":
    main()
