"""How segmentation groups frames: :class:`SegmentOptions`, one frozen object with its checks.

Kept apart from the algorithm so that every step (:mod:`pipeline.segment.classes`,
:mod:`pipeline.segment.shots`, :mod:`pipeline.segment.segmenter`) can read it without
importing the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.errors import ConfigError

REDUCERS = ("pca", "umap", "none")


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
