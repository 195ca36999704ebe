"""The web app through ``gradio_client``: every event named in the brief is callable by its api_name.

The tiny random model proves the wiring (query -> pipeline -> cards, details, refine, export,
ingest), never the quality of the ranking.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError


def _search(client, text="a cat", db="archivo", k=3, image=None, weight=0.5):
    return client.predict(db, text, image, weight, k, False, [], api_name="/search")


def test_api_lists_the_named_endpoints(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/search", "/refine", "/details", "/export", "/export_selection", "/similar", "/clear", "/ingest",
            "/ingest_folder", "/explore", "/databases", "/videos"} <= names


def test_search_returns_cards_and_records_then_details_open_the_shot(client, running_app):
    cards, status, relevant, _not_relevant, records, _files = _search(client, k=3)
    assert 1 <= len(records) <= 3 and "resultado" in status
    assert [r["rank"] for r in records] == list(range(1, len(records) + 1))
    assert "Recurso #1" in cards and "Más información" in cards and "gradio_api/file=" in cards
    assert "👍 relevante" in cards and "Buscar similares" in cards and "Puntuación" in cards
    assert all(r["source"] == "slideshow.mp4" and "thumbnail_path" not in r for r in records)  # no server paths
    assert all(r["end_s"] <= r["duration_s"] + 1e-9 for r in records)  # clamped to the video's duration
    assert [c[1] for c in relevant["choices"]] == [r["point_id"] for r in records]

    player, info, strip, shot_bar = client.predict(records[0]["point_id"], api_name="/details")
    media = Path(player["value"]["path"])
    assert media.parent == running_app.data_dir / "media" and media.suffix == ".mp4"  # served in place, not copied
    assert player["playback_position"] == pytest.approx(records[0]["start_s"])
    assert "Recurso #1" in info and records[0]["start_tc"] in info
    assert f"{records[0]['video_id']}:{records[0]['shot_index'] + 1}" in info  # the reference --like takes
    assert len(strip["value"]) >= 1 and strip["selected_index"] is not None
    assert f'data-in="{records[0]["start_s"]:.3f}"' in shot_bar and "Entrada" in shot_bar


def test_text_and_image_query_uses_the_weight(client, running_app):
    thumb = next((running_app.data_dir / "videos").rglob("shot_0001.jpg"))
    *_, records, _ = _search(client, text="a rocket", image=handle_file(str(thumb)), weight=1.0, k=1)
    assert records[0]["shot_index"] == 1  # weight 1 = the image alone: its own shot comes first


def test_empty_query_bad_image_and_missing_database_get_clear_messages(client, tmp_path):
    with pytest.raises(AppError, match="Consulta vacía"):
        _search(client, text="   ")
    with pytest.raises(AppError, match="«nada» no existe"):
        _search(client, db="nada")
    with pytest.raises(AppError, match="Nombre de base de datos no válido"):
        _search(client, db="../edge")
    fake = tmp_path / "falso.jpg"
    fake.write_text("esto no es una imagen")
    with pytest.raises(AppError, match=r"El archivo no es una imagen válida .*: «falso\.jpg»\.$") as refused:
        _search(client, text="", image=handle_file(str(fake)))
    assert "/tmp" not in str(refused.value) and "gradio" not in str(refused.value)  # no upload path


def test_refine_keeps_marked_shots_and_export_writes_spanish_csv_and_json(client):
    *_, records, _ = _search(client, k=4)
    marked = records[0]["point_id"]
    *_, refined, _ = client.predict([marked], [], "rocchio", api_name="/refine")
    assert refined[0]["point_id"] == marked and refined[0]["mark"] == "relevant"  # kept on top, marked
    assert marked not in {r["point_id"] for r in refined[1:]}
    with pytest.raises(AppError, match="Marque al menos"):
        client.predict([], [], "rocchio", api_name="/refine")
    with pytest.raises(AppError, match="a la vez relevante y no relevante"):
        client.predict([marked], [marked], "rocchio", api_name="/refine")

    files = client.predict("csv_es", "frames", api_name="/export")["value"]
    paths = sorted((Path(f["path"]) for f in files), key=lambda p: p.suffix)  # each in its own folder: no order
    assert [p.suffix for p in paths] == [".csv", ".edl", ".json"]  # the EDL: tests/ui/test_known_item_tools.py
    paths = [paths[0], paths[2]]
    assert not any(p.is_relative_to(Path.cwd()) for p in paths)
    rows = list(csv.DictReader(paths[0].read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert [int(r["Puesto"]) for r in rows] == list(range(1, len(refined) + 1))
    assert rows[0]["Marca"] == "relevante" and rows[0]["Consulta"] == "a cat" and rows[0]["Base de datos"] == "archivo"
    assert rows[0]["Modelo"] == "local-dir" and rows[0]["Fecha de exportación"]
    assert "," in rows[0]["Puntuación"] or rows[0]["Puntuación"] in ("0", "1")  # decimal comma
    assert all(len(r["Entrada"].split(":")) == 4 for r in rows)  # HH:MM:SS:FF at the video's 10 fps
    document = json.loads(paths[1].read_text(encoding="utf-8"))
    assert document["provenance"]["query"] == "a cat" and document["results"][0]["point_id"] == refined[0]["point_id"]


def test_more_like_this_through_the_api_excludes_the_shot(client):
    *_, records, _ = _search(client, k=4)
    shot = records[0]["point_id"]
    similar = client.predict("archivo", shot, 5, False, api_name="/similar")
    assert similar and shot not in {r["point_id"] for r in similar}
    with pytest.raises(AppError, match="no longer in database"):
        client.predict("archivo", "00000000-0000-0000-0000-000000000000", 5, False, api_name="/similar")


def test_ingest_uploads_reports_each_file_and_places_media_in_the_data_dir(client, running_app, slideshow, tmp_path):
    broken = tmp_path / "roto.mp4"
    broken.write_text("not a video")
    table, summary, _db, videos, *_ = client.predict([handle_file(str(slideshow)), handle_file(str(broken))], "subidas",
                                                 False, api_name="/ingest")
    rows = {row[0]: row for row in table["data"]}
    assert rows["slideshow.mp4"][1].startswith("indexado") and rows["roto.mp4"][1] == "error"
    assert "roto.mp4" in rows["roto.mp4"][5]
    assert "1 indexados, 1 con error" in summary
    assert [row[1] for row in videos["data"]] == [running_app.video_id]
    media = list((running_app.data_dir / "media").glob(f"{running_app.video_id}.*"))
    assert media and media[0].stat().st_size == slideshow.stat().st_size
    assert "subidas" in client.predict(api_name="/databases")


def test_ingest_folder_accepts_the_allowed_root_and_refuses_anything_else(client, running_app, slideshow):
    folder = running_app.ingest_root / "lote"
    folder.mkdir(exist_ok=True)
    (folder / "copia.mp4").write_bytes(slideshow.read_bytes())
    (folder / "fuera.mp4").symlink_to(slideshow)  # a link leading out of the allowed root
    table, summary, *_ = client.predict(str(folder), "carpeta", False, api_name="/ingest_folder")
    status = {row[0]: row[1] for row in table["data"]}
    assert status["copia.mp4"].startswith("indexado") and status["fuera.mp4"] == "error", summary

    refused = {
        str(running_app.ingest_root.parent): "fuera de las carpetas permitidas",
        f"{folder}/../..": "fuera de las carpetas permitidas",
        str(folder / "no-existe"): "no existe",
        str(folder / "copia.mp4"): "no es una carpeta",
        "": "Escriba la ruta",
    }
    for path, message in refused.items():
        with pytest.raises(AppError, match=message):
            client.predict(path, "carpeta", False, api_name="/ingest_folder")


def test_explore_gives_map_legend_timeline_and_thumbnails(client, running_app):
    summary, chart, timeline, thumbs, _player = client.predict("archivo", running_app.video_id, "pca",
                                                               api_name="/explore")
    assert "slideshow.mp4" in summary and "toma" in summary
    assert chart.count("<circle") >= 8 and "data-t=" in chart and "Clase 1" in chart and "be-legend" in chart
    assert "Línea de tiempo de tomas del vídeo" in timeline and "be-tl-bar" in timeline and "data-t=" in timeline
    assert len(thumbs) >= 1 and Path(thumbs[0]["image"]["path"]).is_file()


def test_server_serves_thumbnails_but_never_the_store_or_catalog(running_app):
    data = running_app.data_dir.resolve()
    thumb = next((data / "videos").rglob("shot_0000.jpg"))
    forbidden = [data / "catalog" / "archivo.json", next((data / "edge").rglob("*.json")), Path(__file__).resolve()]
    with httpx.Client(base_url=running_app.url) as http:
        assert http.get(f"gradio_api/file={thumb}").status_code == 200
        for path in forbidden:
            assert http.get(f"gradio_api/file={path}").status_code == 403, path


def test_login_is_required_when_configured(running_app, port):
    from app.ui.app import launch_options, start

    settings = running_app.ctx.services.settings
    ui = replace(running_app.ctx.ui, port=port, auth=(("ana", "clave"),))
    ctx, demo = start(settings, ui, running_app.ctx.services)  # a second app over the same services
    demo.launch(**launch_options(settings, ui), prevent_thread_lock=True, quiet=True)
    thumb = next((running_app.data_dir / "videos").rglob("shot_0000.jpg")).resolve()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/") as http:
            assert http.get(f"gradio_api/file={thumb}").status_code in (401, 403)
            assert http.post("login", data={"username": "ana", "password": "mal"}).status_code in (400, 401)
            assert http.post("login", data={"username": "ana", "password": "clave"}).status_code == 200
            assert http.get(f"gradio_api/file={thumb}").status_code == 200
    finally:
        demo.close()
        ctx.close()
