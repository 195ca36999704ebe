"""Similarity statistics of stored videos, and whether the segmentation options fit them.

What ``python -m app calibrate`` reports for each encoder of a database, from each video's frame
embeddings, its segmentation and (where a shot detector ran) its hard cuts:

- adjacent-frame similarity: the cosine of consecutive sampled frames ("the same shot");
- shot-to-shot similarity: the cosine between the embeddings of consecutive shots;
- the distance curve that cuts shots (on the video scale, :func:`pipeline.segment.shots.boundary_distances`
  over the whole video, classes left out) inside the stored shots and at hard cuts;
- how often semantic shot boundaries (segmented without hard cuts) coincide with hard cuts.

Then :func:`fit_report` says, in plain sentences, where the options sit against these numbers.
Only real weights make these numbers mean anything: on a database built with a tiny
random-weight test model they describe noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.records import FrameEmbeddings, Segmentation
from pipeline.segment.options import SegmentOptions
from pipeline.segment.scale import VideoScale, adjacent_similarities, centre, measure_scale
from pipeline.segment.segmenter import cut_bounds, segment
from pipeline.segment.shots import boundary_distances


@dataclass(frozen=True)
class VideoStats:
    """One video's numbers (arrays are per frame pair, per shot pair or per boundary)."""

    video_id: str
    duration_s: float
    scale: VideoScale  # of the frames as given (classes)
    shot_scale: VideoScale  # of the frames centred on the video's mean (shots)
    adjacent: np.ndarray
    shot_to_shot: np.ndarray
    same_class: np.ndarray  # cosine of consecutive shots of one class
    other_class: np.ndarray  # ... of different classes
    distances: np.ndarray  # video-scale distance inside shots (farther than a window from any shot boundary or cut)
    cut_distances: np.ndarray  # the peak distance within one frame of each hard cut
    n_shots: int
    hard_cuts: int = 0
    cuts_matched: int = 0  # hard cuts with a semantic boundary within one frame
    semantic: int = 0  # semantic shot boundaries, segmented without hard cuts
    semantic_matched: int = 0  # of those, within one frame of a hard cut
    flat: bool = False


def video_stats(frames: FrameEmbeddings, seg: Segmentation, options: SegmentOptions,
                hard_cuts: Sequence[float] | None = None) -> VideoStats:
    """The statistics of one stored video (see the module docstring)."""
    emb = np.ascontiguousarray(frames.embeddings, dtype=np.float32)
    n = len(emb)
    interval = float(np.median(np.diff(frames.timestamps))) if n > 1 else 1.0
    window = max(1, round(options.shot_window_s / interval))
    centred = centre(emb)
    shot_scale = measure_scale(centred)
    dist = boundary_distances(centred, np.array([0, n]), window, shot_scale)[1:n] if n > 1 else np.zeros(0)
    vectors = seg.shot_embeddings.astype(np.float64)
    consecutive = np.einsum("ij,ij->i", vectors[:-1], vectors[1:]) if len(vectors) > 1 else np.zeros(0)
    same = np.array([s.class_id == t.class_id for s, t in zip(seg.shots[:-1], seg.shots[1:], strict=True)], bool)
    stats = dict(video_id=frames.video_id, duration_s=n * interval, scale=measure_scale(emb), shot_scale=shot_scale,
                 adjacent=adjacent_similarities(emb), shot_to_shot=consecutive, same_class=consecutive[same],
                 other_class=consecutive[~same], n_shots=len(seg.shots),
                 flat=shot_scale.adjacent - shot_scale.typical <= shot_scale.spread)
    bounds = cut_bounds(frames.timestamps, hard_cuts)
    near = np.zeros(n + 1, bool)  # boundaries within a window of a shot boundary or a hard cut
    for b in np.union1d(bounds, [s.first_frame for s in seg.shots[1:]]).astype(int):
        near[max(b - window, 0) : b + window + 1] = True
    inside = dist[np.isfinite(dist) & ~near[1:n]]
    if not len(bounds):
        return VideoStats(distances=inside, cut_distances=np.zeros(0), **stats)
    peaks = np.array([np.nanmax(dist[max(b - 2, 0) : b + 1]) for b in bounds])  # dist[k] is boundary k+1
    plain = segment(frames, options)  # without hard cuts: where the embeddings alone cut
    semantic = np.array([s.first_frame for s in plain.shots[1:]], dtype=np.int64)
    matched_cuts = sum(bool(np.any(np.abs(semantic - b) <= 1)) for b in bounds)
    matched_semantic = sum(bool(np.any(np.abs(bounds - s) <= 1)) for s in semantic)
    return VideoStats(distances=inside, cut_distances=peaks[np.isfinite(peaks)], hard_cuts=len(bounds),
                      cuts_matched=matched_cuts, semantic=len(semantic), semantic_matched=matched_semantic, **stats)


