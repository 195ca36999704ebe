"""Two-part log queries ("A >> B") in ``evaluate``: split, paired in order, judged as spans from A's
start to B's end; on a memory store whose vectors make every rank known by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.evaluation import EvalConfig, EvaluateOptions, evaluate
from pipeline.evaluation.logs import LogEntry
from pipeline.evaluation.temporal import entry_parts, has_translation, split_then
from pipeline.index import DataLayout, VideoCatalog
from pipeline.records import IndexedVideo
from pipeline.store import open_store

A, B = "a" * 20, "b" * 20
E = np.eye(4, dtype=np.float32)


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


class Encoder:
    name, vector_name, dim = "fake", "fake-vec", 4
    TABLE = {"UNO": E[0], "ONE": E[0], "DOS": E[1], "TWO": E[1], "UNO DOS": unit([1, 1, 0, 0])}

    def encode_texts(self, texts):
        return np.stack([self.TABLE[t] for t in texts])

    def encode_images(self, images):
        raise NotImplementedError


def test_split_then():
    assert split_then("UNA MUJER ENTRA >> EL HOMBRE SALE") == ("UNA MUJER ENTRA", "EL HOMBRE SALE")
    assert split_then("a→b") == ("a", "b")
    assert split_then("sin segunda parte") is None and split_then(">> b") is None and split_then("a >> b >> c") is None
    first, then = entry_parts(LogEntry(3, "a.mp4", 0, 9, "UNO >> DOS", "ONE >> TWO"))
    assert (first.text, first.translation, then.text, then.translation) == ("UNO", "ONE", "DOS", "TWO")
    assert first.line == then.line == 3 and (then.start_s, then.end_s) == (0, 9)
    assert not has_translation(LogEntry(1, "a.mp4", 0, 1, "UNO >> DOS", "ONE TWO"))  # no separator: no parts
    assert has_translation(LogEntry(1, "a.mp4", 0, 1, "UNO", "ONE"))


@pytest.fixture()
def archive(tmp_path):
    """a.mp4 shows A (e0) at 0-5 s, then B (e1) at 10-15 s; b.mp4 the reverse, with closer vectors."""
    shots = [(A, 0, 0, 5, unit([0.95, 0, 0, 0.31])), (A, 1, 5, 10, E[3]), (A, 2, 10, 15, unit([0, 0.95, 0, 0.31])),
             (B, 0, 0, 5, E[1]), (B, 1, 5, 10, E[3]), (B, 2, 10, 15, E[0])]
    store = open_store(tmp_path, backend="memory")
    store.ensure_collection("db", {"fake-vec": 4})
    sources = {A: "a.mp4", B: "b.mp4"}
    store.upsert("db", [f"00000000-0000-0000-0000-00000000000{n}" for n in range(len(shots))],
                 {"fake-vec": np.stack([s[4] for s in shots])},
                 [{"video_id": v, "source": sources[v], "shot_index": i, "scene": 0, "class_id": 0, "start_s": s,
                   "end_s": e, "thumbnail": ""} for v, i, s, e, _ in shots])
    layout = DataLayout(tmp_path)
    for video_id, source in sources.items():
        VideoCatalog(layout.root).record("db", IndexedVideo(video_id, source, "", 15.0, 30, 3, 1, 1, "fake-vec",
                                                            "2024-01-01T00:00:00"))
    yield store, layout
    store.close()


def test_two_part_entries_rank_the_video_that_shows_them_in_order(archive):
    store, layout = archive
    entries = [LogEntry(1, "a.mp4", 0, 15, "UNO >> DOS", "ONE >> TWO"),
               LogEntry(2, "b.mp4", 0, 15, "DOS >> UNO", "TWO >> ONE"),
               LogEntry(3, "a.mp4", 0, 15, "DOS >> UNO"),  # a.mp4 shows them the other way round
               LogEntry(4, "a.mp4", 0, 5, "UNO", "ONE"),  # a plain query beside them: b.mp4's e0 is closer
               LogEntry(5, "a.mp4", 0, 15, "UNO >> DOS")]  # the same, with a window too short
    report = evaluate(entries[:4], store, Encoder(), layout, "db", EvaluateOptions(ks=(1, 2), depth=10))
    ranks = report.results[0].ranks
    assert [(r.video_rank, r.shot_rank) for r in ranks[:2]] == [(1, 1), (1, 1)]
    assert ranks[0].top_video == "a.mp4" and ranks[1].top_video == "b.mp4"
    assert math.isinf(ranks[2].video_rank) and math.isinf(ranks[2].shot_rank)
    assert (ranks[3].video_rank, ranks[3].shot_rank) == (2, 2)  # plain queries run as before
    short = evaluate(entries[4:], store, Encoder(), layout, "db", EvaluateOptions(ks=(1,), depth=10, within_s=4))
    assert math.isinf(short.results[0].ranks[0].video_rank)  # B starts 5 s after A ends


def test_translation_configurations_use_each_parts_translation(archive):
    store, layout = archive
    entries = [LogEntry(1, "a.mp4", 0, 15, "UNO >> DOS", "ONE >> TWO"),
               LogEntry(2, "a.mp4", 0, 15, "UNO >> DOS", "ONE AND THEN TWO")]
    report = evaluate(entries, store, Encoder(), layout, "db",
                      EvaluateOptions(configs=(EvalConfig("en", ("translation",)),), ks=(1,), depth=10))
    assert [e.line for e in report.entries] == [1] and [x.line for x in report.excluded] == [2]
    assert report.results[0].ranks[0].video_rank == 1
