"""The tables of one benchmark run, for the console and for the docs.

:func:`tables` turns a run's results (the JSON ``benchmarks.run`` writes) into titled tables;
the console prints them with rich, :func:`write_docs` writes them as Markdown into the
generated part of docs/benchmarks.md and the README's benchmark table, between marker
comments, so no figure in those two places is copied by hand:

    python -m benchmarks.run --write-docs              # a run, then the docs from it
    python -m benchmarks.report benchmarks/results/run-full.json   # the docs from a saved run
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "benchmarks.md"
README = REPO / "README.md"
DOCS_BEGIN, DOCS_END = "<!-- bench:generated:begin -->", "<!-- bench:generated:end -->"
README_BEGIN, README_END = "<!-- bench:readme:begin -->", "<!-- bench:readme:end -->"

Table = tuple[str, list[str], list[list[str]]]

ENGINES = (("wasm, OPA-compiled (in process, default)", "wasm"),
           ("embedded regopy (in process)", "embedded"),
           ("OPA server over HTTP (gateway's client)", "opa_http"),
           ("OPA server, bare keep-alive httpx", "opa_http_keepalive_httpx"),
           ("OPA server, its own eval timer", "opa_server_eval_only"))


def _f(x: Any, spec: str = ".1f") -> str:
    return "—" if x is None else format(x, spec)


def _dossier_runs(res: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for name, d in (res.get("dossier") or {}).items():
        if isinstance(d, Mapping) and "levels" in d:
            yield name, d


def tables(res: Mapping[str, Any]) -> list[Table]:
    out: list[Table] = []
    pol = res.get("policy") or {}
    if pol.get("wasm"):
        rows = [[name, _f(d["p50_ms"], ".3f"), _f(d["p99_ms"], ".3f"), _f(d["mean_ms"], ".3f"), str(d["n"])]
                for name, key in ENGINES if (d := pol.get(key))]
        same = pol.get("same_decisions_all", pol.get("same_decisions_wasm_embedded"))
        out.append((f"Policy decision latency, same inputs, interleaved (same decisions from all engines: {same})",
                    ["engine", "p50 ms", "p99 ms", "mean ms", "n"], rows))
    sc = pol.get("scaling") or {}
    if sc.get("consents"):
        rows = [[axis, x, _f(row["wasm"]["p50_ms"] * 1000), _f(row["embedded"]["p50_ms"] * 1000)]
                for axis in ("consents", "purposes") for x, row in sc.get(axis, {}).items()]
        out.append(("Decision p50 against consents per citizen and purposes in the bundle",
                    ["axis", "n", "wasm µs", "regopy µs"], rows))
    runs = list(_dossier_runs(res))
    if runs:
        rows = []
        for name, d in runs:
            for c, s in d["levels"].items():
                rows.append([name, c, _f(s["throughput_rps"]), _f(s["p50_ms"]), _f(s["p99_ms"]), str(s["ok"]),
                             str(s["requests"] - s["ok"]), str(s["audit_records"]), _f(s["peak_rss_mb"], ".0f")])
        out.append(("Dossier end to end (`loket serve` subprocess + sandbox agencies + load driver)",
                    ["database", "clients", "req/s", "p50 ms", "p99 ms", "ok", "non-2xx", "audit ids", "peak RSS MB"],
                    rows))
        rows = []
        for name, d in runs:
            for c, s in d["levels"].items():
                cpu = s.get("cpu_ms_per_request")
                if cpu:
                    total = sum(cpu.values())
                    rows.append([name, c, _f(cpu["gateway"], ".2f"), _f(cpu["agencies"], ".2f"),
                                 _f(cpu["driver"], ".2f"), _f(total, ".2f"), _f(2000 / total, ".0f") if total else "—"])
        out.append(("CPU per dossier request, ms (from /proc; the three share the 2 cores)",
                    ["database", "clients", "gateway", "sandbox agencies", "load driver", "sum",
                     "ceiling req/s (2,000 ms/s ÷ sum)"], rows))
    dossier = res.get("dossier") or {}
    st = dossier.get("cpu_stages")
    if isinstance(st, Mapping) and st.get("stages_ms"):
        rows = [[k, _f(v, ".3f")] for k, v in st["stages_ms"].items()]
        rows.append(["outside the stages: FastAPI, middleware, dependencies, response, hops", _f(st["outside_stages_ms"], ".3f")])
        rows.append(["all, unwrapped (in process, one request at a time)", _f(st["cpu_ms_per_request"], ".3f")])
        rows.append(["for comparison: GET /health through the same app", _f(st["health_request_ms"], ".3f")])
        rows.append([f"for comparison: one thread hop ({st['thread_hops_per_dossier']} per dossier)",
                     _f(st["thread_hop_ms"], ".3f")])
        out.append(("Gateway CPU per dossier request by stage, ms (benchmarks/cpu_stages.py; a thread's "
                    "stage is inside the one that awaits it)", ["stage", "CPU ms"], rows))
    ag = dossier.get("agencies")
    if isinstance(ag, Mapping) and ag.get("points"):
        rows = [[k, _f(v.get("agencies_asked"), "d") if v.get("agencies_asked") is not None else "—",
                 ", ".join(v["agencies_requested"]), _f(v["p50_ms"], ".2f"), _f(v["p99_ms"], ".2f"), str(v["ok"])]
                for k, v in ag["points"].items()]
        out.append((f"Dossier latency against agencies asked ({ag['purpose']}, Eva, 1 client; asked = child "
                    "records in the audit log)", ["k", "asked", "agencies", "p50 ms", "p99 ms", "ok"], rows))
    ov = dossier.get("overhead")
    if ov:
        rows = [[c, o["slowest_agency"], _f(o["direct_p50_ms"], ".2f"), _f(o["dossier_p50_ms"], ".2f"),
                 f"{o['latency_ratio_p50']:.2f}×", _f(o["direct_rps"], ".0f"), _f(o["dossier_rps"], ".0f")]
                for c, o in ov.items()]
        out.append(("Overhead: dossier (SQLite) against the slowest agency called directly, same fields",
                    ["clients", "slowest agency", "direct p50 ms", "dossier p50 ms", "p50 ratio", "direct req/s",
                     "dossier req/s"], rows))
    mem = dossier.get("memory")
    if isinstance(mem, Mapping) and "rss_after_total_mb" in mem:
        out.append(("Gateway memory (a fresh `loket serve`, 8 clients)", ["measure", "value"], [
            ["RSS idle", f"{mem['rss_idle_mb']:.1f} MB"],
            [f"RSS after {mem['first']:,} requests", f"{mem['rss_after_first_mb']:.1f} MB"],
            [f"RSS after {mem['served']:,} requests", f"{mem['rss_after_total_mb']:.1f} MB"],
            ["growth", f"{mem['growth_pct']:+.1f} %"],
            ["ok responses", f"{mem['ok']:,} of {mem['served']:,}"]]))
    aud = res.get("audit")
    if aud:
        a = aud["appends"]
        rows = [["append, one caller", f"{a['append_single_per_s']:,.0f} /s"],
                ["append, 8 threads (group commit)", f"{a['append_8_threads_group_commit_per_s']:,.0f} /s"],
                ["append_many, 256 per commit", f"{a['append_many_256_per_s']:,.0f} /s"]]
        for v in aud.get("verify_by_size", [aud["verify"]]):
            rows.append([f"verify an export of {v['verify_records']:,} records",
                         f"{v['verify_s'] * 1000:,.0f} ms ({v['verify_records_per_s']:,.0f} rec/s)"])
        for p in aud["proofs"]:
            rows.append([f"inclusion proof at {p['records']:,}: SQLite / memory / verify",
                         f"{p['inclusion_gen_sqlite_us']:.0f} / {p['inclusion_gen_memory_us']:.0f} / "
                         f"{p['inclusion_verify_us']:.0f} µs"])
            rows.append([f"consistency proof at {p['records']:,}: SQLite / verify",
                         f"{p['consistency_gen_sqlite_us']:.0f} / {p['consistency_verify_us']:.0f} µs"])
        out.append(("Audit log (benchmarks/audit_bench.py, SQLite WAL, synchronous=FULL)", ["measure", "value"], rows))
    return out


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def esc(c: str) -> str:
        return str(c).replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return lines


def _met(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**no**")


def _machine_line(res: Mapping[str, Any]) -> str:
    m = res["machine"]
    return (f"{m['cpus']} cores ({m['cpu_model']}), {m['memory_gb']} GB, Python {m['python']}; run "
            f"{res.get('started_at', '?')} at commit {res.get('commit', '?')}, "
            f"{'`--quick`' if res.get('quick') else 'full'}, {res.get('elapsed_s', '?')} s, load average at "
            f"start {m['loadavg_at_start'][0]}")


def docs_markdown(res: Mapping[str, Any], json_name: str) -> str:
    lines = [DOCS_BEGIN,
             "<!-- Written by `python -m benchmarks.run --write-docs` (benchmarks/report.py); do not edit by hand. -->",
             "", f"## Results of one run — {_machine_line(res)}", "",
             f"Everything below comes from that one run (raw figures: `benchmarks/results/{json_name}`). "
             "The gateway, the sandbox agencies, OPA and the load driver share the cores: read ratios "
             "within the run.", ""]
    lines += ["### Targets (issues 11 and 17)", ""]
    lines += _md_table(["target", "goal", "measured", "met", "why not (measured in this run)"],
                       [[t["name"], t["goal"], t["measured"], _met(t["met"]), t["reason"]]
                        for t in res.get("target_rows", [])])
    lines.append("")
    for title, header, rows in tables(res):
        lines += [f"### {title}", ""] + _md_table(header, rows) + [""]
    series = (res.get("scaling") or {}).get("series") or {}
    if series:
        from benchmarks.plots import growth_text

        lines += ["### Scaling", "",
                  "Growth is computed from the figures: a least-squares fit of log y on log x "
                  "(benchmarks/plots.py names it: falling, constant, log n, sub-linear, linear above a fixed cost, "
                  "linear, super-linear; the rules are in its docstring).", ""]
        for plot in (res.get("scaling") or {}).get("plots", []):
            lines += [f"![{plot[:-4].replace('_', ' ')}](benchmarks/{plot})", ""]
        lines += _md_table(["series", "points (x: y)", "growth"],
                           [[name, ", ".join(f"{x:g}: {y:.3g}" for x, y in s["points"]), growth_text(s)]
                            for name, s in series.items()])
        lines.append("")
    lines.append(DOCS_END)
    return "\n".join(lines)


def readme_markdown(res: Mapping[str, Any]) -> str:
    rows = [[t["name"], t["measured"], t["goal"], _met(t["met"])] for t in res.get("target_rows", [])]
    dossier = res.get("dossier") or {}
    sq = dossier.get("sqlite")
    extra: list[list[str]] = []
    if isinstance(sq, Mapping):
        for c in ("1", "32", "64"):
            s = sq["levels"].get(c)
            if s:
                extra.append([f"dossier SQLite, {c} client{'s' if c != '1' else ''}: req/s, p50, p99",
                              f"{s['throughput_rps']:.0f}, {s['p50_ms']:.1f} ms, {s['p99_ms']:.1f} ms", "", ""])
    for name in ("sqlite, 2 workers", "postgresql"):
        d = dossier.get(name)
        if isinstance(d, Mapping) and "8" in d.get("levels", {}):
            s = d["levels"]["8"]
            extra.append([f"dossier {name}, 8 clients: req/s, p99", f"{s['throughput_rps']:.0f}, {s['p99_ms']:.1f} ms", "", ""])
    lines = [README_BEGIN,
             "<!-- Written by `python -m benchmarks.run --write-docs`; do not edit by hand. -->",
             f"One run: {_machine_line(res)}.", ""]
    lines += _md_table(["measure", "result", "target", "met"], rows + extra)
    lines.append(README_END)
    return "\n".join(lines)


def _replace_between(text: str, begin: str, end: str, block: str, *, fallback_anchor: str | None) -> str:
    if begin in text and end in text:
        a, b = text.index(begin), text.index(end) + len(end)
        return text[:a] + block + text[b:]
    if fallback_anchor is not None and fallback_anchor in text:
        i = text.index(fallback_anchor) + len(fallback_anchor)
        return text[:i] + "\n\n" + block + "\n" + text[i:]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def write_docs(res: Mapping[str, Any], *, json_path: Path, docs: Path = DOCS, readme: Path = README) -> list[Path]:
    """Rewrite the generated block of ``docs`` and of ``readme`` from this run's results."""
    written = []
    text = docs.read_text("utf-8")
    docs.write_text(_replace_between(text, DOCS_BEGIN, DOCS_END, docs_markdown(res, json_path.name),
                                     fallback_anchor=None), "utf-8")
    written.append(docs)
    text = readme.read_text("utf-8")
    readme.write_text(_replace_between(text, README_BEGIN, README_END, readme_markdown(res),
                                       fallback_anchor="## Benchmarks"), "utf-8")
    written.append(readme)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks.report RESULTS.json", file=sys.stderr)
        return 2
    path = Path(args[0])
    for p in write_docs(json.loads(path.read_text("utf-8")), json_path=path):
        print(f"rewrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
