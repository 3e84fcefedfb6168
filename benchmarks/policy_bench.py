"""Decision latency of the three engines on the same bundle, inputs and run; and how it scales.

    python -m benchmarks.policy_bench [--samples 2000] [--quick] [--no-scaling] [--out benchmarks/results/policy.json]

Engines (docs/adr/0006): ``wasm`` (OPA's compiled module on wasmtime, in process), ``embedded``
(regopy, in process), ``opa_http`` (`opa run --server` through the gateway's OPA client), plus
the same server through a bare keep-alive httpx client and OPA's own ``timer_rego_query_eval_ns``
(``?metrics``: evaluation only, without OPA's input parsing and result encoding).

Calls are interleaved in rounds (25 calls of each engine on the same inputs, then the next
round), so a change of load on a shared machine hits all engines alike; compare the ratios of
one run.
On a 2-core machine the client competes with OPA: read the HTTP figures as "loopback HTTP + OPA".

Scaling (issue 17): p50 of a whole-scope decision against consents per citizen (1, 10, 100) and
against the number of purposes in the bundle (12 → 120, synthetic copies of real purposes),
for wasm and regopy (the wasm module is compiled by the pinned OPA for each synthetic bundle);
written as JSON and as an SVG plot to docs/benchmarks/policy_scaling.svg.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway.policy.bundle import PolicyBundle, build_bundle, policies_root
from gateway.policy.embedded import EmbeddedPolicyEngine
from gateway.policy.opa import OpaServerPolicyEngine, find_opa_binary, start_opa_server
from gateway.policy.wasm import WasmPolicyEngine
from gateway.policy.wasm_module import build_module, pinned_opa_binary, shipped_module

Decide = Callable[[dict[str, Any]], Any]
DOCS_PLOT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "policy_scaling.svg"


def _percentile(sorted_ms: Sequence[float], p: float) -> float:
    index = min(len(sorted_ms) - 1, max(0, round(p / 100 * len(sorted_ms)) - 1))
    return sorted_ms[index]


def dist(samples_ms: Sequence[float]) -> dict[str, float]:
    s = sorted(samples_ms)
    return {
        "p50_ms": round(_percentile(s, 50), 4),
        "p99_ms": round(_percentile(s, 99), 4),
        "mean_ms": round(statistics.fmean(s), 4),
        "n": len(s),
    }


def interleaved(engines: Mapping[str, Decide], inputs: Sequence[dict[str, Any]], n: int,
                block: int = 25) -> dict[str, list[float]]:
    """``n`` timed calls per engine, in rounds of ``block`` calls per engine on the same inputs.

    Rounds rather than single calls: an OPA call leaves the server process busy for a moment
    after it answers (on 2 shared cores), which would land on the next engine's timing."""
    for inp in inputs[: min(len(inputs), 50)]:  # warm up: caches and connections
        for fn in engines.values():
            fn(inp)
    out: dict[str, list[float]] = {name: [] for name in engines}
    clock = time.perf_counter
    for start in range(0, n, block):
        for name, fn in engines.items():
            samples = out[name]
            for k in range(start, min(n, start + block)):
                inp = inputs[k % len(inputs)]
                t = clock()
                fn(inp)
                samples.append((clock() - t) * 1000.0)
    return out


def wasm_engine_for(bundle: PolicyBundle) -> WasmPolicyEngine:
    module = shipped_module()
    if module is None or module.revision != bundle.revision:
        module = build_module(bundle)  # needs the pinned OPA
    return WasmPolicyEngine(module, bundle, instances=1)


