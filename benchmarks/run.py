"""One command for all of Loket's benchmarks: ``python -m benchmarks.run [--quick] [--write-docs]``
(``make bench``; ``make bench-docs`` also rewrites docs/benchmarks.md and the README table).

Sections (issues 7 and 17):
  policy   decision latency p50/p99 of the three engines (wasm, regopy, a real OPA server over
           HTTP and its eval timer), same inputs, interleaved in one run; decision time against
           consents per citizen (1, 10, 100) and purposes in the bundle (12 → 120);
  dossier  end to end (auth + case + decision + parallel agency fetch + durable audit +
           response) against `loket serve` (a real subprocess) with its sandbox agencies (a
           separate process): latency and throughput against clients (1 → 64) on SQLite, with 2
           workers, with an OPA sidecar, on PostgreSQL; CPU per request of the gateway, the
           agencies and the load driver (from /proc); latency against agencies asked (1 → 8);
           gateway RSS after 1,000 and after 10,000 requests; where the gateway's CPU goes, by
           stage (benchmarks/cpu_stages.py, in process);
  overhead the dossier request vs calling the slowest agency directly for the same fields, at
           the same concurrency, in the same run;
  audit    appends/s single and batched, verify time and proof time against log size (10⁴ →
           10⁶), by calling the audit engineer's benchmarks/audit_bench.py functions.

Prints tables (rich), writes JSON with the machine description to benchmarks/results/ and the
scaling plots to docs/benchmarks/*.svg; ``--write-docs`` rewrites the generated parts of
docs/benchmarks.md and the README's benchmark table from this run (benchmarks/report.py).
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
DOCS_DIR = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
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
    verify_sizes: tuple[int, ...]
    client_levels: tuple[int, ...]
    worker_levels: tuple[int, ...]
    agency_samples: int
    memory_first: int
    memory_total: int
    stage_requests: int

    @classmethod
    def for_mode(cls, quick: bool) -> Budget:
        if quick:
            return cls(200, 400, 4.0, 400, 3.0, True, (10_000, 100_000), (1_000, 10_000),
                       (1, 8, 64), (8,), 40, 300, 3_000, 150)
        return cls(2000, 4000, 12.0, 4000, 10.0, False, (10_000, 100_000, 1_000_000),
                   (10_000, 100_000, 1_000_000), (1, 2, 4, 8, 16, 32, 64), (1, 8, 32), 300,
                   1_000, 10_000, 1000)


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
    """The audit engineer's benchmark functions (benchmarks/audit_bench.py), not a rewrite:
    appends, verify of an export at each size in ``verify_sizes``, proofs at ``proof_sizes``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from benchmarks import audit_bench

    key = Ed25519PrivateKey.generate()
    d = tmp / "audit"
    d.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"appends": audit_bench.bench_appends(str(d), key, budget.audit_quick)}
    out["verify_by_size"] = []
    for n in budget.verify_sizes:
        sub = d / f"verify-{n}"
        sub.mkdir(exist_ok=True)
        out["verify_by_size"].append(audit_bench.bench_verify(str(sub), key, n))
    out["verify"] = out["verify_by_size"][-1]
    out["proofs"] = audit_bench.bench_proofs(str(d), list(budget.proof_sizes), 1000)
    t = d / "targets"
    t.mkdir(exist_ok=True)
    out["targets"] = audit_bench.measure_targets(str(t), key, budget.audit_quick)  # issues 11 and 17
    return out


# --- scaling -----------------------------------------------------------------------------


