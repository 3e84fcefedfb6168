"""One command for all of Loket's benchmarks: ``python -m benchmarks.run [--quick]`` (``make bench``).

Sections (issue 7):
  policy   decision latency p50/p99 of the three engines (wasm, regopy, a real OPA server over
           HTTP and its eval timer), same inputs, interleaved in one run; decision scaling;
  dossier  end to end (auth + case + decision + parallel agency fetch + durable audit +
           response) against `loket serve` (a real subprocess) with its sandbox agencies (a
           separate process), at 1, 8 and 32 clients, on SQLite and on PostgreSQL; peak RSS of
           the gateway during the 32-client run;
  overhead the dossier request vs calling the slowest agency directly for the same fields, at
           the same concurrency, in the same run;
  audit    appends/s single and batched, verify records/s, proof time at 10⁴/10⁵(/10⁶), by
           calling the audit engineer's benchmarks/audit_bench.py functions.

Prints a table (rich) and writes JSON with the machine description to benchmarks/results/.
On a 2-core machine the load driver, the sandbox agencies and the gateway share the cores:
compare ratios measured in one run, not absolute figures across machines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from rich.console import Console
from rich.table import Table

from benchmarks.harness import (
    PURPOSE,
    GatewayConfig,
    cpu_seconds,
    gateway_process,
    machine,
    open_cases,
    postgres_bin,
    postgres_cluster,
    rss_bytes,
    sandbox_process,
)
from benchmarks.loadgen import percentile, run_load_sync
from benchmarks.witness_bench import bench_witness, witness_targets

RESULTS_DIR = Path(__file__).resolve().parent / "results"
console = Console(stderr=True)


@dataclass(frozen=True)
class Budget:
    """Every load loop is bounded in count and in time."""

    policy_samples: int
    dossier_requests: int
    dossier_seconds: float
    direct_requests: int
    direct_seconds: float
    audit_quick: bool
    proof_sizes: tuple[int, ...]

    @classmethod
    def for_mode(cls, quick: bool) -> Budget:
        if quick:
            return cls(200, 600, 6.0, 600, 4.0, True, (10_000, 100_000))
        return cls(2000, 6000, 20.0, 4000, 10.0, False, (10_000, 100_000, 1_000_000))


# --- policy -------------------------------------------------------------------------------


def policy_inputs() -> list[dict[str, Any]]:
    """Representative inputs for the full rule set: legal basis only, with consents (valid,
    revoked, expired), a category subset, break-glass, and an unknown purpose."""
    from datetime import timedelta

    from gateway.dossier.decisions import ConsentFact, build_policy_input

    now = datetime.now(UTC)
    # Consents bound to this case, and a case with a ground and a team (as the gateway builds
    # them since grounds and teams): without them every decision is a cheap request refusal.
    cons = [
        ConsentFact("c1", PURPOSE, "duo", "studieschuld", now - timedelta(days=1), now + timedelta(days=30), False, True,
                    case_id="case-1"),
        ConsentFact("c2", PURPOSE, "uwv", "inkomen", now - timedelta(days=10), now - timedelta(days=1), False, True,
                    case_id="case-1"),
        ConsentFact("c3", PURPOSE, "belastingdienst", "toeslagen", now - timedelta(days=1), now + timedelta(days=3), True,
                    True, case_id="case-1"),
    ]
    base: dict[str, Any] = {"now": now, "subject_sub": "cm-001", "subject_role": "casemanager",
                            "case_id": "case-1", "case_purpose": PURPOSE, "case_casemanager": "cm-001",
                            "citizen_pseudonym": "ab" * 32, "subject_team": "team-a", "case_team": "team-a",
                            "case_ground": "aanmelding"}
    return [
        build_policy_input(**base, consents=[], break_glass=False, justification_given=False, categories=None),
        build_policy_input(**base, consents=cons, break_glass=False, justification_given=False, categories=None),
        build_policy_input(**base, consents=cons, break_glass=False, justification_given=False,
                           categories=[("brp", "naw"), ("duo", "studieschuld")]),
        build_policy_input(**base, consents=[], break_glass=True, justification_given=True, categories=None),
        build_policy_input(**{**base, "case_purpose": "nieuwsgierigheid"}, consents=[], break_glass=False,
                           justification_given=False, categories=None),
    ]


def _time_calls(fn: Callable[[dict[str, Any]], Any], inputs: list[dict[str, Any]], n: int) -> list[float]:
    for inp in inputs:  # warm up (per-thread compile, connection set-up)
        fn(inp)
    out = []
    for i in range(n):
        inp = inputs[i % len(inputs)]
        t = time.perf_counter()
        fn(inp)
        out.append((time.perf_counter() - t) * 1000.0)
    return sorted(out)


def bench_policy(budget: Budget, tmp: Path) -> dict[str, Any]:
    """The three engines side by side, interleaved in one run (benchmarks/policy_bench.py)."""
    from benchmarks import policy_bench
    from gateway.core.settings import Settings
    from gateway.policy import current_bundle

    settings = Settings(data_dir=tmp / "policy")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    result = policy_bench.bench_engines(current_bundle(settings), policy_inputs(), budget.policy_samples)
    result["scaling"] = policy_bench.scaling_with_growth(
        policy_bench.bench_scaling(200 if budget.audit_quick else 1000))
    policy_bench.svg_plot(result["scaling"], policy_bench.DOCS_PLOT)
    return result


def _dist(sorted_ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(sorted_ms, 50), 4), "p99_ms": round(percentile(sorted_ms, 99), 4),
            "mean_ms": round(statistics.fmean(sorted_ms), 4), "n": len(sorted_ms)}


# --- dossier ------------------------------------------------------------------------------


class RssSampler:
    """Peak RSS of a process tree, sampled every 50 ms in a thread (bounded by stop())."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _disclosed_fields(body: Mapping[str, Any]) -> dict[str, list[str]]:
    by_agency: dict[str, list[str]] = {}
    for f in body.get("fields", []):
        by_agency.setdefault(f["agency"], [])
        if f["field"] not in by_agency[f["agency"]]:
            by_agency[f["agency"]].append(f["field"])
    return by_agency


