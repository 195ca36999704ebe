"""Which times of a shot the vision-language model sees (pipeline.analysis.frames, pure)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis import AnalysisOptions
from pipeline.analysis.frames import MIN_FRAME_GAP_S, plan_times, shot_times
from pipeline.errors import ConfigError
from pipeline.records import Shot


def test_frames_sit_at_the_centres_of_equal_parts_away_from_the_cuts():
    assert shot_times(2.0, 6.0, 4, keyframe_s=3.0) == [2.5, 3.5, 4.5, 5.5]
    assert shot_times(0.0, 3.0, 2, keyframe_s=1.0) == [0.75, 2.25]


@pytest.mark.parametrize("start,end,n", [(0.0, 0.4, 4), (10.0, 10.9, 3), (0.0, 100.0, 1)])
def test_short_shots_and_one_frame_get_the_keyframe(start, end, n):
    assert shot_times(start, end, n, keyframe_s=start + 0.25) == [round(start + 0.25, 3)]


@pytest.mark.parametrize("duration", [0.5, 0.99, 1.0, 1.7, 2.0, 7.3, 60.0])
@pytest.mark.parametrize("n", [1, 2, 4, 8])
def test_invariants_inside_the_shot_ordered_spaced_and_at_most_n(duration, n):
    times = shot_times(5.0, 5.0 + duration, n, keyframe_s=5.0)
    assert 1 <= len(times) <= n
    assert all(5.0 <= t < 5.0 + duration for t in times)
    assert np.all(np.diff(times) >= MIN_FRAME_GAP_S - 1e-3)


def test_plan_uses_each_shots_keyframe_time():
    shots = [Shot("v", 0, 0, 0, 0, 1, 0, 0.0, 0.5), Shot("v", 1, 0, 0, 1, 5, 3, 0.5, 2.5)]
    timestamps = [0.0, 0.5, 1.0, 1.5, 2.0]
    assert plan_times(shots, timestamps, 1) == [[0.0], [1.5]]
    assert plan_times(shots, timestamps, 4) == [[0.0], [0.75, 1.25, 1.75, 2.25]]


def test_frame_size_is_checked():
    assert AnalysisOptions().frame_short_side == 448
    with pytest.raises(ConfigError, match="frame_short_side"):
        AnalysisOptions(frame_short_side=16)
