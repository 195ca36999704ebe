"""The analysis tabs (Análisis de vídeo, Análisis masivo, Configuración) through ``gradio_client``.

The browser walk-through is in ``test_browser_analysis.py``. The describer is the ``openai``
backend pointed at a fake OpenAI-compatible server on 127.0.0.1
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
from dataclasses import replace
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
        summary, shots, analysis, download, *_ = client.predict(handle_file(str(video)), "", api_name="/analyze_video")
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
    assert f"1 de {len(result.shots)} planos no tienen un análisis válido" in summary  # the failed shot is said
    assert f"#{rest[0].shot_index}" in summary and "media" in summary

    saved = Path(download["value"]["path"])
    assert saved.name == f"{video.stem}.analysis.json"
    assert VideoAnalysis.model_validate_json(saved.read_text(encoding="utf-8")).video_id == result.video_id
    frame = next(f for s in rest for f in s.frames)
    assert Path(frame).is_relative_to(running_app.data_dir.resolve() / "videos")
    with httpx.Client(base_url=running_app.url) as http:
        assert http.get(f"gradio_api/file={frame}").status_code == 200  # the shot images the cards show


def test_refused_urls_and_missing_input_give_clear_errors(client, running_app):
    """A refused URL is said in the user's language, with its reason (the validator's error codes),
    and the job keeps the cause for the server's log; a typed path is refused before any job."""
    refused = {"http://169.254.169.254/x": "169.254.169.254", "file:///etc/passwd": "only http and https",
               "http://127.0.0.1:9/video.mp4": "127.0.0.1"}
    said = {"http://169.254.169.254/x": "«169.254.169.254» no está entre los sitios de vídeo permitidos",
            "file:///etc/passwd": "Solo se aceptan direcciones http o https",
            "http://127.0.0.1:9/video.mp4": "«127.0.0.1» no está entre los sitios de vídeo permitidos"}
    for url, cause in refused.items():
        with pytest.raises(AppError, match=said[url]):
            client.predict(None, url, api_name="/analyze_video")
        job = running_app.ctx.jobs.jobs("analysis")[0]
        assert job.state == "failed" and cause in str(job.error)
    with pytest.raises(AppError, match="no es una URL"):
        client.predict(None, "/etc/passwd", api_name="/analyze_video")
    with pytest.raises(AppError, match="Suba un vídeo o pegue una URL"):
        client.predict(None, "  ", api_name="/analyze_video")


def test_settings_are_checked_and_the_instructions_can_be_restored(client, vlm):
    with pytest.raises(AppError, match="minimum value 1"):  # the slider checks its range
        client.predict("es", "base", 0, "openai", "m", vlm.url, "", "x", api_name="/save_config")
    with pytest.raises(AppError, match="El motor openai necesita la URL base del servidor"):
        client.predict("es", "base", 2, "openai", "m", "", "", "x", api_name="/save_config")
    with pytest.raises(AppError, match="Idioma del audio no válido: «español»"):
        client.predict("español", "base", 2, "openai", "m", vlm.url, "", "x", api_name="/save_config")
    with pytest.raises(AppError, match="Las instrucciones están vacías"):
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

    table, status, job, files, *_ = client.predict([handle_file(str(broken))], f"# servidor\n{folder}\n/etc\n",
                                                   api_name="/analyze_batch")
    rows = {row[1]: dict(zip(table["headers"], row, strict=True)) for row in table["data"]}
    assert rows["copia.mp4"]["Estado"] == "analizado" and rows["copia.mp4"]["Planos"] >= 1
    assert rows["copia.mp4"]["Planos señalados"] == rows["copia.mp4"]["Planos"]
    assert rows["roto.mp4"]["Estado"] == "error" and rows["roto.mp4"]["Etapa"] == "segmentación"
    assert "roto.mp4" in rows["roto.mp4"]["Error"]
    assert "1 analizados, 0 analizados en parte, 1 con error, 0 sin empezar" in status
    assert "Se omitió 1 línea: La ruta /etc está fuera de las carpetas permitidas" in status  # and the rest ran
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
    assert len(vlm.requests) == before and "1 analizados, 0 analizados en parte, 1 con error" in status  # nothing redone
    manifest = json.loads((running_app.data_dir / "jobs" / job_id / "manifest.json").read_text())
    attempts = {item["source"].rsplit("/", 1)[-1]: item["stages"]["segment"]["attempts"] for item in manifest["items"]}
    assert attempts == {"roto.mp4": 2, "copia.mp4": 1}  # the failed item is retried, the done one is not
    for bad, message in {"../../etc": "No hay ningún trabajo «../../etc»",
                         "20990101-000000-abcdef": "No hay ningún trabajo «20990101-000000-abcdef»"}.items():
        with pytest.raises(AppError, match=message):
            client.predict(bad, api_name="/resume_batch")


