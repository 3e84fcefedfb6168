"""Growth from measured figures, and small hand-written SVG plots (no plotting dependency).

:func:`growth` fits the figures of one series and names the closest of constant, log n,
sub-linear, linear and super-linear, with the fitted slope on log-log axes: the word comes
from the numbers of the run, never from what the code is expected to do.
:func:`svg_panels` draws one or more panels with log-log axes, a line per series.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COLOURS = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#57606a")


def loglog_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of log y against log x (1 = linear, 0 = constant)."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx


def _r2_against_log(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Fit y = a + b·ln x; return (b relative to the mean of y, R²)."""
    lx = [math.log(x) for x in xs]
    mx, my = sum(lx) / len(lx), sum(ys) / len(ys)
    sxx = sum((v - mx) ** 2 for v in lx)
    if sxx == 0 or my == 0:
        return 0.0, 0.0
    b = sum((v - mx) * (y - my) for v, y in zip(lx, ys, strict=True)) / sxx
    a = my - b * mx
    ss_res = sum((y - (a + b * v)) ** 2 for v, y in zip(lx, ys, strict=True))
    ss_tot = sum((y - my) ** 2 for y in ys)
    return b / my, (1 - ss_res / ss_tot) if ss_tot else 0.0


def _r2_affine(xs: Sequence[float], ys: Sequence[float]) -> float:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    ss_tot = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or ss_tot == 0:
        return 0.0
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    a = my - b * mx
    return 1 - sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys, strict=True)) / ss_tot


def growth(xs: Sequence[float], ys: Sequence[float]) -> dict[str, Any]:
    """How ``ys`` grows with ``xs``, computed from the figures.

    The slope of the log-log fit decides between falling (≤ -0.1), constant (< 0.1 and less than 20 % change over
    the whole range), log n (a positive slope below 0.25 that a y = a + b·ln x line fits with
    R² ≥ 0.8), sub-linear (< 0.75; "linear above a fixed cost" when the last step has a slope ≥ 0.7
    and a straight line fits with R² ≥ 0.97), linear (0.75–1.25) and super-linear (> 1.25)."""
    pairs = sorted((float(x), float(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0)
    if len(pairs) < 2:
        return {"growth": "n/a", "slope": None}
    px, py = [p[0] for p in pairs], [p[1] for p in pairs]
    slope = loglog_slope(px, py)
    assert slope is not None
    change = py[-1] / py[0]
    if slope > 1.25:
        word = "super-linear"
    elif slope >= 0.75:
        word = "linear"
    elif slope >= 0.25:
        # A fixed cost flattens the log-log slope: a series whose last step grows about as fast
        # as x and that a straight y = a + b·x line fits is linear above that fixed part.
        last = loglog_slope(px[-2:], py[-2:]) or 0.0
        word = "linear above a fixed cost" if last >= 0.7 and _r2_affine(px, py) >= 0.97 else "sub-linear"
    else:
        rel_b, r2 = _r2_against_log(px, py)
        if slope >= 0.03 and rel_b > 0 and r2 >= 0.8 and change >= 1.2:
            word = "log n"
        elif slope <= -0.1 and change < 0.8:
            word = "falling"  # e.g. a cold cache at the smallest size
        elif abs(change - 1) < 0.2 or abs(slope) < 0.1:
            word = "constant"
        else:
            word = "sub-linear" if slope > 0 else "constant"
    return {"growth": word, "slope": round(slope, 3), "first_to_last": round(change, 2)}


def growth_text(g: Mapping[str, Any]) -> str:
    if g.get("slope") is None:
        return str(g.get("growth", "n/a"))
    return f"{g['growth']} (log-log slope {g['slope']:.2f}, ×{g['first_to_last']:.2f} over the range)"


@dataclass
class Panel:
    title: str
    x_label: str
    y_label: str
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def _ticks(lo: float, hi: float) -> list[float]:
    out = []
    for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**e
            if lo <= v <= hi:
                out.append(v)
    return out


def _fmt(v: float) -> str:
    if v >= 1000:
        exp = round(math.log10(v))
        return f"10^{exp}" if abs(v - 10**exp) < 1e-9 * v else f"{v:,.0f}"
    return f"{v:g}"


def svg_panels(panels: Sequence[Panel], path: Path, *, width: int = 380, height: int = 270) -> None:
    """Panels side by side, each with log-log axes and a polyline per series."""
    pad_l, pad_r, pad_t, pad_b = 56, 12, 28, 44
    total_w = len(panels) * (width + 16)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{height + 10}" '
             'font-family="sans-serif" font-size="11">', '<rect width="100%" height="100%" fill="white"/>']
    for i, panel in enumerate(panels):
        ox = i * (width + 16)
        pts = [p for s in panel.series.values() for p in s if p[0] > 0 and p[1] > 0]
        parts.append(f'<text x="{ox + width / 2}" y="16" text-anchor="middle" font-weight="bold">'
                     f'{_esc(panel.title)}</text>')
        x0, y0, x1, y1 = ox + pad_l, pad_t, ox + width - pad_r, height - pad_b
        parts.append(f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="none" stroke="#888"/>')
        parts.append(f'<text x="{(x0 + x1) / 2}" y="{height - 8}" text-anchor="middle">{_esc(panel.x_label)}</text>')
        parts.append(f'<text x="{ox + 12}" y="{(y0 + y1) / 2}" text-anchor="middle" '
                     f'transform="rotate(-90 {ox + 12} {(y0 + y1) / 2})">{_esc(panel.y_label)}</text>')
        if not pts:
            parts.append(f'<text x="{(x0 + x1) / 2}" y="{(y0 + y1) / 2}" text-anchor="middle">not measured</text>')
            continue
        xlo, xhi = min(p[0] for p in pts), max(p[0] for p in pts)
        ylo, yhi = min(p[1] for p in pts) / 1.5, max(p[1] for p in pts) * 1.5
        if xhi <= xlo:
            xhi = xlo * 10
        lx0, lx1, ly0, ly1 = math.log10(xlo), math.log10(xhi), math.log10(ylo), math.log10(yhi)

        def px(x: float, lx0: float = lx0, lx1: float = lx1, x0: float = x0, x1: float = x1) -> float:
            return x0 + 8 + (math.log10(x) - lx0) / (lx1 - lx0) * (x1 - x0 - 16)

        def py(y: float, ly0: float = ly0, ly1: float = ly1, y0: float = y0, y1: float = y1) -> float:
            return y1 - (math.log10(y) - ly0) / (ly1 - ly0) * (y1 - y0)

        xs = sorted({p[0] for p in pts})
        for x in xs:
            parts.append(f'<text x="{px(x):.1f}" y="{y1 + 14}" text-anchor="middle">{_fmt(x)}</text>')
        for t in _ticks(ylo, yhi):
            parts.append(f'<line x1="{x0}" y1="{py(t):.1f}" x2="{x1}" y2="{py(t):.1f}" stroke="#eee"/>'
                         f'<text x="{x0 - 4}" y="{py(t) + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
        for j, (name, series) in enumerate(panel.series.items()):
            colour = COLOURS[j % len(COLOURS)]
            good = sorted(p for p in series if p[0] > 0 and p[1] > 0)
            if good:
                parts.append('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
                    colour, " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in good)))
                parts.extend(f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="3" fill="{colour}"/>' for a, b in good)
            parts.append(f'<rect x="{x0 + 8}" y="{y0 + 8 + 14 * j}" width="10" height="3" fill="{colour}"/>'
                         f'<text x="{x0 + 22}" y="{y0 + 12 + 14 * j}">{_esc(name)}</text>')
    parts.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n", "utf-8")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
