"""Steps (c) and (d) of the segmentation: shots inside scenes, and their embeddings.

Pure numpy. :func:`pipeline.segment.segment` is the entry point; the options and the
reasoning behind their defaults are documented there.

- :func:`boundary_distances` — cosine distance between the windowed means before and after
  every frame boundary, windows clipped to the boundary's scene.
- :func:`shot_cuts` — peaks of those distances above a threshold, at least ``min_shot_s`` apart.
- :func:`shot_vectors` — mean embedding (re-normalised) and keyframe of every shot.
"""

from __future__ import annotations

import bisect

import numpy as np

#: Boundaries per block, so that windowed sums never need more than O(CHUNK·D) memory.
CHUNK = 2048


def boundary_distances(embeddings: np.ndarray, scene_bounds: np.ndarray, window: int) -> np.ndarray:
    """``d[b]`` for b in 0..N: cosine distance across the boundary before frame b.

    The mean of frames ``[b - window, b)`` is compared with the mean of ``[b, b + window)``,
    both clipped to the scene that contains frame b. NaN at scene boundaries (including 0
    and N), where there is nothing to compare. O(N·D·window) time, O(CHUNK·D) memory.
    """
    n = len(embeddings)
    dist = np.full(n + 1, np.nan)
    scene_of = np.repeat(np.arange(len(scene_bounds) - 1), np.diff(scene_bounds))
    lo_of, hi_of = scene_bounds[scene_of], scene_bounds[scene_of + 1]
    inner = np.flatnonzero(lo_of < np.arange(n))  # frame b is not the first of its scene
    for first in range(0, len(inner), CHUNK):
        b = inner[first : first + CHUNK]
        before = _window_sum(embeddings, b, -window, lo_of[b], hi_of[b])
        after = _window_sum(embeddings, b, window, lo_of[b], hi_of[b])
        dot = np.einsum("ij,ij->i", before, after)
        norms = np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1)
        dist[b] = 1.0 - dot / np.where(norms > 0, norms, 1.0)
    return dist


def _window_sum(embeddings: np.ndarray, b: np.ndarray, window: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sum of frames ``[b+window, b)`` (window < 0) or ``[b, b+window)``, clipped to ``[lo, hi)``."""
    offsets = range(-1, window - 1, -1) if window < 0 else range(window)
    total = np.zeros((len(b), embeddings.shape[1]), dtype=np.float32)
    for k in offsets:
        idx = b + k
        valid = (idx >= lo) & (idx < hi)
        total += embeddings[np.where(valid, idx, 0)] * valid[:, None]
    return total


def shot_cuts(
    dist: np.ndarray,
    scene_bounds: np.ndarray,
    bounds_s: np.ndarray,
    threshold: float,
    window: int,
    min_shot_s: float,
    tol_s: float,
) -> np.ndarray:
    """Sorted shot boundaries (frame indices, 0 and N included); scene boundaries are among them.

    A boundary b inside a scene is a candidate when ``dist[b] >= threshold`` and it is the
    peak of ``dist`` within ``window`` boundaries on each side in its scene (the first of equal
    values wins), which keeps the shoulders of one cut from becoming cuts of their own.
    Candidates are accepted strongest first, and only when they leave at least ``min_shot_s``
    (within ``tol_s``) to every boundary already accepted, scene boundaries included.
    """
    cuts = [int(x) for x in scene_bounds]
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
    """Whether ``dist[b]`` beats the earlier and matches the later values of its scene nearby."""
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
