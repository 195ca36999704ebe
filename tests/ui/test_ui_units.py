"""Pure parts of the web app, without a server: settings, folder checks, display formatting,
charts, and the explore data of pipeline/explore.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from app.config import ENVIRONMENT, Settings
from app.ui.charts import PALETTE, map_frame, timeline_svg
from app.ui.formatting import cards_html, details_markdown, md_escape, short_tc, write_exports
from app.ui.i18n import EN, ES, t
from app.ui.settings import UI_VARIABLES, UiSettings, parse_auth, read_auth_file, served_paths
from app.ui.tabs.ingest import FolderRefused, check_folder
from pipeline.errors import ConfigError
from pipeline.records import Scene, Segmentation, Shot
from pipeline.search.explore import FrameMap, subsample_indices


def _settings(data: Path) -> Settings:
    return Settings(data_dir=data, db="archivo", clip_model="x", device="cpu", store="edge", qdrant_url=None,
                    qdrant_api_key=None, fps=2.0)


def _record(rank=1, source="vídeo.mp4", start=6.0, end=8.0) -> dict:
    return {"rank": rank, "score": 0.25, "point_id": f"p{rank}", "video_id": "0" * 20, "source": source,
            "shot_index": 1, "scene": 0, "class_id": 2, "start_s": start, "end_s": end, "thumbnail": "t.jpg",
            "start_tc": "00:00:06.000", "end_tc": "00:00:08.000", "thumbnail_path": "/data/videos/t.jpg"}


def test_both_languages_have_the_same_keys_and_placeholders():
    assert ES.keys() == EN.keys()
    for key in ES:
        assert sorted(_fields(ES[key])) == sorted(_fields(EN[key])), key
    assert t("es", "search") == "Buscar" and t("en", "search") == "Search" and t("fr", "search") == "Buscar"


def _fields(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def test_ui_settings_defaults_are_safe(tmp_path):
    ui = UiSettings.from_env(_settings(tmp_path / "data"), env={})
    assert (ui.host, ui.port, ui.auth, ui.max_upload_mb, ui.lang) == ("127.0.0.1", 7860, (), 200, "es")
    assert ui.is_loopback and ui.ingest_roots == (Path("/archivo"),)  # documented; never the checkout's parent
    assert not UiSettings(host="0.0.0.0").is_loopback and ui.override(port=8000).port == 8000
    assert set(UI_VARIABLES) <= set(ENVIRONMENT)  # listed by python -m app --help


def test_ui_settings_from_environment_and_bad_values(tmp_path):
    env = {"BUSCA_HOST": "0.0.0.0", "BUSCA_PORT": "9000", "BUSCA_AUTH": "ana:s3cr:et, luis:x",
           "BUSCA_MAX_UPLOAD_MB": "50", "BUSCA_INGEST_ROOT": f"{tmp_path}/a:{tmp_path}/b", "BUSCA_LANG": "en_GB"}
    ui = UiSettings.from_env(_settings(tmp_path / "data"), env=env)
    assert ui.auth == (("ana", "s3cr:et"), ("luis", "x")) and ui.port == 9000 and ui.max_upload_mb == 50
    assert ui.ingest_roots == (tmp_path / "a", tmp_path / "b") and ui.lang == "en"
    for name, value in [("BUSCA_PORT", "http"), ("BUSCA_PORT", "70000"), ("BUSCA_LANG", "fr"),
                        ("BUSCA_AUTH", "nopassword"), ("BUSCA_MAX_UPLOAD_MB", "0")]:
        with pytest.raises(ConfigError, match=name.split("_", 1)[1] if name != "BUSCA_AUTH" else "user:password"):
            UiSettings.from_env(_settings(tmp_path), env={name: value})


def test_auth_file(tmp_path):
    path = tmp_path / "auth.txt"
    path.write_text("# users\nana:uno\n\nluis:dos\n")
    assert read_auth_file(path) == (("ana", "uno"), ("luis", "dos"))
    ui = UiSettings.from_env(_settings(tmp_path / "data"), env={"BUSCA_AUTH_FILE": str(path), "BUSCA_AUTH": "x:y"})
    assert ui.auth == (("ana", "uno"), ("luis", "dos")) and ui.auth_file == path.resolve()
    assert parse_auth("") == ()
    with pytest.raises(ConfigError, match="cannot read"):
        read_auth_file(tmp_path / "missing")


def test_served_paths_allow_media_and_thumbnails_and_block_the_store(tmp_path):
    allowed, blocked = served_paths(tmp_path / "data")
    root = (tmp_path / "data").resolve()
    assert allowed == [str(root / "videos"), str(root / "media")]
    assert {str(root / "edge"), str(root / "qdrant"), str(root / "catalog")} <= set(blocked)
    assert str(tmp_path / "auth.txt") in served_paths(tmp_path, (tmp_path / "auth.txt",))[1]


def test_check_folder_resolves_and_refuses_traversal(tmp_path):
    root = tmp_path / "archive"
    (root / "lote").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (root / "enlace").symlink_to(tmp_path / "secret")
    (root / "file.mp4").write_text("x")
    assert check_folder(f"  {root}/lote  ", [root]) == (root / "lote").resolve()
    cases = {"": "folder_empty", str(root / "nope"): "folder_missing", str(root / "file.mp4"): "folder_not_dir",
             f"{root}/lote/../../secret": "folder_outside", str(root / "enlace"): "folder_outside",
             str(tmp_path): "folder_outside", "bad\x00path": "folder_missing"}
    for text, key in cases.items():
        with pytest.raises(FolderRefused) as refused:
            check_folder(text, [root])
        assert refused.value.key == key, text


def test_cards_escape_file_names_and_show_the_original_fields():
    html = cards_html([_record(source='<img src=x onerror="alert(1)">.mp4')], "es")
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    for text in ("Recurso #1", "Score", "Video", "Más información", "00:00:06.000 – 00:00:08.000"):
        assert text in html
    assert 'src="gradio_api/file=/data/videos/t.jpg"' in html
    assert "No hay resultados" in cards_html([], "es") and "Resource #1" in cards_html([_record()], "en")


def test_details_markdown_and_escape():
    text = details_markdown(_record(source="a_b*[c](d).mp4"), None, "es")
    assert text.startswith("### Recurso #1 · a\\_b\\*\\[c\\](d).mp4")
    assert "00:00:06.000 – 00:00:08.000 (2.0 s)" in text and "**Clase:** 2" in text
    assert md_escape("<b>|x|</b>") == "\\<b\\>\\|x\\|\\</b\\>"
    assert (short_tc(75.2), short_tc(3725.0)) == ("01:15", "1:02:05")


def test_exports_write_csv_and_json_with_the_same_rows(tmp_path):
    records = [_record(1), _record(2, source="otro, con coma.mp4")]
    csv_path, json_path = write_exports(records, tmp_path / "r.csv", tmp_path / "r.json")
    rows = list(csv.DictReader(csv_path.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["source"] for r in rows] == ["vídeo.mp4", "otro, con coma.mp4"]
    assert [r["point_id"] for r in json.loads(json_path.read_text())] == ["p1", "p2"]
    assert "thumbnail_path" not in rows[0]


def _segmentation() -> Segmentation:
    scenes = (Scene("v", 0, 0, 0, 4, 0.0, 2.0), Scene("v", 1, 1, 4, 10, 2.0, 5.0))
    shots = (Shot("v", 0, 0, 0, 0, 4, 1, 0.0, 2.0), Shot("v", 1, 1, 1, 4, 7, 5, 2.0, 3.5),
             Shot("v", 2, 1, 1, 7, 10, 8, 3.5, 5.0))
    classes = np.array([0] * 4 + [1] * 6)
    return Segmentation("v", classes, classes, scenes, shots, np.eye(3, 4, dtype=np.float32))


def test_timeline_svg_draws_one_bar_per_scene_and_shot_coloured_by_class():
    svg = timeline_svg(_segmentation(), 5.0, "es")
    assert "Línea de tiempo de tomas del vídeo (2 escenas y 3 tomas)" in svg
    assert svg.count("<rect") == 5 and svg.count(f'fill="{PALETTE[1]}"') == 3
    assert "Toma 2 · Clase 1 · 00:00:03.500 – 00:00:05.000" in svg
    assert "(2 scenes and 3 shots)" in timeline_svg(_segmentation(), 5.0, "en")


def test_map_frame_has_one_row_per_point_and_a_colour_per_class():
    fmap = FrameMap("v", "pca", np.zeros((10, 2), np.float32), np.arange(10) / 2, _segmentation().frame_classes,
                    np.arange(10), 10)
    frame, colors = map_frame(fmap, "es")
    assert list(frame.columns) == ["x", "y", "Clase", "Tiempo"] and len(frame) == 10
    assert colors == {"Clase 0": PALETTE[0], "Clase 1": PALETTE[1]} and frame["Tiempo"].iloc[3] == "00:00:01.500"


def test_subsample_indices_are_even_and_capped():
    assert subsample_indices(5, 10).tolist() == [0, 1, 2, 3, 4]
    picked = subsample_indices(10_000, 100)
    assert len(picked) == 100 and picked[0] == 0 and picked[-1] == 9_999 and np.all(np.diff(picked) > 0)
    with pytest.raises(ConfigError):
        subsample_indices(3, 0)
