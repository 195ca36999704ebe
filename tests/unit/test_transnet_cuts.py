"""From TransNetV2's per-frame transition probabilities to cut times (pure; the network is tested
on real footage in tests/integration/test_transnetv2.py)."""

from __future__ import annotations

import numpy as np
import pytest

from models.transnetv2 import TransNetOptions, transitions_to_cuts
from pipeline.errors import ConfigError

TIMES = np.arange(20) / 10.0


def _probabilities(*runs: tuple[int, int]) -> np.ndarray:
    p = np.full(20, 0.1)
    for start, end in runs:
        p[start:end] = 0.9
    return p


def test_a_one_frame_transition_cuts_where_the_next_shot_starts():
    assert transitions_to_cuts(_probabilities((6, 7)), TIMES, 0.5) == [0.7]


def test_a_gradual_transition_cuts_at_its_middle():
    assert transitions_to_cuts(_probabilities((4, 10)), TIMES, 0.5) == [0.7]


def test_transitions_touching_the_first_or_last_frame_are_no_cuts():
    assert transitions_to_cuts(_probabilities((0, 2), (12, 13), (18, 20)), TIMES, 0.5) == [1.3]


def test_the_threshold_decides_what_is_a_transition():
    p = _probabilities((6, 7))
    p[6] = 0.6
    assert transitions_to_cuts(p, TIMES, 0.7) == [] and transitions_to_cuts(p, TIMES, 0.5) == [0.7]


@pytest.mark.parametrize("changes", [{"threshold": 1.0}, {"threshold": 0.0}, {"batch_windows": 0}])
def test_impossible_options_are_refused(changes):
    with pytest.raises(ConfigError):
        TransNetOptions(**changes)
