"""The decode -> encode loop of ingest: where sampled frames go, the decode thread's end when the
encoder fails, unchanged files not hashed again, near-duplicate frames not encoded again.

A cheap pixel encoder (a real function of the pixels, not a neural network) stands in for CLIP:
these tests are about the loop, not about embeddings.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import pipeline.index.fingerprint as fingerprint
from pipeline.index import DataLayout, IngestOptions, ingest_one, ingest_paths
from pipeline.index.embed import FrameSpool, Prefetch
from pipeline.media import DecodeOptions
from pipeline.store import open_store

from testkit import slideshow_images, write_video

DB = "archivo"


class PixelEncoder:
    """Embeds a frame as its L2-normalised 8x8 RGB thumbnail (192-d); counts the frames it sees."""

    name = "pixels-8x8"
    vector_name = "pixels-8x8"
    dim = 192

    def __init__(self, fail_on_call: int | None = None):
        self.calls = 0
        self.frames = 0
        self.fail_on_call = fail_on_call

    def encode_images(self, images) -> np.ndarray:
        self.calls += 1
        if self.fail_on_call is not None and self.calls >= self.fail_on_call:
            raise RuntimeError("the encoder ran out of memory (simulated)")
        self.frames += len(images)
        small = [np.asarray(Image.fromarray(img).resize((8, 8), Image.BILINEAR), np.float32).ravel() for img in images]
        x = np.stack(small) - 127.5
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    def encode_texts(self, texts) -> np.ndarray:
        raise NotImplementedError


@pytest.fixture(scope="module")
def stills(tmp_path_factory) -> Path:
    """12 s at 10 fps: three real photos held 4 s each (frames within a photo are near duplicates)."""
    folder = tmp_path_factory.mktemp("stills")
    return write_video(folder / "stills.mp4", [(img, 4.0) for img in slideshow_images()[:3]])


def _ingest(video: Path, data: Path, encoder, **options):
    store = open_store(data)
    try:
        opts = IngestOptions(decode=DecodeOptions(fps=2.0, batch_size=4), progress=False, **options)
        return ingest_one(video, encoder, store, DataLayout(data), DB, opts)
    finally:
        store.close()


def test_sampled_frames_are_not_written_to_disk_and_thumbnails_come_from_the_spool(stills, tmp_path):
    result = _ingest(stills, tmp_path / "data", PixelEncoder(), skip_similar=0)
    assert result.status == "indexed", result.error
    video_dir = DataLayout(tmp_path / "data").video_dir(result.video_id)
    assert sorted(p.name for p in video_dir.iterdir()) == ["info.json", "pixels-8x8"]
    thumbs = sorted((video_dir / "pixels-8x8" / "thumbs").glob("shot_*.jpg"))
    assert len(thumbs) == result.n_shots >= 1
    for thumb in thumbs:
        with Image.open(thumb) as image:
            assert image.format == "JPEG" and min(image.size) == 224


def test_keep_frames_keeps_one_jpeg_per_sampled_frame_and_thumbnails_are_those_frames(stills, tmp_path):
    layout = DataLayout(tmp_path / "data")
    result = _ingest(stills, layout.root, PixelEncoder(), keep_frames=True)
    assert result.status == "indexed", result.error
    seg = layout.load_segmentation(result.video_id, "pixels-8x8")
    frames = sorted((layout.video_dir(result.video_id) / "frames").glob("*.jpg"))
    assert len(frames) == len(seg.frame_classes) == 24
    for shot in seg.shots:
        kept = layout.frame_path(result.video_id, shot.keyframe).read_bytes()
        assert layout.thumb_path(result.video_id, "pixels-8x8", shot.index).read_bytes() == kept


def test_a_failing_encoder_ends_the_decode_thread(stills, tmp_path):
    """The decoder is 20 batches ahead of an encoder that fails on its second batch: the decode
    thread, blocked on its full queue before, is told to stop, closes the file and ends."""
    before = {t for t in threading.enumerate() if t.name == "decode"}
    result = _ingest(stills, tmp_path / "data", PixelEncoder(fail_on_call=2), skip_similar=0)
    assert result.status == "failed" and "out of memory (simulated)" in result.error
    assert str(stills) in result.error
    leftover = [t for t in threading.enumerate() if t.name == "decode" and t not in before]
    assert not leftover, f"decode threads still alive: {leftover}"
    assert [p for p in (tmp_path / "data" / "videos").rglob("*") if p.is_file()] == []  # the spool was anonymous


def test_a_long_videos_spool_goes_to_one_anonymous_file_beyond_its_memory_budget(tmp_path):
    spool = FrameSpool(tmp_path, max_memory=10_000)
    frames = [bytes([i]) * 3000 for i in range(8)]  # 24 kB
    for i, jpeg in enumerate(frames):
        spool.add(i, jpeg)
    assert spool.on_disk and list(tmp_path.iterdir()) == []  # unlinked at creation: nothing to leave behind
    assert [spool.read(i) for i in (7, 0, 3)] == [frames[7], frames[0], frames[3]]
    spool.close()


def test_prefetch_stops_its_producer_when_the_consumer_leaves_early():
    closed = threading.Event()

    def produce():
        try:
            yield from range(1000)
        finally:
            closed.set()

    items = Prefetch(produce(), depth=2)
    for item in items:
        if item == 3:
            break
    items.thread.join(5)
    assert not items.thread.is_alive() and closed.is_set()


def test_prefetch_hands_the_producer_error_to_the_consumer():
    def produce():
        yield 1
        raise ValueError("broken file")

    with pytest.raises(ValueError, match="broken file"):
        list(Prefetch(produce()))


def test_reingesting_an_unchanged_file_does_not_hash_it_again(stills, tmp_path, monkeypatch):
    hashed: list[Path] = []
    real = fingerprint.content_id

    def counting(path, *args, **kwargs):
        hashed.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(fingerprint, "content_id", counting)
    video = tmp_path / "in" / "copy.mp4"
    video.parent.mkdir()
    video.write_bytes(stills.read_bytes())
    first = _ingest(video, tmp_path / "data", PixelEncoder())
    second = _ingest(video, tmp_path / "data", PixelEncoder())
    assert first.status == second.status == "indexed" and second.reused
    assert hashed == [video] and first.video_id == second.video_id
    # same size, another modification time: read and hashed again (and the same content, the same id)
    later = video.stat().st_mtime_ns + 5_000_000_000
    os.utime(video, ns=(later, later))
    third = _ingest(video, tmp_path / "data", PixelEncoder())
    assert hashed == [video, video] and third.video_id == first.video_id


def test_a_changed_file_with_the_old_size_and_mtime_but_another_inode_is_hashed_again(stills, tmp_path):
    ids = fingerprint.ContentIds(tmp_path)
    video = tmp_path / "v.mp4"
    video.write_bytes(stills.read_bytes())
    stat = video.stat()
    first = ids.video_id(video)
    replacement = tmp_path / "other.mp4"
    replacement.write_bytes(bytes(reversed(stills.read_bytes())))  # same size, other bytes
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, video)
    assert ids.video_id(video) != first and ids.hashed == 2


def test_near_duplicate_frames_take_the_last_encoded_frames_embedding(stills, tmp_path):
    layout = DataLayout(tmp_path / "data")
    encoder = PixelEncoder()
    result = _ingest(stills, layout.root, encoder)
    assert result.status == "indexed", result.error
    frames = layout.load_frames(result.video_id, "pixels-8x8")
    assert len(frames.embeddings) == 24 and result.timings["frames"] == 24
    assert encoder.frames == result.timings["encoded"] < 12  # three stills: a few frames each at most
    distinct = np.unique(frames.embeddings.round(6), axis=0)
    assert len(distinct) == encoder.frames
    # encoding every frame gives each still's frames nearly the same embeddings anyway
    everything = PixelEncoder()
    again = _ingest(stills, tmp_path / "data2", everything, skip_similar=0)
    assert everything.frames == 24 and again.timings["encoded"] == 24
    full = DataLayout(tmp_path / "data2").load_frames(again.video_id, "pixels-8x8").embeddings
    assert float(np.min(np.sum(full * frames.embeddings, axis=1))) > 0.99


def test_each_stage_is_timed(stills, tmp_path):
    result = _ingest(stills, tmp_path / "data", PixelEncoder())
    t = result.timings
    assert set(t) >= {"probe_s", "hash_s", "decode_s", "jpeg_s", "signature_s", "wait_s", "encode_s", "segment_s",
                      "thumbnails_s", "store_s", "frames", "encoded"}
    assert all(t[k] >= 0 for k in t) and t["decode_s"] > 0 and t["encode_s"] > 0 and t["store_s"] > 0


def test_decode_ahead_gives_the_sequential_result_and_leaves_no_thread(stills, slideshow, tmp_path):
    """Three videos and a broken file, the next two decoding while one is encoded: every result
    as without decoding ahead, the broken file reported in its place, no decode thread left."""
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    again = tmp_path / "stills_again.mp4"  # the same bytes under another name: the same video
    again.write_bytes(stills.read_bytes())
    inputs = [stills, broken, slideshow, again]
    before = {t for t in threading.enumerate() if t.name == "decode"}
    runs = {}
    for ahead in (0, 2):
        store = open_store(tmp_path / f"data{ahead}")
        try:
            options = IngestOptions(decode=DecodeOptions(fps=2.0, batch_size=4), progress=False, decode_ahead=ahead)
            runs[ahead] = ingest_paths(inputs, PixelEncoder(), store, DataLayout(tmp_path / f"data{ahead}"), DB, options)
        finally:
            store.close()
    assert [r.status for r in runs[2]] == ["indexed", "failed", "indexed", "indexed"]
    assert "broken.mp4" in runs[2][1].error
    assert [(r.video_id, r.n_shots) for r in runs[2]] == [(r.video_id, r.n_shots) for r in runs[0]]
    assert runs[2][3].reused
    assert not [t for t in threading.enumerate() if t.name == "decode" and t not in before]


def test_two_copies_of_one_file_decoding_at_once_are_indexed_once(stills, tmp_path):
    """The copy decodes ahead while the original is encoded (both hash to one id): the decode
    thread writes nothing into the video's folder, and the copy finds the original's artifacts."""
    again = tmp_path / "copy.mp4"
    again.write_bytes(stills.read_bytes())
    store = open_store(tmp_path / "data")
    try:
        options = IngestOptions(decode=DecodeOptions(fps=2.0, batch_size=4), progress=False, decode_ahead=1,
                                keep_frames=True)
        first, second = ingest_paths([stills, again], PixelEncoder(), store, DataLayout(tmp_path / "data"), DB, options)
        assert store.count(DB) == first.n_shots
    finally:
        store.close()
    assert first.status == second.status == "indexed" and first.video_id == second.video_id
    assert not first.reused and second.reused
    frames = DataLayout(tmp_path / "data").video_dir(first.video_id) / "frames"
    assert len(list(frames.glob("*.jpg"))) == 24
