"""Calibration statistics (pipeline.segment.calibrate) on synthetic streams with known cuts."""

from __future__ import annotations

import numpy as np

from pipeline.segment import SegmentOptions, segment
from pipeline.segment.calibrate import fit_report, summary, video_stats
from pipeline.segment.synthetic import SCALES, make_stream


def _stats(levels, options: SegmentOptions | None = None, with_cuts=True):
    options = options or SegmentOptions()
    stream = make_stream(51, 4, 30, 2.0, (3.0, 9.0), levels)
    t = stream.frames.timestamps
    cuts = [float(t[i]) for i in stream.shot_starts[1:]] if with_cuts else None
    return stream, video_stats(stream.frames, segment(stream.frames, options), options, cuts)


def test_hard_cuts_at_the_true_shot_starts_are_found_by_the_embeddings_too():
    """With cuts at the true shot starts, semantic boundaries coincide with them, the distance
    peaks at the cuts are far above the rest, and the video-scale options fit."""
    _, stats = _stats(SCALES["clip"].levels())
    assert stats.hard_cuts == 29 and stats.cuts_matched / stats.hard_cuts >= 0.95
    assert stats.semantic_matched / stats.semantic >= 0.95
    assert np.median(stats.cut_distances) > 2 * np.quantile(stats.distances, 0.9)
    assert np.all(stats.same_class > np.median(stats.other_class))
    report = summary([stats])
    assert report["hard_cuts"]["cuts_with_a_semantic_boundary"] >= 0.95
    assert 0.9 < report["adjacent"]["p50"] < 0.95
    assert fit_report([stats], SegmentOptions()).ok


def test_fit_report_warns_when_absolute_thresholds_do_not_fit_the_scale():
    """On the cone scale (adjacent frames ~0.98) absolute cosine distances never reach 0.15."""
    _, stats = _stats(SCALES["cone"].levels(), SegmentOptions.absolute(), with_cuts=False)
    fit = fit_report([stats], SegmentOptions.absolute())
    assert not fit.ok and any("scale='video'" in line for line in fit.lines)
    assert not fit_report([stats], SegmentOptions()).ok, "its 4 shots hide cuts: the distance inside them is high"
    _, resegmented = _stats(SCALES["cone"].levels(), SegmentOptions(), with_cuts=False)
    assert resegmented.n_shots == 30 and fit_report([resegmented], SegmentOptions()).ok


def test_a_flat_video_is_reported_as_such():
    stream = make_stream(52, n_classes=1, n_shots=1, fps=2.0, shot_s=(120, 120), levels=(0.95, 0.5, 0.3))
    stats = video_stats(stream.frames, segment(stream.frames), SegmentOptions())
    assert stats.flat and summary([stats])["flat_videos"] == 1
    assert any("flat" in line for line in fit_report([stats], SegmentOptions()).lines)
