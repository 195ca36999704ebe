"""How segmentation groups frames: :class:`SegmentOptions`, one frozen object with its checks.

Kept apart from the algorithm so that every step (:mod:`pipeline.segment.classes`,
:mod:`pipeline.segment.shots`, :mod:`pipeline.segment.segmenter`) can read it without
importing the others.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

from pipeline.errors import ConfigError

REDUCERS = ("pca", "umap", "none")
SCALES = ("video", "absolute")
#: The absolute cosine thresholds of ``scale="absolute"``, tuned for CLIP ViT-L-14 (and the
#: values every segmentation stored before ``scale`` existed was made with).
ABSOLUTE_THRESHOLDS = {"class_merge_similarity": 0.75, "noise_min_similarity": 0.75, "shot_threshold": 0.15}


@dataclass(frozen=True)
class SegmentOptions:
    """How :func:`segment` groups frames. Durations in seconds; sizes are converted to frames
    with the video's sampling rate (1 / median interval), so one setting works at 1-3 fps.

    **Similarity thresholds and their scale.** Three options compare similarities with a
    threshold: ``class_merge_similarity``, ``noise_min_similarity`` and ``shot_threshold``.
    With ``scale="video"`` (the default) they are read on each video's own similarity scale
    (:mod:`pipeline.segment.scale`): a similarity ``s`` becomes
    ``z = (s - typical) / (adjacent - typical)``, where ``adjacent`` is the median cosine of
    consecutive frames of the video and ``typical`` the mean cosine of any two of its frames;
    1 means "as alike as adjacent frames", 0 "as alike as two frames picked at random". What
    is compared is always a mean of cosines between *different* frames, so an encoder whose
    cosines are an affine function of another's (a cone squeezing every cosine towards 1, a
    narrower or wider range) gives the same classes, and shots are compared on frames centred on
    the video's mean, which removes a common direction exactly even where each frame carries a
    different share of it. Measured (``bench/segment.py``, ``tests/unit/test_segment_scale.py``):
    shot F1 and class ARI within 0.02 across CLIP-like, compressed SigLIP-like, cone and
    stretched non-linear synthetic scales at frame-noise levels 0.90-0.96 (the bench also shows
    where it stops: 1 fps with very noisy frames); the absolute thresholds lose up to 1.0 of F1 or ARI on the
    compressed and cone scales. Why per video and not constants per encoder in the model
    catalogue: no real weights can be downloaded where this was built, so no encoder constant
    could be measured here, while a video's own levels need nothing and also follow its footage
    (grainy archive film sits lower than studio video with any encoder). ``python -m app
    calibrate`` shows users with real weights where their videos' levels lie and whether these
    options fit them. Limit: ``typical`` follows the video's content, so in a video of a single
    setting its camera positions play the part of settings (classes come out finer).
    With ``scale="absolute"`` the thresholds are plain cosines, exactly as before (defaults tuned
    for CLIP ViT-L-14: :data:`ABSOLUTE_THRESHOLDS`, :meth:`absolute`); options stored without a
    ``scale`` (before it existed) load as absolute, so they still mean what they meant
    (:meth:`from_dict`) and reproduce the stored segmentations bit for bit.

    - ``reduce`` = "pca": reduction before HDBSCAN, "pca" | "umap" | "none". PCA-32 clusters 32k
      frames in seconds and better than raw 768-d (PERFORMANCE.md); UMAP is ~5x slower. PCA
      centres the frames, so HDBSCAN's distances do not depend on an encoder's common offset.
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
    - ``scale`` = "video": how the three thresholds below are read, "video" | "absolute" (above).
    - ``class_merge_similarity`` = 0.2 (video scale; absolute 0.75): HDBSCAN clusters whose
      frames are at least this alike on average become one class (average linkage over the
      clusters, so a chain of pairwise-close clusters does not merge everything). Shots of one
      setting sit at ~0.3-0.6 on the video scale, different settings at ~0 or below (synthetic
      streams, every scale; absolute: the cosine of normalised centroids, ~0.8-0.95 vs ~0.4-0.7
      for CLIP). This keeps
      classes at the level of settings when shots are long (5-30 s shots: ARI 0.17 without,
      ~1.0 with, on synthetic streams). None disables it.
    - ``noise_min_similarity`` = 0.2 (video scale; absolute 0.75): a noise frame joins the class
      it is most alike on average (absolute: the cosine to the class's normalised centroid), if
      that similarity is at least this. Video scale only: the noise frames no class took that are
      on average at least this alike to each other and fill ``min_cluster_s`` become classes of
      their own (HDBSCAN drops a setting of barely ``min_cluster_s`` filmed in a few short shots
      when its shots come off the rest one by one, which depends on the scale's non-linearity).
      Frames left after that take the class of their nearest frame in time.
    - ``min_scene_s`` = 3.0: class runs shorter than this are flicker and get absorbed by a
      neighbour (0 disables). Short enough to keep a real 3-s cutaway as its own scene.
    - ``shot_threshold`` = 0.25 (video scale; absolute 0.15): a cut is a peak of the distance
      across a frame boundary of at least this. Video scale, on frames centred on the video's
      mean: the mean cosine between the frames of the window before and the window after falls
      below the mean cosine of the adjacent frame pairs around the boundary (``shot_window_s``
      pairs on each side, none across it) by at least this fraction of ``adjacent - typical``:
      ~0 ± 0.02 inside a shot, ~0.4-0.8 across a cut between shots of one setting, ~1-1.5
      between settings (synthetic streams, every scale; camera motion raises the first). The local reference keeps the shots of a jittery setting from being cut by their
      own jitter. Absolute: the cosine distance between the windows' normalised means (inside a
      CLIP shot < ~0.1, across a cut ~0.2-0.5). Fast pans or dissolves may exceed it; only the
      peak of each window and ``min_shot_s`` limit the cuts they cause.
    - ``shot_min_jitter`` = 1.5 (video scale only): a cut's drop must also be at least this many
      standard errors of the frame-to-frame jitter (1.4826 x the MAD of adjacent-frame cosines,
      averaged over the windows); and a video whose ``adjacent - typical`` is within one jitter is
      flat (static, or no structure) and gets no semantic cut at all. 1.5 keeps every synthetic
      scale within 0.02 at 1 fps; 2 lost cuts on the compressed scale, 1 made false ones.
    - ``shot_window_s`` = 1.0: length of each of the two windows (at least one frame).
    - ``min_shot_s`` = 1.0: no shot shorter than this, except a scene that is itself shorter, or
      a shot bounded by a hard cut given to :func:`segment`.
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
    scale: str = "video"
    class_merge_similarity: float | None = 0.2
    noise_min_similarity: float = 0.2
    min_scene_s: float = 3.0
    shot_threshold: float = 0.25
    shot_min_jitter: float = 1.5
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
        if self.scale not in SCALES:
            raise ConfigError(f"SegmentOptions.scale must be one of {', '.join(SCALES)}; got {self.scale!r}")
        absolute = self.scale == "absolute"
        merge = self.class_merge_similarity
        _require(merge is None or (_is_num(merge) and (not absolute or -1 <= merge <= 1)),
                 "class_merge_similarity", merge, "None or in [-1, 1]" if absolute else "None or a finite number")
        sim = self.noise_min_similarity
        _require(_is_num(sim) and (not absolute or -1 <= sim <= 1), "noise_min_similarity", sim,
                 "a cosine similarity in [-1, 1]" if absolute else "a finite number")
        _require(_is_num(self.min_scene_s) and self.min_scene_s >= 0, "min_scene_s", self.min_scene_s, ">= 0 s")
        thr = self.shot_threshold
        _require(_is_num(thr) and thr > 0 and (not absolute or thr <= 2), "shot_threshold", thr,
                 "a cosine distance in (0, 2]" if absolute else "a finite number > 0")
        jitter = self.shot_min_jitter
        _require(_is_num(jitter) and jitter >= 0, "shot_min_jitter", jitter, "a finite number >= 0")
        _require(_is_num(self.shot_window_s) and self.shot_window_s > 0, "shot_window_s", self.shot_window_s, "> 0 s")
        _require(_is_num(self.min_shot_s) and self.min_shot_s >= 0, "min_shot_s", self.min_shot_s, ">= 0 s")
        blas = self.blas_threads
        _require(blas is None or (_is_int(blas) and blas >= 1), "blas_threads", blas, "None or an integer >= 1")
        _require(_is_int(self.random_state), "random_state", self.random_state, "an integer")


    @classmethod
    def absolute(cls, **changes) -> SegmentOptions:
        """Options with plain cosine thresholds (:data:`ABSOLUTE_THRESHOLDS`, then ``changes``)."""
        return cls(**{"scale": "absolute", **ABSOLUTE_THRESHOLDS, **changes})

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SegmentOptions:
        """Options from their stored form (``dataclasses.asdict``, e.g. the ``segment`` part of a
        video's ``meta.json``). A dict without ``scale`` was written before it existed: its
        thresholds are absolute cosines, and it loads as such. Unknown names are refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown segmentation options {', '.join(unknown)}: these options come from "
                              "a newer version of BuscaEscenas; upgrade it, or re-segment with this version")
        values = dict(data)
        if "scale" not in values:
            values = {**ABSOLUTE_THRESHOLDS, **values, "scale": "absolute"}
        return cls(**values)


def _is_num(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(ok: bool, name: str, value: object, expected: str) -> None:
    if not ok:
        raise ConfigError(f"SegmentOptions.{name} must be {expected}; got {value!r}")
