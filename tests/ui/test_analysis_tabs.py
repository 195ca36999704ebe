"""The analysis tabs (Análisis de vídeo, Análisis masivo, Configuración) through ``gradio_client``
and, once, in a real browser.

The describer is the ``openai`` backend pointed at a fake OpenAI-compatible server on 127.0.0.1
that answers valid JSON (and, when asked to, garbage for the first shot); the transcriber is the
real Whisper base; the shots come from the tiny random CLIP model. That proves the wiring (config
-> models -> pipeline -> shot cards, JSON, exports, resume), never the quality of an analysis.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from pipeline.analysis import DEFAULT_INSTRUCTIONS, VideoAnalysis

from testkit import FakeVLM, with_spanish_speech

ROOT = Path(__file__).resolve().parents[2]
SHOT = {
    "summary": "Una fotografía fija.", "setting": "estudio", "people": {"count": 1, "apparent_roles": ["astronauta"]},
    "actions": [], "objects": ["traje"], "on_screen_text": [],
    "speech": {"summary": "Un saludo.", "topics": ["barrio"], "tone": "neutro"},
    "intolerance": {"present": True, "type": "xenofobia", "target_group": "migrantes", "evidence": "un rótulo",
                    "severity": "media"},
}
SUMMARY = {"summary": "Cuatro fotografías con un saludo.", "main_topics": ["barrio"]}
GARBAGE = "esto no es JSON <b>"
MARKER = "INSTRUCCIONES-DE-PRUEBA"


@pytest.fixture(scope="module")
def vlm():
    server = FakeVLM(SHOT, SUMMARY, GARBAGE)
    yield server
    server.close()


@pytest.fixture(scope="module")
def speaking_video(slideshow, tmp_path_factory) -> tuple[Path, bool]:
    """The slideshow with synthesised Spanish speech (the silent slideshow when the tools are missing)."""
    return with_spanish_speech(slideshow, tmp_path_factory.mktemp("speech") / "entrevista.mp4")


def configure(client, vlm: FakeVLM, whisper: Path | str = "base", frames: int = 2) -> str:
    status, *_ = client.predict("es", str(whisper), frames, "openai", "fake-qwen", vlm.url, "secreto",
                                f"Describe el plano en una frase. {MARKER}", api_name="/save_config")
    return status


@pytest.mark.model
def test_analyze_video_shows_each_shot_with_frames_transcript_and_json(client, running_app, vlm, speaking_video,
                                                                        whisper_base_dir):
    video, speaks = speaking_video
    status = configure(client, vlm, whisper_base_dir)
    assert "Configuración guardada" in status and "fake-qwen" in status and "secreto" not in status
    vlm.fail_first_shot = True
    try:
        summary, shots, analysis, download = client.predict(handle_file(str(video)), "", api_name="/analyze_video")
    finally:
        vlm.fail_first_shot = False

    result = VideoAnalysis.model_validate(analysis)
    assert len(result.shots) >= 2 and result.source == video.name
    first, *rest = result.shots
    assert first.status == "error" and first.raw_output == GARBAGE and first.attempts == 3
    assert all(s.status == "ok" and s.description.intolerance.present for s in rest)
    assert all(1 <= len(s.frames) <= 2 and MARKER in s.instructions for s in result.shots)
    assert set(vlm.keys) == {"Bearer secreto"}
    if speaks:
        words = " ".join(s.transcript for s in result.shots).lower()
        assert "barrio" in words or "ciudad" in words, words

    assert shots.count('class="be-shot ') == len(result.shots) and "Plano 0" in shots
    assert "esto no es JSON &lt;b&gt;" in shots and "Respuesta del modelo" in shots  # the raw text, escaped
    assert "intolerancia: media" in shots and "00:00:00.000 – " in shots and "Análisis (JSON)" in shots
    assert "Resumen del vídeo" in summary and SUMMARY["summary"] in summary
    assert f"#{rest[0].shot_index}" in summary and "media" in summary

    saved = Path(download["value"]["path"])
    assert saved.name == f"{video.stem}.analysis.json"
    assert VideoAnalysis.model_validate_json(saved.read_text(encoding="utf-8")).video_id == result.video_id
    frame = next(f for s in rest for f in s.frames)
    assert Path(frame).is_relative_to(running_app.data_dir.resolve() / "videos")
    with httpx.Client(base_url=running_app.url) as http:
        assert http.get(f"gradio_api/file={frame}").status_code == 200  # the shot images the cards show


def test_refused_urls_and_missing_input_give_clear_errors(client):
    refused = {
        "http://169.254.169.254/x": "169.254.169.254",
        "file:///etc/passwd": "only http and https",
        "http://127.0.0.1:9/video.mp4": "127.0.0.1",
        "/etc/passwd": "no es una URL",
    }
    for url, message in refused.items():
        with pytest.raises(AppError, match=message):
            client.predict(None, url, api_name="/analyze_video")
    with pytest.raises(AppError, match="Suba un vídeo o pegue una URL"):
        client.predict(None, "  ", api_name="/analyze_video")


def test_settings_are_checked_and_the_instructions_can_be_restored(client, vlm):
    with pytest.raises(AppError, match="minimum value 1"):  # the slider checks its range
        client.predict("es", "base", 0, "openai", "m", vlm.url, "", "x", api_name="/save_config")
    with pytest.raises(AppError, match="needs the server's base URL"):
        client.predict("es", "base", 2, "openai", "m", "", "", "x", api_name="/save_config")
    with pytest.raises(AppError, match="audio language"):
        client.predict("español", "base", 2, "openai", "m", vlm.url, "", "x", api_name="/save_config")
    with pytest.raises(AppError, match="instructions are empty"):
        client.predict("es", "base", 2, "openai", "m", vlm.url, "", "  ", api_name="/save_config")
    assert client.predict(api_name="/restore_instructions") == DEFAULT_INSTRUCTIONS


def test_batch_lines_must_be_urls_or_paths_under_the_allowed_roots(client, running_app):
    for line, message in {"/etc": "fuera de las carpetas permitidas", f"{running_app.ingest_root}/../..": "fuera de",
                          str(running_app.ingest_root / "no-existe.mp4"): "no existe"}.items():
        with pytest.raises(AppError, match=message):
            client.predict([], line, api_name="/analyze_batch")
    with pytest.raises(AppError, match="No hay nada que analizar"):
        client.predict([], "# solo un comentario\n", api_name="/analyze_batch")


@pytest.mark.model
def test_batch_reports_each_video_exports_and_resumes_without_redoing(client, running_app, vlm, slideshow,
                                                                     whisper_base_dir, tmp_path):
    configure(client, vlm, whisper_base_dir)
    folder = running_app.ingest_root / "analisis"
    folder.mkdir(exist_ok=True)
    shutil.copyfile(slideshow, folder / "copia.mp4")
    broken = tmp_path / "roto.mp4"
    broken.write_text("not a video")

    table, status, job, files = client.predict([handle_file(str(broken))], f"# servidor\n{folder}\n",
                                               api_name="/analyze_batch")
    rows = {row[1]: dict(zip(table["headers"], row, strict=True)) for row in table["data"]}
    assert rows["copia.mp4"]["Estado"] == "analizado" and rows["copia.mp4"]["Planos"] >= 1
    assert rows["copia.mp4"]["Planos señalados"] == rows["copia.mp4"]["Planos"]
    assert rows["roto.mp4"]["Estado"] == "error" and rows["roto.mp4"]["Etapa"] == "segmentación"
    assert "roto.mp4" in rows["roto.mp4"]["Error"]
    assert "1 analizados, 1 con error" in status
    paths = sorted((Path(f["path"]) for f in files["value"]), key=lambda p: p.suffix)
    assert [p.suffix for p in paths] == [".csv", ".jsonl", ".zip"]
    lines = [json.loads(line) for line in paths[1].read_text(encoding="utf-8").splitlines()]
    assert sorted(r["status"] for r in lines) == ["done", "failed"]
    csv_rows = list(csv.DictReader(io.StringIO(paths[0].read_text(encoding="utf-8-sig"))))
    assert len(csv_rows) == rows["copia.mp4"]["Planos"] + 1
    with zipfile.ZipFile(paths[2]) as archive:
        assert {"results.csv", "results.jsonl", "manifest.json"} <= set(archive.namelist())

    job_id = job["value"] if isinstance(job, dict) else job
    assert (running_app.data_dir / "jobs" / job_id / "manifest.json").is_file()
    assert job_id in [j["job_id"] for j in client.predict(api_name="/analysis_jobs")]
    before = len(vlm.requests)
    table, status, *_ = client.predict(job_id, api_name="/resume_batch")
    assert len(vlm.requests) == before and "1 analizados, 1 con error" in status  # nothing described again
    manifest = json.loads((running_app.data_dir / "jobs" / job_id / "manifest.json").read_text())
    attempts = {item["source"].rsplit("/", 1)[-1]: item["stages"]["segment"]["attempts"] for item in manifest["items"]}
    assert attempts == {"roto.mp4": 2, "copia.mp4": 1}  # the failed item is retried, the done one is not
    for bad, message in {"../../etc": "invalid job id", "20990101-000000-abcdef": "does not exist"}.items():
        with pytest.raises(AppError, match=message):
            client.predict(bad, api_name="/resume_batch")


@pytest.mark.browser
@pytest.mark.model
def test_analysis_tab_in_the_browser(running_app, vlm, speaking_video, whisper_base_dir):
    """Settings saved in the Configuración tab, a video uploaded and analysed in the Análisis de
    vídeo tab; the screenshot goes to test-artifacts/ui-analysis.png."""
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is missing: apt-get install chromium to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="es-ES")
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        try:
            page.goto(running_app.url)
            page.get_by_role("tab", name="Configuración").click()
            page.get_by_role("radio", name="openai").check()
            page.fill("#be-cfg-model textarea", "fake-qwen")
            page.fill("#be-cfg-url textarea", vlm.url)
            whisper = page.locator("#be-cfg-whisper input")
            whisper.fill(str(whisper_base_dir))
            whisper.press("Enter")
            page.click("#be-cfg-save")
            page.get_by_text("Configuración guardada").wait_for(timeout=20_000)

            page.screenshot(path=str(artifacts / "ui-config.png"), full_page=True)
            page.get_by_role("tab", name="Análisis de vídeo").click()
            tabs = [tab.inner_text() for tab in page.get_by_role("tab").all()]  # a State inside gr.Tabs broke this
            assert tabs == ["Buscar", "Evaluación", "Indexar vídeos", "Explorar", "Gestionar archivo",
                            "Análisis de vídeo", "Análisis masivo", "Configuración"], tabs
            assert "fake-qwen" in page.locator("#be-an-config").inner_text()
            page.set_input_files("#be-an-file input[type=file]", str(speaking_video[0]))
            page.locator("#be-an-file").get_by_text(speaking_video[0].name).wait_for(timeout=20_000)
            vlm.fail_first_shot = True  # the first card shows the error and the model's raw text
            page.click("#be-an-run")
            page.locator(".be-shot").first.wait_for(timeout=60_000)
            page.locator("#be-an-summary").get_by_text("Resumen del vídeo").wait_for(timeout=10_000)
            assert page.locator(".be-shot-key").first.evaluate("img => img.complete && img.naturalWidth > 0")
            assert GARBAGE in page.locator(".be-shot.be-shot-error .be-shot-raw").inner_text()
            page.locator(".be-shot-ok .be-shot-json summary").first.click()  # open one shot's JSON
            page.screenshot(path=str(artifacts / "ui-analysis.png"), full_page=True)

            vlm.fail_first_shot = False
            page.get_by_role("tab", name="Análisis masivo").click()
            page.set_input_files("#be-batch-files input[type=file]", [str(speaking_video[0])])
            page.locator("#be-batch-files").get_by_text(speaking_video[0].name).wait_for(timeout=20_000)
            page.click("#be-batch-run")
            page.locator("#be-batch-status").get_by_text("analizados").wait_for(timeout=60_000)
            page.screenshot(path=str(artifacts / "ui-batch.png"), full_page=True)

            page.get_by_label("English").check()  # results shown so far follow the language too
            page.wait_for_function("() => document.querySelector('#be-batch-table').innerText.includes('analysed')",
                                   timeout=10_000)
            assert "Flagged shots" in page.locator("#be-batch-table").inner_text()
            assert "audio language" in page.locator("#be-batch-config").inner_text()
            page.get_by_role("tab", name="Video analysis").click()
            page.locator("#be-an-shots").get_by_text("Shot 0", exact=True).wait_for(timeout=10_000)
            assert "Video summary" in page.locator("#be-an-summary").inner_text()
        finally:
            vlm.fail_first_shot = False
            page.close()
            browser.close()
    assert not errors, errors
