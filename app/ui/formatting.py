"""Records to display: result cards (HTML), detail text (Markdown), the shot's in/out bar. No gradio here.

Every user-supplied string (file names) is escaped before it reaches HTML or Markdown. People
see shots, scenes and classes numbered from 1; the stored indices start at 0.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from pathlib import Path

from app.ui.i18n import decimal, t, tn
from pipeline.core import format_timecode
from pipeline.records import IndexedVideo, SearchHit, Shot

#: A record's mark: relevant or not relevant for the search being refined (or none).
MARKS = ("relevant", "not_relevant")
#: Keys of a card: the action each one runs (see CARDS_JS in app.ui.tabs.search).
CARD_KEYS = {"r": "relevant", "n": "not_relevant", "s": "similar", "a": "basket"}


def file_url(path: str | Path) -> str:
    """URL of a file served by Gradio's ``/file=`` route (relative, so a root_path works)."""
    return "gradio_api/file=" + urllib.parse.quote(str(path), safe="/")


def hit_record(hit: SearchHit, thumbnail_path: Path, db: str, video: IndexedVideo | None = None,
               fps: float | None = None) -> dict:
    """What the session keeps of a hit: its JSON (span clamped to the video's duration), the
    thumbnail's absolute path, its database, the video's duration and frame rate, its mark."""
    duration = video.duration_s if video is not None else None
    return {**hit.clamped(duration).to_json(), "thumbnail_path": str(thumbnail_path), "db": db,
            "duration_s": duration, "fps": fps, "mark": None}


def choice_label(record: dict) -> str:
    return f"{record['source']} · {record['start_tc']}"


def score_text(lang: str, score: float) -> str:
    return decimal(lang, score, 3)


def _action(lang: str, action: str, pressed: bool | None = None, extra: str = "") -> str:
    label = t(lang, f"card_{action}_on" if pressed else f"card_{action}")
    key = next((k.upper() for k, a in CARD_KEYS.items() if a == action), "")
    title = f"{t(lang, f'card_{action}_help')}" + (f" ({key})" if key else "")
    state = f' aria-pressed="{str(bool(pressed)).lower()}"' if pressed is not None else ""
    return (f'<button type="button" tabindex="-1" class="be-act be-act-{action}{extra}" data-action="{action}"'
            f'{state} title="{html.escape(title)}">{html.escape(label)}</button>')


def _card(record: dict, position: int, lang: str, in_basket: bool) -> str:
    esc = html.escape
    mark = record.get("mark")
    classes = "be-card" + (f" be-mark-{mark}" if mark in MARKS else "") + (" be-in-basket" if in_basket else "")
    title = t(lang, "resource", n=position)
    badge = (f' <span class="be-badge be-badge-{mark}">{esc(t(lang, f"mark_{mark}"))}</span>'
             if mark in MARKS else "")
    label = f"{title}, {record['source']}, {record['start_tc']} – {record['end_tc']}"
    if mark in MARKS:
        label += f", {t(lang, f'mark_{mark}')}"
    return (
        f'<div class="{classes}" role="listitem" tabindex="0" data-id="{esc(record["point_id"])}" '
        f'aria-label="{esc(label)}" aria-keyshortcuts="Enter R N S A">'
        f'<img src="{esc(file_url(record["thumbnail_path"]))}" alt="" loading="lazy">'
        f'<div class="be-card-body">'
        f'<div class="be-card-title">{esc(title)}{badge}</div>'
        f'<div><b>{esc(t(lang, "score"))}</b> {score_text(lang, record["score"])}</div>'
        f'<div class="be-card-video" title="{esc(record["source"])}"><b>{esc(t(lang, "video"))}</b> '
        f'{esc(record["source"])}</div>'
        f'<div class="be-card-tc">{esc(record["start_tc"])} – {esc(record["end_tc"])}</div>'
        + (f'<a href="{esc(record["link"])}" class="be-link" target="_blank" rel="noopener">{esc(t(lang, "vb_link"))}'
           "</a>" if record.get("link") else "")
        + '</div><div class="be-card-actions">'
        + _action(lang, "relevant", mark == "relevant")
        + _action(lang, "not_relevant", mark == "not_relevant")
        + _action(lang, "similar")
        + _action(lang, "basket", in_basket)
        + _action(lang, "open", extra=" be-more")
        + "</div></div>"
    )