def _q(values: np.ndarray, q: float) -> float | None:
    return round(float(np.quantile(values, q)), 4) if len(values) else None


def summary(stats: Sequence[VideoStats]) -> dict:
    """The numbers of several videos (one encoder) pooled: quantiles and counts, JSON-ready."""
    pool = {name: np.concatenate([getattr(s, name) for s in stats]) if stats else np.zeros(0)
            for name in ("adjacent", "shot_to_shot", "same_class", "other_class", "distances", "cut_distances")}
    quantiles = {name: {f"p{int(q * 100)}": _q(values, q) for q in (0.1, 0.5, 0.9)} for name, values in pool.items()}
    hard = sum(s.hard_cuts for s in stats)
    semantic = sum(s.semantic for s in stats)
    return {
        "videos": len(stats),
        "hours": round(sum(s.duration_s for s in stats) / 3600, 3),
        "shots_per_minute": round(sum(s.n_shots for s in stats) / max(sum(s.duration_s for s in stats) / 60, 1e-9), 2),
        "scale": {"adjacent": _q(np.array([s.scale.adjacent for s in stats]), 0.5),
                  "typical": _q(np.array([s.scale.typical for s in stats]), 0.5),
                  "centred_spread": _q(np.array([s.shot_scale.spread for s in stats]), 0.5)},
        "flat_videos": sum(s.flat for s in stats),
        **quantiles,
        "hard_cuts": {"videos_with_cuts": sum(s.hard_cuts > 0 for s in stats), "cuts": hard,
                      "cuts_with_a_semantic_boundary": round(sum(s.cuts_matched for s in stats) / hard, 4) if hard else None,
                      "semantic_boundaries_at_a_cut": (round(sum(s.semantic_matched for s in stats) / semantic, 4)
                                                       if hard and semantic else None)},
    }


@dataclass
class Fit:
    """Sentences about how the options fit the numbers; ``ok`` is False if any is a warning."""

    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def warn(self, text: str) -> None:
        self.lines.append("warning: " + text)
        self.ok = False

    def note(self, text: str) -> None:
        self.lines.append(text)


def fit_report(stats: Sequence[VideoStats], options: SegmentOptions) -> Fit:
    """Whether ``options`` fit the pooled statistics of one encoder's videos."""
    fit = Fit()
    if not stats:
        fit.warn("no video to measure")
        return fit
    flat = sum(s.flat for s in stats)
    if flat:
        fit.note(f"{flat} of {len(stats)} videos are flat (adjacent frames no more alike than any two, within "
                 "the jitter): they get no semantic cut; a static camera or a tiny test model does this")
    distances = np.concatenate([s.distances for s in stats])
    at_cuts = np.concatenate([s.cut_distances for s in stats])
    if options.scale == "absolute":
        adjacent = float(np.median(np.concatenate([s.adjacent for s in stats])))
        fit.note(f"absolute thresholds: adjacent frames sit at cosine {adjacent:.3f} with this encoder")
        if not 1 - adjacent < options.shot_threshold:
            fit.warn(f"shot_threshold {options.shot_threshold} is below the typical distance of adjacent frames "
                     f"({1 - adjacent:.3f}): shots will be cut everywhere; use scale='video'")
        elif adjacent > 1 - options.shot_threshold / 3:
            fit.warn(f"adjacent frames are so alike (cosine {adjacent:.3f}) that cosine distances rarely reach "
                     f"shot_threshold {options.shot_threshold}: cuts will be missed; use scale='video'")
        return fit
    if len(distances):
        inside = float(np.quantile(distances, 0.95))
        fit.note(f"distance across frame boundaries inside shots (video scale): 95% below {inside:.2f}; "
                 f"shot_threshold is {options.shot_threshold}")
        if inside >= options.shot_threshold:
            fit.warn("more than 5% of the frame boundaries inside shots reach shot_threshold: raise it, "
                     "or shots will be cut where the camera moves")
    if len(at_cuts):
        below = float(np.mean(at_cuts < options.shot_threshold))
        fit.note(f"at hard cuts the distance peaks at a median {np.median(at_cuts):.2f}; "
                 f"{below:.0%} of hard cuts stay below shot_threshold")
        if below > 0.2:
            fit.warn("more than 20% of hard cuts stay below shot_threshold: lower it, or keep --cuts on")
    else:
        fit.note("no hard cuts stored: ingest or resegment with --cuts transnetv2 to compare with real cuts")
    return fit
