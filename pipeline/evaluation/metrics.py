"""Retrieval metrics over ranks: pure functions, numpy only, no store and no model.

A *rank* is 1-based; a query whose right answer is not in the ranking searched (deeper
than the evaluation depth) has rank ``inf`` (:data:`MISS`).

- ``R@K`` (recall at K): the fraction of queries whose rank is ``<= K``. With one right
  video per query it is also the hit rate at K.
- ``MRR``: the mean of ``1/rank`` (``0`` for a miss).
- median rank: the median of the ranks, misses counted as ``inf`` (so it is ``inf``
  when more than half the queries miss).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.errors import ConfigError

MISS = math.inf


@dataclass(frozen=True)
class OverlapOptions:
    """When a returned shot counts as the logged span.

    A shot matches when it comes from the logged video and overlaps the span by more than
    zero seconds, by at least ``min_overlap_s`` seconds, and by at least
    ``min_overlap_fraction`` of the *shorter* of the two (so a short shot inside a long
    span, or a short span inside a long shot, can match fully). A logged span of zero
    length (a point in time) matches the shots that contain that point.
    """

    min_overlap_s: float = 0.0
    min_overlap_fraction: float = 0.0

    def __post_init__(self) -> None:
        if self.min_overlap_s < 0:
            raise ConfigError(f"min_overlap_s must be >= 0, got {self.min_overlap_s}")
        if not 0.0 <= self.min_overlap_fraction <= 1.0:
            raise ConfigError(f"min_overlap_fraction must be between 0 and 1, got {self.min_overlap_fraction}")


@dataclass(frozen=True)
class RankSummary:
    """Recall at each K, MRR, median rank, and how many queries were found at all."""

    n: int
    found: int
    recall: dict[int, float]
    mrr: float
    median_rank: float


def overlap_s(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    """Seconds shared by two intervals (``0`` when they are disjoint)."""
    return max(0.0, min(a_end, b_end) - max(a_start, b_start))


def shot_matches(shot_start: float, shot_end: float, span_start: float, span_end: float,
                 options: OverlapOptions = OverlapOptions()) -> bool:
    """Whether a shot counts as the logged span (see :class:`OverlapOptions`)."""
    if span_end <= span_start:
        return shot_start <= span_start <= shot_end
    if shot_end <= shot_start:
        return span_start <= shot_start <= span_end
    shared = overlap_s(shot_start, shot_end, span_start, span_end)
    shorter = min(shot_end - shot_start, span_end - span_start)
    return shared > 0 and shared >= options.min_overlap_s and shared >= options.min_overlap_fraction * shorter


def first_hit_rank(hits: Iterable[bool]) -> float:
    """1-based position of the first true flag, or :data:`MISS`."""
    for position, hit in enumerate(hits, start=1):
        if hit:
            return float(position)
    return MISS


def dedupe_videos(ranked_video_ids: Sequence[str]) -> list[str]:
    """A shot ranking's videos, each at the place of its best shot (the one-per-video ranking)."""
    return list(dict.fromkeys(ranked_video_ids))


def as_ranks(ranks: Sequence[float] | np.ndarray) -> np.ndarray:
    values = np.asarray(ranks, dtype=np.float64).reshape(-1)
    if np.any(np.isnan(values)) or np.any(values < 1):
        raise ValueError("ranks must be >= 1 (or inf for a miss)")
    return values


def recall_at_k(ranks: Sequence[float] | np.ndarray, ks: Sequence[int]) -> dict[int, float]:
    values = as_ranks(ranks)
    if not len(values):
        return {int(k): 0.0 for k in ks}
    return {int(k): float(np.mean(values <= k)) for k in ks}


def mean_reciprocal_rank(ranks: Sequence[float] | np.ndarray) -> float:
    values = as_ranks(ranks)
    return float(np.mean(1.0 / values)) if len(values) else 0.0


def median_rank(ranks: Sequence[float] | np.ndarray) -> float:
    values = as_ranks(ranks)
    if not len(values):
        return MISS
    ordered = np.sort(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    low, high = ordered[middle - 1], ordered[middle]
    return MISS if math.isinf(high) else float((low + high) / 2)


def summarize(ranks: Sequence[float] | np.ndarray, ks: Sequence[int]) -> RankSummary:
    values = as_ranks(ranks)
    return RankSummary(n=len(values), found=int(np.sum(np.isfinite(values))), recall=recall_at_k(values, ks),
                       mrr=mean_reciprocal_rank(values), median_rank=median_rank(values))
