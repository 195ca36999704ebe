"""The text channels with main's known-item tools: subtitles from the speech channel's transcript,
evaluation of two-part "A >> B" log entries over the fused channel search, and the fused score's
scale. The speech text is written straight into an embedded store with a hashing embedder (no
model): these prove the wiring, the pairing and the arithmetic, not ranking quality."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.channels import ShotText, speech_file, write_channel
from pipeline.errors import MediaError
from pipeline.evaluation import EvaluateOptions, evaluate, parse_config
from pipeline.evaluation.logs import LogEntry
from pipeline.exports import subtitles, video_transcript
from pipeline.index import DataLayout, catalog_for
from pipeline.records import IndexedVideo, TranscriptSegment, Word
from pipeline.search import Query, rrf_best, search_channels, temporal_search
from pipeline.store import Bm25Encoder, EdgeStore, point_id

from testkit import HashingEmbedder

VIS = "clip-test"
REPORTAJE, OTRO, V1 = "1a" * 10, "2b" * 10, "3c" * 10
#: Two videos of three 4-second shots; what is said in each shot.
SAID = {REPORTAJE: ["los bidones de Casablanca", "nada que ver aquí", "el puerto de Barcelona"],
        OTRO: ["el puerto de Barcelona al amanecer", "lluvia en la ciudad", "los bidones de Casablanca otra vez"]}
NAMES = {REPORTAJE: "reportaje.mp4", OTRO: "otro.mp4"}


class NoImage:
    """An image-text encoder that is never asked to encode (the configurations search speech only)."""

    name, vector_name, dim = "none", VIS, 4


@pytest.fixture
def archive(tmp_path):
    layout = DataLayout(tmp_path)
    store = EdgeStore(tmp_path / "edge")
    store.ensure_collection("db", {VIS: 4})
    catalog = catalog_for(store, tmp_path)
    rng = np.random.default_rng(3)
    for video, texts in SAID.items():
        ids = [point_id(video, i) for i in range(3)]
        payloads = [{"video_id": video, "source": NAMES[video], "shot_index": i, "scene": 0, "class_id": 0,
                     "start_s": 4.0 * i, "end_s": 4.0 * i + 4, "thumbnail": "t.jpg"} for i in range(3)]
        store.upsert("db", ids, {VIS: rng.normal(size=(3, 4)).astype(np.float32)}, payloads)
        write_channel(store, "db", video, "speech", [ShotText(i, t) for i, t in enumerate(texts)], HashingEmbedder(),
                      Bm25Encoder())
        catalog.record("db", IndexedVideo(video, NAMES[video], "", 12.0, 24, 3, 1, 1, VIS, "2026-01-01T00:00:00"))
    store.flush()
    yield store, layout
    catalog.close()
    store.close()


def test_subtitles_come_from_the_speech_channel_when_no_analysis_transcript_exists(tmp_path):
    from pipeline.analysis import analysis_dir

    layout = DataLayout(tmp_path)
    with pytest.raises(MediaError, match="enrich --channels speech"):
        video_transcript(layout, V1, "video.mp4")
    said = TranscriptSegment(V1, 1.0, 2.5, "Por el momento, usted es la única persona.",
                             (Word(1.0, 1.4, "Por"), Word(1.4, 1.9, "el")))
    path = speech_file(layout, V1)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"source": "whisper:base/int8", "note": None, "segments": [said.to_json()]}))
    assert video_transcript(layout, V1, "video.mp4") == [said]
    vtt = subtitles(video_transcript(layout, V1), "vtt", "video.mp4")
    assert "00:00:01.000 --> 00:00:02.500\nPor el momento, usted es la única persona." in vtt
    analysis = analysis_dir(layout, V1) / "transcript.json"  # the analysis mode's, when there, comes first
    analysis.parent.mkdir(parents=True)
    analysis.write_text(json.dumps([{"video_id": V1, "start_s": 0.5, "end_s": 1.0, "text": "Otra cosa."}]))
    assert [s.text for s in video_transcript(layout, V1)] == ["Otra cosa."]
    path.write_text("{not json")
    analysis.unlink()
    with pytest.raises(MediaError, match="not a readable transcript"):
        video_transcript(layout, V1)


def test_fused_scores_are_the_share_of_the_best_possible(archive):
    store, _ = archive
    found = search_channels(store, NoImage(), "db", Query(text="bidones Casablanca", channels=("speech",), k=6),
                            HashingEmbedder())
    assert {(h.video_id, h.shot_index) for h in found.hits[:2]} == {(REPORTAJE, 0), (OTRO, 2)}
    best = rrf_best([1.0, 1.0], 2)  # words and meaning, weight 1, k = 2: 1/2 + 1/2
    # a score: its RRF terms (1 / (rank - 1 + k)) over the best possible; checked on the top two, whose
    # words and meaning do not tie (further down, shots the hashing embedder puts at cosine 0 tie, and
    # ties may be ranked in another order by the explanation's query than by the fusion's)
    for hit in found.hits[:2]:
        assert hit.score == pytest.approx(sum(1 / (m.rank - 1 + 2) for m in hit.matches) / best, rel=1e-4)
    assert all(0.0 < h.score <= 1.0 for h in found.hits)
    weighted = search_channels(store, NoImage(), "db",
                               Query(text="bidones", channels=("speech",), weights=(("speech", 3.0),)), HashingEmbedder())
    assert weighted.hits[0].score == pytest.approx(1.0)
    assert rrf_best([1.0, 1.0], 2) == pytest.approx(1.0) and rrf_best([1.0, 0.0], 2) == pytest.approx(0.5)
    assert rrf_best([2.0], 5) == pytest.approx(1 / (0.5 + 4))


def test_a_then_b_pairs_what_is_said_in_order_over_the_channels(archive):
    store, _ = archive

    def said(q: Query):
        return search_channels(store, NoImage(), "db", q, HashingEmbedder()).hits

    first = Query(text="bidones Casablanca", channels=("speech",), k=5)
    pairs = temporal_search(said, first, Query(text="puerto Barcelona", channels=("speech",)), within_s=10)
    assert (pairs[0].video_id, pairs[0].first.shot_index, pairs[0].then.shot_index) == (REPORTAJE, 0, 2)
    assert pairs[0].score == pytest.approx(np.sqrt(pairs[0].first.score * pairs[0].then.score))
    assert all(p.then.start_s >= p.first.end_s for p in pairs)
    assert not any(p.video_id == OTRO and p.first.shot_index == 0 for p in pairs)  # there B comes first


def test_evaluation_with_channels_pairs_two_part_entries(archive):
    store, layout = archive
    entries = [LogEntry(1, "reportaje.mp4", 0.0, 12.0, "bidones Casablanca >> puerto Barcelona"),
               LogEntry(2, "otro.mp4", 0.0, 12.0, "puerto Barcelona >> bidones Casablanca"),
               LogEntry(3, "otro.mp4", 4.0, 8.0, "lluvia en la ciudad")]
    options = EvaluateOptions(configs=(parse_config("speech:channels=speech"),), ks=(1, 5), depth=10, within_s=10)
    report = evaluate(entries, store, NoImage(), layout, "db", options, embedder=HashingEmbedder())
    [result] = report.results
    assert [r.video_rank for r in result.ranks] == [1, 1, 1]
    assert [r.shot_rank for r in result.ranks] == [1, 1, 1]  # each pair spans A's start to B's end
    assert result.vector_name == "channels speech" and result.query_encoder == ""
    # the reverse of entry 1: in its video B is said before A, so the video where that order is said wins
    reverse = [LogEntry(1, "reportaje.mp4", 0.0, 12.0, "puerto Barcelona >> bidones Casablanca")]
    [again] = evaluate(reverse, store, NoImage(), layout, "db", options, embedder=HashingEmbedder()).results
    assert again.ranks[0].video_rank != 1 and again.ranks[0].top_video == "otro.mp4"