def test_a_model_server_that_is_down_is_found_before_any_segmentation(client, running_app, tmp_path):
    """Issue 12.3: the VLM is checked first, and the user reads why in Spanish (no English, no
    HF_HUB_OFFLINE); the batch stops once ("Trabajo detenido") with every video not started."""
    down = "http://127.0.0.1:9/v1"
    client.predict("es", "base", 2, "openai", "fake-qwen", down, "", "Describe.", api_name="/save_config")
    videos_before = set((running_app.data_dir / "videos").iterdir())
    clip = tmp_path / "nuevo.mp4"
    clip.write_bytes((running_app.data_dir / "media").glob("*").__next__().read_bytes())
    with pytest.raises(AppError) as info:
        client.predict(handle_file(str(clip)), "", api_name="/analyze_video")
    assert str(info.value).startswith("No se puede usar el modelo de visión y lenguaje «fake-qwen»: no se puede "
                                      f"conectar con el servidor {down}")
    folder = running_app.ingest_root / "caido"
    folder.mkdir(exist_ok=True)
    shutil.copyfile(clip, folder / "uno.mp4")
    table, status, *_ = client.predict([], str(folder), api_name="/analyze_batch")
    assert "Trabajo detenido: No se puede usar el modelo de visión y lenguaje" in status
    assert [row[2] for row in table["data"]] == ["no iniciado"]
    assert set((running_app.data_dir / "videos").iterdir()) == videos_before  # nothing was segmented


def test_probar_conexion_says_what_each_model_is(client, vlm, tmp_path):
    whisper = tmp_path / "whisper-ct2"
    whisper.mkdir()
    (whisper / "model.bin").write_bytes(b"x")
    models = client.predict("es", str(whisper), 2, "openai", "fake-qwen", vlm.url, "", "x", api_name="/test_connection")
    assert "✅ <b>Modelo de Whisper</b>" in models and "encontrado en este equipo" in models
    assert f"el servidor {vlm.url} responde y sirve «fake-qwen»" in models
    models = client.predict("es", str(whisper), 2, "openai", "llava", vlm.url, "", "x", api_name="/test_connection")
    assert f"❌ <b>Modelo de visión y lenguaje</b> <code>llava</code>: el servidor {vlm.url} responde, pero no " \
           "sirve «llava»; sirve: fake-qwen" in models
    assert not vlm.requests or all("messages" in r for r in vlm.requests)  # nothing asked of the model


def test_a_server_address_that_is_not_allowed_is_refused_in_the_users_language(client, running_app, vlm):
    """Issue 12.4: restricted (the default), the allowed servers are a list; a typed one is
    refused with the reason, in the page's language."""
    ctx = running_app.ctx
    open_env = ctx.analysis_env
    ctx.analysis_env = replace(open_env, ui_models="restricted", vlm_url="http://vllm:8000/v1",
                               vlm_urls=("http://ollama:11434/v1",), ui_vlm_models=("m",))  # the served name, listed
    try:
        with pytest.raises(AppError) as info:  # (the English page: the browser test)
            client.predict("es", "base", 2, "openai", "m", "http://192.168.1.5:8000/v1", "", "x",
                           api_name="/save_config")
        assert str(info.value).startswith(
            "La dirección «http://192.168.1.5:8000/v1» no está autorizada en este servidor. Por seguridad, la "
            "aplicación solo se conecta a los servidores de modelos que el administrador ha autorizado: "
            "http://vllm:8000/v1, http://ollama:11434/v1.") and "BUSCA_UI_MODELS=open" not in str(info.value)
        status, *_ = client.predict("es", "base", 2, "openai", "m", "http://ollama:11434/v1", "", "x",
                                    api_name="/save_config")
        assert status.startswith("Configuración guardada")
    finally:
        ctx.analysis_env = open_env


@pytest.mark.model
def test_a_video_with_no_valid_shot_is_never_analizado(client, running_app, vlm, slideshow, whisper_base_dir):
    """Issue 12.2: every shot fails validation -> the video is an error in the table, its summary
    says it was not analysed, and the CSV and JSONL say the same."""
    configure(client, vlm, whisper_base_dir)
    folder = running_app.ingest_root / "todo-mal"
    folder.mkdir(exist_ok=True)
    shutil.copyfile(slideshow, folder / "todo_mal.mp4")
    vlm.fail_all_shots = True
    try:
        summary, *_ = client.predict(handle_file(str(folder / "todo_mal.mp4")), "", api_name="/analyze_video")
        table, status, _job, files, *_ = client.predict([], str(folder), api_name="/analyze_batch")
    finally:
        vlm.fail_all_shots = False
    assert "Ningún plano tiene un análisis válido" in summary and "no se ha analizado" in summary
    assert "Planos señalados" not in summary  # nothing that reads like a result
    [row] = [dict(zip(table["headers"], r, strict=True)) for r in table["data"]]
    assert row["Estado"] == "error" and row["Etapa"] == "descripción" and row["Planos válidos"] == 0
    assert row["Planos con error"] == row["Planos"] >= 1 and row["Planos señalados"] in ("", None)
    assert row["Error"].startswith("Ningún plano tiene un análisis válido")
    assert "0 analizados, 0 analizados en parte, 1 con error" in status
    paths = {Path(f["path"]).suffix: Path(f["path"]) for f in files["value"]}
    [line] = [json.loads(x) for x in paths[".jsonl"].read_text(encoding="utf-8").splitlines()]
    assert (line["status"], line["failed_stage"], line["shots_ok"]) == ("failed", "describe", 0)
    assert line["summary"]["status"] == "failed"
    rows = list(csv.DictReader(io.StringIO(paths[".csv"].read_text(encoding="utf-8-sig"))))
    assert {r["item_status"] for r in rows} == {"failed"} and {r["shot_status"] for r in rows} == {"error"}
