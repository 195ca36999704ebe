"""Steps (c) and (d) of the segmentation: shots inside scenes, and their embeddings.

Pure numpy. :func:`pipeline.segment.segment` is the entry point; the options and the
reasoning behind their defaults are documented there.

- :func:`boundary_distances` — distance between the windows of frames before and after
  every frame boundary, windows clipped to the boundary's scene (and hard cuts).
- :func:`shot_cuts` — peaks of those distances above a threshold, at least ``min_shot_s`` apart.
- :func:`shot_vectors` — mean embedding (re-normalised) and keyframe of every shot.
"""

from __future__ import annotations

import bisect

import numpy as np

from pipeline.segment.scale import VideoScale, adjacent_similarities

#: Boundaries per block, so that windowed sums never need more than O(CHUNK·D) memory.
CHUNK = 2048


def boundary_distances(
    embeddings: np.ndarray, segment_bounds: np.ndarray, window: int, scale: VideoScale | None = None
) -> np.ndarray:
    """``d[b]`` for b in 0..N: the distance across the boundary before frame b.

    The frames ``[b - window, b)`` are compared with ``[b, b + window)``, both clipped to the
    segment (a scene, or a part of one between hard cuts) that contains frame b. Without
    ``scale``: the cosine distance between the two windows' normalised means. With it: how far
    the mean cosine between the frames of one window and the frames of the other falls below the
    mean cosine of the adjacent frames around b (:func:`local_adjacent`), in units of the video's
    ``adjacent - typical`` (about 0 inside a shot, about 1 between unrelated shots). NaN at segment boundaries (including 0 and N), where there is
    nothing to compare. O(N·D·window) time, O(CHUNK·D) memory.
    """
    n = len(embeddings)
    dist = np.full(n + 1, np.nan)
    segment_of = np.repeat(np.arange(len(segment_bounds) - 1), np.diff(segment_bounds))
    lo_of, hi_of = segment_bounds[segment_of], segment_bounds[segment_of + 1]
    inner = np.flatnonzero(lo_of < np.arange(n))  # frame b is not the first of its segment
    if scale is not None:
        level = local_adjacent(embeddings, segment_bounds, window, scale.adjacent)
    for first in range(0, len(inner), CHUNK):
        b = inner[first : first + CHUNK]
        before, n_before = _window_sum(embeddings, b, -window, lo_of[b], hi_of[b])
        after, n_after = _window_sum(embeddings, b, window, lo_of[b], hi_of[b])
        if scale is None:  # exactly as before scales existed (float32), so stored segmentations reproduce
            dot = np.einsum("ij,ij->i", before, after)
            norms = np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1)
            dist[b] = 1.0 - dot / np.where(norms > 0, norms, 1.0)
        else:
            dot = np.einsum("ij,ij->i", before, after, dtype=np.float64)
            dist[b] = (level[b] - dot / (n_before * n_after)) / scale.contrast
    return dist


def local_adjacent(embeddings: np.ndarray, segment_bounds: np.ndarray, window: int, default: float) -> np.ndarray:
    """For b in 0..N: the mean cosine of the adjacent frame pairs that do not cross b, ``window``
    pairs on each side (frames ``[b-window-1, b)`` and ``[b, b+window]``, clipped to b's segment):
    how alike neighbouring frames are right here. ``default`` where there is no such pair."""
    n = len(embeddings)
    sims = adjacent_similarities(embeddings)  # sims[i] = cos(frame i, frame i+1)
    prefix = np.concatenate([[0.0], np.cumsum(sims)])
    b, lo, hi = _segment_limits(segment_bounds)
    first_before, end_before = np.maximum(lo, b - window - 1), np.maximum(b - 1, 0)  # pairs i in [first, end)
    first_after, end_after = np.minimum(b, n), np.clip(np.minimum(hi - 1, b + window), 0, max(n - 1, 0))
    count_before = np.maximum(end_before - first_before, 0)
    count_after = np.maximum(end_after - first_after, 0)
    total = np.where(count_before > 0, prefix[end_before] - prefix[np.minimum(first_before, end_before)], 0.0)
    total += np.where(count_after > 0, prefix[end_after] - prefix[np.minimum(first_after, end_after)], 0.0)
    count = count_before + count_after
    return np.where(count > 0, total / np.maximum(count, 1), default)


