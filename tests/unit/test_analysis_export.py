"""Exports of an analysis job (pipeline.analysis.export) from a job run with fake stages:
per-item JSON, results.jsonl, results.csv (formula-safe, one row per shot or failed item), ZIP."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from pipeline.analysis.export import csv_bytes, export_job
from pipeline.analysis.jobs import Stage, create_job, run_job
from pipeline.analysis.schema import ShotAnalysis, ShotDescription, VideoAnalysis, VideoSummary
from pipeline.analysis.store import write_analysis
from pipeline.errors import MediaError

STAGES = ["fetch", "segment", "transcribe", "describe"]
DESCRIPTION = {
    "summary": "=HYPERLINK(\"http://x\")", "setting": "plató", "people": {"count": 2, "apparent_roles": ["a", "b"]},
    "actions": ["hablar", "reír"], "objects": [], "on_screen_text": ["-50% HOY"],
    "speech": {"summary": "Hablan del barrio.", "topics": ["barrio"], "tone": "neutro"},
    "intolerance": {"present": True, "type": "xenofobia", "target_group": "migrantes", "evidence": "dice X",
                    "severity": "medium"},
}


def analysis(video_id: str) -> VideoAnalysis:
    shots = [ShotAnalysis(video_id=video_id, shot_index=0, start_s=0.0, end_s=2.5, status="ok",
                          description=ShotDescription.model_validate(DESCRIPTION), transcript="hola", model="m"),
             ShotAnalysis(video_id=video_id, shot_index=1, start_s=2.5, end_s=4.0, status="error",
                          error="invalid answer", raw_output="??", model="m")]
    return VideoAnalysis(video_id=video_id, source="ok.mp4", model="m", shots=shots,
                         summary=VideoSummary(shots_total=2, shots_ok=1, shots_failed=1, flagged_shots=[0]))


def fake_stages(tmp_path):
    def fetch(ctx):
        if "bad" in ctx.source:
            raise MediaError(ctx.source, "not a readable media file")
        return {"path": ctx.source}

    def describe(ctx):
        path = tmp_path / "data" / f"{ctx.item_id}.json"
        write_analysis(path, analysis("0123456789abcdef0123"))
        return {"analysis": str(path)}

    return [Stage("fetch", fetch), Stage("segment", lambda ctx: {"video_id": "0123456789abcdef0123"}),
            Stage("transcribe", lambda ctx: {}), Stage("describe", describe)]


def test_exports_of_a_job_with_a_done_and_a_failed_item(tmp_path):
    job = tmp_path / "job"
    create_job(job, ["/v/ok.mp4", "/v/bad.mp4"], STAGES)
    run_job(job, fake_stages(tmp_path))
    exported = export_job(job)
    done, failed = exported.items
    assert done.status == "partial" and done.analysis.summary.shots_ok == 1  # one shot failed: said, not hidden
    assert failed.status == "failed" and failed.stage == "fetch" and "bad.mp4" in failed.error

    assert [p.name for p in exported.analyses] == ["0000-ok.json"]
    assert VideoAnalysis.model_validate_json(exported.analyses[0].read_text()) == done.analysis

    lines = [json.loads(line) for line in exported.jsonl.read_text().splitlines()]
    assert [(r["item"], r["status"], r["failed_stage"]) for r in lines] == [("0000-ok", "partial", None),
                                                                           ("0001-bad", "failed", "fetch")]
    assert (lines[0]["shots_ok"], lines[0]["shots_failed"], lines[0]["summary"]["status"]) == (1, 1, "partial")
    assert lines[0]["analysis_file"] == "analyses/0000-ok.json" and lines[0]["summary"]["flagged_shots"] == [0]

    raw = exported.csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read the accents
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["item"], r["shot"], r["shot_status"], r["item_status"]) for r in rows] == [
        ("0000-ok", "0", "ok", "partial"), ("0000-ok", "1", "error", "partial"), ("0001-bad", "", "", "failed")]
    assert (rows[0]["item_shots_ok"], rows[0]["item_shots_failed"], rows[2]["item_shots_ok"]) == ("1", "1", "")
    assert rows[0]["summary"].startswith("'=") and rows[0]["on_screen_text"] == "'-50% HOY"  # never a formula
    assert rows[0]["actions"] == "hablar; reír" and rows[0]["intolerance_severity"] == "medium"
    assert rows[0]["start"] == "00:00:00.000" and rows[1]["shot_error"] == "invalid answer"
    assert rows[2]["item_error"].startswith("fetch: /v/bad.mp4")

    with zipfile.ZipFile(exported.zip) as archive:
        assert sorted(archive.namelist()) == ["analyses/0000-ok.json", "manifest.json", "results.csv",
                                              "results.jsonl"]


def test_a_missing_analysis_file_is_reported_not_raised(tmp_path):
    job = tmp_path / "job"
    create_job(job, ["/v/ok.mp4"], STAGES)
    run_job(job, fake_stages(tmp_path))
    (tmp_path / "data" / "0000-ok.json").unlink()
    [item] = export_job(job, tmp_path / "elsewhere").items
    assert item.status == "failed" and "0000-ok.json" in item.error
    assert (tmp_path / "elsewhere" / "results.zip").is_file()


def test_csv_header_only_when_empty():
    assert csv_bytes([]).decode("utf-8-sig").startswith("item,source,video_id,item_status")
