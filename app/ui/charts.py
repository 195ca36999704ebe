"""Charts of one video, drawn as plain HTML and SVG (no plotting library, works offline):

- the 2-D semantic map: one dot per sampled frame, coloured by semantic class;
- its legend: each class with its colour, its number of shots and a keyframe;
- the timeline of scenes and shots, coloured with the same palette by class.

Everything that stands for a moment carries ``data-t`` (seconds): a click plays the video
there (see EXPLORE_JS in app.ui.tabs.explore). Tooltips give timecodes; people see classes,
scenes and shots numbered from 1. The timeline is HTML with text at a fixed size, so it stays
legible on a phone, and its first and last ticks are aligned inwards, so none is clipped.
"""

from __future__ import annotations

import html
from collections import Counter

import numpy as np

from app.ui.formatting import file_url
from app.ui.i18n import t, tn
from pipeline.core import format_timecode
from pipeline.records import Segmentation
from pipeline.search import FrameMap

#: Colour-blind-friendly categorical palette (Okabe-Ito, then Tableau), cycled by class id.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
           "#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#9C755F", "#EDC948", "#76B7B2", "#FF9DA7")
#: The map's drawing box (SVG units) and the most dots it draws (an even subsample above).
MAP_W, MAP_H, MAP_PAD, MAP_MAX_DOTS = 640, 420, 14, 2000


def class_color(class_id: int) -> str:
    return PALETTE[int(class_id) % len(PALETTE)]


def class_label(class_id: int, lang: str) -> str:
    return f"{t(lang, 'class')} {int(class_id) + 1}"


def _tc(seconds: float) -> str:
    """``MM:SS.mmm`` under an hour, ``HH:MM:SS.mmm`` above: short tooltips."""
    tc = format_timecode(max(0.0, float(seconds)))
    return tc[3:] if tc.startswith("00:") else tc


def map_svg(fmap: FrameMap, lang: str) -> str:
    """The map as SVG: dots grouped by class, each with its class and timecode as a tooltip."""
    xy = np.asarray(fmap.xy, dtype=float)
    keep = np.arange(len(xy)) if len(xy) <= MAP_MAX_DOTS else np.linspace(0, len(xy) - 1, MAP_MAX_DOTS).astype(int)
    lo, hi = (xy.min(axis=0), xy.max(axis=0)) if len(xy) else (np.zeros(2), np.ones(2))
    span = np.where(hi - lo > 1e-9, hi - lo, 1.0)
    px = MAP_PAD + (xy[:, 0] - lo[0]) / span[0] * (MAP_W - 2 * MAP_PAD)
    py = MAP_H - MAP_PAD - (xy[:, 1] - lo[1]) / span[1] * (MAP_H - 2 * MAP_PAD)
    groups: dict[int, list[str]] = {}
    for i in keep:
        c = int(fmap.classes[i])
        tip = f"{class_label(c, lang)} · {_tc(fmap.timestamps[i])}"
        groups.setdefault(c, []).append(
            f'<circle cx="{px[i]:.1f}" cy="{py[i]:.1f}" r="4.5" data-t="{float(fmap.timestamps[i]):.3f}">'
            f"<title>{html.escape(tip)}</title></circle>")
    body = "".join(f'<g fill="{class_color(c)}" data-class="{c}">{"".join(dots)}</g>' for c, dots in sorted(groups.items()))
    title = t(lang, "map_title", method=fmap.method.upper(), n=len(fmap.xy))
    return (f'<figure class="be-map"><figcaption>{html.escape(title)}</figcaption>'
            f'<svg viewBox="0 0 {MAP_W} {MAP_H}" role="img" aria-label="{html.escape(title)}">'
            f'<rect x="0.5" y="0.5" width="{MAP_W - 1}" height="{MAP_H - 1}" class="be-map-frame"/>{body}</svg>'
            f'<p class="be-map-help">{html.escape(t(lang, "map_help"))}</p></figure>')


