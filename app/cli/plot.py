"""Small SVG histograms, written by hand (no plotting library is installed or needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import numpy as np

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
WIDTH, PANEL_HEIGHT, MARGIN = 640, 170, 40


@dataclass(frozen=True)
class Panel:
    """One histogram: ``series`` are ``(label, values)`` drawn over each other (as densities),
    ``lines`` are ``(label, x)`` vertical markers such as a threshold."""

    title: str
    series: Sequence[tuple[str, np.ndarray]]
    lines: Sequence[tuple[str, float]] = field(default_factory=tuple)
    bins: int = 40


def _panel(panel: Panel, top: float) -> list[str]:
    values = [np.asarray(v, dtype=float)[np.isfinite(v)] for _, v in panel.series]
    pooled = np.concatenate([*values, np.array([x for _, x in panel.lines], dtype=float)])
    out = [f'<text x="{MARGIN}" y="{top + 14}" font-size="13" font-weight="bold">{escape(panel.title)}</text>']
    if not len(pooled):
        return [*out, f'<text x="{MARGIN}" y="{top + 60}" font-size="12">no data</text>']
    lo, hi = float(pooled.min()), float(pooled.max())
    hi = hi if hi > lo else lo + 1.0
    edges = np.linspace(lo, hi, panel.bins + 1)
    plot_w, plot_h, base = WIDTH - 2 * MARGIN, PANEL_HEIGHT - 60, top + PANEL_HEIGHT - 30

    def x_of(value: float) -> float:
        return MARGIN + (value - lo) / (hi - lo) * plot_w

    densities = [np.histogram(v, edges)[0] / max(len(v), 1) for v in values]
    peak = max((float(d.max()) for d in densities if len(d)), default=1.0) or 1.0
    for k, ((label, _), density) in enumerate(zip(panel.series, densities, strict=True)):
        colour = COLOURS[k % len(COLOURS)]
        for i, d in enumerate(density):
            if d > 0:
                h = d / peak * plot_h
                out.append(f'<rect x="{x_of(edges[i]):.1f}" y="{base - h:.1f}" width="{plot_w / panel.bins:.1f}" '
                           f'height="{h:.1f}" fill="{colour}" fill-opacity="0.45"/>')
        count = len(values[k])
        out.append(f'<text x="{WIDTH - MARGIN}" y="{top + 14 + 14 * k}" font-size="11" text-anchor="end" '
                   f'fill="{colour}">{escape(label)} (n={count})</text>')
    for label, x in panel.lines:
        out.append(f'<line x1="{x_of(x):.1f}" x2="{x_of(x):.1f}" y1="{base - plot_h}" y2="{base}" stroke="black" '
                   f'stroke-dasharray="4 3"/><text x="{x_of(x) + 3:.1f}" y="{base - plot_h + 10}" '
                   f'font-size="10">{escape(label)} {x:g}</text>')
    out.append(f'<line x1="{MARGIN}" x2="{WIDTH - MARGIN}" y1="{base}" y2="{base}" stroke="#555"/>')
    for value in np.linspace(lo, hi, 5):
        out.append(f'<text x="{x_of(value):.1f}" y="{base + 14}" font-size="10" text-anchor="middle">{value:.2f}</text>')
    return out


def histograms_svg(title: str, panels: Sequence[Panel]) -> str:
    """A standalone SVG document with one histogram panel per row."""
    height = 30 + PANEL_HEIGHT * len(panels)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{MARGIN}" y="20" font-size="15">{escape(title)}</text>']
    for i, panel in enumerate(panels):
        parts += _panel(panel, 30 + i * PANEL_HEIGHT)
    return "\n".join([*parts, "</svg>"]) + "\n"
