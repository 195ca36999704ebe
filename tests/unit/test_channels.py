"""Text channels without models: channel names and weights, speech aligned to shots, OCR frames
and merging, BM25 highlighting, snippets and moments, the query plan, evaluation configurations,
analysis descriptions (the channel registry: test_channel_registry.py)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.channels import (
    merge_lines,
    ocr_per_shot,
    ocr_times,
    parse_channels,
    parse_weights,
    speech_per_shot,
)
from pipeline.errors import BuscaError, ConfigError, QueryError
from pipeline.evaluation import EvalConfig, parse_config
from pipeline.records import OcrLine, Shot, TranscriptSegment, Word
from pipeline.search import DatabaseChannels, Query, plan_query
from pipeline.search.explain import spoken_moment, window
from pipeline.store import Bm25Encoder, SparseVector


def shot(index, start, end, keyframe=0):
    return Shot("v" * 20, index, 0, 0, 0, 1, keyframe, start, end)


SHOTS = [shot(0, 0.0, 4.0, 1), shot(1, 4.0, 6.0, 9), shot(2, 6.0, 20.0, 13)]


# --- names and weights ------------------------------------------------------------------------


def test_channels_and_weights_parse_with_aliases_and_refuse_unknown_ones():
    assert parse_channels("ocr, habla ,visual") == ("visual", "speech", "ocr")
    assert parse_channels("all") == ("visual", "speech", "ocr", "description")
    assert parse_weights("speech=2,ocr:1.5") == {"speech": 2.0, "ocr": 1.5}
    assert parse_weights("speech:2+visual:0") == {"speech": 2.0, "visual": 0.0}
    with pytest.raises(ConfigError, match="unknown channel 'sonido'"):
        parse_channels("visual,sonido")
    with pytest.raises(ConfigError, match="number"):
        parse_weights("speech=mucho")
    with pytest.raises(ConfigError, match="between 0 and 100"):
        parse_weights("ocr=-1")


def test_query_validates_channels_weights_and_image_fusion():
    q = Query(text="x", channels=("ocr", "speech"), weights=(("speech", 2.0),))
    assert q.channels == ("speech", "ocr") and q.weight("speech") == 2.0 and q.weight("ocr") == 1.0
    with pytest.raises(BuscaError):
        Query(text="x", channels=("sonido",))
    with pytest.raises(QueryError, match="image_fusion"):
        Query(text="x", image_fusion="average")


# --- speech and on-screen text per shot ----------------------------------------------------------


def test_a_segment_spanning_a_cut_belongs_whole_to_every_shot_it_overlaps_with_its_words():
    words = (Word(3.0, 3.5, "cuatro"), Word(3.6, 4.4, "bidones"), Word(4.5, 5.0, "pequeños"))
    segments = [TranscriptSegment("", 3.0, 5.0, "Cuatro bidones pequeños", words),
                TranscriptSegment("", 6.5, 6.5, "instante"), TranscriptSegment("", 30.0, 31.0, "fuera")]
    texts = speech_per_shot(segments, SHOTS)
    assert [t.shot_index for t in texts] == [0, 1, 2]
    assert texts[0].text == texts[1].text == "Cuatro bidones pequeños"
    assert texts[0].extra["speech_segments"][0][3][1] == [3.6, 4.4, "bidones"]
    assert texts[2].text == "instante"
    assert texts[0].payload("speech")["speech_text"] == "Cuatro bidones pequeños"


def test_ocr_reads_each_keyframe_and_long_shots_every_interval():
    times = np.arange(0, 20, 0.5)
    picks = ocr_times(SHOTS, times, interval_s=4.0)
    assert [t for i, t in picks if i == 0] == [0.5]  # 4 s: not longer than the interval
    assert [t for i, t in picks if i == 1] == [4.5]
    long = [t for i, t in picks if i == 2]
    assert 6.5 in long and len(long) >= 4 and all(6.0 <= t < 20.0 for t in long)
    with pytest.raises(ValueError):
        ocr_times(SHOTS, times, 0)


def test_repeated_lines_are_merged_keeping_the_best_reading_and_the_first_time():
    reads = [(2.0, [OcrLine("BIDONES DE CLENSE0L", 0.7), OcrLine("Málaga", 0.9)]),
             (1.0, [OcrLine("BIDONES DE CLENSEOL", 0.95)]),
             (3.0, [OcrLine("bidones de clenseol", 0.8), OcrLine("!!", 0.9), OcrLine("8", 0.97), OcrLine("Otra línea", 0.6)])]
    merged = merge_lines(reads)
    assert [(t, line.text) for t, line in merged] == [(1.0, "BIDONES DE CLENSEOL"), (2.0, "Málaga"),
                                                      (3.0, "Otra línea")]
    texts = ocr_per_shot([(2, t, lines) for t, lines in reads] + [(0, 0.5, [])])
    assert [t.shot_index for t in texts] == [2]
    assert texts[0].text == "BIDONES DE CLENSEOL | Málaga | Otra línea"
    assert texts[0].extra["ocr_lines"][1] == [2.0, "Málaga"]


# --- BM25, snippets and moments ---------------------------------------------------------------


def test_bm25_folds_accents_stems_and_drops_stopwords_identically_for_highlights():
    bm25 = Bm25Encoder()
    doc, query = bm25.document("Cuatro BIDONES pequeños de la marca Casablanca"), bm25.query("el bidón casablanca")
    assert len(query.indices) == 2 and set(query.indices) <= set(doc.indices)
    text = "Vimos el BIDÓN y dos bidones en Casablanca."
    assert [text[a:b] for a, b in bm25.matches("bidón casablanca", text)] == ["BIDÓN", "bidones", "Casablanca"]
    assert bm25.matches("el de la", text) == []
    assert not bm25.document("") and isinstance(bm25.query("x"), SparseVector)


def test_snippet_window_keeps_the_first_match_and_shifts_spans():
    text = "a" * 300 + " casablanca " + "b" * 300
    cut, spans = window(text, [(301, 311)], size=100)
    assert cut.startswith("…") and cut.endswith("…") and len(cut) <= 102
    assert [cut[a:b] for a, b in spans] == ["casablanca"]
    assert window("corto", [(0, 5)]) == ("corto", ((0, 5),))


def test_the_spoken_moment_is_the_first_matching_word_else_segment():
    bm25 = Bm25Encoder()
    segments = [[1.0, 3.0, "hola a todos", [[1.0, 1.4, "hola"], [1.5, 2.9, "todos"]]],
                [3.0, 6.0, "los bidones", [[3.1, 3.4, "los"], [4.2, 4.9, "bidones"]]]]
    assert spoken_moment(segments, "bidón", bm25) == 4.2
    assert spoken_moment([[3.0, 6.0, "los bidones", []]], "bidón", bm25) == 3.0
    assert spoken_moment(segments, "nada parecido", bm25) == 1.0
    assert spoken_moment([], "x", bm25) is None


# --- the plan -----------------------------------------------------------------------------------


class FakeClip:
    vector_name, dim = "clip-fake", 4

    def encode_texts(self, texts):
        return np.tile(np.eye(4, dtype=np.float32)[0], (len(texts), 1))

    def encode_images(self, images):
        return np.tile(np.eye(4, dtype=np.float32)[1], (len(images), 1))


class FakeE5:
    name, vector_name, dim = "fake-e5", "e5-fake", 3

    def embed_query(self, text):
        return np.ones(3, np.float32) / np.sqrt(3)


HAVE = DatabaseChannels("clip-fake", {"speech": ("speech-bm25", "speech-e5-fake"), "ocr": ("ocr-bm25", None)})


def test_plan_fuses_every_channel_the_database_holds_with_its_weights():
    plan = plan_query(Query(text="bidón azul", weights=(("speech", 2.0),)), HAVE, FakeClip(), FakeE5())
    assert plan.channels == ("visual", "speech", "ocr") and plan.missing == () and plan.words_only == ("ocr",)
    assert [(p.label, p.using, p.weight) for p in plan.prefetches] == [
        ("visual:text", "clip-fake", 1.0), ("speech:words", "speech-bm25", 2.0),
        ("speech:meaning", "speech-e5-fake", 2.0), ("ocr:words", "ocr-bm25", 1.0)]
    assert isinstance(plan.prefetches[1].query, SparseVector) and not any(p.children for p in plan.prefetches)


def test_plan_reports_missing_channels_and_skips_zero_weights():
    plan = plan_query(Query(text="x", channels=("speech", "description"), weights=(("speech", 0.0),)), HAVE,
                      FakeClip(), FakeE5())
    assert plan.missing == ("description",) and plan.prefetches == [] and plan.channels == ()


def test_text_and_image_are_two_rankings_balanced_by_the_slider_or_one_averaged_vector():
    image = np.zeros((8, 8, 3), np.uint8)
    rrf = plan_query(Query(text="x", image=image, image_weight=0.3, channels=("visual",), weights=(("visual", 2.0),)),
                     HAVE, FakeClip(), None)
    assert [(p.label, round(p.weight, 3)) for p in rrf.prefetches] == [("visual:text", 1.4), ("visual:image", 0.6)]
    vec = plan_query(Query(text="x", image=image, image_weight=0.3, channels=("visual",), image_fusion="vector"),
                     HAVE, FakeClip(), None)
    (single,) = vec.prefetches
    assert single.label == "visual:text+image" and not single.children
    np.testing.assert_allclose(single.query, np.array([0.7, 0.3, 0, 0]) / np.hypot(0.7, 0.3), rtol=1e-5)
    only_image = plan_query(Query(image=image), HAVE, FakeClip(), FakeE5())
    assert [p.label for p in only_image.prefetches] == ["visual:image"] and only_image.channels == ("visual",)


# --- evaluation configurations, analysis descriptions ------------------------------------------


def test_evaluation_configurations_take_channels_weights_and_an_image():
    c = parse_config("fused:channels=visual+speech+ocr,weights=speech:2+ocr:1.5")
    assert c.channels == ("visual", "speech", "ocr") and dict(c.weights) == {"speech": 2.0, "ocr": 1.5}
    assert c.uses_channels and "weights=ocr:1.5+speech:2" in c.describe()
    img = parse_config("img:channels=visual,image=x.jpg,image_fusion=vector,image_weight=0.4")
    assert (img.image, img.image_fusion, img.image_weight) == ("x.jpg", "vector", 0.4)
    assert not EvalConfig().uses_channels
    with pytest.raises(ConfigError):
        parse_config("bad:channels=sonido")
    with pytest.raises(ConfigError, match="image_fusion"):
        parse_config("bad:image=x.jpg,image_fusion=mean")


def test_description_text_joins_the_validated_fields_and_error_shots_are_skipped_with_a_note():
    from pipeline.analysis import ShotAnalysis, ShotDescription, VideoAnalysis, description_texts

    desc = ShotDescription.model_validate({
        "summary": "Un mercado al aire libre.", "setting": "calle", "people": {"count": 2, "apparent_roles": []},
        "actions": ["comprar fruta"], "objects": ["cajas", "balanza"], "on_screen_text": ["OFERTA"],
        "speech": {"summary": "Hablan de precios", "topics": ["precios"], "tone": "neutro"},
        "intolerance": {"present": False, "type": None, "target_group": None, "evidence": "", "severity": "none"}})
    analysis = VideoAnalysis(video_id="v" * 20, shots=[
        ShotAnalysis(video_id="v" * 20, shot_index=0, start_s=0, end_s=2, status="ok", description=desc),
        ShotAnalysis(video_id="v" * 20, shot_index=1, start_s=2, end_s=4, status="error", error="invalid JSON")])
    texts, notes = description_texts(analysis)
    assert [t.shot_index for t in texts] == [0]
    for part in ("mercado", "calle", "comprar fruta", "balanza", "OFERTA", "precios"):
        assert part in texts[0].text
    assert "neutro" not in texts[0].text and "intolerance" not in texts[0].text
    assert len(notes) == 1 and "shot 1" in notes[0] and "invalid JSON" in notes[0]

