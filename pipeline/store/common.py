"""Pure helpers shared by the store backends: request validation and the two operations
that some backends emulate (Qdrant's average-vector recommend, group-by-video).

No backend imports here, so each backend stays importable without the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from pipeline.errors import QueryError, StoreError
from pipeline.store.base import FusedResult, Prefetch, SparseVector, StoredPoint

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


def payload_bytes(payload: dict) -> int:
    """The size of a payload as JSON: what a disk-space check counts for it."""
    return len(json.dumps(plain_payload(payload), ensure_ascii=False, default=str).encode())


def sparse_rows_bytes(rows: dict[str, list[SparseVector]]) -> int:
    """The size of sparse vectors as stored: a 4-byte index and a 4-byte weight per entry."""
    return sum(8 * len(v.indices) for items in rows.values() for v in items)


def check_batch(name: str, known: dict[str, int], ids: Sequence[str], vectors: dict[str, np.ndarray],
                payloads: Sequence[dict]) -> dict[str, np.ndarray]:
    """Validate an upsert against the collection's vectors; return float32 ``(n, dim)`` arrays."""
    if len(ids) != len(payloads):
        raise StoreError(f"upsert into {name!r}: {len(ids)} ids but {len(payloads)} payloads")
    if not vectors:
        raise StoreError(f"upsert into {name!r}: no vectors given")
    return check_dense(name, known, len(ids), vectors)


def check_dense(name: str, known: dict[str, int], n: int, vectors: dict[str, np.ndarray] | None
                ) -> dict[str, np.ndarray]:
    """Validate dense vectors for ``n`` points; return float32 ``(n, dim)`` arrays."""
    arrays = {}
    for vname, array in (vectors or {}).items():
        if vname not in known:
            raise StoreError(f"database {name!r} has no {vname!r} vectors (it has {sorted(known)}): "
                             "call ensure_collection with this vector first")
        arrays[vname] = np.asarray(array, dtype=np.float32)
        if arrays[vname].shape != (n, known[vname]):
            raise StoreError(f"writing to {name!r}: {vname} vectors have shape {arrays[vname].shape}, "
                             f"expected ({n}, {known[vname]})")
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


# -- text channels: checks and the fused-search procedure every backend shares --------------------

#: A fused search fetches at most this many points per leaf ranking (one_per_video may deepen).
MAX_DEPTH = 1000


def check_sparse_batch(name: str, known: Sequence[str], n: int, sparse: dict[str, Sequence[SparseVector]] | None
                       ) -> dict[str, list[SparseVector]]:
    """Validate sparse vectors for ``n`` points against the collection's sparse names."""
    out = {}
    for vname, items in (sparse or {}).items():
        if vname not in known:
            raise StoreError(f"database {name!r} has no sparse {vname!r} vectors (it has {sorted(known)}): "
                             "call ensure_sparse with this name first")
        items = list(items)
        if len(items) != n:
            raise StoreError(f"{len(items)} sparse {vname!r} vectors for {n} points in {name!r}")
        if not all(isinstance(v, SparseVector) for v in items):
            raise StoreError(f"sparse {vname!r} vectors for {name!r} must be SparseVector objects")
        out[vname] = items
    return out


def check_prefetches(name: str, dense: dict[str, int], sparse: Sequence[str], prefetches: Sequence[Prefetch],
                     k: int) -> list[Prefetch]:
    """Refuse a fused query that cannot match the collection; return its leaves."""
    if k < 1:
        raise QueryError(f"k must be at least 1, got {k}")
    if not prefetches:
        raise QueryError("a fused query needs at least one ranking to fuse")
    leaves = [leaf for p in prefetches for leaf in p.leaves()]
    labels = [leaf.label for leaf in leaves]
    if len(set(labels)) != len(labels):
        raise QueryError(f"the rankings of a fused query need distinct labels, got {labels}")
    for leaf in leaves:
        if isinstance(leaf.query, SparseVector):
            if leaf.using not in sparse:
                raise QueryError(f"database {name!r} has no sparse {leaf.using!r} vectors (it has {sorted(sparse)})")
        else:
            query_vector(name, dense, leaf.using, leaf.query, k)
    return leaves


def fused_search(run: Callable[[int, int], tuple[list[StoredPoint], dict[str, list[str]] | None]],
                 payloads: Callable[[Sequence[str]], dict[str, dict]], n_leaves: int, k: int, depth: int,
                 one_per_video: bool) -> FusedResult:
    """The procedure behind every backend's ``fused_query``.

    ``run(limit, depth)`` sends one batch to Qdrant: the fusion request (every leaf ranking fetched
    ``depth`` deep as a prefetch, then weighted RRF, ``limit`` points back) and, when the caller
    asked for the ranks, each leaf ranking on its own (else None), so that every hit can say which
    rankings found it and where. Without the ranks the fused query is Qdrant's single prefetch +
    fusion query and nothing more: what costs a query is scanning the vectors, and the leaf
    rankings scan them a second time (Qdrant Edge runs a batch one request after the other,
    holding the GIL).

    ``one_per_video`` asks for the whole fused list (at most ``n_leaves * depth`` points), whose
    payloads ``run`` reduces to ``video_id``, keeps the best-fused shot of each video and reads the
    full payloads of those (``payloads(ids)``). When fewer than k videos come out and a
    ranking may have been cut at ``depth``, it runs again four times deeper."""
    depth = max(depth, k)
    while True:
        limit = n_leaves * depth if one_per_video else k
        points, rankings = run(limit, depth)
        if not one_per_video:
            return FusedResult(points[:k], rankings)
        best: dict[str, StoredPoint] = {}
        for point in points:
            best.setdefault(str(point.payload.get("video_id", point.id)), point)
        # a ranking was cut when it filled its depth; without the rankings, only a fused list shorter
        # than the depth proves that none was
        cut = any(len(r) >= depth for r in rankings.values()) if rankings is not None else len(points) >= depth
        if len(best) >= k or not cut or depth >= MAX_DEPTH:
            chosen = list(best.values())[:k]
            full = payloads([p.id for p in chosen])
            return FusedResult([replace(p, payload=full.get(p.id, p.payload)) for p in chosen], rankings)
        depth = min(MAX_DEPTH, depth * 4)
