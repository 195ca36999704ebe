"""Frames at chosen times (pipeline.keyframes) on generated videos: the nearest frame wins,
answers come back in request order, sizes follow short_side without upscaling, rotation
metadata is applied, and the whole request is served by one opening of the file."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import ConfigError, MediaError
from pipeline.media import keyframes
from pipeline.media.keyframes import extract_frames, iter_frames_at

from testkit import ffmpeg, slideshow_images

PHOTOS = slideshow_images()  # the slideshow fixture: photo k from 2k to 2k+2 s, 10 fps


def closest_photo(image: np.ndarray) -> int:
    from PIL import Image

    small = np.asarray(Image.fromarray(image).resize((320, 240))).astype(int)
    return int(np.argmin([np.abs(small - p.astype(int)).mean() for p in PHOTOS]))


def test_each_time_gets_the_photo_on_screen_in_request_order(slideshow):
    times = [6.5, 0.5, 4.5, 2.5, 0.5]
    images = extract_frames(slideshow, times, short_side=120)
    assert [closest_photo(im) for im in images] == [3, 0, 2, 1, 0]
    assert all(im.dtype == np.uint8 and im.shape == (120, 160, 3) for im in images)


def test_the_nearest_frame_wins_around_a_cut(slideshow):
    """Frames at 1.9 s (last of photo 0) and 2.0 s (first of photo 1): 1.94 is nearer the first."""
    picked = list(iter_frames_at(slideshow, [1.96, 1.94], short_side=64))
    assert [p.request for p in picked] == [1, 0]  # yielded in time order
    assert [round(p.time_s, 2) for p in picked] == [1.9, 2.0]
    assert [closest_photo(p.image) for p in picked] == [0, 1]


def test_frames_are_never_upscaled_and_times_past_the_end_get_the_last_frame(slideshow):
    first, last = extract_frames(slideshow, [-1.0, 99.0], short_side=448)
    assert first.shape == last.shape == (240, 320, 3)
    assert closest_photo(first) == 0 and closest_photo(last) == 3


def test_rotation_metadata_is_applied(media_dir, slideshow):
    rotated = media_dir / "keyframes_rotated.mp4"
    ffmpeg("-i", str(slideshow), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))
    [upright] = extract_frames(slideshow, [3.0], short_side=120)
    [turned] = extract_frames(rotated, [3.0], short_side=120)
    assert turned.shape == (160, 120, 3)  # portrait
    diffs = [np.abs(np.rot90(upright, k=k).astype(int) - turned.astype(int)).mean() for k in (1, -1)]
    assert min(diffs) < 3


def test_one_opening_of_the_file_and_early_stop(slideshow, monkeypatch):
    opened = []
    real_open = keyframes._open
    monkeypatch.setattr(keyframes, "_open", lambda path: opened.append(path) or real_open(path))
    decoded = []
    real_to_rgb = keyframes._to_rgb
    monkeypatch.setattr(keyframes, "_to_rgb", lambda frame, side: decoded.append(frame.time) or real_to_rgb(frame, side))
    seen = []
    real_decode = keyframes._decode

    def counting_decode(*args):
        for frame in real_decode(*args):
            seen.append(frame.time)
            yield frame

    monkeypatch.setattr(keyframes, "_decode", counting_decode)
    extract_frames(slideshow, [0.0, 0.3, 0.3, 1.0], short_side=64)
    assert len(opened) == 1
    assert len(seen) == 11  # 0.0 .. 1.0 s at 10 fps: decoding stopped at the last requested time
    assert sorted(round(t, 1) for t in decoded) == [0.0, 0.3, 1.0]  # a frame picked twice is converted once


def test_empty_request_bad_file_and_bad_size(tmp_path, slideshow):
    assert extract_frames(slideshow, []) == []
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    with pytest.raises(MediaError, match="bad.mp4"):
        extract_frames(bad, [0.0])
    with pytest.raises(ConfigError, match="short_side"):
        extract_frames(slideshow, [0.0], short_side=8)
    with pytest.raises(ConfigError, match="finite"):
        extract_frames(slideshow, [float("nan")])
