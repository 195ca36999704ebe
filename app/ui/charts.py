"""Charts of one video, drawn without any plotting library (works offline):

- the 2-D semantic map as a DataFrame for ``gr.ScatterPlot`` (rendered by Gradio's bundled Vega);
- the timeline of scenes and shots as an inline SVG, coloured with the same palette by class.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from app.ui.i18n import t
from pipeline.core import format_timecode
from pipeline.records import Segmentation
from pipeline.search import FrameMap

#: Colour-blind-friendly categorical palette (Okabe-Ito, then Tableau), cycled by class id.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
           "#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#9C755F", "#EDC948", "#76B7B2", "#FF9DA7")

WIDTH, LABEL_W, ROW_H, GAP = 1000, 90, 28, 8


def class_color(class_id: int) -> str:
    return PALETTE[int(class_id) % len(PALETTE)]


def class_label(class_id: int, lang: str) -> str:
    return f"{t(lang, 'class')} {int(class_id)}"


def map_frame(fmap: FrameMap, lang: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """The map's points (x, y, class label, timecode) and the class -> colour map."""
    col_class, col_time = t(lang, "class"), t(lang, "time")
    frame = pd.DataFrame({
        "x": fmap.xy[:, 0].astype(float),
        "y": fmap.xy[:, 1].astype(float),
        col_class: [class_label(c, lang) for c in fmap.classes],
        col_time: [format_timecode(float(s)) for s in fmap.timestamps],
    })
    colors = {class_label(c, lang): class_color(c) for c in sorted(set(np.asarray(fmap.classes).tolist()))}
    return frame, colors


def _tick_step(duration: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if duration / step <= 8:
            return float(step)
    return 7200.0


def _rects(items, y: int, scale: float, lang: str, kind: str) -> list[str]:
    out = []
    for item in items:
        x = LABEL_W + item.start_s * scale
        w = max(1.0, (item.end_s - item.start_s) * scale)
        tip = (f"{t(lang, kind)} {item.index} · {class_label(item.class_id, lang)} · "
               f"{format_timecode(item.start_s)} – {format_timecode(item.end_s)}")
        out.append(f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{ROW_H}" fill="{class_color(item.class_id)}" '
                   f'stroke="#fff" stroke-width="1"><title>{html.escape(tip)}</title></rect>')
    return out


def timeline_svg(seg: Segmentation, duration_s: float, lang: str) -> str:
    """Two rows (scenes, shots) of class-coloured bars over a time axis, with hover tooltips."""
    end = max([duration_s, *(s.end_s for s in seg.shots)], default=duration_s) or 1.0
    scale = (WIDTH - LABEL_W - 10) / end
    y_scenes, y_shots = 10, 10 + ROW_H + GAP
    axis_y = y_shots + ROW_H + 6
    parts = [
        f'<text x="0" y="{y_scenes + 19}" class="be-tl-label">{html.escape(t(lang, "timeline_scenes"))}</text>',
        f'<text x="0" y="{y_shots + 19}" class="be-tl-label">{html.escape(t(lang, "timeline_shots"))}</text>',
        *_rects(seg.scenes, y_scenes, scale, lang, "scene"),
        *_rects(seg.shots, y_shots, scale, lang, "shot"),
        f'<line x1="{LABEL_W}" y1="{axis_y}" x2="{LABEL_W + end * scale:.2f}" y2="{axis_y}" stroke="currentColor"/>',
    ]
    step = _tick_step(end)
    for tick in np.arange(0.0, end + 1e-9, step):
        x = LABEL_W + tick * scale
        label = format_timecode(float(tick))[:8] if end >= 3600 else format_timecode(float(tick))[3:8]
        parts.append(f'<line x1="{x:.2f}" y1="{axis_y}" x2="{x:.2f}" y2="{axis_y + 5}" stroke="currentColor"/>'
                     f'<text x="{x:.2f}" y="{axis_y + 18}" text-anchor="middle" class="be-tl-tick">{label}</text>')
    height = axis_y + 24
    title = t(lang, "timeline_title", scenes=len(seg.scenes), shots=len(seg.shots))
    return (f'<div class="be-timeline"><div class="be-tl-title">{html.escape(title)}</div>'
            f'<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{html.escape(title)}">'
            + "".join(parts) + "</svg></div>")