def bench_dossier_on(db_label: str, database_url: str | None, sb: Any, budget: Budget, tmp: Path,
                     levels: tuple[int, ...] = (1, 8, 32),
                     extra_env: Mapping[str, str] | None = None, workers: int = 1) -> dict[str, Any]:
    # One deployment per database: the same keys for every run on it (a gateway with another
    # signing key must not sign checkpoints onto a log another key signed).
    deployment = db_label.split(",")[0]
    cfg = GatewayConfig(tmp / f"gw-{deployment}", sb.agency_urls,
                        database_url=database_url, extra=dict(extra_env or {}))
    out: dict[str, Any] = {"db": db_label, "workers": workers, "levels": {}}
    with gateway_process(cfg, workers=workers) as gw:
        tok = cfg.token()
        # Several cases (Eva and other synthetic citizens) so requests do not all hit one row.
        bsns = [sb.eva, *sb.citizens[:7]]
        ids = open_cases(gw.base_url, cfg.token(sub="co-001", role="coordinator"), bsns)
        auth = {"Authorization": f"Bearer {tok}"}
        reqs = [("GET", f"/v1/cases/{i}/dossier", auth, None) for i in ids]
        out["rss_idle_mb"] = round(rss_bytes(gw.pid) / 1e6, 1)
        for c in levels:
            sampler = RssSampler(gw.pid)
            warmup = 8 if c == levels[0] else 0
            # CPU of the three parties that share the cores: where a request's cost goes.
            cpu_before = (cpu_seconds(gw.pid), cpu_seconds(sb.pid), time.process_time())
            with sampler:
                res = run_load_sync(gw.base_url, reqs, concurrency=c, max_requests=budget.dossier_requests,
                                    max_seconds=budget.dossier_seconds, warmup=warmup)
            cpu_after = (cpu_seconds(gw.pid), cpu_seconds(sb.pid), time.process_time())
            summ = res.summary()
            sent = summ["requests"] + warmup
            summ["cpu_ms_per_request"] = {
                name: round((after - before) * 1000 / max(sent, 1), 2)
                for name, before, after in zip(("gateway", "agencies", "driver"), cpu_before, cpu_after, strict=True)
            }
            summ["audit_records"] = len({b["audit"]["record_id"] for b in res.bodies if "audit" in b})
            summ["peak_rss_mb"] = round(sampler.peak / 1e6, 1)
            out["levels"][str(c)] = summ
            out.setdefault("_results", {})[c] = res
        # One sample body for the overhead section (Eva's case).
        out["eva_fields"] = _disclosed_fields(next(b for b in out["_results"][levels[0]].bodies if "fields" in b))
    return out


