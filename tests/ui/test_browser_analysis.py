"""The paths of issue 12 (points 1-4, 7, 8, 11) walked in a real browser (Debian's chromium driven
by Playwright), in Spanish and in English, with screenshots in ``test-artifacts/``:

- Configuración: allowed servers as a list, a refused address said in the page's language with
  no stale "Configuración guardada" under it, "Probar conexión", the vLLM/Ollama how-to, and
  edited instructions that survive a reload;
- Análisis de vídeo: a failed shot said in the summary, not hidden;
- Análisis masivo: a batch that survives a reload (listed with "vídeo 1 de 1 · … %"), is
  cancelled, resumed, shown with its valid/failed shots, then in English; a batch whose model
  is down stops ("Job stopped") with its video not started;
- Indexar vídeos: an ingest job, its progress line and table;
- Evaluación: a Spanish Excel log with bad lines, skipped and listed, percentages.

The models are the fake OpenAI-compatible server, the real Whisper base and the tiny random
CLIP model: this proves what the pages say and do, never the quality of an analysis.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from testkit import ARTIFACTS, FakeVLM, chromium_browser

pytestmark = [pytest.mark.browser, pytest.mark.model]

ROOT = Path(__file__).resolve().parents[2]
SHOT = {
    "summary": "Una fotografía fija.", "setting": "estudio", "people": {"count": 1, "apparent_roles": ["astronauta"]},
    "actions": [], "objects": ["traje"], "on_screen_text": None, "speech": None,
    "intolerance": {"present": False, "type": None, "target_group": None, "evidence": None, "severity": "none"},
}
SUMMARY = {"summary": "Cuatro fotografías.", "main_topics": ["espacio"]}
MARKER = "INSTRUCCIONES-EDITADAS-EN-EL-NAVEGADOR"


@pytest.fixture(scope="module")
def vlm():
    server = FakeVLM(SHOT, SUMMARY)
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="es-ES")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    yield page
    context.close()
    assert not errors, errors


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def pick(page, elem_id: str, value: str) -> None:
    """Type a value into a Gradio dropdown that takes custom values."""
    box = page.locator(f"#{elem_id} input")
    box.fill(value)
    box.press("Enter")


def configure(page, url: str, whisper: Path, model: str = "fake-qwen") -> None:
    tab(page, "Configuración")
    page.get_by_role("radio", name="openai").check()
    page.fill("#be-cfg-model textarea", model)
    pick(page, "be-cfg-url", url)
    pick(page, "be-cfg-whisper", str(whisper))
    page.click("#be-cfg-save")
    page.locator("#be-cfg-status").get_by_text("Configuración guardada").wait_for(timeout=60_000)


@pytest.fixture(scope="module")
def restricted_url(tmp_path_factory, tiny_clip_dir, tiny_encoder, vlm):
    """A second app, as deployed by default (BUSCA_UI_MODELS=restricted), that allows the fake
    server and an Ollama address; its own empty data directory."""
    from app.config import Settings
    from app.services import Services
    from app.ui.settings import UiSettings
    from pipeline.index import DataLayout, VideoCatalog
    from pipeline.store import open_store

    from testkit import free_port, serve_app

    data = tmp_path_factory.mktemp("restricted") / "data"
    settings = Settings(data_dir=data, db="archivo", clip_model=f"local-dir:{tiny_clip_dir}", device="cpu",
                        store="edge", qdrant_url=None, qdrant_api_key=None, fps=2.0)
    ui = UiSettings(port=free_port(), ingest_roots=(data,), lang="es")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("BUSCA_UI_MODELS", "restricted")
        env.setenv("BUSCA_VLM_BACKEND", "openai")
        env.setenv("BUSCA_VLM_URL", vlm.url)
        env.setenv("BUSCA_VLM_URLS", "http://ollama:11434/v1")
        env.setenv("BUSCA_VLM_MODEL", "fake-qwen")
        services = Services(settings, DataLayout(data), VideoCatalog(data), open_store(data, backend="edge"),
                            tiny_encoder)
        with serve_app(settings, ui, services):
            yield f"http://127.0.0.1:{ui.port}/"


def test_configuracion_offers_the_allowed_servers_and_refuses_others_in_the_users_language(page, restricted_url, vlm):
    page.goto(restricted_url)
    tab(page, "Configuración")
    assert "Servidores autorizados por el administrador" in page.locator("#be-cfg-url").inner_text()
    page.locator("#be-cfg-url input").click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=30_000)
    assert {o.inner_text().strip("✓ \n") for o in options.all()} == {vlm.url, "http://ollama:11434/v1"}
    page.keyboard.press("Escape")
    page.click("#be-cfg-save")
    page.locator("#be-cfg-status").get_by_text("Configuración guardada").wait_for(timeout=60_000)
    page.locator("#be-cfg-models").get_by_text("responde y sirve «fake-qwen»").wait_for(timeout=60_000)

    pick(page, "be-cfg-url", "http://192.168.1.5:8000/v1")  # a free address: refused, and why
    page.click("#be-cfg-save")
    page.get_by_text("no está autorizada en este servidor").first.wait_for(timeout=60_000)
    assert "Por seguridad" in page.locator(".toast-body").first.inner_text()
    assert "guardada" not in page.locator("#be-cfg-status").inner_text()  # no stale message under the error
    assert page.locator("#be-cfg-models").inner_text().strip() == ""  # nor a stale model status
    page.locator("#be-cfg-howto").get_by_text("Cómo conectar un modelo").click()
    page.locator("#be-cfg-howto").get_by_text("ollama pull qwen2.5vl:7b").wait_for(timeout=5_000)
    shot(page, "ui-config-refused-es.png")

    page.get_by_label("English").check()  # the same refusal, in English
    page.get_by_role("tab", name="Settings", exact=True).wait_for(timeout=30_000)
    assert "Servers allowed by the administrator" in page.locator("#be-cfg-url").inner_text()
    page.locator(".toast-body").first.locator("xpath=..").get_by_role("button").first.click()  # close the toast
    pick(page, "be-cfg-url", "http://10.0.0.9:8000/v1")
    page.click("#be-cfg-save")
    page.get_by_text("is not allowed on this server").first.wait_for(timeout=60_000)
    shot(page, "ui-config-refused-en.png")


def test_configuracion_tests_the_models_and_keeps_edited_instructions(page, running_app, vlm, whisper_base_dir):
    page.goto(running_app.url)
    tab(page, "Configuración")
    page.get_by_role("radio", name="openai").check()
    page.fill("#be-cfg-model textarea", "fake-qwen")
    pick(page, "be-cfg-url", vlm.url)  # BUSCA_UI_MODELS=open here (the tests' app): a model folder may be given
    page.click("#be-cfg-save")
    page.locator("#be-cfg-status").get_by_text("Configuración guardada").wait_for(timeout=60_000)
    pick(page, "be-cfg-whisper", str(whisper_base_dir))
    page.click("#be-cfg-test")  # Probar conexión: each model's state, nothing saved
    page.locator("#be-cfg-models").get_by_text("encontrado en este equipo").wait_for(timeout=60_000)
    assert page.locator("#be-cfg-models .be-model-ok").count() == 2

    area = page.locator("#be-cfg-instructions textarea")
    area.fill("Describe el plano. ")
    area.press_sequentially(MARKER)  # typed: Gradio's input event follows keystrokes
    page.locator("#be-cfg-status").get_by_text("cambios sin guardar").wait_for(timeout=30_000)
    page.wait_for_timeout(3000)  # the browser storage is written by each keystroke's input event (a busy CPU here)
    page.reload()
    tab(page, "Configuración")
    page.wait_for_function(
        "m => document.querySelector('#be-cfg-instructions textarea').value.includes(m)", arg=MARKER,
        timeout=60_000)  # edited instructions survive a reload
    assert "fake-qwen" in page.locator("#be-cfg-model textarea").input_value()  # and the saved settings
    page.locator("#be-cfg-status").get_by_text("cambios sin guardar").wait_for(timeout=30_000)
    shot(page, "ui-config-es.png")


def test_a_batch_survives_a_reload_is_cancelled_resumed_and_read_in_both_languages(
        page, running_app, vlm, slideshow, whisper_base_dir):
    folder = running_app.ingest_root / "navegador"
    folder.mkdir(exist_ok=True)
    shutil.copyfile(slideshow, folder / "entrevista.mp4")
    page.goto(running_app.url)
    configure(page, vlm.url, whisper_base_dir)
    tabs = [tab.inner_text() for tab in page.get_by_role("tab").all()]  # a State inside gr.Tabs broke this once
    assert tabs == ["Buscar", "Evaluación", "Indexar vídeos", "Explorar", "Gestionar archivo", "Análisis de vídeo",
                    "Análisis masivo", "Configuración"], tabs

    tab(page, "Análisis de vídeo")  # one failed shot: said in the summary
    page.set_input_files("#be-an-file input[type=file]", str(folder / "entrevista.mp4"))
    page.locator("#be-an-file").get_by_text("entrevista.mp4").wait_for(timeout=120_000)
    vlm.fail_first_shot = True
    try:
        page.click("#be-an-run")
        page.locator("#be-an-summary").get_by_text("no tienen un análisis válido").wait_for(timeout=180_000)
    finally:
        vlm.fail_first_shot = False
    assert page.locator(".be-shot.be-shot-error").count() == 1
    shot(page, "ui-analysis-es.png")

    tab(page, "Análisis masivo")
    vlm.delay_s = 4.0  # a slow model: time to reload and cancel
    try:
        page.fill("#be-batch-lines textarea", f"{folder}\n/etc\n")
        page.click("#be-batch-run")
        page.locator("#be-batch-progress").get_by_text("Descripción · vídeo 1 de 1").wait_for(timeout=180_000)
        page.reload()  # the job goes on on the server; the reloaded page finds it
        tab(page, "Análisis masivo")
        progress = page.locator("#be-batch-progress")
        progress.get_by_text("vídeo 1 de 1 · entrevista.mp4").wait_for(timeout=60_000)
        assert page.locator("#be-batch-table").get_by_text("en curso").count() >= 1  # the table is not hidden
        assert "en curso" in page.locator("#be-batch-jobs").inner_text()
        shot(page, "ui-batch-running-es.png")
        page.click("#be-batch-cancel")
        page.locator("#be-batch-status").get_by_text("Trabajo cancelado").wait_for(timeout=90_000)
        assert "no iniciado" in page.locator("#be-batch-table").inner_text()
        assert "cancelado" in page.locator("#be-batch-jobs").inner_text()
        shot(page, "ui-batch-cancelled-es.png")
    finally:
        vlm.delay_s = 0.0

    page.click("#be-batch-resume")  # the job is the one shown in the list
    page.locator("#be-batch-status").get_by_text("1 analizados").wait_for(timeout=180_000)
    table = page.locator("#be-batch-table").inner_text()
    assert "Planos válidos" in table and "Planos con error" in table and "analizado" in table
    shot(page, "ui-batch-es.png")

    page.get_by_label("English").check()
    page.wait_for_function("() => document.querySelector('#be-batch-table').innerText.includes('Valid shots')",
                           timeout=30_000)
    assert "analysed" in page.locator("#be-batch-table").inner_text()
    configure_en = page.get_by_role("tab", name="Settings", exact=True)
    configure_en.click()
    pick(page, "be-cfg-url", "http://127.0.0.1:9/v1")  # a server that is down
    page.click("#be-cfg-save")
    page.locator("#be-cfg-models").get_by_text("cannot connect to the server").wait_for(timeout=60_000)
    page.get_by_role("tab", name="Batch analysis", exact=True).click()
    page.fill("#be-batch-lines textarea", str(folder))
    page.click("#be-batch-run")
    page.locator("#be-batch-status").get_by_text("Job stopped").wait_for(timeout=120_000)
    assert "not started" in page.locator("#be-batch-table").inner_text()
    assert "Job stopped" in page.locator("#be-batch-progress").inner_text()
    shot(page, "ui-batch-stopped-en.png")


def test_ingest_and_the_evaluation_of_a_real_log_in_both_languages(page, running_app, slideshow, tmp_path):
    logs = tmp_path / "registro_excel.csv"
    logs.write_bytes(("vídeo;inicio;fin;descripción\r\n"
                      "slideshow.mp4;0,0;2,0;UN ASTRONAUTA\r\n"
                      "slideshow.mp4;00:00:06:00;00:00:07:09;UN COHETE\r\n"
                      "slideshow.mp4;00:00:09;00:00:03;AL REVÉS\r\n"
                      "perdido.mp4;1;2;NADA\r\n").encode("cp1252"))
    page.goto(running_app.url)
    tab(page, "Indexar vídeos")  # ingest is a job too: its progress line, then the per-video table
    page.set_input_files("#be-ingest-files input[type=file]", str(slideshow))
    page.locator("#be-ingest-files").get_by_text(slideshow.name).wait_for(timeout=120_000)
    page.click("#be-ingest")
    page.locator("#be-ingest-summary").get_by_text("1 indexados").wait_for(timeout=120_000)
    assert "Terminado" in page.locator("#be-ingest-progress").inner_text()
    assert "indexado" in page.locator("#be-ingest-status").inner_text()
    assert "Indexar 1 vídeo en «archivo» · terminado" in page.locator("#be-ingest-jobs").inner_text()
    shot(page, "ui-ingest-es.png")

    tab(page, "Evaluación")
    page.set_input_files("#be-eval-file input[type=file]", str(logs))
    page.locator("#be-eval-file").get_by_text(logs.name).wait_for(timeout=120_000)
    page.click("#be-eval-run")
    summary = page.locator("#be-eval-summary")
    summary.get_by_text("Se omitió 1 línea mal formada").wait_for(timeout=60_000)
    assert "el vídeo no está indexado en esta base de datos" in summary.inner_text()
    assert " %" in page.locator("#be-eval-metrics").inner_text()
    assert page.locator("#be-eval-progress").get_by_text("Terminado").count() == 1
    shot(page, "ui-evaluate-es.png")
    page.get_by_label("English").check()
    page.get_by_role("tab", name="Evaluation", exact=True).wait_for(timeout=30_000)
    page.click("#be-eval-run")
    page.locator("#be-eval-summary").get_by_text("malformed line of the log was skipped").wait_for(timeout=60_000)
    shot(page, "ui-evaluate-en.png")
