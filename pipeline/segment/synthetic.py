"""Synthetic frame-embedding streams with known classes, scenes and shots, at any similarity scale.

Used by the tests and ``bench/segment.py`` to check that segmentation does not depend on an
encoder's cosine levels. A stream is built from random unit vectors in D dimensions (nearly
orthogonal for D in the hundreds), mixed with weights chosen so that the cosine between

- two frames of one shot is ``frame``,
- frames of two shots of one class (setting) is ``shot``,
- frames of two different classes is ``other``,

each within ~1/sqrt(D). A frame is ``sqrt(other)·common + sqrt(shot-other)·class +
sqrt(frame-shot)·shot_vector + sqrt(1-frame)·noise``, normalised. Any levels with
``0 <= other < shot < frame < 1`` can be produced, so a :class:`SimilarityScale` is simply a
monotone transform applied to today's CLIP-like levels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.records import FrameEmbeddings

#: Cosine levels of CLIP ViT-L-14-like frame embeddings that the defaults were first tuned on:
#: adjacent frames of a shot, shots of one setting, different settings.
CLIP_LEVELS = (0.92, 0.74, 0.48)


@dataclass(frozen=True)
class SimilarityScale:
    """A monotone map of cosine levels, standing for one encoder's similarity scale."""

    name: str
    transform: Callable[[float], float]
    description: str

    def levels(self, frame: float = CLIP_LEVELS[0], shot: float = CLIP_LEVELS[1],
               other: float = CLIP_LEVELS[2]) -> tuple[float, float, float]:
        return self.transform(frame), self.transform(shot), self.transform(other)


#: The scales the scale-invariance tests and the bench run on. Each maps CLIP-like levels
#: (0.92 / 0.74 / 0.48) monotonically; the levels they give are in the descriptions.
SCALES = {
    "clip": SimilarityScale("clip", lambda s: s, "CLIP-like levels 0.92 / 0.74 / 0.48"),
    "compressed": SimilarityScale(
        "compressed", lambda s: 0.8 * s,
        "SigLIP-like lower and narrower: 0.64 / 0.52 / 0.34 (more per-frame noise)"),
    "cone": SimilarityScale(
        "cone", lambda s: 1 - 0.3 * (1 - s),
        "every cosine squeezed towards 1, as uncentred features: 0.98 / 0.92 / 0.84"),
    "stretched": SimilarityScale(
        "stretched", lambda s: s ** 2.5, "wider and non-linear: 0.81 / 0.47 / 0.16"),
}


@dataclass(frozen=True)
class Stream:
    """A synthetic video: its frames and the ground truth they were made from."""

    frames: FrameEmbeddings
    shot_starts: np.ndarray  # first frame of every true shot
    frame_class: np.ndarray  # true class of every frame


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def make_stream(
    seed: int = 0,
    n_classes: int = 6,
    n_shots: int = 40,
    fps: float = 2.0,
    shot_s: tuple[float, float] = (2.0, 10.0),
    levels: tuple[float, float, float] = CLIP_LEVELS,
    class_order: list[int] | None = None,
    dim: int = 768,
    start_s: float = 0.5,
) -> Stream:
    """A seeded stream of ``n_shots`` shots of ``shot_s`` seconds, in scenes of 1-4 shots of one
    class (never the same class twice in a row); ``class_order`` (one class per shot) overrides
    the random scenes. ``levels`` = (frame, shot, other) cosines, see the module docstring.

    The random draws depend only on ``seed`` and the sizes, not on ``levels``: streams made at
    different scales share their timeline and their random vectors."""
    frame, shot, other = levels
    if not 0 <= other < shot < frame < 1:
        raise ValueError(f"levels must satisfy 0 <= other < shot < frame < 1, got {levels}")
    rng = np.random.default_rng(seed)
    common = _unit(rng.standard_normal(dim))
    classes = _unit(rng.standard_normal((n_classes, dim)))
    if class_order is None:
        class_order = []
        while len(class_order) < n_shots:
            c = int(rng.integers(n_classes))
            if not class_order or c != class_order[-1]:
                class_order += [c] * int(rng.integers(1, 5))
        class_order = class_order[:n_shots]
    weights = np.sqrt([other, shot - other, frame - shot, 1 - frame])
    chunks, labels, starts, position = [], [], [], 0
    for c in class_order:
        length = max(1, round(rng.uniform(*shot_s) * fps))
        shot_vector = _unit(rng.standard_normal(dim))
        noise = _unit(rng.standard_normal((length, dim)))
        mix = weights[0] * common + weights[1] * classes[c] + weights[2] * shot_vector
        chunks.append(_unit(mix + weights[3] * noise))
        labels += [c] * length
        starts.append(position)
        position += length
    embeddings = np.concatenate(chunks).astype(np.float32)
    timestamps = start_s + np.arange(len(embeddings)) / fps
    return Stream(FrameEmbeddings(f"synthetic-{seed}", timestamps, embeddings), np.array(starts), np.array(labels))


def boundary_f1(truth, predicted, tolerance: float = 1) -> float:
    """F1 of predicted boundaries against true ones (frame indices or seconds), each true one
    matched at most once within ``±tolerance`` (greedy, in order). 1.0 when both are empty."""
    truth, predicted = sorted(truth), sorted(predicted)
    if not truth and not predicted:
        return 1.0
    used: set[int] = set()
    hits = 0
    for p in predicted:
        match = next((i for i, t in enumerate(truth) if i not in used and abs(t - p) <= tolerance + 1e-9), None)
        if match is not None:
            used.add(match)
            hits += 1
    if not hits:
        return 0.0
    precision, recall = hits / len(predicted), hits / len(truth)
    return 2 * precision * recall / (precision + recall)
