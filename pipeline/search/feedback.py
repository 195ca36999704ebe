"""Relevance feedback: search again from results an analyst marked relevant or not relevant, or
from one shot ("more like this")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.errors import QueryError
from pipeline.protocols import ImageTextEncoder, TextEncoder
from pipeline.records import SearchHit
from pipeline.search.engine import check_encoders, to_hits
from pipeline.search.query import Query, encode_query, normalise
from pipeline.store import VectorStore


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
        raise QueryError(code="query.refine_empty")
    return normalise(np.sum(parts, axis=0))


def refine(store: VectorStore, encoder: ImageTextEncoder, db: str, query: Query | None,
           positive: Sequence[str], negative: Sequence[str], method: str = "rocchio",
           k: int = 20, one_per_video: bool = False, text_encoder: TextEncoder | None = None) -> list[SearchHit]:
    """Search again with relevance feedback on result ids.

    ``rocchio`` moves the original query vector towards the relevant shots and away from
    the others (needs a query or a relevant shot); ``recommend`` uses Qdrant's recommend
    from the marked shots alone (needs at least one relevant shot). Marked shots are
    dropped from the new results, so the analyst sees new material.
    """
    positive, negative = list(dict.fromkeys(positive)), list(dict.fromkeys(negative))
    if set(positive) & set(negative):
        raise QueryError(code="query.marked_both")
    marked = set(positive) | set(negative)
    video_ids = query.video_ids if query else None
    if method == "recommend":
        if not positive:
            raise QueryError(code="query.recommend_positive")
        points = store.recommend(db, encoder.vector_name, positive, negative, k, video_ids, one_per_video)
        return to_hits(points)
    if method != "rocchio":
        raise QueryError(code="query.refine_method", method=method)
    check_encoders(store, db, encoder, text_encoder, query)
    retrieved = store.retrieve(db, positive + negative, with_vectors=True)
    vectors = {p.id: p.vectors[encoder.vector_name] for p in retrieved if encoder.vector_name in p.vectors}
    dim = store.vector_names(db)[encoder.vector_name]
    pos = np.array([vectors[i] for i in positive if i in vectors]).reshape(-1, dim)
    neg = np.array([vectors[i] for i in negative if i in vectors]).reshape(-1, dim)
    base = encode_query(encoder, query, text_encoder) if query else None
    vector = rocchio(base, pos, neg)
    points = store.query(db, encoder.vector_name, vector, k + len(marked), video_ids=video_ids,
                         one_per_video=one_per_video)
    return to_hits([p for p in points if p.id not in marked][:k])


def similar(store: VectorStore, vector_name: str, db: str, shot_id: str, k: int = 20,
            video_ids: Sequence[str] | None = None, one_per_video: bool = False) -> list[SearchHit]:
    """"More like this": the shots nearest to a stored shot's own vector, that shot excluded.

    Nothing is encoded: the shot's vector is read back from the store, so it works for any
    shot of any result list, whatever query found it. With ``one_per_video`` the shot's own
    video can still appear through another of its shots only if that shot ranks first there.
    """
    points = store.retrieve(db, [shot_id], with_vectors=True)
    if not points or vector_name not in (points[0].vectors or {}):
        raise QueryError(code="query.unknown_shot", shot=shot_id, db=db)
    if not 1 <= k <= 1000:
        raise QueryError(code="query.k_range", value=k)
    found = store.query(db, vector_name, np.asarray(points[0].vectors[vector_name], np.float32), k + 1,
                        video_ids=video_ids, one_per_video=one_per_video)
    return to_hits([p for p in found if p.id != shot_id][:k])
