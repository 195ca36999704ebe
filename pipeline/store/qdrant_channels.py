"""qdrant-client (local mode or a server): what the text channels need (sparse BM25 vectors with
the IDF modifier, vector and payload updates, fused queries), as a mixin of
:class:`pipeline.store.qdrant.QdrantClientStore`.

BM25 vectors are computed on the client, by Qdrant Edge's ``Bm25`` (see :mod:`pipeline.store.bm25`),
for every backend alike: the server's own BM25 inference (``models.Document``) is not used,
because qdrant-client's local mode would need fastembed for it and the two backends must hold the
same points. The server applies the IDF modifier itself, as Edge and local mode do.

The store supplies ``_api()`` (``qdrant_client.models``), ``_errors(action, name)``, ``_require``,
``_known`` and ``_client``. Fused queries follow :func:`pipeline.store.common.fused_search`: one
``query_batch_points`` round trip holding the prefetch + ``RrfQuery(Rrf(k, weights))`` query and,
when the ranks are asked for, the leaf rankings.
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
                    one_per_video: bool = False, rrf_k: int = 2, ranks: bool = True) -> FusedResult:
        leaves = check_prefetches(name, self._known(name), self.sparse_names(name), prefetches, k)
        if video_ids is not None and len(video_ids) == 0:
            return FusedResult([], {leaf.label: [] for leaf in leaves} if ranks else None)
        m = self._api()
        flt = _filter(m, video_ids, exclude_ids)

        def run(limit: int, depth_now: int) -> tuple[list[StoredPoint], dict[str, list[str]] | None]:
            def node(p: Prefetch) -> Any:
                if not p.children:
                    return m.Prefetch(query=_query(m, p), using=p.using, limit=depth_now)
                return m.Prefetch(prefetch=[node(ch) for ch in p.children], limit=depth_now,
                                  query=m.RrfQuery(rrf=m.Rrf(k=rrf_k, weights=[ch.weight for ch in p.children])))

            requests = [m.QueryRequest(prefetch=[node(p) for p in prefetches], filter=flt, limit=limit,
                                       query=m.RrfQuery(rrf=m.Rrf(k=rrf_k, weights=[p.weight for p in prefetches])),
                                       with_payload=["video_id"] if one_per_video else True, with_vector=False)]
            if ranks:
                requests += [m.QueryRequest(query=_query(m, leaf), using=leaf.using, filter=flt, limit=depth_now,
                                            with_payload=False, with_vector=False) for leaf in leaves]
            with self._errors("search", name):
                fused, *answers = self._client.query_batch_points(name, requests=requests)
            points = [StoredPoint(id=str(h.id), payload=dict(h.payload or {}), score=float(h.score))
                      for h in fused.points]
            if not ranks:
                return points, None
            return points, {leaf.label: [str(p.id) for p in answer.points]
                            for leaf, answer in zip(leaves, answers, strict=True)}

        def payloads(ids: Sequence[str]) -> dict[str, dict]:
            return {p.id: p.payload for p in self.retrieve(name, ids)}

        return fused_search(run, payloads, len(leaves), k, depth, one_per_video)


def _query(m: Any, leaf: Prefetch) -> Any:
    if isinstance(leaf.query, SparseVector):
        return client_sparse(m, leaf.query)
    return np.asarray(leaf.query, dtype=np.float32).ravel().tolist()


def _filter(m: Any, video_ids: Sequence[str] | None, exclude_ids: Sequence[str]) -> Any:
    must = [m.FieldCondition(key="video_id", match=m.MatchAny(any=list(video_ids)))] if video_ids is not None else []
    must_not = [m.HasIdCondition(has_id=[str(i) for i in exclude_ids])] if exclude_ids else []
    return m.Filter(must=must or None, must_not=must_not or None) if must or must_not else None