def bench_dossier_opa(sb: Any, budget: Budget, tmp: Path) -> dict[str, Any] | str:
    """The SQLite dossier run again with LOKET_POLICY_ENGINE=opa and a local OPA sidecar."""
    from gateway.policy import current_bundle
    from gateway.policy.opa import find_opa_binary, start_opa_server

    if find_opa_binary() is None:
        return "skipped (no opa binary)"
    cfg_dir = tmp / "opa-bundle"
    cfg_dir.mkdir(parents=True, exist_ok=True)
    from gateway.core.settings import Settings

    bundle = current_bundle(Settings(data_dir=cfg_dir))
    (cfg_dir / "bundle.tar.gz").write_bytes(bundle.raw)
    with start_opa_server(cfg_dir / "bundle.tar.gz") as opa:
        console.print("dossier: SQLite with an OPA sidecar …")
        out = bench_dossier_on("sqlite+opa", None, sb, budget, tmp, (1, 8),
                               extra_env={"LOKET_POLICY_ENGINE": "opa", "LOKET_OPA_URL": opa.url})
    out.pop("_results")
    return out


def bench_direct(sb: Any, fields: Mapping[str, list[str]], budget: Budget, levels: tuple[int, ...]) -> dict[str, Any]:
    """Each agency the dossier contacted, called directly (no gateway) for the same fields."""
    out: dict[str, Any] = {}
    for agency, agency_fields in fields.items():
        url = sb.agency_urls[agency]
        body = {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [sb.eva], "fields": agency_fields}
        per: dict[str, Any] = {}
        for c in levels:
            res = run_load_sync(url, [("POST", f"/{agency}/personen", {}, body)], concurrency=c,
                                max_requests=budget.direct_requests, max_seconds=budget.direct_seconds,
                                warmup=4, keep_bodies=False)
            per[str(c)] = res.summary()
        out[agency] = per
    return out


