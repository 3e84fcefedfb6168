"""Small charts as inline SVG: no script, no external file, readable without colour (every bar
carries its number as text, and the table beside it holds the same figures)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from gateway.oversight.pattern_scan import MinimisationRow

BAR_W, LABEL_W, ROW_H = 320, 260, 26


def minimisation_chart(rows: Sequence[MinimisationRow], label: Callable[[str], str]) -> Markup:
    """Horizontal bars: per purpose the share of held fields that was disclosed."""
    if not rows:
        return Markup("")
    height = ROW_H * len(rows) + 8
    width = LABEL_W + BAR_W + 60
    parts = [f'<svg class="loket-chart" role="img" aria-labelledby="grafiek-titel" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             'xmlns="http://www.w3.org/2000/svg">',
             '<title id="grafiek-titel">Deel van de gegevens die de organisaties hebben dat werd gedeeld, '
             'per doel</title>']
    for i, r in enumerate(rows):
        y = 4 + i * ROW_H
        w = max(1, round(BAR_W * min(r.ratio, 1.0)))
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + 17}" text-anchor="end" class="loket-chart__label">'
                     f'{escape(label(r.key))}</text>')
        parts.append(f'<rect x="{LABEL_W}" y="{y + 4}" width="{BAR_W}" height="{ROW_H - 10}" '
                     'class="loket-chart__track"/>')
        parts.append(f'<rect x="{LABEL_W}" y="{y + 4}" width="{w}" height="{ROW_H - 10}" class="loket-chart__bar"/>')
        parts.append(f'<text x="{LABEL_W + BAR_W + 6}" y="{y + 17}" class="loket-chart__value">{r.percent}%</text>')
    parts.append("</svg>")
    # Every text in it went through escape() above; the rest is numbers we computed.
    return Markup("".join(parts))  # noqa: S704
