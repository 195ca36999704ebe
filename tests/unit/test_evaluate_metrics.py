"""The evaluation metrics against hand-computed examples (pure numpy, no store, no model)."""

from __future__ import annotations

import math

import pytest

from pipeline.errors import ConfigError
from pipeline.evaluation.metrics import (
    MISS,
    OverlapOptions,
    dedupe_videos,
    first_hit_rank,
    mean_reciprocal_rank,
    median_rank,
    overlap_s,
    recall_at_k,
    shot_matches,
    summarize,
)

KS = (1, 2, 5, 10, 20, 50)
RANKS = [1, 3, MISS, 2, 60]


def test_recall_at_k_by_hand():
    assert recall_at_k(RANKS, KS) == {1: 0.2, 2: 0.4, 5: 0.6, 10: 0.6, 20: 0.6, 50: 0.6}


def test_mrr_counts_a_miss_as_zero():
    assert mean_reciprocal_rank(RANKS) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2 + 1 / 60) / 5)
    assert mean_reciprocal_rank([MISS, MISS]) == 0.0


def test_median_rank_odd_even_and_mostly_missed():
    assert median_rank(RANKS) == 3
    assert median_rank([1, 2, 4, 9]) == 3
    assert median_rank([1, 4, MISS, MISS]) == MISS
    assert median_rank([1, MISS, MISS]) == MISS
    assert median_rank([]) == MISS


def test_summarize_counts_found_queries():
    s = summarize(RANKS, (1, 5))
    assert (s.n, s.found, s.recall, s.median_rank) == (5, 4, {1: 0.2, 5: 0.6}, 3)


def test_ranks_below_one_are_refused():
    with pytest.raises(ValueError):
        recall_at_k([0, 1], (1,))


def test_recall_is_monotonic_in_k():
    values = list(recall_at_k(RANKS, KS).values())
    assert values == sorted(values)


def test_overlap_seconds():
    assert overlap_s(10, 14, 12, 20) == 2
    assert overlap_s(10, 12, 12, 20) == 0
    assert overlap_s(0, 5, 10, 20) == 0
    assert overlap_s(11, 13, 10, 20) == 2


@pytest.mark.parametrize(("options", "expected"), [
    (OverlapOptions(), True),
    (OverlapOptions(min_overlap_s=2.0), True),
    (OverlapOptions(min_overlap_s=2.5), False),
    (OverlapOptions(min_overlap_fraction=0.5), True),  # 2 s of the 4 s shot (the shorter)
    (OverlapOptions(min_overlap_fraction=0.6), False),
])
def test_shot_matches_thresholds(options, expected):
    assert shot_matches(10, 14, 12, 20, options) is expected


def test_touching_intervals_do_not_match_but_points_inside_do():
    assert not shot_matches(10, 12, 12, 20)
    assert shot_matches(10, 14, 12, 12)  # a point annotation inside the shot
    assert shot_matches(10, 14, 14, 14)
    assert not shot_matches(10, 14, 15, 15)


def test_overlap_options_are_validated():
    with pytest.raises(ConfigError):
        OverlapOptions(min_overlap_fraction=1.5)
    with pytest.raises(ConfigError):
        OverlapOptions(min_overlap_s=-1)


def test_first_hit_rank_and_dedupe():
    assert first_hit_rank([False, False, True, True]) == 3
    assert math.isinf(first_hit_rank([False, False]))
    assert dedupe_videos(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