def overhead(dossier: Mapping[str, Any], direct: Mapping[str, Any], levels: tuple[int, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in levels:
        key = str(c)
        slowest = max(direct, key=lambda a: direct[a][key]["p50_ms"])
        d = dossier["levels"][key]
        s = direct[slowest][key]
        out[key] = {
            "slowest_agency": slowest,
            "direct_p50_ms": s["p50_ms"], "direct_rps": s["throughput_rps"],
            "dossier_p50_ms": d["p50_ms"], "dossier_rps": d["throughput_rps"],
            "latency_ratio_p50": round(d["p50_ms"] / s["p50_ms"], 2),
            "throughput_ratio": round(s["throughput_rps"] / d["throughput_rps"], 2) if d["throughput_rps"] else None,
        }
    return out


# --- audit --------------------------------------------------------------------------------


def bench_audit(budget: Budget, tmp: Path) -> dict[str, Any]:
    """The audit engineer's benchmark functions (benchmarks/audit_bench.py), not a rewrite."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from benchmarks import audit_bench

    key = Ed25519PrivateKey.generate()
    d = tmp / "audit"
    d.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"appends": audit_bench.bench_appends(str(d), key, budget.audit_quick)}
    out["verify"] = audit_bench.bench_verify(str(d), key, 20_000 if budget.audit_quick else 100_000)
    out["proofs"] = audit_bench.bench_proofs(str(d), list(budget.proof_sizes), 1000)
    return out


# --- report -------------------------------------------------------------------------------


def _fmt(x: float | None, spec: str = ",.1f") -> str:
    return "—" if x is None else format(x, spec)


def targets(res: Mapping[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    rows: list[tuple[str, str, str, bool | None]] = []
    pol = res.get("policy") or {}
    if pol.get("wasm"):
        p50 = pol["wasm"]["p50_ms"]
        rows.append(("decision p50, default engine (wasm)", "≤ 0.1 ms", f"{p50:.3f} ms", p50 <= 0.1))
        r = pol.get("ratios_p50", {})
        for key, label, goal in (("opa_http_over_wasm", "wasm vs OPA over HTTP (p50)", 10),
                                 ("opa_eval_timer_over_wasm", "wasm vs OPA's own eval timer (p50)", 3)):
            v = r.get(key)
            rows.append((label, f"≥ {goal}× faster", f"{_fmt(v, '.2f')}×", None if v is None else v >= goal))
    dos = (res.get("dossier") or {}).get("sqlite")
    if dos:
        l8 = dos["levels"]["8"]
        rows.append(("dossier SQLite, 8 clients", "≥ 500 req/s", f"{l8['throughput_rps']:.1f} req/s", l8["throughput_rps"] >= 500))
        rows.append(("dossier SQLite, 8 clients p99", "≤ 25 ms", f"{l8['p99_ms']:.1f} ms", l8["p99_ms"] <= 25))
    ov = (res.get("overhead") or {}).get("8")
    if ov:
        rows.append(("overhead vs slowest direct (8 clients, p50)", "≤ 2×", f"{ov['latency_ratio_p50']:.2f}×",
                     ov["latency_ratio_p50"] <= 2))
    aud = res.get("audit")
    if aud:
        b = aud["appends"]["append_many_256_per_s"]
        rows.append(("audit appends batched", "≥ 5,000 /s", f"{b:,.0f} /s", b >= 5000))
        v = aud["verify"]["verify_records_per_s"]
        rows.append(("audit verify", "≥ 200,000 rec/s", f"{v:,.0f} rec/s", v >= 200_000))
        big = aud["proofs"][-1]
        t_us = big["inclusion_gen_sqlite_us"]
        rows.append((f"inclusion proof at {big['records']:,} (SQLite)", "≤ 1 ms at 10⁶", f"{t_us / 1000:.3f} ms",
                     t_us <= 1000 if big["records"] >= 1_000_000 else None))
    rows.extend(witness_targets(res))
    return rows


def render(res: Mapping[str, Any]) -> None:
    out = Console()
    m = res["machine"]
    out.print(f"[bold]Loket benchmarks[/bold] — {m['cpus']} cores, {m['cpu_model']}, {m['memory_gb']} GB, "
              f"Python {m['python']}, load avg at start {m['loadavg_at_start']}, quick={res['quick']}")
    pol = res.get("policy")
    if pol:
        t = Table(title="Policy decision latency (same inputs, same run)")
        for col in ("engine", "p50 ms", "p99 ms", "mean ms", "n"):
            t.add_column(col, justify="right" if col != "engine" else "left")
        for name, key in (("wasm, OPA-compiled (in process, default)", "wasm"),
                          ("embedded regopy (in process)", "embedded"),
                          ("OPA server over HTTP (gateway's engine)", "opa_http"),
                          ("OPA server, bare keep-alive httpx", "opa_http_keepalive_httpx"),
                          ("OPA server, its own eval timer", "opa_server_eval_only")):
            d = pol.get(key)
            if d:
                t.add_row(name, f"{d['p50_ms']:.3f}", f"{d['p99_ms']:.3f}", f"{d['mean_ms']:.3f}", str(d["n"]))
        out.print(t)
        if "same_decisions_all" in pol:
            out.print(f"  same decisions from the three engines: {pol['same_decisions_all']}; "
                      f"p50 ratios {pol.get('ratios_p50')}")
        sc = pol.get("scaling") or {}
        if sc.get("consents"):
            t = Table(title="Decision p50 vs consents per citizen / purposes in the bundle (docs/benchmarks/policy_scaling.svg)")
            for col in ("axis", "n", "wasm µs", "regopy µs"):
                t.add_column(col, justify="right")
            for axis in ("consents", "purposes"):
                for x, row in sc.get(axis, {}).items():
                    t.add_row(axis, x, f"{row['wasm']['p50_ms'] * 1000:.1f}", f"{row['embedded']['p50_ms'] * 1000:.1f}")
            out.print(t)
            out.print(f"  growth: {sc.get('growth')}")
    dossier = res.get("dossier") or {}
    if dossier:
        t = Table(title="Dossier end to end (loket serve subprocess + sandbox agencies)")
        t.add_column("db", no_wrap=True)
        for col in ("clients", "req/s", "p50 ms", "p99 ms", "ok", "non-2xx", "audit ids", "peak RSS MB"):
            t.add_column(col, justify="right")
        for db, d in dossier.items():
            if not isinstance(d, dict) or "levels" not in d:
                t.add_row(db, "—", "skipped", "", "", "", "", "", "")
                continue
            for c, s in d["levels"].items():
                t.add_row(db, c, f"{s['throughput_rps']:.1f}", f"{s['p50_ms']:.1f}", f"{s['p99_ms']:.1f}",
                          str(s["ok"]), str(s["requests"] - s["ok"]), str(s["audit_records"]), f"{s['peak_rss_mb']:.0f}")
        out.print(t)
    if dossier:
        t = Table(title="CPU per dossier request, ms (from /proc; the three share the cores)")
        t.add_column("db", no_wrap=True)
        for col in ("clients", "gateway", "sandbox agencies", "load driver", "sum"):
            t.add_column(col, justify="right")
        for db, d in dossier.items():
            if not isinstance(d, dict) or "levels" not in d:
                continue
            for c, s in d["levels"].items():
                cpu = s.get("cpu_ms_per_request")
                if cpu:
                    t.add_row(db, c, f"{cpu['gateway']:.2f}", f"{cpu['agencies']:.2f}", f"{cpu['driver']:.2f}",
                              f"{sum(cpu.values()):.2f}")
        out.print(t)
    ov = res.get("overhead")
    if ov:
        t = Table(title="Overhead: dossier (SQLite) vs the slowest agency called directly, same fields")
        for col in ("clients", "slowest agency", "direct p50 ms", "dossier p50 ms", "p50 ratio",
                    "direct req/s", "dossier req/s"):
            t.add_column(col, justify="right")
        for c, o in ov.items():
            t.add_row(c, o["slowest_agency"], f"{o['direct_p50_ms']:.2f}", f"{o['dossier_p50_ms']:.2f}",
                      f"{o['latency_ratio_p50']:.2f}×", f"{o['direct_rps']:.0f}", f"{o['dossier_rps']:.0f}")
        out.print(t)
    aud = res.get("audit")
    if aud:
        a, v = aud["appends"], aud["verify"]
        t = Table(title="Audit log (benchmarks/audit_bench.py, SQLite WAL synchronous=FULL)")
        t.add_column("measure")
        t.add_column("value", justify="right")
        t.add_row("append, one caller", f"{a['append_single_per_s']:,.0f} /s")
        t.add_row("append, 8 threads (group commit)", f"{a['append_8_threads_group_commit_per_s']:,.0f} /s")
        t.add_row("append_many, 256 per commit", f"{a['append_many_256_per_s']:,.0f} /s")
        t.add_row(f"verify export ({v['verify_records']:,} records)", f"{v['verify_records_per_s']:,.0f} rec/s")
        for p in aud["proofs"]:
            t.add_row(f"inclusion proof at {p['records']:,}: SQLite / memory / verify",
                      f"{p['inclusion_gen_sqlite_us']:.0f} / {p['inclusion_gen_memory_us']:.0f} / "
                      f"{p['inclusion_verify_us']:.0f} µs")
            t.add_row(f"consistency proof at {p['records']:,}: SQLite / verify",
                      f"{p['consistency_gen_sqlite_us']:.0f} / {p['consistency_verify_us']:.0f} µs")
        out.print(t)
    t = Table(title="Targets (issue 7)")
    for col in ("target", "goal", "measured", "met"):
        t.add_column(col)
    for name, goal, got, ok in targets(res):
        t.add_row(name, goal, got, "—" if ok is None else ("[green]yes[/green]" if ok else "[red]no[/red]"))
    out.print(t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Loket benchmarks (issue 7).")
    ap.add_argument("--quick", action="store_true", help="smaller budgets; finishes in < 3 minutes")
    ap.add_argument("--only", action="append", choices=["policy", "dossier", "audit"],
                    help="run only these sections (repeatable)")
    ap.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL dossier run")
    ap.add_argument("--opa-dossier", action="store_true",
                    help="also run the dossier (SQLite, 1 and 8 clients) with an OPA sidecar")
    ap.add_argument("--out", type=Path, default=None, help="JSON output path")
    args = ap.parse_args(argv)
    budget = Budget.for_mode(args.quick)
    sections = set(args.only or ["policy", "dossier", "audit"])
    started = time.perf_counter()
    res: dict[str, Any] = {"machine": machine(), "quick": args.quick,
                           "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                           "budget": vars(budget) if hasattr(budget, "__dict__") else {}}
    levels = (1, 8, 32)
    with tempfile.TemporaryDirectory(prefix="loket-bench-") as tmpdir:
        tmp = Path(tmpdir)
        if "policy" in sections:
            console.print("policy: embedded vs OPA over HTTP …")
            res["policy"] = bench_policy(budget, tmp)
        if "dossier" in sections:
            res["dossier"] = {}
            with sandbox_process() as sb:
                console.print("dossier: SQLite …")
                sq = bench_dossier_on("sqlite", None, sb, budget, tmp, levels)
                console.print("overhead: direct agency calls …")
                direct = bench_direct(sb, sq["eva_fields"], budget, (1, 8))
                res["direct"] = direct
                res["overhead"] = overhead(sq, direct, (1, 8))
                sq.pop("_results")
                res["dossier"]["sqlite"] = sq
                # The scale-out lever on one machine: uvicorn workers (loket serve --workers 2).
                console.print("dossier: SQLite, 2 workers …")
                sq2 = bench_dossier_on("sqlite, 2 workers", None, sb, budget, tmp, (1, 8, 32), workers=2)
                sq2.pop("_results")
                res["dossier"]["sqlite, 2 workers"] = sq2
                if "policy" in sections or args.opa_dossier:
                    res["dossier"]["sqlite+opa"] = bench_dossier_opa(sb, budget, tmp)
                if args.no_postgres or postgres_bin() is None:
                    res["dossier"]["postgresql"] = "skipped"
                else:
                    console.print("dossier: PostgreSQL …")
                    with postgres_cluster() as url:
                        pg = bench_dossier_on("postgresql", url, sb, budget, tmp, levels)
                        pg2 = bench_dossier_on("postgresql, 2 workers", url, sb, budget, tmp, (8, 32), workers=2)
                    pg.pop("_results")
                    pg2.pop("_results")
                    res["dossier"]["postgresql"] = pg
                    res["dossier"]["postgresql, 2 workers"] = pg2
        if "audit" in sections:
            console.print("audit: appends, verify, proofs …")
            res["audit"] = bench_audit(budget, tmp)
            res["witness"] = bench_witness(50 if args.quick else 300)
    res["elapsed_s"] = round(time.perf_counter() - started, 1)
    res["targets"] = [{"target": n, "goal": g, "measured": m, "met": ok} for n, g, m, ok in targets(res)]
    render(res)
    RESULTS_DIR.mkdir(exist_ok=True)
    path = args.out or RESULTS_DIR / f"run-{'quick' if args.quick else 'full'}.json"
    path.write_text(json.dumps(res, indent=2, default=str))
    console.print(f"wrote {path} in {res['elapsed_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
