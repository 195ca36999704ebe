"""Qdrant Edge: what the text channels need (sparse BM25 vectors with the IDF modifier, vector
and payload updates, fused queries), as a mixin of :class:`pipeline.store.edge.EdgeStore`.

The store supplies ``_api()`` (the ``qdrant_edge`` module), ``_errors(action, name)`` (its
error translation), ``_get(name)`` (the open collection), ``_remember_sparse(c, names)``,
``_dense_params(c, k)`` (how its dense searches run: int8 segments rescored, or exact/HNSW),
``_after_write(c, n)`` (seals a full segment: an updated point moves to the appendable one) and
``_writable(action, extra_bytes)``: every write here, like the store's own, is refused in
read-only mode or when it would leave less than the disk margin free (its bytes estimated as the
store estimates an upsert's: vectors and payload, times the WAL + segment + index overhead).
Fused queries follow :func:`pipeline.store.common.fused_search`: one ``query_batch`` holding
Edge's own prefetch + ``Fusion.Rrf(k, weights)`` query and, when the ranks are asked for, the
leaf rankings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.errors import StoreError
from pipeline.store.base import FusedResult, Prefetch, SparseVector, StoredPoint
from pipeline.store.common import (
    check_dense,
    check_prefetches,
    check_sparse_batch,
    fused_search,
    payload_bytes,
    plain_payload,
    sparse_rows_bytes,
)

log = logging.getLogger(__name__)


def edge_sparse(vector: SparseVector) -> Any:
    import qdrant_edge

    return qdrant_edge.SparseVector(list(vector.indices), list(vector.values))


class EdgeChannelsMixin:
    """Text-channel operations of an EdgeStore (see the module docstring)."""

    def sparse_names(self, name: str) -> list[str]:
        return sorted(self._get(name).sparse)

    def ensure_sparse(self, name: str, names: Sequence[str]) -> None:
        with self._mutex:
            c = self._get(name)
            missing = [n for n in dict.fromkeys(names) if n not in c.sparse and n not in c.vectors]
            clash = [n for n in names if n in c.vectors]
            if clash:
                raise StoreError(f"database {name!r} has dense vectors named {clash}: a sparse vector needs another name")
            if not missing:
                return
            self._writable(f"add sparse vectors to database {name!r}")
            qe = self._api()
            with self._errors("add sparse vectors", name):
                for vname in missing:
                    c.shard.update(qe.UpdateOperation.create_sparse_vector(vname, qe.Modifier.Idf))
                c.shard.flush()
            self._remember_sparse(c, (*c.sparse, *missing))
            log.info("database %r: added sparse vectors %s", name, missing)

    def update_vectors(self, name: str, ids: Sequence[str], dense: dict[str, np.ndarray] | None = None,
                       sparse: dict[str, Sequence[SparseVector]] | None = None) -> None:
        c = self._get(name)
        arrays = check_dense(name, c.vectors, len(ids), dense)
        sparse_rows = check_sparse_batch(name, c.sparse, len(ids), sparse)
        size = sum(a.shape[0] * a.shape[1] * 4 for a in arrays.values()) + sparse_rows_bytes(sparse_rows)
        self._writable(f"store text-channel vectors of {len(ids)} shots in database {name!r}",
                       size * self.WRITE_OVERHEAD)
        arrays = {v: a.tolist() for v, a in arrays.items()}
        qe = self._api()
        points = []
        for i, pid in enumerate(ids):
            vector = {v: rows[i] for v, rows in arrays.items()}
            vector.update({v: edge_sparse(rows[i]) for v, rows in sparse_rows.items() if rows[i]})
            if vector:
                points.append(qe.PointVectors(str(pid), vector))
        if points:
            with self._errors("update vectors", name):
                c.shard.update(qe.UpdateOperation.update_vectors(points))
            self._after_write(c, len(points))

    def clear_fields(self, name: str, video_id: str, vectors: Sequence[str], payload_keys: Sequence[str] = ()) -> None:
        c = self._get(name)
        known = [n for n in vectors if n in c.vectors or n in c.sparse]
        if known or payload_keys:
            self._writable(f"clear text-channel fields of video {video_id!r} in database {name!r}")
        qe = self._api()
        flt = qe.Filter(must=[qe.FieldCondition("video_id", match=qe.MatchValue(video_id))])
        with self._errors("clear vectors and payload fields", name):
            if known:
                c.shard.update(qe.UpdateOperation.delete_vectors_by_filter(flt, known))
            if payload_keys:
                c.shard.update(qe.UpdateOperation.delete_payload_by_filter(flt, list(payload_keys)))

    def set_payload(self, name: str, ids: Sequence[str], payloads: Sequence[dict]) -> None:
        c = self._get(name)
        self._writable(f"store the payloads of {len(ids)} shots in database {name!r}",
                       sum(payload_bytes(p) for p in payloads) * self.WRITE_OVERHEAD)
        qe = self._api()
        with self._errors("set payloads", name):
            for pid, payload in zip(ids, payloads, strict=True):
                keep = plain_payload({k: v for k, v in payload.items() if v is not None})
                drop = [k for k, v in payload.items() if v is None]
                if keep:
                    c.shard.update(qe.UpdateOperation.set_payload([str(pid)], keep))
                if drop:
                    c.shard.update(qe.UpdateOperation.delete_payload([str(pid)], drop))
        self._after_write(c, len(ids))

    def fused_query(self, name: str, prefetches: Sequence[Prefetch], k: int, depth: int = 100,
                    video_ids: Sequence[str] | None = None, exclude_ids: Sequence[str] = (),
                    one_per_video: bool = False, rrf_k: int = 2, ranks: bool = True) -> FusedResult:
        c = self._get(name)
        leaves = check_prefetches(name, c.vectors, c.sparse, prefetches, k)
        if video_ids is not None and len(video_ids) == 0:
            return FusedResult([], {leaf.label: [] for leaf in leaves} if ranks else None)
        qe = self._api()
        flt = _filter(qe, video_ids, exclude_ids)

        def run(limit: int, depth_now: int) -> tuple[list[StoredPoint], dict[str, list[str]] | None]:
            dense = self._dense_params(c, depth_now)

            def params(leaf: Prefetch) -> Any:
                # the sparse inverted index is exact already (exact=True would scan every point)
                return None if isinstance(leaf.query, SparseVector) else dense

            def node(p: Prefetch) -> Any:
                if not p.children:
                    return qe.Prefetch(depth_now, query=_nearest(qe, p), params=params(p))
                return qe.Prefetch(depth_now, query=qe.Fusion.Rrf(rrf_k, [ch.weight for ch in p.children]),
                                   prefetches=[node(ch) for ch in p.children])

            payload = qe.PayloadSelector.Include(["video_id"]) if one_per_video else True
            requests = [qe.QueryRequest(limit=limit, prefetches=[node(p) for p in prefetches], filter=flt,
                                        query=qe.Fusion.Rrf(rrf_k, [p.weight for p in prefetches]),
                                        with_payload=payload, with_vector=False)]
            if ranks:  # the same leaves, each on its own: the same params, so the same order
                requests += [qe.QueryRequest(limit=depth_now, query=_nearest(qe, leaf), filter=flt, with_payload=False,
                                             with_vector=False, params=params(leaf)) for leaf in leaves]
            with self._errors("search", name):
                hits, *answers = c.shard.query_batch(qe.QueryBatchRequest(requests))
            points = [StoredPoint(id=str(h.id), payload=dict(h.payload or {}), score=float(h.score)) for h in hits]
            if not ranks:
                return points, None
            return points, {leaf.label: [str(h.id) for h in found] for leaf, found in zip(leaves, answers, strict=True)}

        def payloads(ids: Sequence[str]) -> dict[str, dict]:
            return {p.id: p.payload for p in self.retrieve(name, ids)}

        return fused_search(run, payloads, len(leaves), k, depth, one_per_video)


def _nearest(qe: Any, leaf: Prefetch) -> Any:
    query = edge_sparse(leaf.query) if isinstance(leaf.query, SparseVector) else \
        np.asarray(leaf.query, dtype=np.float32).ravel().tolist()
    return qe.Query.Nearest(query, using=leaf.using)


def _filter(qe: Any, video_ids: Sequence[str] | None, exclude_ids: Sequence[str]) -> Any:
    must = [qe.FieldCondition("video_id", match=qe.MatchAny(list(video_ids)))] if video_ids is not None else []
    must_not = [qe.HasIdCondition({str(i) for i in exclude_ids})] if exclude_ids else []
    return qe.Filter(must=must, must_not=must_not) if must or must_not else None
