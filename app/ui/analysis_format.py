"""Analysis results to display: shot cards (HTML), the video summary (Markdown), the batch
table rows. No gradio here; every text that came from a user, a video or a model is escaped."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path

from app.ui.analysis_models import AnalysisConfig
from app.ui.errors import public_message
from app.ui.formatting import file_url, md_escape
from app.ui.i18n import t
from pipeline.analysis import ItemResult, ShotAnalysis, VideoAnalysis
from pipeline.core import format_timecode

BATCH_COLUMNS = ("col_item", "col_source", "col_status", "col_stage", "planos", "col_shots_ok", "col_shots_failed",
                 "col_flagged", "col_error")
SEVERITY_KEYS = {"none": "severity_none", "low": "severity_low", "medium": "severity_medium", "high": "severity_high"}
MAX_RAW_CHARS = 4000


def severity(value: str, lang: str) -> str:
    return t(lang, SEVERITY_KEYS.get(value, "severity_none"))


def _pre(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)
    if len(text) > MAX_RAW_CHARS:
        text = text[:MAX_RAW_CHARS] + " […]"
    return f"<pre>{html.escape(text)}</pre>"


def _images(shot: ShotAnalysis, lang: str) -> str:
    frames = [str(Path(f).resolve()) for f in shot.frames if not f.startswith("<")]  # arrays are "<array ...>"
    alt = html.escape(t(lang, "shot_n", n=shot.shot_index))
    if not frames:
        return f'<div class="be-shot-media be-shot-noimg">{alt}</div>'
    key = frames[len(frames) // 2]
    strip = "".join(f'<img src="{html.escape(file_url(f))}" alt="{alt}" loading="lazy">' for f in frames) \
        if len(frames) > 1 else ""
    return (f'<div class="be-shot-media"><img class="be-shot-key" src="{html.escape(file_url(key))}" alt="{alt}" '
            f'loading="lazy">' + (f'<div class="be-shot-strip">{strip}</div>' if strip else "") + "</div>")


def _badges(shot: ShotAnalysis, lang: str) -> str:
    esc = html.escape
    status = f'<span class="be-badge be-badge-{shot.status}">{esc(t(lang, "shot_" + shot.status))}</span>'
    d = shot.description
    if d is None or not d.intolerance.present:
        return status
    kind = " · ".join(x for x in (d.intolerance.type, d.intolerance.target_group) if x)
    label = t(lang, "flag_badge", severity=severity(d.intolerance.severity.value, lang))
    return status + f' <span class="be-badge be-badge-flag">{esc(label)}{esc(" · " + kind) if kind else ""}</span>'


def _shot_card(shot: ShotAnalysis, lang: str) -> str:
    esc = html.escape
    flagged = shot.description is not None and shot.description.intolerance.present
    classes = f"be-shot be-shot-{shot.status}" + (" be-shot-flagged" if flagged else "")
    spoken = esc(shot.transcript.strip()) if shot.transcript.strip() else f"<i>{esc(t(lang, 'no_speech'))}</i>"
    parts = [
        f'<div class="be-shot-head"><b>{esc(t(lang, "shot_n", n=shot.shot_index))}</b> '
        f'<span class="be-shot-tc">{format_timecode(shot.start_s)} – {format_timecode(shot.end_s)}</span> '
        f"{_badges(shot, lang)}</div>",
    ]
    if shot.description is not None:
        parts.append(f'<p class="be-shot-summary">{esc(shot.description.summary)}</p>')
    parts.append(f'<div class="be-shot-transcript"><b>{esc(t(lang, "transcript"))}:</b> {spoken}</div>')
    if shot.status == "ok" and shot.description is not None:
        parts.append(f'<details class="be-shot-json"><summary>{esc(t(lang, "shot_json"))}</summary>'
                     f'{_pre(shot.description.model_dump(mode="json"))}</details>')
    else:
        parts.append(f'<div class="be-shot-errmsg"><b>{esc(t(lang, "error"))}:</b> {esc(shot.error or "")}</div>'
                     f'<details class="be-shot-raw" open><summary>{esc(t(lang, "raw_output"))}</summary>'
                     f'{_pre(shot.raw_output or "")}</details>')
    return (f'<div class="{classes}" data-shot="{int(shot.shot_index)}">{_images(shot, lang)}'
            f'<div class="be-shot-body">{"".join(parts)}</div></div>')


def shots_html(analysis: VideoAnalysis | None, lang: str) -> str:
    """One card per shot: keyframe (and the frames the model saw), time range, status,
    transcript, and the JSON analysis, or the error and the model's raw text."""
    if analysis is None or not analysis.shots:
        return f'<div class="be-empty">{html.escape(t(lang, "no_shots"))}</div>'
    return '<div class="be-shots">' + "".join(_shot_card(s, lang) for s in analysis.shots) + "</div>"