def scaling(res: Mapping[str, Any]) -> dict[str, Any]:
    """Every scaling series with its growth computed from the figures, and the SVG plots."""
    from benchmarks.plots import Panel, growth, svg_panels

    out: dict[str, Any] = {"series": {}, "plots": []}

    def add(name: str, points: list[tuple[float, float]]) -> None:
        out["series"][name] = {"points": points, **growth([p[0] for p in points], [p[1] for p in points])}

    sc = (res.get("policy") or {}).get("scaling") or {}
    for axis in ("consents", "purposes"):
        for engine in ("wasm", "embedded"):
            pts = [(float(x), row[engine]["p50_ms"] * 1000) for x, row in sc.get(axis, {}).items() if engine in row]
            if pts:
                add(f"decision p50 µs ({engine}) vs {axis}", sorted(pts))
    dos = (res.get("dossier") or {}).get("sqlite")
    panels_dossier: list[Panel] = []
    if isinstance(dos, Mapping) and "levels" in dos:
        lv = dos["levels"]
        p50 = sorted((float(c), v["p50_ms"]) for c, v in lv.items())
        p99 = sorted((float(c), v["p99_ms"]) for c, v in lv.items())
        rps = sorted((float(c), v["throughput_rps"]) for c, v in lv.items())
        add("dossier p50 ms vs clients (SQLite)", p50)
        add("dossier p99 ms vs clients (SQLite)", p99)
        add("dossier req/s vs clients (SQLite)", rps)
        panels_dossier.append(Panel("dossier latency vs clients (SQLite)", "clients", "ms",
                                    {"p50": p50, "p99": p99}))
    ag = (res.get("dossier") or {}).get("agencies")
    if isinstance(ag, Mapping) and ag.get("points"):
        pts = ag["points"]
        p50 = sorted((float(v.get("agencies_asked") or k), v["p50_ms"]) for k, v in pts.items())
        p99 = sorted((float(v.get("agencies_asked") or k), v["p99_ms"]) for k, v in pts.items())
        add("dossier p50 ms vs agencies asked (1 client)", p50)
        panels_dossier.insert(0, Panel("dossier latency vs agencies asked (1 client)", "agencies asked", "ms",
                                       {"p50": p50, "p99": p99}))
    if panels_dossier:
        svg_panels(panels_dossier, DOCS_DIR / "dossier_scaling.svg")
        out["plots"].append("dossier_scaling.svg")
    aud = res.get("audit") or {}
    panels_audit: list[Panel] = []
    if aud.get("verify_by_size"):
        pts = sorted((float(v["verify_records"]), v["verify_s"] * 1000) for v in aud["verify_by_size"])
        add("export verify ms vs log size", pts)
        panels_audit.append(Panel("verify an export vs log size", "records", "ms", {"verify": pts}))
    if aud.get("proofs"):
        inc = sorted((float(p["records"]), p["inclusion_gen_sqlite_us"]) for p in aud["proofs"])
        con = sorted((float(p["records"]), p["consistency_gen_sqlite_us"]) for p in aud["proofs"])
        ver = sorted((float(p["records"]), p["inclusion_verify_us"]) for p in aud["proofs"])
        add("inclusion proof µs (SQLite) vs log size", inc)
        add("consistency proof µs (SQLite) vs log size", con)
        add("inclusion proof verify µs vs log size", ver)
        panels_audit.append(Panel("proofs vs log size", "records", "µs",
                                  {"inclusion (SQLite)": inc, "consistency (SQLite)": con, "verify inclusion": ver}))
    if panels_audit:
        svg_panels(panels_audit, DOCS_DIR / "audit_scaling.svg")
        out["plots"].append("audit_scaling.svg")
    if sc.get("consents"):
        out["plots"].insert(0, "policy_scaling.svg")
    return out


# --- targets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run (or not judged in --quick)
    reason: str = ""  # where not met: what the run measured that explains it


