"""``python -m app analyze`` end to end, in-process through ``app.cli.main``: the slideshow with
synthesised Spanish speech plus a broken file, the tiny random open_clip model for the shots,
the real Whisper base for the speech, and the ``openai`` backend pointed at a fake
OpenAI-compatible server on 127.0.0.1 that answers valid JSON. Proves the wiring, the exports,
the exit codes and the resume; the tiny CLIP model proves nothing about shot quality."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from app.cli.main import main
from pipeline.analysis import VideoAnalysis

from testkit import FakeVLM, with_spanish_speech

pytestmark = [pytest.mark.model, pytest.mark.slow]

SHOT = {
    "summary": "Una fotografía fija.", "setting": "estudio", "people": {"count": 1, "apparent_roles": ["astronauta"]},
    "actions": [], "objects": ["traje"], "on_screen_text": [],
    "speech": {"summary": "Un saludo.", "topics": ["barrio"], "tone": "neutro"},
    "intolerance": {"present": False, "type": None, "target_group": None, "evidence": "", "severity": "none"},
}
SUMMARY = {"summary": "Cuatro fotografías con un saludo.", "main_topics": ["barrio"]}


@pytest.fixture
def vlm_server():
    server = FakeVLM(SHOT, SUMMARY)
    yield server
    server.close()


@pytest.fixture
def cli_env(tmp_path, tiny_clip_dir, monkeypatch):
    for name in ("BUSCA_VLM_BACKEND", "BUSCA_VLM_MODEL", "BUSCA_VLM_URL", "BUSCA_VLM_API_KEY", "BUSCA_AUDIO_LANG",
                 "BUSCA_ALLOWED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BUSCA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BUSCA_CLIP_MODEL", f"local-dir:{tiny_clip_dir}")
    monkeypatch.setenv("BUSCA_DEVICE", "cpu")
    return tmp_path


def test_analyze_exports_reports_the_bad_file_and_resumes_without_redoing(
        cli_env, slideshow, whisper_base_dir, vlm_server, monkeypatch, capsys):
    tmp_path = cli_env
    monkeypatch.setenv("BUSCA_WHISPER_MODEL", str(whisper_base_dir))
    video, speaks = with_spanish_speech(slideshow, tmp_path / "slideshow_es.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_text("this is not a video")
    (tmp_path / "inputs.txt").write_text(f"# two videos\n{video}\nbad.mp4\n")
    (tmp_path / "instructions.txt").write_text("Describe el plano en una frase. INSTRUCCIONES-DE-PRUEBA")
    out = tmp_path / "out"
    args = ["analyze", f"@{tmp_path / 'inputs.txt'}", "--out", str(out), "--vlm-backend", "openai",
            "--vlm-url", vlm_server.url, "--vlm-model", "fake-qwen", "--frames-per-shot", "2",
            "--instructions", str(tmp_path / "instructions.txt"), "--lang", "es"]

    code = main(args)
    stdout, stderr = capsys.readouterr()
    assert code == 3, stderr
    assert "FAILED  0001-bad at segment" in stdout and "bad.mp4" in stdout  # the cause, naming the file
    assert "1 analysed, 1 failed" in stderr

    [analysis_file] = (out / "analyses").glob("0000-*.json")  # one per analysed item
    analysis = VideoAnalysis.model_validate_json(analysis_file.read_text())
    assert analysis.summary.shots_total >= 1 and analysis.summary.shots_failed == 0
    assert analysis.summary.text == SUMMARY["summary"] and analysis.model == f"fake-qwen@{vlm_server.url}"
    assert all("INSTRUCCIONES-DE-PRUEBA" in s.instructions for s in analysis.shots)
    assert all(1 <= len(s.frames) <= 2 and all(Path(f).is_file() for f in s.frames) for s in analysis.shots)
    assert vlm_server.image_sizes() == {(320, 240)}  # the video's own size, not ingest's 298x224 CLIP frames
    if speaks:
        words = " ".join(s.transcript for s in analysis.shots).lower()
        assert "barrio" in words or "ciudad" in words, words

    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [(r["status"], r["failed_stage"]) for r in lines] == [("done", None), ("failed", "segment")]
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == analysis.summary.shots_total + 1 and rows[-1]["item_status"] == "failed"
    with zipfile.ZipFile(out / "results.zip") as archive:
        assert {"results.csv", "results.jsonl", "manifest.json"} <= set(archive.namelist())
    requests_before = len(vlm_server.requests)
    assert requests_before == analysis.summary.shots_total + 1  # one per shot, one for the summary

    code = main(["analyze", "--out", str(out), "--vlm-backend", "openai", "--vlm-url", vlm_server.url,
                 "--vlm-model", "fake-qwen"])  # no INPUT: resume the job in --out
    stdout, _ = capsys.readouterr()
    assert code == 3 and "FAILED  0001-bad at segment" in stdout
    assert len(vlm_server.requests) == requests_before  # nothing described again
    manifest = json.loads((out / "manifest.json").read_text())
    assert {n: s["attempts"] for n, s in manifest["items"][0]["stages"].items()} == {
        "fetch": 1, "segment": 1, "transcribe": 1, "describe": 1}
    assert manifest["items"][1]["stages"]["segment"]["attempts"] == 2  # failed items are retried


def test_setup_errors_exit_1_with_one_line(cli_env, slideshow, capsys):
    out = str(cli_env / "out")
    assert main(["analyze", str(slideshow), "--out", out, "--vlm-backend", "openai"]) == 1
    assert capsys.readouterr().err.strip().startswith("error: --vlm-backend openai needs the server's URL")
    assert main(["analyze", "--out", out]) == 1
    assert "holds no job to resume" in capsys.readouterr().err
    assert main(["analyze", str(slideshow), "--out", out, "--frames-per-shot", "0"]) == 1
    assert "frames_per_shot" in capsys.readouterr().err
    assert main(["analyze", str(slideshow), "--out", out, "--lang", "español"]) == 1
    assert "audio language" in capsys.readouterr().err


def test_a_model_server_that_is_down_stops_before_any_segmentation_with_one_line(cli_env, slideshow, capsys):
    out = cli_env / "out"
    code = main(["analyze", str(slideshow), "--out", str(out), "--vlm-backend", "openai",
                 "--vlm-url", "http://127.0.0.1:9/v1", "--vlm-model", "qwen"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1, err
    assert err.startswith("error: cannot reach the model server at http://127.0.0.1:9/v1")
    assert not (cli_env / "data" / "videos").exists()  # nothing was segmented


def test_a_model_the_server_does_not_serve_is_named(cli_env, slideshow, vlm_server, capsys):
    code = main(["analyze", str(slideshow), "--out", str(cli_env / "out"), "--vlm-backend", "openai",
                 "--vlm-url", vlm_server.url, "--vlm-model", "qwen2.5vl:7b"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "does not serve 'qwen2.5vl:7b'; it serves: fake-qwen" in err
