"""Exports of an analysis batch job, for people and spreadsheets (the CLI and the UI write the same).

Into the output folder (by default the job folder)::

    analyses/<item_id>.json   the VideoAnalysis of each finished item (schema in pipeline.analysis.schema)
    results.jsonl             one line per item: source, status, the failed stage and its error, summary
    results.csv               one row per shot of every analysed item (failed shots included), one row
                              per item that has no analysis (UTF-8 with BOM, so that spreadsheet
                              programs read the accents)
    results.zip               all of the above, plus the job's manifest.json (and state.jsonl)

An item's status: ``done`` (every shot has a valid analysis), ``partial`` (some shots do; the
flags cover those only), ``failed`` (a stage failed, or no shot has a valid analysis: the video
was *not* analysed, whatever its flags say) or ``pending`` (not started). Both files carry it,
with the item's counts of valid and failed shots.

The CSV goes through the project's one CSV writer (:mod:`pipeline.core.csvout`): a text cell
that starts with ``= + - @`` (or a tab/carriage return) gets a leading ``'`` so a spreadsheet
shows it as text instead of running it as a formula: the texts come from a model that reads
on-screen text from arbitrary videos.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.analysis.jobs import MANIFEST, STATE_LOG, ItemState, read_manifest
from pipeline.analysis.schema import ShotAnalysis, VideoAnalysis
from pipeline.analysis.store import read_analysis
from pipeline.core import atomic, format_timecode
from pipeline.core import csv_bytes as write_csv_bytes
from pipeline.errors import MediaError

CSV_COLUMNS = (
    "item", "source", "video_id", "item_status", "item_error", "item_shots_ok", "item_shots_failed",
    "shot", "start", "end", "start_s", "end_s",
    "shot_status", "summary", "setting", "people_count", "people_roles", "actions", "objects", "on_screen_text",
    "speech_summary", "speech_topics", "speech_tone", "intolerance_present", "intolerance_type",
    "intolerance_target_group", "intolerance_evidence", "intolerance_severity", "transcript", "shot_error", "model",
)


@dataclass(frozen=True)
class ItemResult:
    """One item of a job as the exports see it. ``status``: done, partial, failed or pending
    (see the module docstring). ``analysis`` is there whenever one was written, failed or not."""

    item_id: str
    source: str
    status: str
    stage: str | None = None  # the stage that failed (or has not run yet)
    error: str | None = None
    video_id: str | None = None
    analysis: VideoAnalysis | None = None


@dataclass(frozen=True)
class Exported:
    items: list[ItemResult]
    analyses: list[Path]
    jsonl: Path
    csv: Path
    zip: Path


def _analysis(path: object) -> tuple[VideoAnalysis | None, str | None]:
    if not path:
        return None, "the job recorded no analysis file"
    try:
        return read_analysis(Path(str(path))), None
    except MediaError as err:
        return None, str(err)


def item_result(item: ItemState) -> ItemResult:
    """An item's outcome from its manifest entry, its analysis read back when one was written."""
    video_id = item.stages.get("segment").outputs.get("video_id") if "segment" in item.stages else None
    for name, state in item.stages.items():
        if state.status == "failed":
            analysis, _ = _analysis(state.outputs.get("analysis")) if state.outputs.get("analysis") else (None, None)
            return ItemResult(item.id, item.source, "failed", name, state.error, video_id, analysis)
        if state.status != "done":
            return ItemResult(item.id, item.source, "pending", name, None, video_id)
    analysis, error = _analysis(item.stages["describe"].outputs.get("analysis") if "describe" in item.stages
                                else None)
    if analysis is None:
        return ItemResult(item.id, item.source, "failed", "describe", error, video_id)
    s = analysis.summary
    if s.status == "failed":  # a job written before the describe stage refused such videos
        return ItemResult(item.id, item.source, "failed", "describe", f"no shot has a valid analysis "
                          f"({s.shots_failed} of {s.shots_total} failed)", analysis.video_id, analysis)
    status = "partial" if s.status == "partial" else "done"
    return ItemResult(item.id, item.source, status, None, None, analysis.video_id, analysis)