def cards_html(records: list[dict], lang: str, basket_ids: set[str] | frozenset = frozenset()) -> str:
    """The result grid: one card per record (thumbnail, Recurso #n, score, video, timecodes, its mark,
    and the review buttons), with the keyboard help above it."""
    if not records:
        return f'<div class="be-empty">{html.escape(t(lang, "no_results"))}</div>'
    cards = "".join(_card(r, i, lang, r["point_id"] in basket_ids) for i, r in enumerate(records, start=1))
    return (f'<p class="be-keys">{html.escape(t(lang, "cards_keys"))}</p>'
            f'<div class="be-grid" role="list" aria-label="{html.escape(t(lang, "results"))}">{cards}</div>')


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~#])")


def md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def shot_reference(record: dict) -> str:
    """``VIDEO_ID:N``: the shot as ``python -m app search --like`` takes it (N from 1)."""
    return f"{record['video_id']}:{int(record['shot_index']) + 1}"


def details_markdown(record: dict, position: int | None, entry: IndexedVideo | None, lang: str) -> str:
    """The "Más información" text of one hit: shot, scene, class, timecodes, video facts."""
    duration = float(record["end_s"]) - float(record["start_s"])
    heading = t(lang, "resource", n=position) if position else t(lang, "shot_n_of", n=int(record["shot_index"]) + 1)
    lines = [
        f"### {heading} · {md_escape(record['source'])}",
        f"- **{t(lang, 'score')}:** {score_text(lang, record['score'])}",
        f"- **{t(lang, 'shot')}:** {int(record['shot_index']) + 1} · {record['start_tc']} – {record['end_tc']} "
        f"({decimal(lang, duration, 1)} s)",
        f"- **{t(lang, 'scene')}:** {int(record['scene']) + 1} · **{t(lang, 'class')}:** {int(record['class_id']) + 1}",
    ]
    if record.get("mark") in MARKS:
        lines.append(f"- **{t(lang, 'mark')}:** {t(lang, 'mark_' + record['mark'])}")
    if entry is not None:
        facts = ", ".join([t(lang, "duration_is", duration=format_timecode(entry.duration_s)),
                           tn(lang, "n_shots", entry.n_shots), tn(lang, "n_scenes", entry.n_scenes)])
        lines.append(f"- **{t(lang, 'video')}:** {facts}")
    lines.append(f"- **{t(lang, 'reference')}:** `{shot_reference(record)}` ({t(lang, 'reference_help')})")
    return "\n".join(lines) + "\n"


def shot_bar_html(record: dict, lang: str) -> str:
    """The player's companion bar: the whole video, the shot's span marked with its in and out
    points, and a playhead that app.js moves while the video plays (a click on it seeks)."""
    start, end = float(record["start_s"]), float(record["end_s"])
    total = float(record.get("duration_s") or 0.0) or max(end, 1e-6)
    left, width = 100 * start / total, max(0.5, 100 * (end - start) / total)
    head = t(lang, "shot_in_out", start=record["start_tc"], end=record["end_tc"])
    return (f'<div class="be-shotbar" data-in="{start:.3f}" data-out="{end:.3f}" data-duration="{total:.3f}">'
            f'<div class="be-shotbar-track" role="slider" aria-label="{html.escape(t(lang, "shot_bar"))}" '
            f'aria-valuemin="0" aria-valuemax="{total:.1f}" aria-valuenow="{start:.1f}">'
            f'<div class="be-shotbar-span" style="left:{left:.2f}%;width:{width:.2f}%"></div>'
            f'<div class="be-shotbar-head" style="left:{left:.2f}%"></div></div>'
            f'<div class="be-shotbar-labels">{html.escape(head)}</div></div>')


def short_tc(seconds: float) -> str:
    """``MM:SS`` below an hour, ``H:MM:SS`` above: captions under small thumbnails."""
    tc = format_timecode(seconds)[:8]
    return tc[3:] if tc.startswith("00:") else tc.lstrip("0")


def shot_caption(shot: Shot) -> str:
    return f"#{shot.index + 1} · {short_tc(shot.start_s)}"