def audit_target_rows(aud: Mapping[str, Any], load: float) -> list[Target]:
    """The audit targets of issues 11 and 17, as benchmarks/audit_bench.py measures them."""
    from benchmarks import audit_bench

    got = aud.get("targets")
    if not got:
        return []
    why = {
        "db_verify_with_index_per_s": lambda v: (
            f"{1e6 / v:.1f} µs per record: leaf hash, columns, tree and ~6 subject-map node hashes per "
            f"record in CPython; {got.get('db_verify_with_index_cpu_per_s', 0):,.0f} rec/s per CPU-second"),
        "export_verify_per_s": lambda v: f"{1e6 / v:.1f} µs per line: JSON, leaf hash and tree in one CPython loop",
        "append_batched_per_s": lambda v: (
            f"{256e3 / v:.1f} ms per 256-record commit incl. its checkpoint (two fsyncs); load average {load}"),
        "append_index_ratio": lambda v: f"the subject index costs {100 * (1 - v):.0f} % of the batched rate",
        "inclusion_proof_db_ms": lambda v: f"cold {got.get('inclusion_proof_db_cold_ms', 0):.3f} ms: node reads from SQLite",
        "completeness_gen_ms": lambda v: "",
        "completeness_verify_ms": lambda v: "",
    }
    rows = []
    for key, what, goal, unit, higher in audit_bench.TARGETS:
        v = got.get(key)
        if v is None:
            continue
        ok = audit_bench._met(v, goal, higher)
        rows.append(Target(f"{what} (audit bench)", f"{'≥' if higher else '≤'} {audit_bench._fmt(goal, unit)}",
                           audit_bench._fmt(v, unit), ok, "" if ok else why[key](v)))
    return rows


def _fmt(x: float | None, spec: str = ",.1f") -> str:
    return "—" if x is None else format(x, spec)


def _cpu_sum(level: Mapping[str, Any]) -> float | None:
    cpu = level.get("cpu_ms_per_request")
    return sum(cpu.values()) if cpu else None


def targets(res: Mapping[str, Any]) -> list[Target]:
    rows: list[Target] = []
    quick = bool(res.get("quick"))
    pol = res.get("policy") or {}
    if pol.get("wasm"):
        p50 = pol["wasm"]["p50_ms"]
        rows.append(Target("decision p50, default engine (wasm)", "≤ 0.1 ms", f"{p50:.3f} ms", p50 <= 0.1,
                           "" if p50 <= 0.1 else f"p99 {pol['wasm']['p99_ms']:.3f} ms; load average at start "
                           f"{res['machine']['loadavg_at_start'][0]}"))
        r = pol.get("ratios_p50", {})
        for key, label, goal in (("opa_http_over_wasm", "wasm vs OPA over HTTP (p50)", 10),
                                 ("opa_eval_timer_over_wasm", "wasm vs OPA's own eval timer (p50)", 3)):
            v = r.get(key)
            rows.append(Target(label, f"≥ {goal}× faster", f"{_fmt(v, '.2f')}×", None if v is None else v >= goal))
    dossier = res.get("dossier") or {}
    dos = dossier.get("sqlite")
    if isinstance(dos, Mapping) and "8" in dos.get("levels", {}):
        l8 = dos["levels"]["8"]
        cpu = l8.get("cpu_ms_per_request") or {}
        gw = cpu.get("gateway")
        stages = (dossier.get("cpu_stages") or {}).get("stages_ms") or {}
        outside = (dossier.get("cpu_stages") or {}).get("outside_stages_ms")
        top = ", ".join(f"{k} {v:.2f}" for k, v in list(stages.items())[:4])
        rows.append(Target("gateway CPU per dossier request (SQLite, 8 clients)", "≤ 2 ms", f"{_fmt(gw, '.2f')} ms",
                           None if gw is None else gw <= 2,
                           "" if gw is None or gw <= 2 else
                           f"in-process stages (ms): {top}; FastAPI, middleware, response and thread hops "
                           f"{_fmt(outside, '.2f')}"))
        total = _cpu_sum(l8)
        ceiling = 2000 / total if total else None
        rps = l8["throughput_rps"]
        rows.append(Target("dossier SQLite, 8 clients", "≥ 400 req/s", f"{rps:.1f} req/s", rps >= 400,
                           "" if rps >= 400 else
                           f"CPU per request gateway + agencies + driver = {_fmt(total, '.2f')} ms on 2 shared cores: "
                           f"ceiling {_fmt(ceiling, '.0f')} req/s"))
        p99 = l8["p99_ms"]
        little = 8 / rps * 1000 if rps else None
        rows.append(Target("dossier SQLite, 8 clients p99", "≤ 30 ms", f"{p99:.1f} ms", p99 <= 30,
                           "" if p99 <= 30 else
                           f"bounded by throughput: 8 clients / {rps:.0f} req/s = {_fmt(little, '.1f')} ms mean "
                           f"latency (Little's law); p50 {l8['p50_ms']:.1f} ms"))
    ov = (dossier.get("overhead") or {}).get("8")
    if ov:
        ratio = ov["latency_ratio_p50"]
        rows.append(Target("overhead vs slowest direct agency call (8 clients, p50)", "≤ 3×", f"{ratio:.2f}×",
                           ratio <= 3,
                           "" if ratio <= 3 else
                           f"direct {ov['slowest_agency']} p50 {ov['direct_p50_ms']:.2f} ms at "
                           f"{ov['direct_rps']:.0f} req/s; the dossier's p50 {ov['dossier_p50_ms']:.2f} ms is "
                           f"queueing behind its CPU (see the two rows above)"))
    mem = dossier.get("memory")
    if isinstance(mem, Mapping) and "growth_pct" in mem:
        g = mem["growth_pct"]
        judged = mem["first"] == 1_000 and mem["total"] >= 10_000 and not quick
        rows.append(Target(f"gateway RSS after {mem['total']:,} vs after {mem['first']:,} requests", "within 10 %",
                           f"{mem['rss_after_first_mb']:.0f} → {mem['rss_after_total_mb']:.0f} MB ({g:+.1f} %)",
                           (abs(g) <= 10) if judged else None,
                           "" if not judged or abs(g) <= 10 else f"grew {g:+.1f} % over {mem['total'] - mem['first']:,} requests"))
    aud = res.get("audit")
    if aud:
        load = res["machine"]["loadavg_at_start"][0]
        rows.extend(audit_target_rows(aud, load))
    rows.extend(Target(*row) for row in witness_targets(res))
    return rows