def job_results(job_dir: Path) -> list[ItemResult]:
    return [item_result(item) for item in read_manifest(job_dir).items]


def _join(values: Sequence[str]) -> str:
    return "; ".join(v.strip() for v in values if v and v.strip())


def _shot_fields(shot: ShotAnalysis) -> dict:
    row = {"shot": shot.shot_index, "start": format_timecode(shot.start_s), "end": format_timecode(shot.end_s),
           "start_s": round(shot.start_s, 3), "end_s": round(shot.end_s, 3), "shot_status": shot.status,
           "transcript": shot.transcript, "shot_error": shot.error or "", "model": shot.model}
    d = shot.description
    if d is not None:
        row.update(
            summary=d.summary, setting=d.setting, people_count=d.people.count, people_roles=_join(d.people.apparent_roles),
            actions=_join(d.actions), objects=_join(d.objects), on_screen_text=_join(d.on_screen_text),
            speech_summary=d.speech.summary, speech_topics=_join(d.speech.topics), speech_tone=d.speech.tone,
            intolerance_present=d.intolerance.present, intolerance_type=d.intolerance.type or "",
            intolerance_target_group=d.intolerance.target_group or "",
            intolerance_evidence=d.intolerance.evidence or "",
            intolerance_severity=d.intolerance.severity.value)
    return row


def csv_rows(items: Sequence[ItemResult]) -> list[dict]:
    """One row per shot of each item with an analysis; one row (no shot) per item without."""
    rows = []
    for item in items:
        base = {"item": item.item_id, "source": item.source, "video_id": item.video_id or "",
                "item_status": item.status, "item_error": f"{item.stage}: {item.error}" if item.error else ""}
        if item.analysis is not None:
            base.update(item_shots_ok=item.analysis.summary.shots_ok,
                        item_shots_failed=item.analysis.summary.shots_failed)
        if item.analysis is None or not item.analysis.shots:
            rows.append(base)
            continue
        rows.extend({**base, **_shot_fields(shot)} for shot in item.analysis.shots)
    return rows


def csv_bytes(rows: Sequence[dict]) -> bytes:
    return write_csv_bytes(CSV_COLUMNS, rows)


def jsonl_record(item: ItemResult, analysis_file: str | None) -> dict:
    summary = item.analysis.summary.model_dump(mode="json") if item.analysis is not None else None
    counts = {"shots_ok": item.analysis.summary.shots_ok, "shots_failed": item.analysis.summary.shots_failed} \
        if item.analysis is not None else {"shots_ok": None, "shots_failed": None}
    return {"item": item.item_id, "source": item.source, "status": item.status, "failed_stage": item.stage
            if item.status == "failed" else None, "error": item.error, "video_id": item.video_id, **counts,
            "analysis_file": analysis_file, "summary": summary}


def _write_zip(path: Path, files: Sequence[tuple[Path, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for source, name in files:
                archive.write(source, name)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_job(job_dir: Path, out_dir: Path | None = None) -> Exported:
    """Write the exports of a job (see the module docstring); safe to call again at any time."""
    job_dir = Path(job_dir)
    out = Path(out_dir) if out_dir is not None else job_dir
    items = job_results(job_dir)
    analyses, lines = [], []
    for item in items:
        name = None
        if item.analysis is not None:
            name = f"analyses/{item.item_id}.json"
            atomic.write_json(out / name, item.analysis.model_dump(mode="json"))
            analyses.append(out / name)
        lines.append(json.dumps(jsonl_record(item, name), ensure_ascii=False))
    jsonl, table, archive = out / "results.jsonl", out / "results.csv", out / "results.zip"
    atomic.write_bytes(jsonl, ("\n".join(lines) + "\n").encode("utf-8"))
    atomic.write_bytes(table, csv_bytes(csv_rows(items)))
    members = [(p, f"analyses/{p.name}") for p in analyses] + [(jsonl, jsonl.name), (table, table.name)]
    for name in (MANIFEST, STATE_LOG):  # the log: status changes not yet folded into the manifest
        if (job_dir / name).is_file():
            members.append((job_dir / name, name))
    _write_zip(archive, members)
    return Exported(items, analyses, jsonl, table, archive)
