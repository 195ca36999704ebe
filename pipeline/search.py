"""Search: a query becomes one vector per encoder, the store ranks shots, hits come back typed.

The pieces are small and composable so that later encoders (multilingual text,
transcripts, on-screen text) can be fused in:

- :func:`fuse_vectors` — weighted fusion of normalised query embeddings (text + image);
- :func:`rocchio` — relevance feedback on a query vector;
- :func:`search` / :func:`refine` — run the store query and type the results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.errors import QueryError
from pipeline.protocols import ImageTextEncoder
from pipeline.records import SearchHit
from pipeline.store.base import StoredPoint, VectorStore


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
            raise QueryError("empty query: give a text description, an example image, or both")
        if not 0.0 <= self.image_weight <= 1.0:
            raise QueryError(f"image_weight must be between 0 and 1, got {self.image_weight}")
        if not 1 <= self.k <= 1000:
            raise QueryError(f"k must be between 1 and 1000, got {self.k}")


def normalise(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    if norm < 1e-12:
        raise QueryError("the query vector is zero: the text and image cancel out; change the weight")
    return (vector / norm).astype(np.float32)


def fuse_vectors(vectors: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted sum of L2-normalised vectors, re-normalised. Zero-weight vectors are ignored."""
    if len(vectors) != len(weights) or not vectors:
        raise QueryError("fuse_vectors needs as many weights as vectors, and at least one")
    total = sum(w * normalise(v) for v, w in zip(vectors, weights, strict=True) if w)
    if isinstance(total, int):
        raise QueryError("every fusion weight is zero")
    return normalise(total)


def rocchio(query: np.ndarray | None, positives: np.ndarray, negatives: np.ndarray,
            alpha: float = 1.0, beta: float = 0.75, gamma: float = 0.25) -> np.ndarray:
    """Rocchio relevance feedback: ``alpha*q + beta*mean(pos) - gamma*mean(neg)``, normalised."""
    parts = []
    if query is not None:
        parts.append(alpha * normalise(query))
    if len(positives):
        parts.append(beta * normalise(np.mean(positives, axis=0)))
    if len(negatives):
        parts.append(-gamma * normalise(np.mean(negatives, axis=0)))
    if not parts:
        raise QueryError("refine needs a query or at least one relevant result")
    return normalise(np.sum(parts, axis=0))


def encode_query(encoder: ImageTextEncoder, query: Query) -> np.ndarray:
    """The query's vector in the encoder's space."""
    vectors, weights = [], []
    if query.text and query.text.strip():
        vectors.append(encoder.encode_texts([query.text.strip()])[0])
        weights.append(1.0 - query.image_weight if query.image is not None else 1.0)
    if query.image is not None:
        vectors.append(encoder.encode_images([query.image])[0])
        weights.append(query.image_weight if vectors[:-1] else 1.0)
    return fuse_vectors(vectors, weights)


def to_hits(points: Sequence[StoredPoint]) -> list[SearchHit]:
    hits = []
    for rank, point in enumerate(points, start=1):
        p = point.payload
        hits.append(SearchHit(
            rank=rank, score=float(point.score), point_id=point.id, video_id=p["video_id"], source=p["source"],
            shot_index=int(p["shot_index"]), scene=int(p["scene"]), class_id=int(p["class_id"]),
            start_s=float(p["start_s"]), end_s=float(p["end_s"]), thumbnail=p["thumbnail"],
        ))
    return hits


def search(store: VectorStore, encoder: ImageTextEncoder, db: str, query: Query) -> list[SearchHit]:
    """Text, image, or text+image -> ranked shots."""
    vector = encode_query(encoder, query)
    return search_vector(store, encoder.vector_name, db, vector, query)


def search_vector(store: VectorStore, vector_name: str, db: str, vector: np.ndarray, query: Query) -> list[SearchHit]:
    points = store.query(db, vector_name, vector, query.k, video_ids=query.video_ids, one_per_video=query.one_per_video)
    return to_hits(points)


def refine(store: VectorStore, encoder: ImageTextEncoder, db: str, query: Query | None,
           positive: Sequence[str], negative: Sequence[str], method: str = "rocchio",
           k: int = 20, one_per_video: bool = False) -> list[SearchHit]:
    """Search again with relevance feedback on result ids.

    ``rocchio`` moves the original query vector towards the relevant shots and away from
    the others (needs a query or a relevant shot); ``recommend`` uses Qdrant's recommend
    from the marked shots alone (needs at least one relevant shot). Marked shots are
    dropped from the new results, so the analyst sees new material.
    """
    positive, negative = list(dict.fromkeys(positive)), list(dict.fromkeys(negative))
    if set(positive) & set(negative):
        raise QueryError("a result cannot be marked both relevant and not relevant")
    marked = set(positive) | set(negative)
    video_ids = query.video_ids if query else None
    if method == "recommend":
        if not positive:
            raise QueryError("recommend needs at least one result marked relevant")
        points = store.recommend(db, encoder.vector_name, positive, negative, k, video_ids, one_per_video)
        return to_hits(points)
    if method != "rocchio":
        raise QueryError(f"unknown refine method {method!r}: use rocchio or recommend")
    vectors = {p.id: p.vectors[encoder.vector_name] for p in store.retrieve(db, positive + negative, with_vectors=True)}
    dim = encoder.dim
    pos = np.array([vectors[i] for i in positive if i in vectors]).reshape(-1, dim)
    neg = np.array([vectors[i] for i in negative if i in vectors]).reshape(-1, dim)
    base = encode_query(encoder, query) if query else None
    vector = rocchio(base, pos, neg)
    points = store.query(db, encoder.vector_name, vector, k + len(marked), video_ids=video_ids,
                         one_per_video=one_per_video)
    return to_hits([p for p in points if p.id not in marked][:k])