def _listing(values: Sequence[str], lang: str) -> str:
    return ", ".join(md_escape(v) for v in values) if values else t(lang, "none")


def summary_markdown(analysis: VideoAnalysis, lang: str) -> str:
    """The video-level summary: the model's text, counts, flagged shots, worst severity, topics."""
    s = analysis.summary
    lines = [f"### {t(lang, 'video_summary')} · {md_escape(analysis.source or analysis.video_id)}", ""]
    if s.status == "failed":  # no shot is valid: say it first, and nothing that looks like a result
        lines += [f"> ⚠️ {t(lang, 'an_no_valid', failed=s.shots_failed)}", ""]
    elif s.status == "partial":
        lines += [f"> ⚠️ {t(lang, 'an_partial', failed=s.shots_failed, total=s.shots_total, ok=s.shots_ok)}", ""]
    if s.text_status == "ok" and s.text:
        lines += [md_escape(s.text), ""]
    elif s.text_status == "error" and s.status != "failed":
        raw = md_escape((s.text_raw_output or "")[:500])
        lines += [f"*{t(lang, 'summary_failed')}: {md_escape(s.text_error or '')}*", "", f"> {raw}" if raw else "", ""]
    flagged = ", ".join(f"#{i}" for i in s.flagged_shots) or t(lang, "none")
    lines.append(f"- **{t(lang, 'planos')}:** "
                 f"{t(lang, 'shot_counts', total=s.shots_total, ok=s.shots_ok, failed=s.shots_failed)}")
    if s.status == "failed":
        lines.append(f"- **{t(lang, 'model')}:** {md_escape(analysis.model)} · **ID:** `{analysis.video_id}`")
        return "\n".join(lines) + "\n"
    lines += [
        f"- **{t(lang, 'col_flagged')}:** {flagged}",
        f"- **{t(lang, 'max_severity')}:** {severity(s.max_severity.value, lang)}",
        f"- **{t(lang, 'intolerance_types')}:** {_listing(s.intolerance_types, lang)} · "
        f"**{t(lang, 'target_groups')}:** {_listing(s.target_groups, lang)}",
        f"- **{t(lang, 'main_topics')}:** {_listing(s.main_topics, lang)}",
        f"- **{t(lang, 'model')}:** {md_escape(analysis.model)} · **ID:** `{analysis.video_id}`",
    ]
    return "\n".join(lines) + "\n"


def config_markdown(config: AnalysisConfig, lang: str) -> str:
    """The models a session's analyses will use (never the API key)."""
    server = f" @ {md_escape(config.vlm_url)}" if config.vlm_backend == "openai" and config.vlm_url else ""
    return t(lang, "config_line", backend=config.vlm_backend, model=md_escape(config.vlm_model) + server,
             whisper=md_escape(config.whisper_model), audio=config.audio_lang, frames=config.frames_per_shot)


def source_label(source: str) -> str:
    return source if "://" in source else Path(source).name


def item_status(item: ItemResult, lang: str, running: bool, current: str | None) -> str:
    """``analizado`` only when every shot is valid; a pending item is ``en curso`` (the one being
    worked on), ``pendiente`` (while the job runs) or ``no iniciado`` (the job is not running)."""
    if item.status == "pending":
        if item.item_id == current:
            return t(lang, "status_running")
        return t(lang, "status_pending" if running else "status_not_started")
    return t(lang, f"status_{item.status}")


def batch_rows(items: Sequence[ItemResult], lang: str, running: bool = False,
               current: str | None = None) -> list[list]:
    """One row per item of a job, in :data:`BATCH_COLUMNS` order, with its valid and failed shots.
    ``running``: the job is running now, ``current`` the item it is working on."""
    rows = []
    for item in items:
        summary = item.analysis.summary if item.analysis is not None else None
        stage = t(lang, f"stage_{item.stage}") if item.stage and item.status not in ("done", "partial") else ""
        error = t(lang, "no_valid_shots", failed=summary.shots_failed) if summary and summary.status == "failed" \
            else public_message(item.error or "")
        counted = summary is not None and summary.status != "failed"  # no flag count for a video not analysed
        rows.append([item.item_id, source_label(item.source), item_status(item, lang, running, current), stage,
                     summary.shots_total if summary else "", summary.shots_ok if summary else "",
                     summary.shots_failed if summary else "", len(summary.flagged_shots) if counted else "", error])
    return rows
