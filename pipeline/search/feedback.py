"""Relevance feedback: search again from results an analyst marked relevant or not relevant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from pipeline.errors import QueryError
from pipeline.protocols import ImageTextEncoder, TextEmbedder
from pipeline.records import SearchHit
from pipeline.search.engine import to_hits
from pipeline.search.explain import explain
from pipeline.search.fused import BM25, database_channels, search_channels
from pipeline.search.query import Query, encode_query, normalise
from pipeline.store import VectorStore, average_vector


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


def refine(store: VectorStore, encoder: ImageTextEncoder, db: str, query: Query | None,
           positive: Sequence[str], negative: Sequence[str], method: str = "rocchio",
           k: int = 20, one_per_video: bool = False, embedder: TextEmbedder | None = None) -> list[SearchHit]:
    """Search again with relevance feedback on result ids.

    ``rocchio`` moves the original query vector towards the relevant shots and away from
    the others (needs a query or a relevant shot); ``recommend`` uses Qdrant's recommend
    from the marked shots alone (needs at least one relevant shot). Marked shots are
    dropped from the new results, so the analyst sees new material.

    When the query has words and the database has text channels, the feedback moves the visual
    channel only: its ranking comes from the refined vector (Rocchio, or Qdrant's average-vector
    recommend computed from the marked shots), the text channels keep ranking by the query's
    words, and Qdrant fuses them as in :func:`pipeline.search.search_channels`.
    """
    positive, negative = list(dict.fromkeys(positive)), list(dict.fromkeys(negative))
    if set(positive) & set(negative):
        raise QueryError("a result cannot be marked both relevant and not relevant")
    if method not in ("rocchio", "recommend"):
        raise QueryError(f"unknown refine method {method!r}: use rocchio or recommend")
    if method == "recommend" and not positive:
        raise QueryError("recommend needs at least one result marked relevant")
    marked = set(positive) | set(negative)
    video_ids = query.video_ids if query else None
    have = database_channels(store, db, encoder.vector_name, embedder)
    fused = query is not None and query.text and any(c in have.text for c in (query.channels or have.names))
    if not fused and method == "recommend":
        points = store.recommend(db, encoder.vector_name, positive, negative, k, video_ids, one_per_video)
        return explain(to_hits(points), points, {"visual:feedback": [p.id for p in points]}, "", (), BM25)
    vectors = {p.id: p.vectors[encoder.vector_name] for p in store.retrieve(db, positive + negative, with_vectors=True)
               if encoder.vector_name in p.vectors}
    dim = encoder.dim
    pos = np.array([vectors[i] for i in positive if i in vectors]).reshape(-1, dim)
    neg = np.array([vectors[i] for i in negative if i in vectors]).reshape(-1, dim)
    if method == "recommend":
        if not len(pos):
            raise QueryError(f"the shots marked relevant are not in database {db!r}")
        vector = normalise(average_vector(list(pos), list(neg)))
    else:
        vector = rocchio(encode_query(encoder, query) if query else None, pos, neg)
    if fused:
        request = replace(query, k=k, one_per_video=one_per_video)
        return search_channels(store, encoder, db, request, embedder, visual_vector=vector,
                               exclude_ids=sorted(marked)).hits
    points = store.query(db, encoder.vector_name, vector, k + len(marked), video_ids=video_ids,
                         one_per_video=one_per_video)
    points = [p for p in points if p.id not in marked][:k]
    return explain(to_hits(points), points, {"visual:feedback": [p.id for p in points]}, "", (), BM25)
