"""Pure parts of the analysis tabs, without a server: the session settings, the model registry
(one transcriber and one describer, replaced and unloaded when the settings change), the job
folder and source checks of the batch tab, and the display of results."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from app.config import AnalysisSettings
from app.ui.analysis_format import BATCH_COLUMNS, batch_rows, config_markdown, shots_html, summary_markdown
from app.ui.analysis_models import AnalysisConfig, AnalysisModels, SharedEncoder
from app.ui.batch_jobs import job_dir, line_sources, list_jobs, new_job_id, place_uploads, source_lines
from app.ui.i18n import t
from app.ui.settings import served_paths
from pipeline.analysis import DEFAULT_INSTRUCTIONS, ItemResult, create_job
from pipeline.analysis.schema import ShotAnalysis, ShotDescription, VideoAnalysis, VideoSummary
from pipeline.errors import ConfigError

BASE = AnalysisSettings.from_env({"BUSCA_UI_MODELS": "open"})


class FakeModel:
    def __init__(self, settings: AnalysisSettings, device: str):
        self.settings, self.device, self.unloaded = settings, device, 0
        self.name = settings.whisper_model

    def unload(self) -> None:
        self.unloaded += 1


def _config(**changes) -> AnalysisConfig:
    values = {"vlm_backend": "openai", "vlm_url": "http://127.0.0.1:8000/v1", "vlm_model": "qwen", **changes}
    return AnalysisConfig(**values)


def test_defaults_come_from_the_environment_and_the_prompts():
    config = AnalysisConfig.from_settings(AnalysisSettings.from_env({"BUSCA_AUDIO_LANG": "auto"}))
    assert (config.audio_lang, config.vlm_backend, config.vlm_model) == ("auto", "transformers",
                                                                          "Qwen/Qwen2.5-VL-7B-Instruct")
    assert config.instructions == DEFAULT_INSTRUCTIONS and config.frames_per_shot == 4
    assert config.check(BASE).audio_lang is None  # auto = detect


def test_the_servers_api_key_never_reaches_the_page_nor_another_url():
    env = AnalysisSettings.from_env({"BUSCA_VLM_BACKEND": "openai", "BUSCA_VLM_URL": "http://vllm:8000/v1",
                                     "BUSCA_VLM_API_KEY": "del-servidor", "BUSCA_VLM_URLS": "http://otro:1/v1",
                                     "BUSCA_UI_VLM_MODELS": "qwen"})
    config = AnalysisConfig.from_settings(env)
    assert config.vlm_api_key == "" and config.vlm_url == "http://vllm:8000/v1"  # the page is built from this
    assert config.check(env).vlm_api_key == "del-servidor"  # the server's URL gets the server's key
    assert _config(vlm_url="http://otro:1/v1").check(env).vlm_api_key is None
    assert _config(vlm_url="http://otro:1/v1", vlm_api_key="mia").check(env).vlm_api_key == "mia"


def test_restricted_web_users_cannot_pick_other_servers_or_model_folders():
    """The default: a web user cannot make the app send requests to a URL of their choosing,
    nor load a model from a folder on the server."""
    env = AnalysisSettings.from_env({"BUSCA_VLM_URL": "http://vllm:8000/v1", "BUSCA_VLM_URLS": "http://ollama:11434/v1",
                                     "BUSCA_UI_VLM_MODELS": "qwen"})
    assert env.ui_models == "restricted"
    assert _config(vlm_url="http://vllm:8000/v1").check(env).vlm_url == "http://vllm:8000/v1"
    assert _config(vlm_url="http://ollama:11434/v1").check(env).vlm_url == "http://ollama:11434/v1"
    assert _config(vlm_url="http://vllm:8000/v1", whisper_model="small", vlm_model="Qwen/Qwen2.5-VL-3B-Instruct").check(env)
    with pytest.raises(ConfigError, match="not allowed here"):
        _config().check(env)  # 127.0.0.1 is not on the list
    refused = {"not allowed here": _config(vlm_url="http://169.254.169.254/v1"),
               "local model folders": _config(vlm_url="http://vllm:8000/v1", whisper_model="/etc/whisper"),
               "local model folders ": _config(vlm_backend="transformers", vlm_url="", vlm_model="../../srv/model")}
    for message, config in refused.items():
        with pytest.raises(ConfigError, match=message.strip()):
            config.check(env)
    with pytest.raises(ConfigError, match="BUSCA_UI_MODELS"):
        AnalysisSettings.from_env({"BUSCA_UI_MODELS": "maybe"})


def test_restricted_web_users_pick_only_the_catalogue_and_the_administrators_lists():
    """Red team: any Hugging Face id was accepted (the server would download it), relative
    folders too, and values outside the dropdowns. Now only the lists pass, unless ui_models=open."""
    env = AnalysisSettings.from_env({"BUSCA_VLM_URL": "http://vllm:8000/v1", "BUSCA_UI_VLM_MODELS": "qwen, my/served",
                                     "BUSCA_UI_WHISPER_MODELS": "large-v3-turbo"})
    ok = _config(vlm_url="http://vllm:8000/v1", vlm_model="my/served", whisper_model="large-v3-turbo", audio_lang="gl")
    assert ok.check(env).vlm_model == "my/served"
    assert _config(vlm_backend="transformers", vlm_url="", vlm_model="Qwen/Qwen2.5-VL-3B-Instruct").check(env)
    refused = {"is not offered here": [_config(vlm_url="http://vllm:8000/v1", vlm_model="evil/huge-model"),
                                       _config(vlm_url="http://vllm:8000/v1", whisper_model="org/whisper-x"),
                                       _config(vlm_url="http://vllm:8000/v1", audio_lang="xx")],
               "local model folders": [_config(vlm_url="http://vllm:8000/v1", vlm_model="./qwen"),
                                       _config(vlm_url="http://vllm:8000/v1", whisper_model="..\\w"),
                                       _config(vlm_backend="transformers", vlm_url="", vlm_model="~/m")]}
    for message, configs in refused.items():
        for config in configs:
            with pytest.raises(ConfigError, match=message):
                config.check(env)
    assert _config(vlm_url="http://vllm:8000/v1", vlm_model="evil/huge-model").check(replace(env, ui_models="open"))


def test_settings_are_checked_before_any_model_is_made():
    form = AnalysisConfig.from_form(" ES ", "", 3.0, "OpenAI", " qwen ", " http://h:1/v1 ", " k ", " x ")
    assert (form.audio_lang, form.whisper_model, form.vlm_backend, form.vlm_model, form.vlm_url, form.vlm_api_key,
            form.frames_per_shot, form.instructions) == ("es", "auto", "openai", "qwen", "http://h:1/v1", "k", 3, "x")
    settings = form.check(BASE)
    assert settings.vlm_api_key == "k" and settings.allowed_hosts == BASE.allowed_hosts
    bad = {"needs the server's base URL": _config(vlm_url=""), "http:// or https://": _config(vlm_url="ftp://h/v1"),
           "frames per shot": _config(frames_per_shot=9), "instructions are empty": _config(instructions=" "),
           "unknown VLM backend": _config(vlm_backend="llama"), "audio language": _config(audio_lang="español"),
           "model is empty": _config(vlm_model="")}
    for message, config in bad.items():
        with pytest.raises(ConfigError, match=message):
            config.check(BASE)


def test_models_are_made_once_per_configuration_and_the_old_one_is_unloaded():
    models = AnalysisModels("cpu", transcriber_factory=FakeModel, describer_factory=FakeModel)
    first = _config(whisper_model="base").check(BASE)
    transcriber, describer = models.transcriber(first), models.describer(first)
    assert models.transcriber(first) is transcriber and models.describer(first) is describer
    assert transcriber.device == "cpu"

    other_whisper = _config(whisper_model="small", instructions="otras").check(BASE)
    assert models.describer(other_whisper) is describer  # the describer does not depend on Whisper
    assert models.transcriber(other_whisper) is not transcriber and transcriber.unloaded == 1

    other_key = _config(vlm_api_key="nueva").check(BASE)
    assert models.describer(other_key) is not describer and describer.unloaded == 1
    local = AnalysisConfig(vlm_model="qwen", vlm_url="ignored").check(BASE)
    assert models.key("describer", local) == ("transformers", "qwen")
    current = models.transcriber(other_key), models.describer(other_key)
    models.close()
    assert [m.unloaded for m in current] == [1, 1]
    assert models.transcriber(other_key) is not current[0]  # made again, lazily, after close


def test_the_shared_encoder_cannot_be_unloaded_by_a_batch(tiny_encoder):
    from pipeline.analysis import analysis_stages

    shared = SharedEncoder(lambda: tiny_encoder)
    assert not hasattr(shared, "unload") and not hasattr(shared, "load")
    assert shared.vector_name == tiny_encoder.vector_name and shared.dim == tiny_encoder.dim
    segment = analysis_stages(None, None, shared, FakeModel(BASE, "cpu"), FakeModel(BASE, "cpu"))[1]
    assert segment.name == "segment" and segment.setup is None and segment.teardown is None


def test_job_ids_are_checked_before_they_name_a_folder(tmp_path):
    job_id = new_job_id()
    create_job(tmp_path / job_id, ["a.mp4", "b.mp4"], ["fetch", "describe"])
    (tmp_path / "not-a-job").mkdir()
    assert job_dir(tmp_path, f" {job_id} ") == tmp_path / job_id
    [entry] = list_jobs(tmp_path)
    assert (entry.job_id, entry.items, entry.done) == (job_id, 2, 0)
    assert list_jobs(tmp_path / "missing") == []
    for bad, message in {"../etc": "invalid job id", "": "invalid job id", f"{job_id}/..": "invalid job id",
                         "20000101-000000-abcdef": "does not exist"}.items():
        with pytest.raises(ConfigError, match=message):
            job_dir(tmp_path, bad)


def test_batch_lines_keep_urls_and_check_paths_like_the_ingest_folder(tmp_path):
    root, outside = tmp_path / "archive", tmp_path / "secret"
    (root / "lote").mkdir(parents=True)
    outside.mkdir()
    (outside / "x.mp4").write_text("x")
    (root / "lote" / "a.mp4").write_text("a")
    (root / "lote" / "notes.txt").write_text("n")
    (root / "lote" / "fuera.mp4").symlink_to(outside / "x.mp4")
    (root / "b.mp4").write_text("b")
    text = f"# comentario\n\nhttps://www.youtube.com/watch?v=abc\n {root / 'lote'} \n{root}/b.mp4\nfile:///etc/passwd\n"
    sources, skipped = line_sources(source_lines(text), [root])
    assert sources == ["https://www.youtube.com/watch?v=abc", str(root / "lote" / "a.mp4"), str(root / "b.mp4"),
                       "file:///etc/passwd"]  # URLs are validated by the fetch stage, which refuses this one
    assert [(s.key, s.path) for s in skipped] == [("path_outside", str(root / "lote" / "fuera.mp4"))]
    lines = {str(outside): "path_outside", f"{root}/../secret/x.mp4": "path_outside",
             str(tmp_path / "no-existe"): "path_outside",  # outside and missing: said alike (no existence oracle)
             str(root / "nada.mp4"): "path_missing", "bad\x00path": "path_missing"}
    sources, skipped = line_sources([*lines, f"{root}/b.mp4"], [root])  # refused lines skipped, the rest kept
    assert sources == [str(root / "b.mp4")]
    assert [(s.path, s.key) for s in skipped] == list(lines.items())


def test_uploads_are_placed_in_the_job_folder_under_their_own_names(tmp_path):
    one, two = tmp_path / "a" / "clip.mp4", tmp_path / "b" / "clip.mp4"
    for path in (one, two):
        path.parent.mkdir()
        path.write_text(path.parent.name)
    placed = [Path(p) for p in place_uploads([one, two], tmp_path / "job" / "uploads")]
    assert [p.relative_to(tmp_path / "job" / "uploads").as_posix() for p in placed] == ["00/clip.mp4", "01/clip.mp4"]
    assert [p.read_text() for p in placed] == ["a", "b"]


def _description(present: bool = False) -> ShotDescription:
    return ShotDescription.model_validate({
        "summary": "Un <b>plano</b>.", "setting": "plató", "people": {"count": 0, "apparent_roles": []},
        "actions": [], "objects": [], "on_screen_text": [], "speech": {"summary": "", "topics": [], "tone": "neutro"},
        "intolerance": {"present": present, "type": "racismo" if present else None, "target_group": None,
                        "evidence": "", "severity": "high" if present else "none"}})


def _analysis() -> VideoAnalysis:
    ok = ShotAnalysis(video_id="v", shot_index=0, start_s=0.0, end_s=2.5, status="ok", description=_description(True),
                      transcript="hola <script>", frames=["/data/videos/v/a.jpg", "/data/videos/v/b.jpg"])
    bad = ShotAnalysis(video_id="v", shot_index=1, start_s=2.5, end_s=4.0, status="error", error="invalid answer",
                       raw_output="<img src=x onerror=alert(1)>", frames=[])
    summary = VideoSummary(text="Resumen *breve*.", text_status="ok", shots_total=2, shots_ok=1, shots_failed=1,
                           flagged_shots=[0], max_severity="high", intolerance_types=["racismo"])
    return VideoAnalysis(video_id="v", source="<vídeo>.mp4", model="m", shots=[ok, bad], summary=summary)


def test_shot_cards_show_frames_times_transcript_json_or_the_raw_error_escaped():
    html = shots_html(_analysis(), "es")
    assert html.count('class="be-shot ') == 2 and "be-shot-flagged" in html and "be-shot be-shot-error" in html
    assert 'src="gradio_api/file=/data/videos/v/b.jpg"' in html  # the middle frame is the keyframe
    assert "00:00:00.000 – 00:00:02.500" in html and "intolerancia: alta · racismo" in html
    assert "hola &lt;script&gt;" in html and "Un &lt;b&gt;plano&lt;/b&gt;." in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    assert "Respuesta del modelo (texto sin procesar)" in html and "&quot;severity&quot;: &quot;high&quot;" in html
    assert "Shot 1" in shots_html(_analysis(), "en") and "Todavía no hay" in shots_html(None, "es")


def test_video_summary_and_batch_rows():
    text = summary_markdown(_analysis(), "es")
    assert text.startswith("### Resumen del vídeo · \\<vídeo\\>.mp4")
    assert "Resumen \\*breve\\*." in text and "**Planos señalados:** #0" in text and "**Gravedad máxima:** alta" in text
    assert "2 en total, 1 analizados, 1 con error" in text
    assert "**1 de 2 planos no tienen un análisis válido**" in text  # the failed shot is said first
    items = [ItemResult("0000-a", "/x/a.mp4", "partial", analysis=_analysis()),
             ItemResult("0001-b", "https://youtu.be/b", "failed", "fetch", "refused"),
             ItemResult("0002-c", "/x/c.mp4", "pending", "describe")]
    assert batch_rows(items, "es") == [["0000-a", "a.mp4", "analizado en parte", "", 2, 1, 1, 1, ""],
                                       ["0001-b", "https://youtu.be/b", "error", "descarga", "", "", "", "", "refused"],
                                       ["0002-c", "c.mp4", "no iniciado", "descripción", "", "", "", "", ""]]
    assert batch_rows(items[2:], "es", running=True)[0][2] == "pendiente"
    assert batch_rows(items[2:], "es", running=True, current="0002-c")[0][2] == "en curso"
    assert [t("en", c) for c in BATCH_COLUMNS][:3] == ["Item", "Source", "Status"]
    line = config_markdown(_config(vlm_api_key="secreto"), "es")
    assert "openai" in line and "127.0.0.1:8000" in line and "secreto" not in line


def test_jobs_and_url_downloads_are_never_served(tmp_path):
    _, blocked = served_paths(tmp_path / "data")
    root = (tmp_path / "data").resolve()
    assert {str(root / "jobs"), str(root / "downloads")} <= set(blocked)
