"""qdrant-client (local mode or a server): what the text channels need (sparse BM25 vectors with
the IDF modifier, vector and payload updates, fused queries), as a mixin of
:class:`pipeline.store.qdrant.QdrantClientStore`.

BM25 vectors are computed on the client, by Qdrant Edge's ``Bm25`` (see :mod:`pipeline.store.bm25`),
for every backend alike: the server's own BM25 inference (``models.Document``) is not used,
because qdrant-client's local mode would need fastembed for it and the two backends must hold the
same points. The server applies the IDF modifier itself, as Edge and local mode do.

The store supplies ``_api()`` (``qdrant_client.models``), ``_errors(action, name)``, ``_require``,
``_known`` and ``_client``. Fused queries follow :func:`pipeline.store.common.fused_search`:
``query_batch_points`` for the leaf rankings, then ``query_points`` with prefetches and
``RrfQuery(Rrf(k, weights))``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.errors import StoreError
from pipeline.store.base import FusedResult, Prefetch, SparseVector, StoredPoint
from pipeline.store.common import check_dense, check_prefetches, check_sparse_batch, fused_search, plain_payload

log = logging.getLogger(__name__)


def client_sparse(m: Any, vector: SparseVector) -> Any:
    return m.SparseVector(indices=list(vector.indices), values=list(vector.values))


class QdrantChannelsMixin:
    """Text-channel operations of a QdrantClientStore (see the module docstring)."""

    def sparse_names(self, name: str) -> list[str]:
        self._require(name)
        with self._errors("read the collection", name):
            sparse = self._client.get_collection(name).config.params.sparse_vectors
        return sorted(sparse or {})

    def ensure_sparse(self, name: str, names: Sequence[str]) -> None:
        have, dense = set(self.sparse_names(name)), self._known(name)
        clash = [n for n in names if n in dense]
        if clash:
            raise StoreError(f"database {name!r} has dense vectors named {clash}: a sparse vector needs another name")
        missing = [n for n in dict.fromkeys(names) if n not in have]
        m = self._api()
        with self._errors("add sparse vectors", name):
            for vname in missing:
                config = m.SparseVectorNameConfig(sparse=m.SparseVectorConfig(modifier=m.Modifier.IDF))
                self._client.create_vector_name(name, vname, config, wait=True)
        if missing:
            log.info("database %r: added sparse vectors %s", name, missing)

    def update_vectors(self, name: str, ids: Sequence[str], dense: dict[str, np.ndarray] | None = None,
                       sparse: dict[str, Sequence[SparseVector]] | None = None) -> None:
        arrays = check_dense(name, self._known(name), len(ids), dense)
        sparse_rows = check_sparse_batch(name, self.sparse_names(name) if sparse else [], len(ids), sparse)
        m = self._api()
        points = []
        for i, pid in enumerate(ids):
            vector = {v: a[i].tolist() for v, a in arrays.items()}
            vector.update({v: client_sparse(m, rows[i]) for v, rows in sparse_rows.items() if rows[i]})
            if vector:
                points.append(m.PointVectors(id=str(pid), vector=vector))
        if points:
            with self._errors("update vectors", name):
                self._client.update_vectors(name, points=points, wait=True)

    def clear_fields(self, name: str, video_id: str, vectors: Sequence[str], payload_keys: Sequence[str] = ()) -> None:
        known = set(self._known(name)) | set(self.sparse_names(name))
        names = [n for n in vectors if n in known]
        m = self._api()
        selector = m.FilterSelector(filter=m.Filter(must=[m.FieldCondition(key="video_id",
                                                                           match=m.MatchValue(value=video_id))]))
        with self._errors("clear vectors and payload fields", name):
            if names:
                self._client.delete_vectors(name, vectors=names, points=selector, wait=True)
            if payload_keys:
                self._client.delete_payload(name, keys=list(payload_keys), points=selector, wait=True)

    def set_payload(self, name: str, ids: Sequence[str], payloads: Sequence[dict]) -> None:
        self._require(name)
        with self._errors("set payloads", name):
            for pid, payload in zip(ids, payloads, strict=True):
                keep = plain_payload({k: v for k, v in payload.items() if v is not None})
                drop = [k for k, v in payload.items() if v is None]
                if keep:
                    self._client.set_payload(name, payload=keep, points=[str(pid)], wait=True)
                if drop:
                    self._client.delete_payload(name, keys=drop, points=[str(pid)], wait=True)

    def fused_query(self, name: str, prefetches: Sequence[Prefetch], k: int, depth: int = 100,
                    video_ids: Sequence[str] | None = None, exclude_ids: Sequence[str] = (),
                    one_per_video: bool = False, rrf_k: int = 2) -> FusedResult:
        leaves = check_prefetches(name, self._known(name), self.sparse_names(name), prefetches, k)
        if video_ids is not None and len(video_ids) == 0:
            return FusedResult([], {leaf.label: [] for leaf in leaves})
        m = self._api()

        def rank_leaves(limit: int) -> dict[str, list[str]]:
            flt = _filter(m, video_ids, exclude_ids)
            requests = [m.QueryRequest(query=_query(m, leaf), using=leaf.using, filter=flt, limit=limit,
                                       with_payload=False, with_vector=False) for leaf in leaves]
            with self._errors("search", name):
                answers = self._client.query_batch_points(name, requests=requests)
            return {leaf.label: [str(p.id) for p in answer.points]
                    for leaf, answer in zip(leaves, answers, strict=True)}

        def fuse(candidates: Sequence[str], limit: int, depth_now: int) -> list[StoredPoint]:
            def node(p: Prefetch) -> Any:
                if not p.children:
                    return m.Prefetch(query=_query(m, p), using=p.using, limit=depth_now)
                return m.Prefetch(prefetch=[node(ch) for ch in p.children], limit=depth_now,
                                  query=m.RrfQuery(rrf=m.Rrf(k=rrf_k, weights=[ch.weight for ch in p.children])))

            with self._errors("fuse rankings", name):
                hits = self._client.query_points(
                    name, prefetch=[node(p) for p in prefetches], limit=limit, with_payload=True,
                    query=m.RrfQuery(rrf=m.Rrf(k=rrf_k, weights=[p.weight for p in prefetches])),
                    query_filter=_filter(m, video_ids, exclude_ids, candidates)).points
            return [StoredPoint(id=str(h.id), payload=dict(h.payload or {}), score=float(h.score)) for h in hits]

        return fused_search(rank_leaves, fuse, k, depth, one_per_video)


def _query(m: Any, leaf: Prefetch) -> Any:
    if isinstance(leaf.query, SparseVector):
        return client_sparse(m, leaf.query)
    return np.asarray(leaf.query, dtype=np.float32).ravel().tolist()


def _filter(m: Any, video_ids: Sequence[str] | None, exclude_ids: Sequence[str],
            only_ids: Sequence[str] | None = None) -> Any:
    must = [m.FieldCondition(key="video_id", match=m.MatchAny(any=list(video_ids)))] if video_ids is not None else []
    if only_ids is not None:
        must.append(m.HasIdCondition(has_id=[str(i) for i in only_ids]))
    must_not = [m.HasIdCondition(has_id=[str(i) for i in exclude_ids])] if exclude_ids else []
    return m.Filter(must=must or None, must_not=must_not or None) if must or must_not else None
