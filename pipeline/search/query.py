"""A search request and the vector math on query embeddings: normalisation and weighted fusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.errors import QueryError
from pipeline.protocols import ImageTextEncoder, TextEncoder


@dataclass(frozen=True)
class Query:
    """A search request. ``image`` is an RGB ``uint8 (H, W, 3)`` array.

    With both text and image, the query vector is
    ``normalise((1 - image_weight) * text + image_weight * image)``.
    """

    text: str | None = None
    image: np.ndarray | None = field(default=None, compare=False)
    image_weight: float = 0.5
    k: int = 20
    one_per_video: bool = False
    video_ids: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not (self.text and self.text.strip()) and self.image is None:
            raise QueryError(code="query.empty")
        if not 0.0 <= self.image_weight <= 1.0:
            raise QueryError(code="query.weight_range", value=self.image_weight)
        if not 1 <= self.k <= 1000:
            raise QueryError(code="query.k_range", value=self.k)


def normalise(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    if norm < 1e-12:
        raise QueryError(code="query.zero_vector")
    return (vector / norm).astype(np.float32)


def fuse_vectors(vectors: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted sum of L2-normalised vectors, re-normalised. Zero-weight vectors are ignored."""
    if len(vectors) != len(weights) or not vectors:
        raise QueryError("fuse_vectors needs as many weights as vectors, and at least one")
    total = sum(w * normalise(v) for v, w in zip(vectors, weights, strict=True) if w)
    if isinstance(total, int):
        raise QueryError("every fusion weight is zero")
    return normalise(total)


def encode_query(encoder: ImageTextEncoder, query: Query, text_encoder: TextEncoder | None = None) -> np.ndarray:
    """The query's vector in the encoder's space; the text goes through ``text_encoder`` when one
    is given (a query encoder mapping into the same space), else through the encoder itself."""
    if text_encoder is not None and text_encoder.vector_name != encoder.vector_name:
        raise QueryError(f"the query encoder {text_encoder.name} maps into {text_encoder.vector_name}, not into "
                         f"{encoder.vector_name}")
    vectors, weights = [], []
    if query.text and query.text.strip():
        vectors.append((text_encoder or encoder).encode_texts([query.text.strip()])[0])
        weights.append(1.0 - query.image_weight if query.image is not None else 1.0)
    if query.image is not None:
        vectors.append(encoder.encode_images([query.image])[0])
        weights.append(query.image_weight if vectors[:-1] else 1.0)
    return fuse_vectors(vectors, weights)
