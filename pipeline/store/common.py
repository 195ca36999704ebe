"""Pure helpers shared by the store backends: request validation and the two operations
that some backends emulate (Qdrant's average-vector recommend, group-by-video).

No backend imports here, so each backend stays importable without the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from pipeline.errors import QueryError, StoreError
from pipeline.store.base import StoredPoint

FETCH_FACTOR = 4  # best_per_video: shots fetched per video still missing
MIN_FETCH = 32


def average_vector(positive: Sequence[np.ndarray], negative: Sequence[np.ndarray]) -> np.ndarray:
    """Qdrant's ``average_vector`` recommend strategy: ``avg(pos) + (avg(pos) - avg(neg))``."""
    mean_pos = np.mean(np.stack(positive).astype(np.float64), axis=0)
    if not negative:
        return mean_pos.astype(np.float32)
    return (2 * mean_pos - np.mean(np.stack(negative).astype(np.float64), axis=0)).astype(np.float32)


def best_per_video(fetch: Callable[[int, list[str]], list[StoredPoint]], k: int) -> list[StoredPoint]:
    """Best shot of each of the top-k videos, from ``fetch(limit, videos_to_exclude)``."""
    best: dict[str, StoredPoint] = {}
    while len(best) < k:
        limit = max(MIN_FETCH, (k - len(best)) * FETCH_FACTOR)
        hits = fetch(limit, list(best))
        before = len(best)
        for hit in hits:
            best.setdefault(str(hit.payload.get("video_id", hit.id)), hit)
        if len(hits) < limit or len(best) == before:
            break
    return sorted(best.values(), key=lambda p: -p.score)[:k]


def plain_payload(payload: dict) -> dict:
    """numpy scalars (``np.int64`` shot indices) become Python numbers, as every backend needs."""
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in payload.items()}


def check_batch(name: str, known: dict[str, int], ids: Sequence[str], vectors: dict[str, np.ndarray],
                payloads: Sequence[dict]) -> dict[str, np.ndarray]:
    """Validate an upsert against the collection's vectors; return float32 ``(n, dim)`` arrays."""
    if len(ids) != len(payloads):
        raise StoreError(f"upsert into {name!r}: {len(ids)} ids but {len(payloads)} payloads")
    if not vectors:
        raise StoreError(f"upsert into {name!r}: no vectors given")
    arrays = {}
    for vname, array in vectors.items():
        if vname not in known:
            raise StoreError(f"database {name!r} has no {vname!r} vectors (it has {sorted(known)}): "
                             "call ensure_collection with this vector first")
        arrays[vname] = np.asarray(array, dtype=np.float32)
        if arrays[vname].shape != (len(ids), known[vname]):
            raise StoreError(f"upsert into {name!r}: {vname} vectors have shape {arrays[vname].shape}, "
                             f"expected ({len(ids)}, {known[vname]})")
    return arrays


def check_query(name: str, known: dict[str, int], vector_name: str, k: int) -> None:
    if vector_name not in known:
        raise QueryError(code="query.no_vectors", db=name, vector=vector_name, known=", ".join(sorted(known)) or "-")
    if k < 1:
        raise QueryError(f"k must be at least 1, got {k}")


def query_vector(name: str, known: dict[str, int], vector_name: str, vector: np.ndarray, k: int) -> np.ndarray:
    """Validate a query against the collection; return the query as a flat float32 array."""
    check_query(name, known, vector_name, k)
    q = np.asarray(vector, dtype=np.float32).ravel()
    if q.shape != (known[vector_name],):
        raise QueryError(f"query vector has {q.size} dimensions; {vector_name!r} in {name!r} has {known[vector_name]}")
    return q
