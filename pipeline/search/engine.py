"""Search: a query becomes one vector per encoder, the store ranks shots, hits come back typed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.protocols import ImageTextEncoder
from pipeline.records import SearchHit
from pipeline.search.query import Query, encode_query
from pipeline.store import StoredPoint, VectorStore


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