def window_sizes(segment_bounds: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """``(before, after)`` for b in 0..N: how many frames each window of :func:`boundary_distances`
    holds once clipped to b's segment (0 where b is a segment boundary)."""
    b, lo, hi = _segment_limits(segment_bounds)
    inner = (b > lo) & (b < hi)
    before = np.where(inner, np.minimum(window, b - lo), 0)
    after = np.where(inner, np.minimum(window, hi - b), 0)
    return before, after


def _segment_limits(segment_bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(b, lo, hi)`` for b in 0..N: the segment ``[lo, hi)`` that frame b starts or sits in."""
    n = int(segment_bounds[-1]) if len(segment_bounds) else 0
    b = np.arange(n + 1)
    segment_of = np.clip(np.searchsorted(segment_bounds, b, side="right") - 1, 0, max(len(segment_bounds) - 2, 0))
    return b, segment_bounds[segment_of], segment_bounds[np.minimum(segment_of + 1, len(segment_bounds) - 1)]


def _window_sum(
    embeddings: np.ndarray, b: np.ndarray, window: int, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of frames ``[b+window, b)`` (window < 0) or ``[b, b+window)``, clipped to ``[lo, hi)``."""
    offsets = range(-1, window - 1, -1) if window < 0 else range(window)
    total = np.zeros((len(b), embeddings.shape[1]), dtype=np.float32)
    count = np.zeros(len(b))
    for k in offsets:
        idx = b + k
        valid = (idx >= lo) & (idx < hi)
        total += embeddings[np.where(valid, idx, 0)] * valid[:, None]
        count += valid
    return total, count


def shot_cuts(
    dist: np.ndarray,
    fixed_bounds: np.ndarray,
    bounds_s: np.ndarray,
    threshold: float,
    window: int,
    min_shot_s: float,
    tol_s: float,
) -> np.ndarray:
    """Sorted shot boundaries (frame indices, 0 and N included); ``fixed_bounds`` (scene
    boundaries and hard cuts, 0 and N included) are among them.

    A boundary b inside a segment is a candidate when ``dist[b] >= threshold`` and it is the
    peak of ``dist`` within ``window`` boundaries on each side in its segment (the first of equal
    values wins), which keeps the shoulders of one cut from becoming cuts of their own.
    Candidates are accepted strongest first, and only when they leave at least ``min_shot_s``
    (within ``tol_s``) to every boundary already accepted, fixed boundaries included.
    """
    cuts = [int(x) for x in fixed_bounds]
    with np.errstate(invalid="ignore"):
        above = np.flatnonzero(dist >= threshold)
    candidates = [int(b) for b in above if _is_peak(dist, int(b), window)]
    candidates.sort(key=lambda b: (-dist[b], b))
    for b in candidates:
        pos = bisect.bisect_left(cuts, b)
        before, after = cuts[pos - 1], cuts[pos]
        if bounds_s[b] - bounds_s[before] >= min_shot_s - tol_s and bounds_s[after] - bounds_s[b] >= min_shot_s - tol_s:
            cuts.insert(pos, b)
    return np.asarray(cuts, dtype=np.int64)


def _is_peak(dist: np.ndarray, b: int, window: int) -> bool:
    """Whether ``dist[b]`` beats the earlier and matches the later values of its segment nearby."""
    lo = b
    while lo > max(0, b - window) and not np.isnan(dist[lo - 1]):
        lo -= 1
    hi = b
    while hi < min(len(dist) - 1, b + window) and not np.isnan(dist[hi + 1]):
        hi += 1
    return bool(np.all(dist[lo:b] < dist[b]) and np.all(dist[b + 1 : hi + 1] <= dist[b]))


def shot_vectors(embeddings: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per shot: the L2-normalised mean embedding (float32) and the keyframe index.

    The keyframe is the shot's frame most similar to that mean (the first on a tie), a frame
    that looks like the shot as a whole rather than its possibly transitional first frame.
    """
    starts = bounds[:-1]
    sums = np.add.reduceat(embeddings, starts, axis=0).astype(np.float64)  # float32 sums: no (N, D) float64 copy
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    means = (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    means[norms[:, 0] == 0] = embeddings[starts[norms[:, 0] == 0]]  # frames that cancel out exactly
    shot_of = np.repeat(np.arange(len(starts)), np.diff(bounds))
    sims = np.empty(len(embeddings), dtype=np.float32)
    for lo in range(0, len(embeddings), CHUNK):
        hi = lo + CHUNK
        sims[lo:hi] = np.einsum("ij,ij->i", embeddings[lo:hi], means[shot_of[lo:hi]])
    best = np.maximum.reduceat(sims, starts)
    positions = np.where(sims == best[shot_of], np.arange(len(embeddings)), len(embeddings))
    keyframes = np.minimum.reduceat(positions, starts)
    return means, keyframes