def bench_engines(bundle: PolicyBundle, inputs: Sequence[dict[str, Any]], samples: int) -> dict[str, Any]:
    """p50/p99 per engine and the ratios, from one interleaved run."""
    wasm = wasm_engine_for(bundle)
    embedded = EmbeddedPolicyEngine(bundle)
    report: dict[str, Any] = {"revision": bundle.revision, "inputs": len(inputs), "samples": samples}
    engines: dict[str, Decide] = {"wasm": wasm.evaluate, "embedded": embedded.evaluate}
    report["same_decisions_wasm_embedded"] = all(wasm.evaluate(i) == embedded.evaluate(i) for i in inputs)
    opa_bin = find_opa_binary()
    if opa_bin is None:
        report["note"] = "opa binary not found (LOKET_OPA_BIN): OPA side skipped"
        report.update({k: dist(v) for k, v in interleaved(engines, inputs, samples).items()})
        return _ratios(report)
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.tar.gz"
        path.write_bytes(bundle.raw)
        with start_opa_server(path, opa_bin=opa_bin) as server:
            opa = OpaServerPolicyEngine(server.url, timeout_s=5.0, revision=bundle.revision)
            report["same_decisions_all"] = report["same_decisions_wasm_embedded"] and all(
                opa.evaluate(i) == wasm.evaluate(i) for i in inputs
            )
            eval_ns: list[float] = []
            with httpx.Client(base_url=server.url, trust_env=False, timeout=5.0) as http:

                def raw(inp: dict[str, Any]) -> Any:
                    r = http.post(
                        "/v1/data/loket/decision?metrics=true&strict-builtin-errors=true", json={"input": inp}
                    )
                    body = r.json()
                    eval_ns.append(body.get("metrics", {}).get("timer_rego_query_eval_ns", 0))
                    return body["result"]

                engines |= {"opa_http": opa.evaluate, "opa_http_keepalive_httpx": raw}
                timed = interleaved(engines, inputs, samples)
            opa.close()
    report.update({k: dist(v) for k, v in timed.items()})
    report["opa_server_eval_only"] = dist([x / 1e6 for x in eval_ns[-samples:]])
    return _ratios(report)


def _ratios(report: dict[str, Any]) -> dict[str, Any]:
    w = report["wasm"]["p50_ms"]
    ratios = {"embedded_over_wasm": report["embedded"]["p50_ms"] / w}
    if "opa_http" in report:
        ratios["opa_http_over_wasm"] = report["opa_http"]["p50_ms"] / w
        ratios["opa_eval_timer_over_wasm"] = report["opa_server_eval_only"]["p50_ms"] / w
        ratios["opa_http_over_embedded"] = report["opa_http"]["p50_ms"] / report["embedded"]["p50_ms"]
    report["ratios_p50"] = {k: round(v, 2) for k, v in ratios.items()}
    return report


