"""Bad media: each kind of broken or unsuitable file gets its own error naming the file and the
cause, and a folder that mixes them with good videos is ingested as far as it can be.

Decided behaviour for a truncated mp4 whose index (moov) is at the start ("faststart"): the
frames that decode are indexed and a warning names the file and where decoding ended. A
truncated mp4 whose index is at the end cannot be opened at all and is an error.

All media are generated here (PyAV and Debian's ffmpeg); nothing is committed.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
from PIL import Image

import pipeline.media.decode as decode
from app.cli.main import main
from app.cli.output import EXIT_PARTIAL
from pipeline.errors import MediaError
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, ingest_paths
from pipeline.media import DecodeOptions, iter_frames, probe
from pipeline.store import open_store

from testkit import ffmpeg, slideshow_images, write_video

GOOD = ("good.mp4", "vfr.mp4", "rotated.mov", "cut_short.mp4")  # cut_short: truncated faststart, indexed in part

#: Bad file -> words its error must contain (besides the file's path).
BAD = {
    "empty.mp4": "empty file (0 bytes)",
    "truncated.mp4": "truncated/corrupt",
    "notes.mp4": "not a readable media file",
    "photo.mp4": "is a still image (jpeg), not a video",
    "audio_only.mp4": "has no video stream (streams found: audio)",
    "garbage.mp4": "no decodable video frames",
    "a64.mkv": "video codec is not supported by this FFmpeg build",
}


@dataclass(frozen=True)
class Media:
    folder: Path

    def __getitem__(self, name: str) -> Path:
        return self.folder / name


def _top_level_boxes(data: bytes) -> dict[bytes, tuple[int, int]]:
    """ISO-BMFF top-level boxes: type -> (payload offset, payload end)."""
    boxes, pos = {}, 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8:pos + 16])[0], 16
        elif size == 0:
            size = len(data) - pos
        boxes[kind] = (pos + header, pos + size)
        pos += size
    return boxes


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Media:
    folder = tmp_path_factory.mktemp("bad-media")
    photos = slideshow_images()
    write_video(folder / "good.mp4", [(photos[0], 2.0), (photos[2], 2.0)])

    # VFR: 2 s at 30 fps, then frames three times further apart (setpts), 8 s in all.
    cfr = folder / "cfr.tmp.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=30:duration=4", "-c:v", "libx264", str(cfr))
    ffmpeg("-i", str(cfr), "-vf", "setpts='if(lt(N,60),N,60+(N-60)*3)/(30*TB)'", "-fps_mode", "vfr",
           "-c:v", "libx264", str(folder / "vfr.mp4"))
    cfr.unlink()
    ffmpeg("-i", str(folder / "good.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(folder / "rotated.mov"))

    # Truncated with the index at the start: 8 s declared, about half of the media data present.
    whole = folder / "whole.tmp.mp4"
    write_video(whole, [(photos[1], 4.0), (photos[3], 4.0)])
    fast = folder / "fast.tmp.mp4"
    ffmpeg("-i", str(whole), "-c", "copy", "-movflags", "+faststart", str(fast))
    data = fast.read_bytes()
    (folder / "cut_short.mp4").write_bytes(data[: len(data) // 2])
    # Truncated with the index at the end (PyAV's default): the moov box is gone.
    data = whole.read_bytes()
    assert _top_level_boxes(data)[b"moov"][0] > _top_level_boxes(data)[b"mdat"][0]
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 2])
    # A valid container whose video packets are garbage (the index and codec setup are intact).
    start, end = _top_level_boxes(data)[b"mdat"]
    garbage = bytearray(data)
    garbage[start:end] = np.random.default_rng(0).integers(0, 256, end - start, dtype=np.uint8).tobytes()
    (folder / "garbage.mp4").write_bytes(bytes(garbage))
    whole.unlink()
    fast.unlink()

    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("this is not a video\n" * 50)
    Image.fromarray(photos[2]).save(folder / "photo.mp4", format="JPEG")
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(folder / "audio_only.mp4"))
    # a64multi: FFmpeg encodes and muxes it but has no decoder for it.
    try:
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x200:rate=10:duration=1", "-c:v", "a64multi",
               str(folder / "a64.mkv"))
    except Exception:  # an FFmpeg build without the encoder: the monkeypatched test below still runs
        (folder / "a64.mkv").unlink(missing_ok=True)
    return Media(folder)


def _decode_all(path: Path, **options) -> tuple[np.ndarray, list[np.ndarray]]:
    batches = list(iter_frames(path, DecodeOptions(**options)))
    return np.concatenate([b.timestamps for b in batches]), [img for b in batches for img in b.images]


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_file_gets_an_error_naming_the_file_and_its_cause(media, name):
    path = media[name]
    if not path.exists():
        pytest.skip(f"{name} could not be generated with this FFmpeg build")
    for attempt in (lambda: probe(path), lambda: _decode_all(path)):
        with pytest.raises(MediaError) as err:
            attempt()
        assert err.value.path == str(path) and str(path) in str(err.value)
        assert BAD[name] in str(err.value)


def test_missing_file_and_folder_are_named_too(tmp_path):
    with pytest.raises(MediaError, match="missing.mp4: file not found"):
        probe(tmp_path / "missing.mp4")
    with pytest.raises(MediaError, match="is a folder"):
        probe(tmp_path)


def test_truncated_faststart_file_keeps_what_decodes_and_warns(media, caplog):
    path = media["cut_short.mp4"]
    assert probe(path).duration_s == pytest.approx(8.0, abs=0.2)  # the index still promises 8 s
    with caplog.at_level(logging.WARNING, logger="pipeline.media.decode"):
        times, images = _decode_all(path, fps=2.0)
    assert 1 <= len(times) < 14 and len(images) == len(times)
    np.testing.assert_allclose(times, np.arange(len(times)) * 0.5, atol=1e-6)
    [warning] = [r.getMessage() for r in caplog.records if r.name == "pipeline.media.decode"]
    assert str(path) in warning and "truncated" in warning and "declares 8.0 s" in warning


def test_complete_files_decode_without_warnings(media, caplog):
    with caplog.at_level(logging.WARNING, logger="pipeline.media.decode"):
        for name in ("good.mp4", "vfr.mp4", "rotated.mov"):
            _decode_all(media[name])
    assert not caplog.records


def test_resolution_above_max_pixels_is_refused_before_decoding(media, tiny_encoder, tmp_path):
    path = media["good.mp4"]  # 320x240 = 76,800 pixels
    for attempt in (lambda: probe(path, max_pixels=320 * 240 - 1),
                    lambda: _decode_all(path, max_pixels=320 * 240 - 1)):
        with pytest.raises(MediaError, match=r"good.mp4: resolution 320x240 exceeds the limit of 76799 pixels"):
            attempt()
    assert probe(path, max_pixels=320 * 240).width == 320  # the limit itself is allowed

    store = open_store(tmp_path, backend="memory")
    options = IngestOptions(decode=DecodeOptions(max_pixels=50_000), progress=False)
    [result] = ingest_paths([path], tiny_encoder, store, DataLayout(tmp_path), "archivo", options)
    store.close()
    assert result.status == "failed" and str(path) in result.error and "exceeds the limit" in result.error
    assert not (tmp_path / "videos").exists()  # refused before anything was decoded or written


def test_variable_frame_rate_is_sampled_evenly_and_rotation_is_applied(media):
    times, _ = _decode_all(media["vfr.mp4"], fps=2.0)
    assert times[-1] == pytest.approx(7.5, abs=0.11)
    np.testing.assert_allclose(np.diff(times), 0.5, atol=0.11)
    info = probe(media["rotated.mov"])
    assert info.rotation in (90, 270) and info.display_size == (240, 320)
    _, images = _decode_all(media["rotated.mov"], fps=1.0)
    assert images[0].shape == (298, 224, 3)  # portrait


def test_unsupported_codec_mapping_without_a_real_file(monkeypatch, tmp_path):
    """Independent of the FFmpeg build: a stream whose codec has no decoder (PyAV gives it no
    codec context) and FFmpeg open errors map to MediaError naming the file."""
    path = tmp_path / "odd.mkv"
    path.write_bytes(b"\0" * 64)

    class Fake:  # what av.open gives for a stream without a decoder: codec_context is None
        format = SimpleNamespace(name="matroska,webm")
        streams = SimpleNamespace(video=[SimpleNamespace(codec_context=None, type="video")], audio=[])

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(decode.av, "open", lambda *a, **k: Fake())
    with pytest.raises(MediaError, match=r"odd.mkv: video codec is not supported .* re-encode"):
        probe(path)

    def refuse(*args, **kwargs):
        raise av.error.PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(decode.av, "open", refuse)
    with pytest.raises(MediaError, match=r"odd.mkv: cannot be opened as media"):
        probe(path)


@pytest.mark.slow
def test_cli_ingest_of_a_mixed_folder_indexes_the_good_reports_each_bad_and_exits_3(
        media, tiny_clip_dir, tmp_path, monkeypatch, capsys, caplog):
    """``python -m app ingest FOLDER`` (in-process through ``app.cli.main``)."""
    data = tmp_path / "data"
    monkeypatch.setenv("BUSCA_CLIP_MODEL", f"local-dir:{tiny_clip_dir}")
    monkeypatch.setenv("BUSCA_DEVICE", "cpu")
    with caplog.at_level(logging.WARNING):
        code = main(["ingest", str(media.folder), "--data-dir", str(data), "--db", "mezcla"])
    out, err = capsys.readouterr()
    assert code == EXIT_PARTIAL, err
    bad = [name for name in BAD if media[name].exists()]
    lines = out.splitlines()
    for name in GOOD:
        assert any(line.startswith("ok ") and f"/{name}:" in line for line in lines), (name, out)
    for name in bad:
        [line] = [line for line in lines if f"/{name}:" in line]
        assert line.startswith("FAILED  ") and str(media[name]) in line and BAD[name] in line, line
    assert f"{len(GOOD)} indexed, {len(bad)} failed, database 'mezcla'" in err
    assert any("cut_short.mp4" in r.getMessage() and "truncated" in r.getMessage() for r in caplog.records)

    catalog = VideoCatalog(data).videos("mezcla")
    assert sorted(v.source for v in catalog.values()) == sorted(GOOD)
    store = open_store(data)
    try:
        assert store.count("mezcla") == sum(v.n_shots for v in catalog.values())
    finally:
        store.close()
