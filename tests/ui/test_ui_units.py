"""Pure parts of the web app, without a server: settings, folder checks, display formatting,
charts, and the explore data of pipeline/explore.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.config import ENVIRONMENT, Settings
from app.ui.charts import PALETTE, legend_html, map_svg, timeline_html
from app.ui.formatting import cards_html, details_markdown, md_escape, short_tc, shot_bar_html
from app.ui.i18n import EN, ES, decimal, t, tn
from app.ui.settings import UI_VARIABLES, UiSettings, parse_auth, read_auth_file, served_paths
from app.ui.tabs.ingest import FolderRefused, check_folder
from pipeline.errors import ConfigError
from pipeline.records import Scene, Segmentation, Shot
from pipeline.search.explore import FrameMap, subsample_indices


def _settings(data: Path) -> Settings:
    return Settings(data_dir=data, db="archivo", clip_model="x", device="cpu", store="edge", qdrant_url=None,
                    qdrant_api_key=None, fps=2.0)


def _record(rank=1, source="vídeo.mp4", start=6.0, end=8.0, mark=None) -> dict:
    return {"rank": rank, "score": 0.25, "point_id": f"p{rank}", "video_id": "0" * 20, "source": source,
            "shot_index": 1, "scene": 0, "class_id": 2, "start_s": start, "end_s": end, "thumbnail": "t.jpg",
            "start_tc": "00:00:06.000", "end_tc": "00:00:08.000", "thumbnail_path": "/data/videos/t.jpg",
            "db": "archivo", "duration_s": 10.0, "fps": 25.0, "mark": mark}


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
    for text in ("Recurso #1", "Puntuación", "Vídeo", "Más información", "00:00:06.000 – 00:00:08.000", "0,250",
                 "👍 relevante", "👎 no relevante", "Buscar similares", "☆ Selección"):
        assert text in html, text
    assert 'src="gradio_api/file=/data/videos/t.jpg"' in html
    assert "No hay resultados" in cards_html([], "es") and "Resource #1" in cards_html([_record()], "en")


def test_a_card_is_one_keyboard_stop_and_shows_its_mark_and_selection():
    html = cards_html([_record(1, mark="relevant"), _record(2, mark="not_relevant"), _record(3)], "es", {"p3"})
    assert html.count('tabindex="0"') == 3 and 'tabindex="-1"' in html  # buttons are reached by keys, not Tab
    assert html.count("be-mark-relevant") == 1 and html.count("be-mark-not_relevant") == 1
    assert 'data-action="relevant" aria-pressed="true"' in html and "★ En la selección" in html
    assert "Recurso #3" in html  # numbered by position on screen


def test_details_number_shots_from_one_and_explain_the_reference():
    text = details_markdown(_record(source="a_b*[c](d).mp4"), 1, None, "es")
    assert text.startswith("### Recurso #1 · a\\_b\\*\\[c\\](d).mp4")
    assert "**Toma:** 2 · 00:00:06.000 – 00:00:08.000 (2,0 s)" in text and "**Clase:** 3" in text
    assert "`" + "0" * 20 + ":2`" in text and "--like" in text
    assert md_escape("<b>|x|</b>") == "\\<b\\>\\|x\\|\\</b\\>"
    assert (short_tc(75.2), short_tc(3725.0)) == ("01:15", "1:02:05")


def test_shot_bar_marks_the_span_in_the_whole_video():
    bar = shot_bar_html(_record(start=6.0, end=8.0), "es")
    assert 'data-in="6.000" data-out="8.000" data-duration="10.000"' in bar
    assert "left:60.00%;width:20.00%" in bar and "Entrada 00:00:06.000 · Salida 00:00:08.000" in bar


def test_counts_agree_in_number_and_numbers_never_show_minus_zero():
    assert tn("es", "n_scenes", 1) == "1 escena" and tn("es", "n_scenes", 3) == "3 escenas"
    assert tn("en", "n_shots", 1) == "1 shot" and tn("en", "n_shots", 0) == "0 shots"
    assert decimal("es", -0.0001, 3) == "0,000" and decimal("en", -0.25, 2) == "-0.25"
    assert "-0,000" not in cards_html([{**_record(), "score": -0.0002}], "es")


def _segmentation() -> Segmentation:
    scenes = (Scene("v", 0, 0, 0, 4, 0.0, 2.0), Scene("v", 1, 1, 4, 10, 2.0, 5.0))
    shots = (Shot("v", 0, 0, 0, 0, 4, 1, 0.0, 2.0), Shot("v", 1, 1, 1, 4, 7, 5, 2.0, 3.5),
             Shot("v", 2, 1, 1, 7, 10, 8, 3.5, 5.0))
    classes = np.array([0] * 4 + [1] * 6)
    return Segmentation("v", classes, classes, scenes, shots, np.eye(3, 4, dtype=np.float32))


def test_timeline_draws_one_clickable_bar_per_scene_and_shot_with_timecode_tooltips():
    html = timeline_html(_segmentation(), 5.0, "es")
    assert "Línea de tiempo de tomas del vídeo (2 escenas y 3 tomas)" in html
    assert html.count('class="be-tl-bar"') == 5 and html.count(f"background:{PALETTE[1]}") == 3
    assert "Toma 3 · Clase 2 · 00:03.500 – 00:05.000" in html and 'data-t="3.500"' in html
    assert "be-tl-first" in html and "be-tl-last" in html  # the end ticks are aligned inwards
    one = Segmentation("v", np.zeros(4, int), np.zeros(4, int), _segmentation().scenes[:1],
                       _segmentation().shots[:1], np.eye(1, 4, dtype=np.float32))
    assert "(1 escena y 1 toma)" in timeline_html(one, 2.0, "es")
    assert "(2 scenes and 3 shots)" in timeline_html(_segmentation(), 5.0, "en")


def test_map_dots_carry_their_moment_and_the_legend_a_keyframe_per_class():
    fmap = FrameMap("v", "pca", np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32), np.arange(10) / 2,
                    _segmentation().frame_classes, np.arange(10), 10)
    svg = map_svg(fmap, "es")
    assert svg.count("<circle") == 10 and 'data-t="1.500"' in svg and "<title>Clase 1 · 00:01.500</title>" in svg
    assert f'fill="{PALETTE[0]}"' in svg and f'fill="{PALETTE[1]}"' in svg
    legend = legend_html(_segmentation(), {0: "/data/videos/v/x/thumbs/shot_0000.jpg"}, "es")
    assert "Clase 1" in legend and "Clase 2" in legend and "1 toma" in legend and "2 tomas" in legend
    assert "gradio_api/file=/data/videos/v/x/thumbs/shot_0000.jpg" in legend and 'data-t="2.000"' in legend


def test_subsample_indices_are_even_and_capped():
    assert subsample_indices(5, 10).tolist() == [0, 1, 2, 3, 4]
    picked = subsample_indices(10_000, 100)
    assert len(picked) == 100 and picked[0] == 0 and picked[-1] == 9_999 and np.all(np.diff(picked) > 0)
    with pytest.raises(ConfigError):
        subsample_indices(3, 0)
