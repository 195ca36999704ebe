"""Semantic segmentation of one video's sampled frames into classes, scenes and shots.

The four steps (pure numpy + scikit-learn + hdbscan; the helpers live in
:mod:`pipeline.segment_classes` and :mod:`pipeline.segment_shots`):

(a) **Coarse grouping.** HDBSCAN over the frame embeddings after PCA to 32 dimensions (or UMAP,
    or nothing) gives *semantic classes*, ignoring time; clusters whose centroids are at least
    ``class_merge_similarity`` alike are joined (long shots of one setting). Noise frames
    (HDBSCAN label -1; HDBSCAN's own labels are kept in ``Segmentation.raw_labels``) join the
    most similar class centroid when its cosine similarity is at least ``noise_min_similarity``,
    otherwise the class of the nearest assigned frame in time. With no cluster at all (too few
    frames, identical frames, pure noise) every frame is class 0.
(b) **Class diarization.** Classes are laid on the timeline; runs shorter than ``min_scene_s``
    are absorbed by a neighbour; *scenes* are the maximal runs of one class that remain. A class
    that recurs at separate times keeps one class id and gives separate scenes. Class ids are
    renumbered 0..C-1 in order of first appearance (after smoothing, which may remove a class).
(c) **Fine grouping.** Inside each scene, a shot cut is placed where the cosine distance between
    the mean of the ``shot_window_s`` before and after a frame boundary peaks above
    ``shot_threshold``, keeping shots at least ``min_shot_s`` long. Scene boundaries are always
    shot boundaries.
(d) **Shot embedding.** The mean of a shot's frame embeddings, re-normalised (float32); the
    keyframe is the shot's frame closest to that mean.

Times: a shot (or scene) starts at its first frame's timestamp and ends where the next one
starts; the last ends one median sampling interval after the last frame (1 s for a lone frame).
``first_frame``/``end_frame`` are half-open indices into the sampled frames.

Cost for a 3-hour video at 3 fps (32,400 frames, 768-d): PCA O(N·D²); HDBSCAN (Borůvka KD-tree)
on at most ``cluster_max_frames`` frames; shot detection O(N·D·window). Memory stays
O(N·D) for the input plus blocks of a few thousand rows; nothing is O(N²). See ``bench/segment.py``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from pipeline.errors import ConfigError
from pipeline.records import FrameEmbeddings, Scene, Segmentation, Shot
from pipeline.segment_classes import (
    UMAP_MIN_POINTS,
    cluster_frames,
    merge_similar_clusters,
    renumber_by_first_appearance,
    resolve_noise,
    runs,
    smooth_classes,
)
from pipeline.segment_shots import boundary_distances, shot_cuts, shot_vectors

log = logging.getLogger(__name__)

REDUCERS = ("pca", "umap", "none")
PROJECTIONS = ("umap", "pca")
#: Duration given to a video of one sampled frame, whose sampling interval is unknown.
LONE_FRAME_S = 1.0


@dataclass(frozen=True)
class SegmentOptions:
    """How :func:`segment` groups frames. Durations in seconds; sizes are converted to frames
    with the video's sampling rate (1 / median interval), so one setting works at 1-3 fps.

    Defaults are chosen for CLIP ViT-L-14 frame embeddings, where adjacent frames of one camera
    shot have cosine similarity ~0.9-0.98 and frames of different shots ~0.5-0.8.

    - ``reduce`` = "pca": reduction before HDBSCAN, "pca" | "umap" | "none". PCA-32 clusters 32k
      frames in seconds and better than raw 768-d (PERFORMANCE.md); UMAP is ~5x slower.
    - ``reduce_dims`` = 32: output dimensions of the reduction (10 is a better fit for UMAP).
    - ``min_cluster_s`` = 10.0: HDBSCAN ``min_cluster_size`` as footage time: a class is a setting
      that fills at least 10 s of the video in total (less footage: noise, resolved below). A
      single shot longer than this is a dense cluster of its own, and HDBSCAN (EOM) then prefers
      shot-sized clusters to the setting; ``class_merge_similarity`` joins them again. Synthetic
      streams (2-12 s shots, 6-19 classes, 1-3 fps): ARI 1.0 at 10 s; 15 s lost small classes.
    - ``min_samples_s`` = 5.0: HDBSCAN ``min_samples`` as footage time (capped at the cluster
      size). Neighbourhoods of ~5 s reach past the near-duplicate frames of one shot, which
      smooths density at the level of settings; larger values cost k-NN time.
    - ``cluster_max_frames`` = 12000: above this, HDBSCAN runs on every k-th frame (3 fps becomes
      1 fps for a 3-hour video) and the rest take a strided neighbour's label; None = never.
      Neighbouring frames are near-duplicates, so classes barely change while HDBSCAN time drops
      ~3x. Sizes in seconds are converted with the strided rate.
    - ``class_merge_similarity`` = 0.75: HDBSCAN clusters whose centroids (normalised mean
      embeddings, where frame noise has averaged out) are at least this similar become one class
      (average linkage). Shots of one setting have centroids at ~0.8-0.95, different settings
      ~0.4-0.7. This is what keeps classes at the level of settings when shots are long (5-30 s
      shots: ARI 0.17 without, ~1.0 with, on synthetic streams). None disables it.
    - ``noise_min_similarity`` = 0.75: cosine similarity to a class centroid (in the full space)
      above which a noise frame joins that class. Frames of a class sit at ~0.8-0.9 from its
      centroid, other classes' frames at ~0.5-0.7.
    - ``min_scene_s`` = 3.0: class runs shorter than this are flicker and get absorbed by a
      neighbour (0 disables). Short enough to keep a real 3-s cutaway as its own scene.
    - ``shot_threshold`` = 0.15: cosine distance between the windowed means before and after a
      boundary that makes a cut. Inside a shot it stays below ~0.1 even for 1-frame windows
      (adjacent frames at 0.9-0.98), and averaging more frames lowers it; across a cut it is
      ~0.2-0.5 (shots at 0.5-0.8). Synthetic streams: within-shot max 0.12 at 1 fps with frame
      similarity 0.9, cut minimum 0.18. Fast pans or dissolves may exceed it; only the peak of
      each window and ``min_shot_s`` limit the cuts they cause.
    - ``shot_window_s`` = 1.0: length of each of the two windows (at least one frame).
    - ``min_shot_s`` = 1.0: no shot shorter than this, except a scene that is itself shorter.
    - ``blas_threads`` = 1: BLAS threads while segmenting (threadpoolctl, restored afterwards);
      None leaves the process setting. Its matrix products are small (D x D, N x 32): on 2
      shared cores OpenBLAS threads spin more than they compute. Measured here: PCA of 32k
      frames 0.5 s with 1 thread vs 2.5-7.5 s with 2; the unit tests 6 s vs 17 s.
    - ``random_state`` = 0: seed for PCA/UMAP; HDBSCAN and the rest are deterministic.
    """

    reduce: str = "pca"
    reduce_dims: int = 32
    min_cluster_s: float = 10.0
    min_samples_s: float = 5.0
    cluster_max_frames: int | None = 12_000
    class_merge_similarity: float | None = 0.75
    noise_min_similarity: float = 0.75
    min_scene_s: float = 3.0
    shot_threshold: float = 0.15
    shot_window_s: float = 1.0
    min_shot_s: float = 1.0
    blas_threads: int | None = 1
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.reduce not in REDUCERS:
            raise ConfigError(f"SegmentOptions.reduce must be one of {', '.join(REDUCERS)}; got {self.reduce!r}")
        _require(
            _is_int(self.reduce_dims) and self.reduce_dims >= 2, "reduce_dims", self.reduce_dims, "an integer >= 2"
        )
        _require(_is_num(self.min_cluster_s) and self.min_cluster_s > 0, "min_cluster_s", self.min_cluster_s, "> 0 s")
        _require(_is_num(self.min_samples_s) and self.min_samples_s > 0, "min_samples_s", self.min_samples_s, "> 0 s")
        cap = self.cluster_max_frames
        _require(cap is None or (_is_int(cap) and cap >= 100), "cluster_max_frames", cap, "None or an integer >= 100")
        merge = self.class_merge_similarity
        _require(
            merge is None or (_is_num(merge) and -1 <= merge <= 1),
            "class_merge_similarity",
            merge,
            "None or in [-1, 1]",
        )
        sim = self.noise_min_similarity
        _require(_is_num(sim) and -1 <= sim <= 1, "noise_min_similarity", sim, "a cosine similarity in [-1, 1]")
        _require(_is_num(self.min_scene_s) and self.min_scene_s >= 0, "min_scene_s", self.min_scene_s, ">= 0 s")
        thr = self.shot_threshold
        _require(_is_num(thr) and 0 < thr <= 2, "shot_threshold", thr, "a cosine distance in (0, 2]")
        _require(_is_num(self.shot_window_s) and self.shot_window_s > 0, "shot_window_s", self.shot_window_s, "> 0 s")
        _require(_is_num(self.min_shot_s) and self.min_shot_s >= 0, "min_shot_s", self.min_shot_s, ">= 0 s")
        blas = self.blas_threads
        _require(blas is None or (_is_int(blas) and blas >= 1), "blas_threads", blas, "None or an integer >= 1")
        _require(_is_int(self.random_state), "random_state", self.random_state, "an integer")


def _is_num(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(ok: bool, name: str, value: object, expected: str) -> None:
    if not ok:
        raise ConfigError(f"SegmentOptions.{name} must be {expected}; got {value!r}")


def segment(frames: FrameEmbeddings, options: SegmentOptions | None = None) -> Segmentation:
    """Split one video's sampled frames into classes, scenes and shots (see the module docstring).

    Deterministic: the same frames and options give the same result. Raises ``ValueError`` for
    malformed frames (timestamps not strictly increasing, non-finite embeddings).
    """
    options = options or SegmentOptions()
    if options.blas_threads is None:
        return _segment(frames, options)
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    with threadpool_limits(limits=options.blas_threads, user_api="blas"):
        return _segment(frames, options)


def _segment(frames: FrameEmbeddings, options: SegmentOptions) -> Segmentation:
    timestamps = np.asarray(frames.timestamps, dtype=np.float64)
    embeddings = np.ascontiguousarray(frames.embeddings, dtype=np.float32)
    _check_frames(timestamps, embeddings)
    n = len(timestamps)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Segmentation(
            frames.video_id, empty, empty.copy(), (), (), np.zeros((0, embeddings.shape[1]), np.float32)
        )
    interval = float(np.median(np.diff(timestamps))) if n > 1 else LONE_FRAME_S
    bounds_s = np.append(timestamps, timestamps[-1] + interval)
    tol_s = 0.01 * interval  # sampling jitter when comparing durations
    rate = 1.0 / interval

    raw = cluster_frames(embeddings, rate, options)
    merged = merge_similar_clusters(embeddings, raw, options.class_merge_similarity)
    classes, centroids = resolve_noise(embeddings, merged, timestamps, options.noise_min_similarity)
    classes = smooth_classes(classes, bounds_s, embeddings, centroids, options.min_scene_s, tol_s)
    classes = renumber_by_first_appearance(classes)
    scene_starts, _ = runs(classes)
    scene_bounds = np.append(scene_starts, n)

    window = max(1, round(options.shot_window_s * rate))
    dist = boundary_distances(embeddings, scene_bounds, window)
    bounds = shot_cuts(dist, scene_bounds, bounds_s, options.shot_threshold, window, options.min_shot_s, tol_s)
    means, keyframes = shot_vectors(embeddings, bounds)
    scenes, shots = _records(frames.video_id, classes, scene_bounds, bounds, keyframes, bounds_s)
    log.debug(
        "%s: %d frames, %d classes, %d scenes, %d shots", frames.video_id, n, classes.max() + 1, len(scenes), len(shots)
    )
    return Segmentation(frames.video_id, classes, raw, scenes, shots, means)


def _check_frames(timestamps: np.ndarray, embeddings: np.ndarray) -> None:
    if timestamps.ndim != 1 or embeddings.ndim != 2 or len(timestamps) != len(embeddings):
        raise ValueError(f"timestamps {timestamps.shape} and embeddings {embeddings.shape} do not match")
    if len(timestamps) > 1 and not np.all(np.diff(timestamps) > 0):
        raise ValueError("frame timestamps must be strictly increasing; re-run frame sampling")
    if not (np.isfinite(timestamps).all() and np.isfinite(embeddings).all()):
        raise ValueError("frame timestamps or embeddings contain NaN or infinity; re-run the encoder")


def _records(
    video_id, classes, scene_bounds, bounds, keyframes, bounds_s
) -> tuple[tuple[Scene, ...], tuple[Shot, ...]]:
    """Build the Scene and Shot records from frame-index boundaries."""
    scenes = tuple(
        Scene(video_id, i, int(classes[a]), int(a), int(b), float(bounds_s[a]), float(bounds_s[b]))
        for i, (a, b) in enumerate(zip(scene_bounds[:-1], scene_bounds[1:], strict=True))
    )
    scene_of_shot = np.searchsorted(scene_bounds, bounds[:-1], side="right") - 1
    shots = tuple(
        Shot(
            video_id=video_id,
            index=i,
            scene=int(scene_of_shot[i]),
            class_id=int(classes[a]),
            first_frame=int(a),
            end_frame=int(b),
            keyframe=int(keyframes[i]),
            start_s=float(bounds_s[a]),
            end_s=float(bounds_s[b]),
        )
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
    )
    return scenes, shots


def project_2d(embeddings: np.ndarray, method: str = "umap", random_state: int = 0) -> np.ndarray:
    """(N, 2) float32 coordinates for the UI's semantic map of shots or frames.

    ``method`` "umap" (cosine metric, 15 neighbours) or "pca". Falls back to PCA, with a log
    message, when umap-learn is not installed or there are fewer than 16 points; a single point
    (or identical points) maps to the origin. Deterministic for a given ``random_state``.
    UMAP takes ~1 min for 30k points on 2 cores: pass shot embeddings rather than frames.
    """
    if method not in PROJECTIONS:
        raise ConfigError(f"project_2d method must be one of {', '.join(PROJECTIONS)}; got {method!r}")
    data = np.asarray(embeddings, dtype=np.float32)
    if data.ndim != 2:
        raise ValueError(f"embeddings must be (N, D); got shape {data.shape}")
    if method == "umap" and len(data) >= UMAP_MIN_POINTS:
        try:
            import umap
        except ImportError:
            log.warning("umap-learn is not installed (pip install umap-learn==0.5.12): using PCA for the 2-D map")
        else:
            reducer = umap.UMAP(n_components=2, n_neighbors=15, metric="cosine", random_state=random_state, n_jobs=1)
            return np.asarray(reducer.fit_transform(data), dtype=np.float32)
    elif method == "umap":
        log.info("%d points are too few for UMAP: using PCA for the 2-D map", len(data))
    return _pca_2d(data)


def _pca_2d(data: np.ndarray) -> np.ndarray:
    """First two principal coordinates (zero where there is no variance), signs fixed."""
    out = np.zeros((len(data), 2), dtype=np.float32)
    k = min(2, *data.shape)
    if len(data) < 2 or k == 0:
        return out
    centred = (data - data.mean(axis=0, dtype=np.float64)).astype(np.float64)
    if len(data) <= data.shape[1]:  # few points: SVD of (N, D)
        _, singular, rows = np.linalg.svd(centred, full_matrices=False)
        variances, top = singular[:k] ** 2, rows[:k].T
    else:  # many points: eigen-decomposition of the (D, D) scatter matrix, nothing (N, N)
        values, vectors = np.linalg.eigh(centred.T @ centred)
        order = np.argsort(values)[::-1][:k]
        variances, top = values[order], vectors[:, order]
    signs = np.sign(top[np.abs(top).argmax(axis=0), np.arange(k)])
    coords = centred @ (top * np.where(signs == 0, 1.0, signs))
    out[:, :k] = np.where(variances > 1e-10 * len(data), coords, 0.0)
    return out
