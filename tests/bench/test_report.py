"""The benchmark's report: growth computed from figures, plots, targets and the generated docs.

No timing here (speed lives in benchmarks/): these check that the words and tables the
benchmark writes follow from the numbers it is given.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from benchmarks import report
from benchmarks.dossier_scaling import agencies_asked, basis_categories
from benchmarks.plots import Panel, growth, loglog_slope, svg_panels
from benchmarks.run import Target, targets


@pytest.mark.parametrize(("ys", "word"), [
    ([70.0, 71.0, 69.0], "constant"),
    ([13.0, 16.3, 20.0], "log n"),  # log2 n at 10^4, 10^5, 10^6
    ([1.0, 10.0, 100.0], "linear"),
    ([1.0, 100.0, 10_000.0], "super-linear"),
    ([66.0, 120.0, 820.0], "linear above a fixed cost"),  # fixed part, then about linear
    ([1.0, 3.0, 10.0], "sub-linear"),
])
def test_growth_is_named_from_the_fitted_slope(ys: list[float], word: str) -> None:
    g = growth([1e4, 1e5, 1e6] if word != "linear above a fixed cost" else [1, 10, 100], ys)
    assert g["growth"] == word


def test_the_slope_is_the_log_log_least_squares_fit() -> None:
    xs = [1.0, 10.0, 100.0, 1000.0]
    assert loglog_slope(xs, [3 * x**0.5 for x in xs]) == pytest.approx(0.5)
    assert growth([1.0], [1.0])["growth"] == "n/a"


def test_svg_plot_has_a_line_per_series_and_survives_an_empty_panel(tmp_path: Path) -> None:
    path = tmp_path / "p.svg"
    svg_panels([Panel("a <b>", "x", "ms", {"p50": [(1, 2.0), (8, 5.0)], "p99": [(1, 4.0), (8, 9.0)]}),
                Panel("empty", "x", "y", {})], path)
    text = path.read_text()
    assert text.startswith("<svg") and text.rstrip().endswith("</svg>")
    assert text.count("<polyline") == 2 and "not measured" in text and "a &lt;b&gt;" in text


def test_agencies_asked_come_from_consecutive_audit_indexes() -> None:
    bodies: list[Any] = [{"audit": {"index": i}} for i in (10, 13, 16, 19)]
    assert agencies_asked(bodies) == 2
    assert agencies_asked([{"audit": {"index": 1}}, {"audit": {"index": 3}}, {"audit": {"index": 9}}]) is None


def test_the_scaling_purpose_has_at_least_eight_agencies_on_a_legal_basis() -> None:
    assert len(basis_categories()) >= 8


def _result(**over: Any) -> dict[str, Any]:
    level8 = {"throughput_rps": 210.0, "p50_ms": 36.0, "p99_ms": 70.0, "ok": 100, "requests": 100,
              "audit_records": 100, "peak_rss_mb": 160.0,
              "cpu_ms_per_request": {"gateway": 4.5, "agencies": 1.1, "driver": 0.4}}
    res: dict[str, Any] = {
        "machine": {"cpus": 2, "cpu_model": "x", "memory_gb": 1.0, "python": "3.11", "loadavg_at_start": [0.5]},
        "quick": False,
        "policy": {"wasm": {"p50_ms": 0.07, "p99_ms": 0.3, "mean_ms": 0.1, "n": 10},
                   "ratios_p50": {"opa_http_over_wasm": 30.0, "opa_eval_timer_over_wasm": 2.0}},
        "dossier": {
            "sqlite": {"levels": {"8": level8}},
            "overhead": {"8": {"slowest_agency": "brp", "direct_p50_ms": 2.0, "direct_rps": 3000.0,
                               "dossier_p50_ms": 36.0, "dossier_rps": 210.0, "latency_ratio_p50": 18.0}},
            "memory": {"first": 1000, "total": 10_000, "served": 10_000, "ok": 10_000, "rss_idle_mb": 140.0,
                       "rss_after_first_mb": 150.0, "rss_after_total_mb": 153.0, "growth_pct": 2.0},
            "cpu_stages": {"stages_ms": {"_append": 2.0, "fetch_all": 1.2}, "outside_stages_ms": 2.0,
                           "cpu_ms_per_request": 6.0, "health_request_ms": 0.3, "thread_hop_ms": 0.12,
                           "thread_hops_per_dossier": 3},
        },
    }
    res.update(over)
    return res


def _by_name(rows: list[Target]) -> dict[str, Target]:
    return {t.name: t for t in rows}


def test_every_target_is_judged_from_its_figure_with_a_measured_reason_when_missed() -> None:
    rows = _by_name(targets(_result()))
    assert rows["decision p50, default engine (wasm)"].met is True
    assert rows["wasm vs OPA over HTTP (p50)"].met is True
    assert rows["wasm vs OPA's own eval timer (p50)"].met is False
    cpu = rows["gateway CPU per dossier request (SQLite, 8 clients)"]
    assert cpu.met is False and "_append 2.00" in cpu.reason
    rps = rows["dossier SQLite, 8 clients"]
    assert rps.met is False and f"ceiling {2000 / 6.0:.0f} req/s" in rps.reason
    p99 = rows["dossier SQLite, 8 clients p99"]
    assert p99.met is False and f"{8 / 210 * 1000:.1f} ms mean" in p99.reason
    assert rows["overhead vs slowest direct agency call (8 clients, p50)"].met is False
    assert rows["gateway RSS after 10,000 vs after 1,000 requests"].met is True


def test_memory_is_not_judged_in_a_quick_run() -> None:
    rows = _by_name(targets(_result(quick=True)))
    assert rows["gateway RSS after 10,000 vs after 1,000 requests"].met is None


def test_write_docs_replaces_only_the_generated_blocks(tmp_path: Path) -> None:
    docs, readme = tmp_path / "b.md", tmp_path / "README.md"
    docs.write_text(f"# B\nhand text\n{report.DOCS_BEGIN}\nold figure 1.23\n{report.DOCS_END}\nafter\n")
    readme.write_text("# R\n## Benchmarks\nintro\n## Configuration\n")
    res = _result()
    res["target_rows"] = [vars(t) for t in targets(res)]
    res["scaling"] = {"series": {"s": {"points": [(1.0, 2.0), (10.0, 20.0)], **growth([1, 10], [2, 20])}},
                      "plots": ["dossier_scaling.svg"]}
    report.write_docs(res, json_path=tmp_path / "run-full.json", docs=docs, readme=readme)
    d = docs.read_text()
    assert "hand text" in d and d.rstrip().endswith("after") and "old figure 1.23" not in d
    assert "| gateway CPU per dossier request (SQLite, 8 clients) | ≤ 2 ms | 4.50 ms | **no** |" in d
    assert "![dossier scaling](benchmarks/dossier_scaling.svg)" in d and "linear" in d
    r = readme.read_text()
    assert r.index("## Benchmarks") < r.index(report.README_BEGIN) < r.index("## Configuration")
    # Writing twice changes nothing more (the block is replaced, not added again).
    report.write_docs(res, json_path=tmp_path / "run-full.json", docs=docs, readme=readme)
    assert readme.read_text().count(report.README_BEGIN) == 1 and docs.read_text() == d
    assert not math.isnan(res["dossier"]["sqlite"]["levels"]["8"]["p99_ms"])