# --- console report -----------------------------------------------------------------------


def render(res: Mapping[str, Any]) -> None:
    out = Console(width=140)
    m = res["machine"]
    out.print(f"[bold]Loket benchmarks[/bold] — {m['cpus']} cores, {m['cpu_model']}, {m['memory_gb']} GB, "
              f"Python {m['python']}, load avg at start {m['loadavg_at_start']}, quick={res['quick']}")
    from benchmarks import report

    for title, header, rows in report.tables(res):
        t = Table(title=title)
        for i, col in enumerate(header):
            t.add_column(col, justify="left" if i == 0 else "right")
        for row in rows:
            t.add_row(*[str(c) for c in row])
        out.print(t)
    sc = res.get("scaling", {}).get("series", {})
    if sc:
        t = Table(title="Growth, computed from the figures (fitted on log-log axes)")
        t.add_column("series")
        t.add_column("points", justify="right")
        t.add_column("growth")
        for name, s in sc.items():
            t.add_row(name, " ".join(f"{x:g}:{y:.3g}" for x, y in s["points"]),
                      f"{s['growth']} (slope {s['slope']})")
        out.print(t)
    t = Table(title="Targets (issues 11 and 17)")
    for col in ("target", "goal", "measured", "met", "why not (measured)"):
        t.add_column(col)
    for tg in res.get("target_rows", []):
        ok = tg["met"]
        t.add_row(tg["name"], tg["goal"], tg["measured"],
                  "—" if ok is None else ("[green]yes[/green]" if ok else "[red]no[/red]"), tg["reason"])
    out.print(t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Loket benchmarks (issues 7 and 17).")
    ap.add_argument("--quick", action="store_true", help="smaller budgets, every section; a few minutes")
    ap.add_argument("--only", action="append", choices=["policy", "dossier", "audit"],
                    help="run only these sections (repeatable)")
    ap.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL dossier run")
    ap.add_argument("--opa-dossier", action="store_true",
                    help="also run the dossier with an OPA sidecar when the policy section is skipped")
    ap.add_argument("--write-docs", action="store_true",
                    help="rewrite the generated parts of docs/benchmarks.md and the README table from this run")
    ap.add_argument("--out", type=Path, default=None, help="JSON output path")
    args = ap.parse_args(argv)
    budget = Budget.for_mode(args.quick)
    sections = set(args.only or ["policy", "dossier", "audit"])
    started = time.perf_counter()
    res: dict[str, Any] = {"machine": machine(), "quick": args.quick, "sections": sorted(sections),
                           "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                           "commit": _commit(), "budget": dict(vars(budget))}
    with tempfile.TemporaryDirectory(prefix="loket-bench-") as tmpdir:
        tmp = Path(tmpdir)
        if "policy" in sections:
            console.print("policy: wasm, regopy, OPA over HTTP; scaling …")
            res["policy"] = bench_policy(budget, tmp)
        if "dossier" in sections:
            res["dossier"] = bench_dossier_all(budget, tmp, sections, args)
        if "audit" in sections:
            console.print("audit: appends, verify and proofs by log size …")
            res["audit"] = bench_audit(budget, tmp)
            res["witness"] = bench_witness(50 if args.quick else 300)
    res["scaling"] = scaling(res)
    res["elapsed_s"] = round(time.perf_counter() - started, 1)
    res["target_rows"] = [vars(t) for t in targets(res)]
    render(res)
    RESULTS_DIR.mkdir(exist_ok=True)
    path = args.out or RESULTS_DIR / f"run-{'quick' if args.quick else 'full'}.json"
    path.write_text(json.dumps(res, indent=2, default=str))
    console.print(f"wrote {path} in {res['elapsed_s']} s")
    if args.write_docs:
        from benchmarks import report

        for written in report.write_docs(res, json_path=path):
            console.print(f"rewrote {written}")
    return 0


def bench_dossier_all(budget: Budget, tmp: Path, sections: set[str], args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks import cpu_stages, dossier_scaling

    out: dict[str, Any] = {}
    with sandbox_process() as sb:
        console.print(f"dossier: SQLite at {budget.client_levels} clients …")
        sq = bench_dossier_on("sqlite", None, sb, budget, tmp, budget.client_levels)
        console.print("overhead: direct agency calls …")
        levels = tuple(c for c in (1, 8) if str(c) in sq["levels"])
        direct = bench_direct(sb, sq["eva_fields"], budget, levels)
        out["direct"] = direct
        out["overhead"] = overhead(sq, direct, levels)
        sq.pop("_results")
        out["sqlite"] = sq
        # The scale-out lever on one machine: uvicorn workers (loket serve --workers 2).
        console.print("dossier: SQLite, 2 workers …")
        sq2 = bench_dossier_on("sqlite, 2 workers", None, sb, budget, tmp, budget.worker_levels, workers=2)
        sq2.pop("_results")
        out["sqlite, 2 workers"] = sq2
        if "policy" in sections or args.opa_dossier:
            out["sqlite+opa"] = bench_dossier_opa(sb, budget, tmp)
        console.print("dossier: latency against agencies asked …")
        out["agencies"] = dossier_scaling.bench_agencies(sb, tmp, budget.agency_samples)
        console.print(f"dossier: gateway memory after {budget.memory_first:,} and {budget.memory_total:,} requests …")
        out["memory"] = dossier_scaling.bench_memory(sb, tmp, budget.memory_first, budget.memory_total,
                                                     120.0 if budget.audit_quick else 600.0)
        if args.no_postgres or postgres_bin() is None:
            out["postgresql"] = "skipped"
        else:
            console.print("dossier: PostgreSQL …")
            with postgres_cluster() as url:
                pg = bench_dossier_on("postgresql", url, sb, budget, tmp, (1, 8, 32) if not budget.audit_quick else (8,))
                pg2 = bench_dossier_on("postgresql, 2 workers", url, sb, budget, tmp, (8, 32) if not budget.audit_quick else (8,),
                                       workers=2)
            pg.pop("_results")
            pg2.pop("_results")
            out["postgresql"] = pg
            out["postgresql, 2 workers"] = pg2
    console.print("dossier: gateway CPU by stage, in process …")
    out["cpu_stages"] = cpu_stages.run(budget.stage_requests)
    return out


def _commit() -> str:
    import subprocess

    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).resolve().parents[1],
                             capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True,
                               timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("+changes" if dirty else "")


if __name__ == "__main__":
    sys.exit(main())
