"""Evaluation cannot exhaust memory, and its report cannot carry a log's HTML.

Red team: a 100k-line, 8 MB log took the web app to a 23 GB peak, because every distinct text was
encoded in one forward pass. Now the text tower sees at most ``TEXT_BATCH`` texts at a time,
evaluation handles ``QUERY_BATCH`` entries at a time, and a log over the caps (entries, bytes) is
refused before it is read. ``bench/eval_memory.py`` measures the peak at 1k and 100k lines.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.evaluation import EvaluateOptions, LogOptions, evaluate
from pipeline.evaluation.logs import LogEntry, LogTooLargeError, read_log
from pipeline.evaluation.run import QUERY_BATCH
from pipeline.index import DataLayout, VideoCatalog
from pipeline.records import IndexedVideo
from pipeline.store import open_store

VIDEO = "a" * 20


class CountingEncoder:
    """Distinct texts get distinct unit vectors; records the size of every encode_texts call."""

    name, vector_name, dim = "count", "count-vec", 8

    def __init__(self):
        self.calls: list[int] = []

    def encode_texts(self, texts):
        self.calls.append(len(texts))
        rng = [np.random.default_rng(abs(hash(t)) % (2**32)).normal(size=self.dim) for t in texts]
        vectors = np.asarray(rng, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def encode_images(self, images):
        raise NotImplementedError


@pytest.fixture()
def archive(tmp_path):
    store = open_store(tmp_path, backend="memory")
    store.ensure_collection("db", {"count-vec": 8})
    x = np.random.default_rng(0).normal(size=(6, 8)).astype(np.float32)
    store.upsert("db", [f"00000000-0000-0000-0000-00000000000{i}" for i in range(6)], {"count-vec": x},
                 [{"video_id": VIDEO, "source": "a.mp4", "shot_index": i, "scene": 0, "class_id": 0,
                   "start_s": 2.0 * i, "end_s": 2.0 * i + 2, "thumbnail": ""} for i in range(6)])
    VideoCatalog(tmp_path).record("db", IndexedVideo(VIDEO, "a.mp4", "", 12.0, 24, 6, 1, 1, "count", "2026-01-01"))
    yield store, DataLayout(tmp_path)
    store.close()


def test_texts_are_encoded_in_bounded_batches_whatever_the_log_length(archive):
    store, layout = archive
    n = 2 * QUERY_BATCH + 37
    entries = [LogEntry(i + 1, "a.mp4", 0, 1, f"descripción número {i}", f"description {i}") for i in range(n)]
    encoder = CountingEncoder()
    options = EvaluateOptions(configs=(EvaluateOptions().configs[0],), depth=6, ks=(1, 5))
    report = evaluate(entries, store, encoder, layout, "db", options)
    assert len(report.results[0].ranks) == n
    assert max(encoder.calls) <= QUERY_BATCH and sum(encoder.calls) == n  # each distinct text once per batch


def test_a_log_over_the_caps_is_refused_before_it_costs_memory(tmp_path, archive):
    store, layout = archive
    log = tmp_path / "registro.txt"
    log.write_text("".join(f"a.mp4 00:00:00 - 00:00:01 TEXTO {i}\n" for i in range(30)), encoding="utf-8")
    assert len(read_log(log, LogOptions(max_lines=30))) == 30
    with pytest.raises(LogTooLargeError, match="more than 29 log entries.*BUSCA_EVAL_MAX_LINES"):
        read_log(log, LogOptions(max_lines=29))
    with pytest.raises(LogTooLargeError, match=r"the log is 1.0 KB, over the limit of 100 bytes.*BUSCA_EVAL_MAX_MB"):
        read_log(log, LogOptions(max_bytes=100))
    entries = [LogEntry(i, "a.mp4", 0, 1, f"t{i}") for i in range(1, 12)]
    with pytest.raises(LogTooLargeError, match=r"\(entries\): more than 10 log entries"):
        evaluate(entries, store, CountingEncoder(), layout, "db", EvaluateOptions(log=LogOptions(max_lines=10)))


def test_html_in_a_log_is_escaped_in_the_markdown_report(archive, tmp_path):
    """Red team: raw HTML from a log went unescaped into evaluation.md."""
    store, layout = archive
    entries = [LogEntry(1, "a.mp4", 0, 1, '<script>alert("x")</script> | `code` [a](javascript:x)'),
               LogEntry(2, "<img src=x onerror=alert(1)>.mp4", 0, 1, "texto")]
    report = evaluate(entries, store, CountingEncoder(), layout, "db", EvaluateOptions(depth=6, ks=(1, 5)))
    markdown = report.write(tmp_path / "out")[0].read_text(encoding="utf-8")
    assert "<script>" not in markdown and "<img" not in markdown
    assert "&lt;script&gt;" in markdown and "&lt;img src=x onerror=alert(1)&gt;.mp4" in markdown
    assert "\\| \\`code\\` \\[a\\](javascript:x)" in markdown  # no extra table cell, no code span, no link


@pytest.mark.slow  # builds the tiny open_clip model
def test_the_clip_text_tower_sees_at_most_one_batch_at_a_time(tiny_encoder, monkeypatch):
    from models.clip import TEXT_BATCH

    texts = [f"una escena número {i}" for i in range(2 * TEXT_BATCH + 5)]
    assert tiny_encoder.dim > 0  # loads the model
    seen = []
    original = tiny_encoder._encode_tokens
    monkeypatch.setattr(tiny_encoder, "_encode_tokens", lambda tokens: seen.append(len(tokens)) or original(tokens))
    vectors = tiny_encoder.encode_texts(texts)
    assert seen == [TEXT_BATCH, TEXT_BATCH, 5] and vectors.shape == (len(texts), tiny_encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[-1], tiny_encoder.encode_texts(texts[-1:])[0], atol=1e-5)
    assert tiny_encoder.encode_texts([]).shape == (0, tiny_encoder.dim)
