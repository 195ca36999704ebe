"""Search: a query becomes one vector per encoder, the store ranks shots, hits come back typed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.index import check_encoder
from pipeline.protocols import ImageTextEncoder, TextEncoder
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


def check_encoders(store: VectorStore, db: str, encoder: ImageTextEncoder, text_encoder: TextEncoder | None,
                   query: Query | None) -> None:
    """Refuse encoders that do not make ``db``'s vectors. The image encoder is checked when it runs
    (an image query, or no query encoder); a text-only query checks the query encoder alone, so
    that an M-CLIP search never loads the image model just to check it."""
    if text_encoder is not None and text_encoder is not encoder:
        check_encoder(store, db, text_encoder)
        if query is not None and query.image is None:
            return
    check_encoder(store, db, encoder)


def search(store: VectorStore, encoder: ImageTextEncoder, db: str, query: Query,
           text_encoder: TextEncoder | None = None) -> list[SearchHit]:
    """Text, image, or text+image -> ranked shots. ``text_encoder`` (a query encoder into the same
    space) encodes the text instead of ``encoder``. The encoders are checked against the vectors
    the database records first (:func:`pipeline.index.check_encoder`): a mismatch is refused."""
    check_encoders(store, db, encoder, text_encoder, query)
    vector = encode_query(encoder, query, text_encoder)
    return search_vector(store, encoder.vector_name, db, vector, query)


def search_vector(store: VectorStore, vector_name: str, db: str, vector: np.ndarray, query: Query) -> list[SearchHit]:
    points = store.query(db, vector_name, vector, query.k, video_ids=query.video_ids, one_per_video=query.one_per_video)
    return to_hits(points)
