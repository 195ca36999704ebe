"""What a person does with a result list before reading it: cut it at a minimum score and sort it.

Pure functions over hits. A hit keeps its ``rank`` (its place by relevance) whatever the order
shown, so "Recurso #7" stays the seventh best when the list is sorted by video or date.

The score is whatever the search gave: a cosine for a plain visual search (about 0.1-0.4 with
CLIP text queries, up to 1.0 between images), a reciprocal-rank-fusion score when several
rankings are fused (a few hundredths), the geometric mean of both parts for a temporal pair.
A threshold is therefore only comparable within one kind of search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from pipeline.errors import QueryError

#: Orders: by score (best first), by video name then time, by ingest date (newest or oldest first).
SORTS = ("score", "video", "date", "date-asc")

T = TypeVar("T")


def check_sort(sort: str) -> str:
    if sort not in SORTS:
        raise QueryError(code="query.sort", sort=sort, orders=", ".join(SORTS))
    return sort


def check_min_score(min_score: float | None) -> float | None:
    if min_score is None:
        return None
    value = float(min_score)
    if value != value or not -1.0 <= value <= 1.0:  # NaN, or beyond any score a search gives
        raise QueryError(code="query.min_score", value=min_score)
    return value


def arrange(items: Sequence[T], min_score: float | None = None, sort: str = "score",
            indexed_at: Mapping[str, str] | None = None) -> list[T]:
    """``items`` (hits or temporal pairs: anything :func:`sort_key` reads) at or above ``min_score``,
    in ``sort`` order.

    ``indexed_at`` maps video ids to their ISO ingest date (the catalog's ``indexed_at``);
    needed for the date orders, where a video missing from it goes last. Ties keep relevance
    order."""
    check_sort(sort)
    floor = check_min_score(min_score)
    read = sort_key
    kept = [item for item in items if floor is None or read(item)[0] >= floor]
    if sort == "score":
        return sorted(kept, key=lambda item: (-read(item)[0], read(item)[4]))
    if sort == "video":
        return sorted(kept, key=lambda item: (read(item)[1].casefold(), read(item)[2], read(item)[3], read(item)[4]))
    if indexed_at is None:
        raise QueryError("sorting by ingest date needs the catalog's dates of the videos")
    dated = [item for item in kept if indexed_at.get(read(item)[2])]
    undated = [item for item in kept if not indexed_at.get(read(item)[2])]
    newest = sort == "date"
    # ISO dates sort as text; within a video, by time; ties in relevance order
    dated.sort(key=lambda item: (read(item)[3], read(item)[4]))
    dated.sort(key=lambda item: indexed_at[read(item)[2]], reverse=newest)
    return dated + sorted(undated, key=lambda item: read(item)[4])


def sort_key(hit) -> tuple[float, str, str, float, int]:
    """``(score, source, video_id, start_s, rank)`` of a :class:`~pipeline.records.SearchHit`-like record."""
    return float(hit.score), str(hit.source), str(hit.video_id), float(hit.start_s), int(hit.rank)
