"""The search tab's known-item tools through ``gradio_client`` and in a real browser (Spanish and
English, screenshots in ``test-artifacts/``): "A, then B" (second query box), a minimum score and
an order, "Buscar otras apariciones", subtitles, the EDL export, and deep links that open the player.

An app of its own, on a database where the tiny random-weight CLIP can tell the shots apart: flat
white, red and black frames (it merges real photos into one shot). ``orden.mp4`` shows white, red,
black; ``inverso.mp4`` the reverse; ``copia.mp4`` is two seconds of blue, then the first six seconds
of ``orden.mp4`` re-encoded with ffmpeg (MPEG-4, 30 fps). The tiny model proves wiring, never quality.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from app.config import Settings
from app.services import Services
from app.ui.settings import UiSettings
from pipeline.analysis import analysis_dir
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, ingest_paths
from pipeline.media import DecodeOptions
from pipeline.store import open_store

from testkit import chromium_browser, edit_video, free_port, serve_app, still_png, write_video

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ToolsApp:
    url: str
    data_dir: Path
    ids: dict[str, str]
    white: Path
    black: Path


@pytest.fixture(scope="module")
def tools_app(tmp_path_factory, tiny_clip_dir, tiny_encoder) -> ToolsApp:
    root = tmp_path_factory.mktemp("tools")
    white, red, black, blue = (np.full((240, 320, 3), c, np.uint8)
                               for c in ((255, 255, 255), (255, 0, 0), (0, 0, 0), (0, 0, 255)))
    forward = write_video(root / "orden.mp4", [(white, 3.0), (red, 3.0), (black, 3.0)], fps=25)
    backward = write_video(root / "inverso.mp4", [(black, 3.0), (red, 3.0), (white, 3.0)], fps=25)
    blue_png = still_png(root, "azul", blue, (320, 240))
    copy = edit_video(root / "copia.mp4", [(blue_png, 2.0, None), (forward, 0.0, 6.0)], size="320:240", fps=30,
                      codec=("-c:v", "mpeg4", "-q:v", "5"))
    data = root / "data"
    store = open_store(data, backend="edge")
    try:
        results = ingest_paths([forward, backward, copy], tiny_encoder, store, DataLayout(data), "escenas",
                               IngestOptions(decode=DecodeOptions(fps=2.0), progress=False), VideoCatalog(data))
    finally:
        store.close()
    assert all(r.status == "indexed" for r in results), [r.error for r in results]
    ids = {Path(r.path).name: r.video_id for r in results}
    settings = Settings(data_dir=data, db="escenas", clip_model=f"local-dir:{tiny_clip_dir}", device="cpu",
                        store="edge", qdrant_url=None, qdrant_api_key=None, fps=2.0)
    ui = UiSettings(host="127.0.0.1", port=free_port(), ingest_roots=(root,), lang="es")
    services = Services(settings, DataLayout(data), VideoCatalog(data), open_store(data, backend="edge"), tiny_encoder)
    with serve_app(settings, ui, services):
        yield ToolsApp(f"http://127.0.0.1:{ui.port}/", data, ids, still_png(root, "blanco", white, (320, 240)),
                       still_png(root, "negro", black, (320, 240)))


@pytest.fixture
def api(tools_app):
    return Client(tools_app.url, verbose=False, download_files=False)


def _search(api, image, then_image=None, within=10, min_score=0, sort="score", k=10):
    cards, status, _rel, _not, records, _files = api.predict(
        "escenas", "", handle_file(str(image)), 0.5, k, False, [], "", handle_file(str(then_image)) if then_image else None,
        within, min_score, sort, api_name="/search")
    return cards, status, records


def test_a_then_b_gives_ranked_pairs_in_order(api, tools_app):
    cards, status, pairs = _search(api, tools_app.white, tools_app.black)
    assert "Par #1" in cards and "pares" in status
    top = pairs[0]
    assert top["video_id"] == tools_app.ids["orden.mp4"] and top["then"]["start_s"] >= top["end_s"]
    assert all(p["then"]["start_s"] - p["end_s"] <= 10 for p in pairs)
    assert top["link"].endswith(f"?db=escenas&video={tools_app.ids['orden.mp4']}&t=0")
    assert tools_app.ids["inverso.mp4"] not in {p["video_id"] for p in pairs if p["score"] > 0.99}
    with pytest.raises(AppError, match="Refinar funciona"):
        api.predict([pairs[0]["point_id"]], [], "rocchio", api_name="/refine")
    # the second moment travels in the URL of the view
    query_url = api.predict(pairs[0]["point_id"], api_name="/details")  # opens it: the player at A
    assert query_url[0]["playback_position"] == pytest.approx(top["start_s"])


def test_minimum_score_and_order(api, tools_app):
    _, _, every = _search(api, tools_app.white)
    _, status, kept = _search(api, tools_app.white, min_score=0.9)
    assert kept == [r for r in every if r["score"] >= 0.9] and len(kept) < len(every)
    assert "Ocultos por debajo de 0,90" in status
    _, _, by_video = _search(api, tools_app.white, sort="video")
    assert [(r["source"], r["start_s"]) for r in by_video] == sorted((r["source"], r["start_s"]) for r in every)


def test_other_appearances_subtitles_and_edl(api, tools_app):
    otio = pytest.importorskip("opentimelineio", reason="pip install opentimelineio otio-cmx3600-adapter (dev)")
    _, _, records = _search(api, tools_app.white)
    first = next(r for r in records if r["video_id"] == tools_app.ids["orden.mp4"])
    api.predict(first["point_id"], api_name="/details")
    found = api.predict(api_name="/appearances")["value"]  # of the shot "Más información" shows
    assert "copia.mp4" in found and f"video={tools_app.ids['copia.mp4']}" in found and "Abrir" in found

    with pytest.raises(AppError, match="«orden.mp4» aún no tiene transcripción"):
        api.predict(api_name="/subtitles")
    transcript = analysis_dir(DataLayout(tools_app.data_dir), first["video_id"]) / "transcript.json"
    transcript.parent.mkdir(parents=True, exist_ok=True)
    transcript.write_text(json.dumps([{"video_id": first["video_id"], "start_s": 0.5, "end_s": 2.0,
                                       "text": "Un fondo blanco."}]), encoding="utf-8")
    files = api.predict(api_name="/subtitles")["value"]
    paths = sorted((Path(f["path"]) for f in files), key=lambda p: p.suffix)  # each file sits in its own cache folder
    assert [p.suffix for p in paths] == [".srt", ".vtt"]
    assert paths[1].read_text(encoding="utf-8").startswith("WEBVTT") and "Un fondo blanco." in paths[0].read_text()

    exported = [Path(f["path"]) for f in api.predict("csv_intl", "ms", api_name="/export")["value"]]
    edl = next(p for p in exported if p.suffix == ".edl")
    head, events = edl.read_text(encoding="utf-8").split("\n\n", 1)
    first_event = head + "\n\n" + events.split("\n\n")[0]  # the list mixes 25 and 30 fps: read one event
    rate = 30 if records[0]["source"] == "copia.mp4" else 25
    [clip] = list(otio.adapters.read_from_string(first_event, "cmx_3600", rate=rate).tracks[0])
    assert clip.name == records[0]["source"]
    assert clip.source_range.start_time.to_seconds() == pytest.approx(records[0]["start_s"], abs=1 / rate)
    assert events.count("\n* LINK: http://127.0.0.1:") == len(records)
    assert all(r["link"].startswith("http://127.0.0.1:") and "&t=" in r["link"] for r in records)


def test_url_state_carries_the_second_moment():
    from app.ui.urlstate import SearchParams

    params = SearchParams.from_query({"q": "una mujer entra", "then": "el hombre sale", "within": "30"})
    assert (params.text, params.then, params.within) == ("una mujer entra", "el hombre sale", 30.0)
    assert SearchParams.from_query({"q": "a", "then": "b", "within": "9999"}).within is None  # dropped, not trusted


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["es", "en"])
def test_browser_pairs_appearances_and_deep_link(tools_app, lang):
    words = {"es": ("Y después, en el mismo vídeo", "Par #1", "Buscar otras apariciones", "Buscar", "Coloque la imagen"),
             "en": ("And then, in the same video", "Pair #1", "Find other appearances", "Search", "Drop Image")}[lang]
    drop = "([sel, text]) => (document.querySelector(sel)?.innerText || '').includes(text)"
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    with chromium_browser() as browser:
        # the browser's locale is the other language: Gradio's own texts must follow the app's
        page = browser.new_page(viewport={"width": 1400, "height": 1100}, locale="en-US" if lang == "es" else "es-ES")
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(f"{tools_app.url}?lang={lang}")
        page.wait_for_function(drop, arg=["#be-image", words[4]], timeout=30_000)  # mounted in the app's language
        page.get_by_text(words[0]).click()
        page.wait_for_function(drop, arg=["#be-then-image", words[4]], timeout=30_000)
        page.locator("#be-image input[type=file]").set_input_files(str(tools_app.white))
        page.locator("#be-image img").wait_for(timeout=30_000)
        page.locator("#be-then-image input[type=file]").set_input_files(str(tools_app.black))
        page.locator("#be-then-image img").wait_for(timeout=30_000)
        page.get_by_role("button", name=words[3], exact=True).click()
        page.locator(".be-pair").first.wait_for(timeout=60_000)
        assert words[1] in page.locator(".be-pair").first.inner_text()
        page.screenshot(path=str(artifacts / f"ui-pairs-{lang}.png"), full_page=True)

        page.locator(".be-pair .be-more").first.click()
        page.locator("#be-appearances-btn").wait_for(timeout=30_000)
        assert page.locator("#be-appearances-btn").inner_text().strip() == words[2]
        page.locator("#be-appearances-btn").click()
        page.locator("#be-appearances li").first.wait_for(timeout=60_000)
        assert "copia.mp4" in page.locator("#be-appearances").inner_text()
        page.screenshot(path=str(artifacts / f"ui-appearances-{lang}.png"), full_page=True)
        page.wait_for_function("() => window.location.search.includes('video=')", timeout=30_000)
        assert f"video={tools_app.ids['orden.mp4']}" in page.url and "t=0" in page.url  # the address is a deep link

        # a deep link opens the player on the video at the moment
        copy = tools_app.ids["copia.mp4"]
        page.goto(f"{tools_app.url}?lang={lang}&db=escenas&video={copy}&t=4.5")
        page.wait_for_function(
            "() => { const v = document.querySelector('#be-details video');"
            " return v && v.readyState >= 1 && Math.abs(v.currentTime - 4.5) < 0.6; }", timeout=60_000)
        assert "copia.mp4" in page.locator("#be-info").inner_text()
        page.locator("#be-appearances-btn").click()  # the buttons act on the linked shot
        page.locator("#be-appearances li").first.wait_for(timeout=60_000)
        assert "orden.mp4" in page.locator("#be-appearances").inner_text()
        page.screenshot(path=str(artifacts / f"ui-deep-link-{lang}.png"), full_page=True)
    assert not errors, errors
