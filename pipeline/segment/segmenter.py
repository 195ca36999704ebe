"""Semantic segmentation of one video's sampled frames into classes, scenes and shots.

The four steps (pure numpy + scikit-learn + hdbscan; the helpers live in
:mod:`pipeline.segment.classes` and :mod:`pipeline.segment.shots`). Similarities are compared
with thresholds on each video's own scale (:mod:`pipeline.segment.scale`), or as plain cosines
with ``SegmentOptions.scale="absolute"``:

(a) **Coarse grouping.** HDBSCAN over the frame embeddings after PCA to 32 dimensions (or UMAP,
    or nothing) gives *semantic classes*, ignoring time; clusters at least
    ``class_merge_similarity`` alike are joined (long shots of one setting). Noise frames
    (HDBSCAN label -1; HDBSCAN's own labels are kept in ``Segmentation.raw_labels``) join the
    most similar class when that similarity is at least ``noise_min_similarity``; on the video
    scale, the rest may form classes of their own (alike to each other by the same rule, and
    filling ``min_cluster_s``); the frames still left take the class of the nearest assigned
    frame in time. With no cluster at all (too few
    frames, identical frames, pure noise) every frame is class 0.
(b) **Class diarization.** Classes are laid on the timeline; runs shorter than ``min_scene_s``
    are absorbed by a neighbour; *scenes* are the maximal runs of one class that remain. A class
    that recurs at separate times keeps one class id and gives separate scenes. Class ids are
    renumbered 0..C-1 in order of first appearance (after smoothing, which may remove a class).
(c) **Fine grouping.** Inside each scene, a shot cut is placed where the distance between the
    ``shot_window_s`` of frames before and after a frame boundary peaks above ``shot_threshold``
    (and, on the video scale, above the frame-to-frame jitter), keeping shots at least
    ``min_shot_s`` long. Scene boundaries and hard cuts (``hard_cuts``, e.g. TransNetV2's) are
    always shot boundaries.
(d) **Shot embedding.** The mean of a shot's frame embeddings, re-normalised (float32); the
    keyframe is the shot's frame closest to that mean.

Times: a shot (or scene) starts at its first frame's timestamp and ends where the next one
starts; the last ends one median sampling interval after the last frame (1 s for a lone frame).
``first_frame``/``end_frame`` are half-open indices into the sampled frames.

Cost for a 3-hour video at 3 fps (32,400 frames, 768-d): PCA O(N·D²); HDBSCAN (Borůvka KD-tree)
on at most ``cluster_max_frames`` frames; shot detection O(N·D·window). Memory stays
O(N·D): the input, one centred copy of it on the video scale, and blocks of a few thousand rows;
nothing is O(N²). See ``bench/segment.py``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from pipeline.records import FrameEmbeddings, Scene, Segmentation, Shot
from pipeline.segment.classes import (
    cluster_frames,
    merge_similar_clusters,
    renumber_by_first_appearance,
    resolve_noise,
    runs,
    smooth_classes,
)
from pipeline.segment.options import SegmentOptions
from pipeline.segment.scale import COSINE_EPS, VideoScale, centre, measure_scale
from pipeline.segment.shots import boundary_distances, shot_cuts, shot_vectors, window_sizes

log = logging.getLogger(__name__)

#: Duration given to a video of one sampled frame, whose sampling interval is unknown.
LONE_FRAME_S = 1.0


def segment(
    frames: FrameEmbeddings, options: SegmentOptions | None = None, hard_cuts: Sequence[float] | None = None
) -> Segmentation:
    """Split one video's sampled frames into classes, scenes and shots (see the module docstring).

    ``hard_cuts``: times (seconds, on the frames' clock) of camera cuts found by a shot-boundary
    detector (:class:`pipeline.protocols.CutDetector`). Each one is a shot boundary, so no shot
    holds frames from both sides of a cut; classes and scenes do not look at them.
    Deterministic: the same frames, options and cuts give the same result. Raises ``ValueError``
    for malformed frames (timestamps not strictly increasing, non-finite embeddings) or cuts.
    """
    options = options or SegmentOptions()
    if options.blas_threads is None:
        return _segment(frames, options, hard_cuts)
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    with threadpool_limits(limits=options.blas_threads, user_api="blas"):
        return _segment(frames, options, hard_cuts)


def cut_bounds(timestamps: np.ndarray, hard_cuts: Sequence[float] | None) -> np.ndarray:
    """Frame boundaries of hard cuts: the first frame at or after each cut time, without 0 and N."""
    if not hard_cuts:
        return np.zeros(0, dtype=np.int64)
    times = np.asarray(hard_cuts, dtype=np.float64)
    if times.ndim != 1 or not np.isfinite(times).all():
        raise ValueError("hard cut times must be a flat list of finite seconds")
    bounds = np.unique(np.searchsorted(timestamps, times, side="left"))
    return bounds[(bounds > 0) & (bounds < len(timestamps))].astype(np.int64)


def _segment(frames: FrameEmbeddings, options: SegmentOptions, hard_cuts: Sequence[float] | None) -> Segmentation:
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

    # Video scale (see scale.py): classes compare groups of frames on the video's own levels;
    # shots compare the frames around each boundary, centred on the video's mean embedding.
    # Shot embeddings and keyframes always come from the frames as the encoder gave them.
    video = options.scale == "video"
    class_scale = measure_scale(embeddings) if video else None
    raw = cluster_frames(embeddings, rate, options)  # Euclidean on PCA, which centres: blind to a common offset
    merged = merge_similar_clusters(embeddings, raw, options.class_merge_similarity, class_scale)
    min_class_frames = max(2, math.ceil(options.min_cluster_s * rate - 1e-9))  # as HDBSCAN's, in frames
    classes, centroids = resolve_noise(
        embeddings, merged, timestamps, options.noise_min_similarity, class_scale, min_class_frames
    )
    classes = smooth_classes(classes, bounds_s, embeddings, centroids, options.min_scene_s, tol_s)
    classes = renumber_by_first_appearance(classes)
    scene_starts, _ = runs(classes)
    scene_bounds = np.append(scene_starts, n)

    fixed = np.union1d(scene_bounds, cut_bounds(timestamps, hard_cuts)).astype(np.int64)
    window = max(1, round(options.shot_window_s * rate))
    threshold = options.shot_threshold
    if video:
        centred = centre(embeddings)
        shot_scale = measure_scale(centred)
        dist = boundary_distances(centred, fixed, window, shot_scale)
        threshold = np.maximum(threshold, _jitter_floor(shot_scale, fixed, window, options.shot_min_jitter))
    else:
        dist = boundary_distances(embeddings, fixed, window)
    bounds = shot_cuts(dist, fixed, bounds_s, threshold, window, options.min_shot_s, tol_s)
    means, keyframes = shot_vectors(embeddings, bounds)
    scenes, shots = _records(frames.video_id, classes, scene_bounds, bounds, keyframes, bounds_s)
    log.debug(
        "%s: %d frames, %d classes, %d scenes, %d shots", frames.video_id, n, classes.max() + 1, len(scenes), len(shots)
    )
    return Segmentation(frames.video_id, classes, raw, scenes, shots, means)


def _jitter_floor(scale: VideoScale, fixed: np.ndarray, window: int, times: float) -> np.ndarray | float:
    """Per boundary, the least distance a cut needs on the video scale: a similarity drop of
    ``times`` standard errors of the windows' mean cosine (the frame-to-frame jitter
    ``scale.spread`` averaged over the windows' frames). Infinite for a flat video, whose
    adjacent frames are no more alike than any two of its frames, give or take one jitter
    (``adjacent - typical <= spread``: a static or structureless video): no shot to find."""
    if scale.adjacent - scale.typical <= scale.spread:
        return np.inf
    before, after = window_sizes(fixed, window)
    error = scale.spread * np.sqrt((1.0 / np.maximum(before, 1) + 1.0 / np.maximum(after, 1)) / 2 + 0.5 / window)
    return (times * error + COSINE_EPS) / scale.contrast


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
