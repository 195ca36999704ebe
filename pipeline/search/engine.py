"""Stored points to typed hits."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.records import SearchHit
from pipeline.store import StoredPoint


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