def bench_throughput(bundle: PolicyBundle, inputs: Sequence[dict[str, Any]], n: int, threads: int = 4) -> dict[str, float]:
    """Decisions/s from ``threads`` client threads (as FastAPI's thread pool calls the engine):
    wasm with 1, 2 and 4 instances, regopy behind its lock."""
    from concurrent.futures import ThreadPoolExecutor

    module = wasm_engine_for(bundle).module
    engines: dict[str, Decide] = {
        f"wasm_{k}_instances": WasmPolicyEngine(module, bundle, instances=k).evaluate for k in (1, 2, 4)
    }
    engines["embedded_lock"] = EmbeddedPolicyEngine(bundle).evaluate
    work = [inputs[k % len(inputs)] for k in range(n)]
    out: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for name, fn in engines.items():
            list(pool.map(fn, work[: threads * 4]))  # warm every thread (and instance)
            count = n if name.startswith("wasm") else max(threads * 4, n // 5)
            started = time.perf_counter()
            list(pool.map(fn, work[:count]))
            out[name] = round(count / (time.perf_counter() - started), 1)
    return out


# --- Scaling ----------------------------------------------------------------------------------


def _consents(purpose: str, scope: Mapping[str, Any], n: int, now: int, hour: int) -> list[dict[str, Any]]:
    """``n`` consents of one citizen: about a third for this purpose's consent items, the rest for
    other purposes and agencies (they must be looked at and passed over), a few revoked/expired."""
    items = sorted((a, c) for a in scope for c in scope[a] if "basis" not in scope[a][c]) or [("cak", "eigen_bijdrage")]
    out = []
    for k in range(n):
        agency, category = items[k % len(items)]
        own = k % 3 == 0
        out.append({
            "id": f"k-{k:04d}",
            "purpose": purpose if own else f"ander_doel_{k % 7}",
            "agency": agency,
            "category": category,
            "valid_from_ns": now - hour,
            "valid_until_ns": now + hour if k % 5 else now - 1,
            "revoked": k % 11 == 10,
            "explicit": k % 2 == 0,
            # Bound to this case (every seventh to another case: looked at, passed over).
            "case_id": "case-1" if k % 7 else "case-9",
            "team": None,
            "declined": False,
        })
    return out


def _synthetic_root(tmp: Path, purposes: int) -> Path:
    """policies/ with the purposes copied to ``purposes`` in total (ids ``<id>__s<k>``)."""
    root = tmp / f"policies_{purposes}"
    shutil.copytree(str(policies_root()), root, ignore=shutil.ignore_patterns("build", "__pycache__", "*_test.rego"))
    path = root / "loket_data" / "purposes" / "data.json"
    real = json.loads(path.read_text("utf-8"))
    ids = sorted(real)
    out = dict(real)
    k = 0
    while len(out) < purposes:
        src = ids[k % len(ids)]
        out[f"{src}__s{k}"] = real[src]
        k += 1
    path.write_text(json.dumps(out, indent=2, sort_keys=True), "utf-8")
    return root


def bench_scaling(samples: int, *, consents: Sequence[int] = (1, 10, 100),
                  purposes: Sequence[int] = (12, 30, 60, 120)) -> dict[str, Any]:
    from gateway.policy import load_policy_data
    from tests.policy.conftest import HOUR, NOW, make_input

    purpose = "schuldhulp_intake"
    scope = load_policy_data().raw_purposes[purpose]["scope"]
    bundle = build_bundle()
    wasm, embedded = wasm_engine_for(bundle), EmbeddedPolicyEngine(bundle)
    out: dict[str, Any] = {"purpose": purpose, "consents": {}, "purposes": {}}
    for n in consents:
        inputs = [make_input(purpose, None, _consents(purpose, scope, n, NOW, HOUR))]
        assert wasm.evaluate(inputs[0]) == embedded.evaluate(inputs[0])
        timed = interleaved({"wasm": wasm.evaluate, "embedded": embedded.evaluate}, inputs, samples)
        out["consents"][str(n)] = {k: dist(v) for k, v in timed.items()}
    if pinned_opa_binary() is None:
        out["purposes_note"] = "pinned opa not found: the synthetic bundles cannot be compiled to wasm"
        return out
    with tempfile.TemporaryDirectory() as tmp:
        for p in purposes:
            b = build_bundle(root=_synthetic_root(Path(tmp), p))
            w, e = WasmPolicyEngine(build_module(b), b, instances=1), EmbeddedPolicyEngine(b)
            # A real purpose and its last synthetic copy, each with three consents.
            last = sorted(k for k in b.data["loket_data"]["purposes"] if k.startswith(purpose)) [-1]
            inputs = [make_input(x, None, _consents(x, scope, 3, NOW, HOUR)) for x in (purpose, last)]
            assert all(w.evaluate(i) == e.evaluate(i) for i in inputs)
            timed = interleaved({"wasm": w.evaluate, "embedded": e.evaluate}, inputs, samples)
            out["purposes"][str(p)] = {k: dist(v) for k, v in timed.items()}
    return out


def growth(xs: Sequence[float], ys: Sequence[float]) -> str:
    """How ``ys`` grows with ``xs``, computed from the figures (benchmarks/plots.py)."""
    from benchmarks.plots import growth as fitted
    from benchmarks.plots import growth_text

    return growth_text(fitted(xs, ys))


def svg_plot(scaling: Mapping[str, Any], path: Path) -> None:
    """Two panels, p50 µs (log y) against consents and against purposes; hand-written SVG."""
    import math

    panels = [("consents per citizen", scaling.get("consents", {})), ("purposes in the bundle", scaling.get("purposes", {}))]
    w, h, pad = 360, 260, 50
    colours = {"wasm": "#1f6feb", "embedded": "#d1242f"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w + 20}" height="{h + 40}" font-family="sans-serif" font-size="11">',
             '<rect width="100%" height="100%" fill="white"/>']
    all_y = [d[e]["p50_ms"] * 1000 for _, series in panels for d in series.values() for e in colours if e in d]
    if not all_y:
        return
    y_lo, y_hi = math.log10(min(all_y) * 0.7), math.log10(max(all_y) * 1.4)
    for i, (title, series) in enumerate(panels):
        ox = i * (w + 20)
        parts.append(f'<text x="{ox + w / 2}" y="16" text-anchor="middle" font-weight="bold">decision p50 (µs, log) vs {title}</text>')
        parts.append(f'<line x1="{ox + pad}" y1="{h - pad + 20}" x2="{ox + w - 10}" y2="{h - pad + 20}" stroke="black"/>')
        parts.append(f'<line x1="{ox + pad}" y1="30" x2="{ox + pad}" y2="{h - pad + 20}" stroke="black"/>')
        xs = sorted(float(x) for x in series)
        if not xs:
            parts.append(f'<text x="{ox + w / 2}" y="{h / 2}" text-anchor="middle">not measured</text>')
            continue
        x_lo, x_hi = math.log10(xs[0]), math.log10(xs[-1]) if xs[-1] > xs[0] else math.log10(xs[0]) + 1

        def px(x: float, ox: int = ox, x_lo: float = x_lo, x_hi: float = x_hi) -> float:
            return ox + pad + (math.log10(x) - x_lo) / (x_hi - x_lo) * (w - pad - 30)

        def py(y_us: float) -> float:
            return 30 + (y_hi - math.log10(y_us)) / (y_hi - y_lo) * (h - pad - 10)

        for x in xs:
            parts.append(f'<text x="{px(x)}" y="{h - pad + 34}" text-anchor="middle">{x:g}</text>')
        for tick in (10, 30, 100, 300, 1000, 3000, 10000):
            if y_lo <= math.log10(tick) <= y_hi:
                parts.append(f'<text x="{ox + pad - 4}" y="{py(tick) + 4}" text-anchor="end">{tick}</text>')
                parts.append(f'<line x1="{ox + pad}" y1="{py(tick)}" x2="{ox + w - 10}" y2="{py(tick)}" stroke="#ddd"/>')
        for engine, colour in colours.items():
            pts = [(px(x), py(series[str(int(x))][engine]["p50_ms"] * 1000)) for x in xs if engine in series[str(int(x))]]
            parts.append('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
                colour, " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)))
            for a, b in pts:
                parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>')
        for j, (engine, colour) in enumerate(colours.items()):
            label = {"wasm": "wasm (OPA-compiled, wasmtime)", "embedded": "embedded (regopy)"}[engine]
            parts.append(f'<rect x="{ox + pad + 10}" y="{36 + 14 * j}" width="10" height="3" fill="{colour}"/>'
                         f'<text x="{ox + pad + 24}" y="{40 + 14 * j}">{label}</text>')
    parts.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n", "utf-8")


def print_report(report: Mapping[str, Any]) -> None:
    print(f"{'engine':<40}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for name, label in (("wasm", "wasm (OPA-compiled, in process)"), ("embedded", "embedded regopy (in process)"),
                        ("opa_http", "OPA server over HTTP (gateway client)"),
                        ("opa_http_keepalive_httpx", "OPA server, bare keep-alive httpx"),
                        ("opa_server_eval_only", "OPA server, its own eval timer")):
        row = report.get(name)
        if row:
            print(f"{label:<40}{row['p50_ms']:>10.4f}{row['p99_ms']:>10.4f}{row['mean_ms']:>10.4f}")
    print("p50 ratios:", report.get("ratios_p50"))
    if report.get("throughput_4_threads_per_s"):
        print("decisions/s from 4 threads:", report["throughput_4_threads_per_s"])
    sc = report.get("scaling")
    if sc:
        for axis in ("consents", "purposes"):
            for x, row in sc.get(axis, {}).items():
                print(f"  {axis:>9} {x:>4}: wasm {row['wasm']['p50_ms'] * 1000:8.1f} µs   regopy {row['embedded']['p50_ms'] * 1000:8.1f} µs")
        print("  growth:", sc.get("growth"))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/policy.json"))
    parser.add_argument("--plot", type=Path, default=DOCS_PLOT)
    args = parser.parse_args(argv)
    from tests.parity.corpus import corpus

    samples = 400 if args.quick else args.samples
    inputs = [i for i in corpus() if isinstance(i.get("consents"), list) and "subject" in i]
    bundle = build_bundle()
    report = bench_engines(bundle, inputs, samples)
    report["throughput_4_threads_per_s"] = bench_throughput(bundle, inputs, 2 * samples)
    if not args.no_scaling:
        report["scaling"] = scaling_with_growth(bench_scaling(200 if args.quick else 1000))
        svg_plot(report["scaling"], args.plot)
    print_report(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    return report


def scaling_with_growth(sc: dict[str, Any]) -> dict[str, Any]:
    sc["growth"] = {}
    for axis in ("consents", "purposes"):
        series = sc.get(axis, {})
        xs = sorted(float(x) for x in series)
        for engine in ("wasm", "embedded"):
            ys = [series[str(int(x))][engine]["p50_ms"] for x in xs]
            sc["growth"][f"{engine} vs {axis}"] = growth(xs, ys)
    return sc


if __name__ == "__main__":
    main()
