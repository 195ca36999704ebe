"""Pure parts of issue 15's search features: a minimum score and orders, temporal pairs
("A, then B within N s"), and the alignment of near-identical shots into reuses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.errors import QueryError
from pipeline.records import FrameEmbeddings, SearchHit
from pipeline.search import DuplicateOptions, arrange, pair_hits
from pipeline.search.duplicates import Reuse, ShotRef, Span, align, diagonal, refine


def hit(rank: int, score: float, video: str, start: float, end: float, source: str | None = None) -> SearchHit:
    return SearchHit(rank=rank, score=score, point_id=f"{video}:{start}", video_id=video, source=source or f"{video}.mp4",
                     shot_index=int(start), scene=0, class_id=0, start_s=start, end_s=end, thumbnail="t.jpg")


# --- minimum score and orders ----------------------------------------------------------------------


def test_min_score_cuts_and_every_order_keeps_the_relevance_rank():
    hits = [hit(1, 0.9, "b", 30, 31, "Beta.mp4"), hit(2, 0.7, "a", 50, 51, "alfa.mp4"),
            hit(3, 0.5, "a", 10, 11, "alfa.mp4"), hit(4, 0.2, "c", 0, 1, "Gamma.mp4")]
    assert [h.rank for h in arrange(hits, min_score=0.5)] == [1, 2, 3]
    assert [h.rank for h in arrange(hits, sort="video")] == [3, 2, 1, 4]  # alfa (10 s, 50 s), Beta, Gamma
    dates = {"a": "2026-01-01T10:00:00", "b": "2026-03-01T10:00:00"}  # c has no date: last
    assert [h.rank for h in arrange(hits, sort="date", indexed_at=dates)] == [1, 3, 2, 4]
    assert [h.rank for h in arrange(hits, sort="date-asc", indexed_at=dates)] == [3, 2, 1, 4]
    assert arrange(hits, min_score=0.95) == []
    with pytest.raises(QueryError, match="order"):
        arrange(hits, sort="length")
    with pytest.raises(QueryError, match="dates"):
        arrange(hits, sort="date")
    with pytest.raises(QueryError, match="between"):
        arrange(hits, min_score=float("nan"))


# --- temporal pairs ----------------------------------------------------------------------------------


def test_pairs_keep_the_order_a_then_b_and_the_window():
    a = [hit(1, 0.8, "v", 10, 12), hit(2, 0.6, "w", 50, 52)]
    b = [hit(1, 0.9, "v", 20, 22), hit(2, 0.7, "v", 2, 4), hit(3, 0.9, "w", 40, 45), hit(4, 0.5, "w", 200, 201)]
    pairs = pair_hits(a, b, within_s=60)
    assert [(p.video_id, p.first.start_s, p.then.start_s) for p in pairs] == [("v", 10, 20)]  # w's B comes first
    assert pairs[0].score == pytest.approx(math.sqrt(0.8 * 0.9)) and pairs[0].gap_s == pytest.approx(8)
    assert pair_hits(a, b, within_s=5) == []  # 8 s apart
    # the reverse query never pairs the same shots the other way round
    assert all(p.first.start_s < p.then.start_s for p in pair_hits(b, a, within_s=1000))
    assert [(p.first.start_s, p.then.start_s) for p in pair_hits(b, a, within_s=1000)] == [(2, 10), (40, 50)]


def test_pair_score_is_the_geometric_mean_and_each_shot_pairs_once():
    a = [hit(1, 0.9, "v", 0, 1), hit(2, 0.4, "v", 1, 2)]
    b = [hit(1, 0.36, "v", 3, 4), hit(2, 0.25, "v", 5, 6)]
    pairs = pair_hits(a, b, within_s=10)
    assert [(p.first.start_s, p.then.start_s, round(p.score, 4)) for p in pairs] == [(0, 3, 0.5692), (1, 5, 0.3162)]
    assert [p.rank for p in pairs] == [1, 2]
    # a strong A cannot carry a missing B: a negative score counts as zero, and makes no pair
    assert pair_hits([hit(1, 0.99, "v", 0, 1)], [hit(1, -0.2, "v", 2, 3)]) == []
    assert len(pair_hits(a, b, within_s=10, one_per_video=True)) == 1
    assert len(pair_hits(a, b, within_s=10, k=1)) == 1
    with pytest.raises(QueryError, match="within"):
        pair_hits(a, b, within_s=-1)


def test_adjacent_shots_pair_but_one_shot_is_never_both_moments():
    shot = hit(1, 0.9, "v", 0, 2)
    assert pair_hits([shot], [shot]) == []
    assert len(pair_hits([shot], [hit(1, 0.9, "v", 2, 4)], within_s=0)) == 1  # B starts as A ends


# --- alignment of near-identical shots -------------------------------------------------------------


def ref(video: str, index: int, start: float, end: float) -> ShotRef:
    return ShotRef(video, f"{video}.mp4", index, start, end)


def test_consecutive_shot_pairs_at_one_offset_are_one_reuse():
    # video a holds the material at 10-16 s in three shots; b at 40-46 s, segmented in two
    cands = [(ref("a", 3, 10, 12), ref("b", 7, 40, 42), 0.99), (ref("a", 4, 12, 14), ref("b", 8, 42, 46), 0.97),
             (ref("a", 5, 14, 16), ref("b", 8, 42, 46), 0.96),
             (ref("a", 9, 30, 32), ref("b", 2, 5, 7), 0.98)]  # a second, separate reuse
    reuses = align(cands, DuplicateOptions())
    assert len(reuses) == 2
    first = reuses[0]
    assert (first.first.start_s, first.first.end_s, first.second.start_s, first.second.end_s) == (10, 16, 40, 46)
    assert first.first.shots == (3, 4, 5) and first.second.shots == (7, 8) and first.pairs == 3
    assert first.offset_s == pytest.approx(30)
    assert (reuses[1].first.start_s, reuses[1].second.start_s) == (30, 5)
    assert align(cands, DuplicateOptions(min_shots=2)) == [first]


def test_pairs_at_inconsistent_offsets_or_out_of_order_are_not_chained():
    cands = [(ref("a", 1, 0, 2), ref("b", 1, 10, 12), 0.99), (ref("a", 2, 2, 4), ref("b", 2, 30, 32), 0.99),
             (ref("a", 3, 4, 6), ref("b", 0, 0, 2), 0.99)]
    reuses = align(cands, DuplicateOptions())
    assert len(reuses) == 3 and all(r.pairs == 1 for r in reuses)


def _frames(video: str, times: np.ndarray, features: np.ndarray) -> FrameEmbeddings:
    return FrameEmbeddings(video, times.astype(np.float64), features.astype(np.float32))


def test_frame_refinement_finds_the_offset_and_the_whole_span():
    rng = np.random.default_rng(0)
    material = rng.normal(size=(20, 16))  # 10 s of material at 2 fps
    material /= np.linalg.norm(material, axis=1, keepdims=True)
    other = rng.normal(size=(40, 16))
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    times = np.arange(40) * 0.5
    a = other.copy()
    a[6:26] = material  # material at 3.0-13.0 s
    b = other[::-1].copy()
    b[14:34] = material + rng.normal(scale=0.05, size=material.shape)  # at 7.0-17.0 s, noisier copy
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    seed = Reuse(Span("a", "a.mp4", 8.0, 9.0, (4,)), Span("b", "b.mp4", 12.0, 13.0, (9,)), 0.99, 0.99, 1, 4.3)
    refined = refine(seed, _frames("a", times, a), _frames("b", times, b), DuplicateOptions())
    assert refined.offset_s == pytest.approx(4.0, abs=0.11)
    assert (refined.first.start_s, refined.first.end_s) == (3.0, 13.0)
    assert refined.second.start_s == pytest.approx(7.0, abs=0.11) and refined.frame_similarity > 0.95
    assert refined.first.shots == (4,)  # the shots matched by vectors stay as they were


def test_diagonal_marks_moments_outside_the_other_video():
    times = np.arange(4) * 0.5
    feats = np.eye(4)
    sims = diagonal(_frames("a", times, feats), _frames("b", times, feats), 1.0)
    assert np.isinf(sims[2:]).all() and sims[0] == 0.0
