"""Evaluation wiring without a model: configurations, ranking with an injected search, entry
matching, and ``evaluate()`` on an in-memory store whose vectors are chosen so that every
rank is known by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from pipeline.errors import ConfigError, UnknownDatabaseError
from pipeline.evaluation import EvalConfig, EvaluateOptions, parse_config, parse_ks, parse_min_overlap
from pipeline.evaluation.logs import LogEntry
from pipeline.evaluation.run import Target, evaluate, match_entries, query_ranks, query_vectors, rank_queries
from pipeline.index import DataLayout, VideoCatalog
from pipeline.records import IndexedVideo, SearchHit
from pipeline.store import open_store

A, B, C = "a" * 20, "b" * 20, "c" * 20
E = np.eye(4, dtype=np.float32)


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def hit(rank, video, start, end, source=None):
    return SearchHit(rank, 1.0 / rank, f"p{rank}", video, source or f"{video[:1]}.mp4", 0, 0, 0, start, end, "")


# --- configurations ---------------------------------------------------------------------------


def test_parse_config_syntax():
    assert parse_config("es:query=es") == EvalConfig("es", ("text",))
    assert parse_config("b:query=es+en,weight=0.3") == EvalConfig("b", ("text", "translation"), 0.3)
    assert parse_config("m:model=local-dir:/x/y") == EvalConfig("m", ("text",), model="local-dir:/x/y")
    assert parse_config('{"name": "en", "query": "translation"}') == EvalConfig("en", ("translation",))
    assert parse_config("plain") == EvalConfig("plain")


@pytest.mark.parametrize("spec", ["a:query=fr", "a:weight=0.5", "a:query=es+en,weight=2", "a:colour=red",
                                  "a:query", "{bad json", '{"query": "es"}', "bad name:query=es"])
def test_parse_config_errors(spec):
    with pytest.raises(ConfigError):
        parse_config(spec)


def test_options_validation_and_small_parsers():
    with pytest.raises(ConfigError, match="differ"):
        EvaluateOptions(configs=(EvalConfig("a"), EvalConfig("a")))
    with pytest.raises(ConfigError, match="depth"):
        EvaluateOptions(ks=(1, 50), depth=20)
    assert parse_ks("5,1,2,5") == (1, 2, 5)
    assert parse_min_overlap("1.5s").min_overlap_s == 1.5
    assert parse_min_overlap("50%").min_overlap_fraction == 0.5
    with pytest.raises(ConfigError):
        parse_min_overlap("half")


# --- ranking with an injected search ---------------------------------------------------------------


def test_query_ranks_by_hand():
    shots = [hit(1, B, 0, 5), hit(2, A, 30, 40), hit(3, A, 12, 15), hit(4, C, 0, 4)]
    videos = [hit(1, B, 0, 5), hit(2, A, 30, 40), hit(3, C, 0, 4)]
    ranks = query_ranks(Target(frozenset({A}), 10, 20), shots, videos)
    assert (ranks.video_rank, ranks.video_in_shots_rank, ranks.shot_rank, ranks.top_video) == (2, 2, 3, "b.mp4")
    missed = query_ranks(Target(frozenset({"z" * 20}), 0, 1), shots, videos)
    assert math.isinf(missed.video_rank) and math.isinf(missed.shot_rank)


def test_rank_queries_calls_the_search_with_depth_both_ways():
    calls = []

    def search(vector, k, one_per_video):
        calls.append((k, one_per_video))
        return [hit(1, A, 0, 5)]

    ranks = rank_queries([Target(frozenset({A}), 1, 2)] * 2, np.zeros((2, 4)), search, depth=7)
    assert calls == [(7, False), (7, True)] * 2 and [r.shot_rank for r in ranks] == [1, 1]


def test_match_entries_by_file_name():
    catalog = {A: _video(A, "a.mp4"), B: _video(B, "dir/B.MOV"), C: _video(C, "c.mp4")}
    entries = [LogEntry(1, "a.mp4", 0, 1, "x"), LogEntry(2, "b.mov", 0, 1, "x"), LogEntry(3, "C.avi", 0, 1, "x"),
               LogEntry(4, "D:\\arch\\a.mp4", 0, 1, "x"), LogEntry(5, "zz.mp4", 0, 1, "x")]
    matched, excluded = match_entries(entries, catalog)
    assert [(e.line, set(ids)) for e, ids in matched] == [(1, {A}), (2, {B}), (3, {C}), (4, {A})]
    assert [(e.line, e.video) for e in excluded] == [(5, "zz.mp4")]


class FakeEncoder:
    name, vector_name, dim = "fake", "fake-vec", 4
    TABLE = {"UNO": E[0], "ONE": E[0], "DOS": E[1], "TRES": E[3], "CUATRO": E[2]}

    def encode_texts(self, texts):
        return np.stack([self.TABLE[t] for t in texts])

    def encode_images(self, images):
        raise NotImplementedError


def test_query_vectors_fuse_with_the_translation_weight():
    entries = [LogEntry(1, "a.mp4", 0, 1, "UNO", "DOS")]
    fused = query_vectors(entries, EvalConfig("f", ("text", "translation"), 0.25), FakeEncoder())
    np.testing.assert_allclose(fused[0], unit([0.75, 0.25, 0, 0]), atol=1e-6)


# --- evaluate() on a memory store ------------------------------------------------------------------


def _video(video_id, source):
    return IndexedVideo(video_id, source, "", 20.0, 10, 2, 1, 1, "fake", "2024-01-01T00:00:00")


SHOTS = [  # video, index, start, end, vector: cosines with the query e0 are B0 .95 > A0 .91 > A1 .8 > C0 .5 > B1 0
    (A, 0, 0.0, 5.0, unit([0.9, 0.4, 0, 0.1])), (A, 1, 5.0, 10.0, unit([0.8, 0, 0.6, 0])),
    (B, 0, 0.0, 5.0, unit([0.95, 0, 0, 0.31])), (B, 1, 5.0, 10.0, E[1]), (C, 0, 0.0, 4.0, unit([0.5, 0, 0, 0.866])),
]


@pytest.fixture()
def archive(tmp_path):
    store = open_store(tmp_path, backend="memory")
    store.ensure_collection("db", {"fake-vec": 4})
    sources = {A: "a.mp4", B: "B.MOV", C: "c.mp4"}
    payloads = [{"video_id": v, "source": sources[v], "shot_index": i, "scene": 0, "class_id": 0, "start_s": s,
                 "end_s": e, "thumbnail": ""} for v, i, s, e, _ in SHOTS]
    store.upsert("db", [f"00000000-0000-0000-0000-00000000000{n}" for n in range(len(SHOTS))],
                 {"fake-vec": np.stack([s[4] for s in SHOTS])}, payloads)
    layout = DataLayout(tmp_path)
    for video_id, source in sources.items():
        VideoCatalog(layout.root).record("db", _video(video_id, source))
    yield store, layout
    store.close()


ENTRIES = [
    LogEntry(1, "a.mp4", 6, 9, "UNO", "ONE"),     # video 2 (B, A, C), shot 3 (A1 overlaps 6-9)
    LogEntry(2, "b.mov", 0, 1, "UNO", "ONE"),     # video 1, shot 1
    LogEntry(3, "c.mp4", 0, 4, "TRES", "TRES"),   # query e3: C0 first
    LogEntry(4, "missing.mp4", 0, 1, "CUATRO"),   # not indexed: excluded
    LogEntry(5, "c.mp4", 10, 20, "UNO", "ONE"),   # video 3, first C shot 4th, no shot overlaps
    LogEntry(6, "a.mp4", 0, 1, "DOS"),            # no translation: excluded only when a config needs one
]


def test_evaluate_ranks_by_hand(archive):
    store, layout = archive
    options = EvaluateOptions(ks=(1, 2, 5), depth=5)
    report = evaluate(ENTRIES[:5], store, FakeEncoder(), layout, "db", options)
    [result] = report.results
    assert [r.video_rank for r in result.ranks] == [2, 1, 1, 3]
    assert [r.video_in_shots_rank for r in result.ranks] == [2, 1, 1, 4]
    assert [r.shot_rank for r in result.ranks] == [3, 1, 1, math.inf]
    assert result.video.recall == {1: 0.5, 2: 0.75, 5: 1.0}
    assert result.shot.recall == {1: 0.5, 2: 0.5, 5: 0.75}
    assert result.video.mrr == pytest.approx((1 / 2 + 1 + 1 + 1 / 3) / 4)
    assert (result.video.median_rank, result.shot.median_rank) == (1.5, 2)
    assert [(e.line, e.reason) for e in report.excluded] == [(4, "video not indexed in this database")]
    assert (report.corpus.videos, report.corpus.shots, report.total_entries) == (3, 5, 5)


def test_compare_excludes_the_same_entries_from_every_configuration(archive, tmp_path):
    store, layout = archive
    configs = (EvalConfig("text"), parse_config("fused:query=es+en,weight=0.5"))
    report = evaluate(ENTRIES, store, FakeEncoder(), layout, "db", EvaluateOptions(configs, ks=(1, 2, 5), depth=5))
    assert [e.line for e in report.entries] == [1, 2, 3, 5]
    assert [(e.line, "translation" in e.reason) for e in report.excluded] == [(4, False), (6, True)]
    text, fused = report.results
    assert [r.video_rank for r in fused.ranks] == [r.video_rank for r in text.ranks]  # "ONE" encodes like "UNO"

    data = json.loads(json.dumps(report.to_json()))
    assert [c["name"] for c in data["configs"]] == ["text", "fused"]
    assert [q["ranks"]["text"]["shot"] for q in data["queries"]] == [3, 1, 1, None]
    assert data["configs"][0]["video"]["recall"]["2"] == 0.75
    md, js = report.write(tmp_path / "out")
    assert md.read_text().startswith("# Evaluation of database `db`") and json.loads(js.read_text()) == data
    assert "| video R@1 | 50.0 % | 50.0 % |" in md.read_text() and "| 5 | c.mp4 |" in md.read_text()
    assert "Ranks per query" not in report.to_markdown(per_query=False)


def test_evaluate_errors(archive):
    store, layout = archive
    with pytest.raises(UnknownDatabaseError):
        evaluate(ENTRIES, store, FakeEncoder(), layout, "nope")
    with pytest.raises(ConfigError, match="none of the 1 log entries"):
        evaluate([ENTRIES[3]], store, FakeEncoder(), layout, "db")
    other = FakeEncoder()
    other.vector_name = "other-vec"
    with pytest.raises(ConfigError, match="has no vectors"):
        evaluate(ENTRIES, store, other, layout, "db")
    with pytest.raises(ConfigError, match="no encoder was given"):
        evaluate(ENTRIES, store, FakeEncoder(), layout, "db", EvaluateOptions((EvalConfig("m", model="x/y"),)))
