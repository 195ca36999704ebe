"""Review from the cards (marks, refinement rounds, the selection), exports people can open (parsed
back: the csv module with ``;``, openpyxl), and the search kept in the URL and the browser."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import pytest

from app.ui.exports import encoder_parts, provenance, slug, write_export
from app.ui.formatting import hit_record
from app.ui.review import (
    BASKET_LIMIT,
    apply_marks,
    clean_basket,
    keep_disjoint,
    keep_marked,
    set_mark,
    toggle_basket,
)
from app.ui.urlstate import DEFAULT_PREFS, SearchParams, clean_prefs
from pipeline.records import IndexedVideo, SearchHit

VIDEO = "0123456789abcdef0123"


def _record(i: int, source: str = "vídeo.mp4", mark=None) -> dict:
    hit = SearchHit(rank=i, score=0.5 - i / 10, point_id=f"p{i}", video_id=VIDEO, source=source, shot_index=i,
                    scene=0, class_id=1, start_s=2.0 * i, end_s=2.0 * i + 2.04, thumbnail="t.jpg")
    video = IndexedVideo(VIDEO, source, "/x", 10.0, 20, 5, 1, 2, "clip", "2026-01-01")
    return {**hit_record(hit, "/data/t.jpg", "archivo", video, 25.0), "mark": mark}


def test_a_shot_is_never_both_relevant_and_not_relevant():
    rel, neg = set_mark([], [], "a", "relevant")
    assert (rel, neg) == (["a"], [])
    rel, neg = set_mark(rel, neg, "a", "not_relevant")  # the other mark moves it
    assert (rel, neg) == ([], ["a"])
    assert set_mark(rel, neg, "a", "not_relevant") == ([], [])  # the same mark again unmarks
    assert keep_disjoint(["a", "b"], ["b", "c"], "relevant") == (["a", "b"], ["c"])
    assert keep_disjoint(["a", "b"], ["b", "c"], "not_relevant") == (["a"], ["b", "c"])
    with pytest.raises(ValueError):
        set_mark([], [], "a", "maybe")


def test_marked_shots_stay_on_top_and_marked_across_rounds():
    previous = [_record(i) for i in range(4)]
    new = [_record(i) for i in (5, 2, 6)]  # p2 comes back among the new results
    view = keep_marked(previous, new, ["p2"], ["p0"])
    assert [r["point_id"] for r in view] == ["p2", "p0", "p5", "p6"]
    assert [r["mark"] for r in view] == ["relevant", "not_relevant", None, None]
    again = keep_marked(view, [_record(7)], ["p2", "p5"], ["p0"])  # a second round keeps all three
    assert [r["point_id"] for r in again] == ["p2", "p5", "p0", "p7"]
    assert apply_marks(again, [], [])[0]["mark"] is None


def test_the_selection_collects_shots_across_searches_and_survives_bad_storage():
    basket = toggle_basket([], _record(1))
    basket = toggle_basket(basket, {**_record(2), "db": "otra"})
    assert [b["point_id"] for b in basket] == ["p1", "p2"] and "thumbnail_path" not in basket[0]
    assert [b["point_id"] for b in toggle_basket(basket, _record(1))] == ["p2"]  # again: out
    assert clean_basket([*basket, {"point_id": 3}, "x", {"point_id": "p9", "db": "a"}]) == basket
    assert clean_basket("not a list") == []
    many = [{**basket[0], "point_id": f"q{i}"} for i in range(BASKET_LIMIT + 5)]
    assert len(clean_basket(many)) == BASKET_LIMIT


def test_spanish_csv_export_parses_back_with_provenance_guarded_names_and_clamped_timecodes(tmp_path):
    records = [_record(1, mark="relevant"), _record(4, source="=1+2+3.mp4"), _record(2, source="@SUM(1+1).mp4")]
    assert records[1]["end_s"] == 10.0  # 10.04 clamped to the 10 s video
    prov = provenance("gente =en una plaza", "/tmp/gradio/abc/foto.jpg", "archivo", "ViT-L-14/openai",
                      datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    table, document = write_export(records, prov, tmp_path, "x", "es", "csv_es", "frames")
    rows = list(csv.DictReader(table.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert [r["Vídeo"] for r in rows] == ["vídeo.mp4", "'=1+2+3.mp4", "'@SUM(1+1).mp4"]
    assert rows[0]["Marca"] == "relevante" and rows[1]["Marca"] == ""
    assert rows[0]["Puntuación"] == "0,4" and rows[0]["Entrada (s)"] == "2,0"
    assert rows[0]["Toma"] == "2" and rows[0]["Referencia (vídeo:toma)"] == f"{VIDEO}:2"  # numbered from 1
    assert rows[1]["Salida"] == "00:00:10:00" and rows[1]["Salida (s)"] == "10,0"  # clamped, in frames
    assert rows[0]["Consulta"] == "gente =en una plaza" and rows[0]["Imagen de ejemplo"] == "foto.jpg"
    assert (rows[0]["Base de datos"], rows[0]["Modelo"], rows[0]["Pesos"]) == ("archivo", "ViT-L-14", "openai")
    assert rows[0]["Fecha de exportación"] == "2026-03-01T12:00:00+00:00"
    data = json.loads(document.read_text(encoding="utf-8"))
    assert data["provenance"]["weights"] == "openai" and data["results"][1]["source"] == "=1+2+3.mp4"
    assert data["results"][0]["shot_number"] == 2 and data["results"][0]["mark"] == "relevant"


def test_xlsx_export_keeps_file_names_as_text_and_has_a_provenance_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    prov = provenance("consulta", None, "archivo", "local-dir:/models/tiny-clip/")
    table, _ = write_export([_record(1, source="=1+2+3.mp4")], prov, tmp_path, "x", "en", "xlsx")
    book = openpyxl.load_workbook(table)
    results, info = book["Results"], book["Provenance"]
    header = [c.value for c in results[1]]
    row = dict(zip(header, [c.value for c in results[2]], strict=True))
    cell = results.cell(row=2, column=header.index("Video") + 1)
    assert cell.value == "=1+2+3.mp4" and cell.data_type == "s"  # text, never a formula
    assert row["Score"] == pytest.approx(0.4) and row["Shot"] == 2 and row["In"] == "00:00:02.000"
    assert {r[0].value: r[1].value for r in info.iter_rows()}["Weights"] == "tiny-clip"


def test_names_of_files_and_encoders():
    assert slug("¡Gente =EN la plaza!") == "gente-en-la-plaza" and slug("=;@") == ""
    assert encoder_parts("hf-hub:org/repo") == ("org/repo", "hf-hub") and encoder_parts("RN50") == ("RN50", "")


def test_the_url_gives_back_a_search_and_nothing_it_should_not():
    params = SearchParams.from_query({"q": "un gato", "db": "archivo", "k": "7", "w": "0.3", "one": "1",
                                      "v": f"{VIDEO},../../etc", "lang": "en"})
    assert (params.text, params.db, params.k, params.weight, params.one, params.lang) == \
        ("un gato", "archivo", 7, 0.3, True, "en")
    assert params.videos == [VIDEO] and params.runs_a_search
    bad = SearchParams.from_query({"db": "../edge", "k": "5000", "w": "2", "lang": "fr", "like": "x:y"})
    assert (bad.db, bad.k, bad.weight, bad.lang, bad.like) == (None, None, None, None, None)
    assert not bad.runs_a_search and SearchParams.from_query({"like": f"{VIDEO}:3"}).runs_a_search


def test_settings_from_the_browser_are_checked():
    assert clean_prefs(None) == DEFAULT_PREFS
    prefs = clean_prefs({"k": "12", "weight": 0.7, "fmt": "xlsx", "tc": "frames", "end": "loop", "lang": "en",
                         "method": "evil", "extra": 1})
    assert (prefs["k"], prefs["weight"], prefs["fmt"], prefs["tc"], prefs["end"], prefs["lang"]) == \
        (12, 0.7, "xlsx", "frames", "loop", "en")
    assert prefs["method"] == "rocchio" and "extra" not in prefs
