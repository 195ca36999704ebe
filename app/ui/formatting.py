"""Records to display: result cards (HTML), detail text (Markdown), export files. No gradio here.

Every user-supplied string (file names) is escaped before it reaches HTML or Markdown.
"""

from __future__ import annotations

import csv
import html
import json
import re
import urllib.parse
from pathlib import Path

from app.ui.i18n import t
from pipeline.core import format_timecode
from pipeline.records import IndexedVideo, SearchHit, Shot

#: Columns of the CSV export, in order (the JSON export has the same keys).
EXPORT_FIELDS = ("rank", "score", "video_id", "source", "shot_index", "scene", "class_id",
                 "start_s", "end_s", "start_tc", "end_tc", "point_id", "thumbnail", "link")


def file_url(path: str | Path) -> str:
    """URL of a file served by Gradio's ``/file=`` route (relative, so a root_path works)."""
    return "gradio_api/file=" + urllib.parse.quote(str(path), safe="/")


def hit_record(hit: SearchHit, thumbnail_path: Path) -> dict:
    """What the session keeps of a hit: its JSON plus the thumbnail's absolute path."""
    return {**hit.to_json(), "thumbnail_path": str(thumbnail_path)}


def choice_label(record: dict) -> str:
    return f"#{record['rank']} · {record['source']} · {record['start_tc']}"


def _card(record: dict, lang: str) -> str:
    esc = html.escape
    rank = int(record["rank"])
    return (
        f'<div class="be-card" data-rank="{rank}" tabindex="0">'
        f'<img src="{esc(file_url(record["thumbnail_path"]))}" alt="{esc(t(lang, "resource", n=rank))}" loading="lazy">'
        f'<div class="be-card-body">'
        f'<div class="be-card-title">{esc(t(lang, "resource", n=rank))}</div>'
        f'<div><b>{esc(t(lang, "score"))}</b> {float(record["score"]):.3f}</div>'
        f'<div class="be-card-video" title="{esc(record["source"])}"><b>{esc(t(lang, "video"))}</b> '
        f'{esc(record["source"])}</div>'
        f'<div class="be-card-tc">{esc(record["start_tc"])} – {esc(record["end_tc"])}</div>'
        f'<a href="#" class="be-more" data-rank="{rank}">{esc(t(lang, "more_info"))}</a>'
        + (f' · <a href="{esc(record["link"])}" class="be-link" target="_blank" rel="noopener">'
           f'{esc(t(lang, "vb_link"))}</a>' if record.get("link") else "")
        + "</div></div>"
    )


def cards_html(records: list[dict], lang: str) -> str:
    """The result grid: one card per hit (thumbnail, Recurso #n, score, video, timecodes)."""
    if not records:
        return f'<div class="be-empty">{html.escape(t(lang, "no_results"))}</div>'
    return '<div class="be-grid">' + "".join(_card(r, lang) for r in records) + "</div>"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~#])")


def md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def details_markdown(record: dict, entry: IndexedVideo | None, lang: str) -> str:
    """The "Más información" text of one hit: shot, scene, class, timecodes, video facts."""
    duration = float(record["end_s"]) - float(record["start_s"])
    lines = [
        f"### {t(lang, 'resource', n=record['rank'])} · {md_escape(record['source'])}",
        f"- **{t(lang, 'score')}:** {float(record['score']):.4f}",
        f"- **{t(lang, 'shot')}:** {record['shot_index']} · {record['start_tc']} – {record['end_tc']} ({duration:.1f} s)",
        f"- **{t(lang, 'scene')}:** {record['scene']} · **{t(lang, 'class')}:** {record['class_id']}",
    ]
    if entry is not None:
        facts = t(lang, "video_facts", duration=format_timecode(entry.duration_s), shots=entry.n_shots,
                  scenes=entry.n_scenes)
        lines.append(f"- **{t(lang, 'video')}:** {facts}")
    lines.append(f"- **ID:** `{record['video_id']}`")
    return "\n".join(lines) + "\n"


def short_tc(seconds: float) -> str:
    """``MM:SS`` below an hour, ``H:MM:SS`` above: captions under small thumbnails."""
    tc = format_timecode(seconds)[:8]
    return tc[3:] if tc.startswith("00:") else tc.lstrip("0")


def shot_caption(shot: Shot) -> str:
    return f"#{shot.index} · {short_tc(shot.start_s)}"


def write_exports(records: list[dict], csv_path: Path, json_path: Path) -> list[Path]:
    """Write the hits as CSV (UTF-8 with BOM, for spreadsheets) and as JSON."""
    rows = [{k: r.get(k) for k in EXPORT_FIELDS} for r in records]
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    json_path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return [csv_path, json_path]
