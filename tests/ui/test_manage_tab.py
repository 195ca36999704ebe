"""The "Gestionar archivo" tab: through ``gradio_client`` (check, repair, remove a video, rename and
delete a database, index a URL) and in a real browser (Spanish, then English; screenshots in
``test-artifacts/``). Its own app and data directory: these events change the archive."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client.exceptions import AppError

from app.config import Settings
from app.services import Services
from app.ui.settings import UiSettings
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, ingest_paths
from pipeline.media import DecodeOptions
from pipeline.store import open_store

from testkit import chromium_browser, free_port, serve_app, slideshow_images, write_video

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def manage_app(tmp_path_factory, slideshow, tiny_clip_dir, tiny_encoder):
    root = tmp_path_factory.mktemp("manage")
    data = root / "data"
    photos = slideshow_images()
    second = write_video(root / "second.mp4", [(photos[3], 2.0), (photos[0], 2.0)])
    store = open_store(data)
    try:
        options = IngestOptions(decode=DecodeOptions(fps=2.0), progress=False)
        results = ingest_paths([slideshow, second], tiny_encoder, store, DataLayout(data), "archivo", options)
        results += ingest_paths([second], tiny_encoder, store, DataLayout(data), "prensa", options)
    finally:
        store.close()
    assert all(r.status == "indexed" for r in results)
    settings = Settings(data_dir=data, db="archivo", clip_model=f"local-dir:{tiny_clip_dir}", device="cpu",
                        store="edge", qdrant_url=None, qdrant_api_key=None, fps=2.0)
    ui = UiSettings(host="127.0.0.1", port=free_port(), ingest_roots=(root / "archive",), lang="es")
    services = Services(settings, DataLayout(data), VideoCatalog(data), open_store(data), tiny_encoder)
    with serve_app(settings, ui, services) as ctx:
        yield f"http://127.0.0.1:{ui.port}/", ctx, results[0].video_id, results[1].video_id


@pytest.fixture
def client(manage_app):
    from gradio_client import Client

    return Client(manage_app[0], verbose=False, download_files=False)


def _rows(table) -> list[dict]:
    return [dict(zip(table["headers"], row, strict=True)) for row in table["data"]]


def test_check_then_repair_lost_shots(client, manage_app):
    _, ctx, first, _ = manage_app
    summary, table, overview, videos, count, _picker = client.predict("archivo", "es", api_name="/check_database")
    assert "está en orden: 2 vídeos" in summary and not any(any(row) for row in table["data"])
    assert {r["Base de datos"]: r["Estado"] for r in _rows(overview)} == {"archivo": "correcta", "prensa": "correcta"}
    assert {r["Archivo"] for r in _rows(videos)} == {"slideshow.mp4", "second.mp4"} and "2 de 2" in count

    ctx.services.store.delete_video("archivo", first)  # the store loses a video's shots
    ctx.services.forget_counts()
    summary, table, overview, *_ = client.predict("archivo", "es", api_name="/check_database")
    [row] = _rows(table)
    assert row["Problema"] == "Vídeo sin tomas en el almacén" and row["Reparación"] == "sin reparar"
    assert "slideshow.mp4" in row["Vídeo"] and "tiene 1 problema (" in summary
    assert {r["Base de datos"]: r["Estado"] for r in _rows(overview)}["archivo"].startswith("revisar")

    summary, table, overview, *_ = client.predict("archivo", "es", api_name="/repair_database")
    [row] = _rows(table)
    assert row["Reparación"].startswith("registro y") and "reescritos a partir de los artefactos" in row["Reparación"]
    assert "1 problema reparado y 0 sin reparar" in summary
    assert ctx.services.store.count("archivo", first) == ctx.services.catalog.get("archivo", first).n_shots


def test_remove_a_video_needs_confirmation_and_keeps_shared_files(client, manage_app):
    _, ctx, _, second = manage_app
    with pytest.raises(AppError, match="casilla de confirmación"):
        client.predict("prensa", second, False, "es", api_name="/remove_video")
    with pytest.raises(AppError, match="«nada.mp4» no está en «prensa»"):
        client.predict("prensa", "nada.mp4", True, "es", api_name="/remove_video")
    status, confirmed, overview, videos, count, _ = client.predict("prensa", "second.mp4", True, "es",
                                                                   api_name="/remove_video")
    assert "Se quitó «second.mp4» de «prensa»" in status and "otra base de datos lo usa" in status
    assert confirmed is False and _rows(videos) == [] and "0 de 0" in count
    assert ctx.services.catalog.get("archivo", second) is not None and ctx.layout.video_dir(second).is_dir()


def test_rename_and_delete_a_database(client, manage_app):
    _, ctx, _, _ = manage_app
    ctx.services.store.ensure_collection("borrador", {"v": 4})
    for bad, message in {"mal nombre": "no vale como nombre", "archivo": "Ya existe"}.items():
        with pytest.raises(AppError, match=message):
            client.predict("borrador", bad, "es", api_name="/rename_database")
    status, name, picker = client.predict("borrador", "borrador2", "es", api_name="/rename_database")
    assert status == "«borrador» se llama ahora «borrador2» (0 tomas)." and name == ""
    assert picker["value"] == "borrador2" and "borrador2" in [c[0] for c in picker["choices"]]
    with pytest.raises(AppError, match="casilla"):
        client.predict("borrador2", False, "es", api_name="/delete_database")
    status, confirmed, picker = client.predict("borrador2", True, "es", api_name="/delete_database")
    assert status.startswith("Se borró «borrador2»") and picker["value"] == "archivo"
    assert "borrador2" not in ctx.services.databases() and "borrador" not in ctx.services.databases()


def test_a_url_goes_through_the_one_validator(client, manage_app):
    with pytest.raises(AppError, match="Pegue la URL"):
        client.predict("archivo", "  ", "es", api_name="/ingest_url")
    with pytest.raises(AppError, match=r"No se pudo indexar http://127\.0\.0\.1:9/v\.mp4: El servidor «127\.0\.0\.1» no está entre los sitios de vídeo permitidos"):
        client.predict("archivo", "http://127.0.0.1:9/v.mp4", "es", api_name="/ingest_url")


@pytest.mark.browser
def test_manage_tab_in_the_browser(manage_app):
    """The warning above the tabs names the damaged database until the repair; the tab in Spanish and
    English. Screenshots: test-artifacts/ui-manage*.png."""
    url, ctx, first, _ = manage_app
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    ctx.services.store.delete_video("archivo", first, min_shot_index=1)
    ctx.services.forget_counts()
    with chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="es-ES")
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        try:
            page.goto(url)
            banner = page.locator("#be-warnings")
            banner.get_by_text("Se han perdido tomas").wait_for(timeout=30_000)
            assert "«archivo»" in banner.inner_text()
            page.get_by_role("tab", name="Gestionar archivo").click()
            page.click("#be-manage-check")
            page.locator("#be-manage-check-summary").get_by_text("tiene 1 problema (").wait_for(timeout=60_000)
            assert "Faltan tomas en el almacén" in page.locator("#be-manage-check-table").inner_text()
            page.screenshot(path=str(artifacts / "ui-manage-check.png"), full_page=True)
            page.click("#be-manage-repair")
            page.locator("#be-manage-check-summary").get_by_text("reparado y 0 sin reparar").wait_for(timeout=60_000)
            page.wait_for_function("() => !document.querySelector('#be-warnings').innerText.includes('perdido')",
                                   timeout=30_000)
            assert "correcta" in page.locator("#be-manage-overview").inner_text()
            page.screenshot(path=str(artifacts / "ui-manage.png"), full_page=True)

            page.get_by_label("English").check()
            page.get_by_role("button", name="Check", exact=True).wait_for(timeout=20_000)
            assert page.get_by_role("tab", name="Manage archive").count() == 1
            page.get_by_text("Rename or delete the database").wait_for(timeout=10_000)
            page.wait_for_function("() => !document.querySelector('#be-manage-check-summary').innerText.trim()",
                                   timeout=10_000)  # the Spanish report is not left on screen as current
            assert "Problem" in page.locator("#be-manage-check-table").inner_text()
            page.screenshot(path=str(artifacts / "ui-manage-en.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors


def test_the_app_starts_on_a_damaged_catalog_and_names_it(tmp_path, tiny_encoder):
    """Issue 13, point 8: the web app is built (no traceback), its warning line names the damaged file."""
    from app.ui.app import start

    data = tmp_path / "data"
    (data / "catalog").mkdir(parents=True)
    damaged = data / "catalog" / "catalog.sqlite3"
    damaged.write_bytes(b"\0not sqlite" * 300)
    settings = Settings(data_dir=data, db="archivo", clip_model="local-dir:/nowhere", device="cpu", store="edge",
                        qdrant_url=None, qdrant_api_key=None, fps=2.0)
    services = Services(settings, DataLayout(data), VideoCatalog(data), open_store(data), tiny_encoder)
    ctx, demo = start(settings, UiSettings(port=free_port(), ingest_roots=(tmp_path,)), services)
    try:
        [banner] = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "be-warnings"]
        assert str(damaged) in banner.value and "Gestionar archivo" in banner.value
    finally:
        demo.close()
        ctx.close()
        services.close()