def legend_html(seg: Segmentation, thumbs: dict[int, str], lang: str) -> str:
    """Each class: colour, name, number of shots, and the keyframe of its first shot (click: play it)."""
    shots_per_class = Counter(s.class_id for s in seg.shots)
    first_shot = {}
    for shot in seg.shots:
        first_shot.setdefault(shot.class_id, shot)
    items = []
    for c in sorted(set(np.asarray(seg.frame_classes).tolist()) | set(shots_per_class)):
        shot = first_shot.get(c)
        thumb = thumbs.get(shot.index) if shot is not None else None
        img = (f'<img src="{html.escape(file_url(thumb))}" alt="" loading="lazy">' if thumb
               else '<span class="be-legend-noimg"></span>')
        at = f' data-t="{shot.start_s:.3f}" title="{html.escape(_tc(shot.start_s))}"' if shot is not None else ""
        items.append(f'<li class="be-legend-item"{at}><span class="be-swatch" style="background:{class_color(c)}">'
                     f'</span>{img}<span>{html.escape(class_label(c, lang))}<br><small>'
                     f'{html.escape(tn(lang, "n_shots", shots_per_class.get(c, 0)))}</small></span></li>')
    return (f'<div class="be-legend"><div class="be-legend-title">{html.escape(t(lang, "legend_title"))}</div>'
            f'<ul>{"".join(items)}</ul></div>')


def _tick_step(duration: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if duration / step <= 8:
            return float(step)
    return 7200.0


def _bars(items, end: float, lang: str, kind: str) -> str:
    out = []
    for item in items:
        left = 100 * item.start_s / end
        width = max(0.25, 100 * (min(item.end_s, end) - item.start_s) / end)
        tip = (f"{t(lang, kind)} {item.index + 1} · {class_label(item.class_id, lang)} · "
               f"{_tc(item.start_s)} – {_tc(min(item.end_s, end))}")
        out.append(f'<div class="be-tl-bar" style="left:{left:.3f}%;width:{width:.3f}%;'
                   f'background:{class_color(item.class_id)}" data-t="{item.start_s:.3f}" '
                   f'title="{html.escape(tip)}"></div>')
    return "".join(out)


def timeline_html(seg: Segmentation, duration_s: float, lang: str) -> str:
    """Two rows (scenes, shots) of class-coloured bars over a time axis, with timecode tooltips."""
    end = duration_s if duration_s and duration_s > 0 else max((s.end_s for s in seg.shots), default=1.0) or 1.0
    step = _tick_step(end)
    ticks = np.arange(0.0, end + 1e-9, step)
    marks = []
    for i, tick in enumerate(ticks):
        label = format_timecode(float(tick))[:8] if end >= 3600 else format_timecode(float(tick))[3:8]
        edge = " be-tl-first" if i == 0 else (" be-tl-last" if 100 * tick / end > 92 else "")
        minor = " be-tl-minor" if i % 2 else ""
        marks.append(f'<span class="be-tl-tick{edge}{minor}" style="left:{100 * tick / end:.3f}%">{label}</span>')
    title = t(lang, "timeline_title", scenes=tn(lang, "n_scenes", len(seg.scenes)),
              shots=tn(lang, "n_shots", len(seg.shots)))
    return (f'<div class="be-timeline" role="group" aria-label="{html.escape(title)}">'
            f'<div class="be-tl-title">{html.escape(title)}</div><div class="be-tl-grid">'
            f'<div class="be-tl-label">{html.escape(t(lang, "timeline_scenes"))}</div>'
            f'<div class="be-tl-track">{_bars(seg.scenes, end, lang, "scene")}</div>'
            f'<div class="be-tl-label">{html.escape(t(lang, "timeline_shots"))}</div>'
            f'<div class="be-tl-track">{_bars(seg.shots, end, lang, "shot")}</div>'
            f'<div></div><div class="be-tl-axis">{"".join(marks)}</div></div>'
            f'<p class="be-map-help">{html.escape(t(lang, "timeline_help"))}</p></div>')
