"""qdrant-client backend: in memory, local mode (``path=``, ``kind="local"``) or a Qdrant
server or cluster (``url=``, ``kind="server"``), behind one :class:`VectorStore` facade.

Local mode is qdrant-client's pure-Python engine: exact search, every point in RAM, slow
to reopen above ~20k points; it is the embedded fallback. On a server the collection gets
HNSW (``hnsw_m``, ``hnsw_ef_construct``; queries use Qdrant's default ``ef``, which is
``ef_construct``), a keyword payload index on ``video_id``, and the server-only
:class:`CollectionOptions` knobs.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core import check_db_name, valid_db_name
from pipeline.errors import BuscaError, ConfigError, QueryError, StoreError, StoreLockedError, UnknownDatabaseError
from pipeline.store.base import CollectionOptions, StoredPoint
from pipeline.store.common import check_batch, check_query, plain_payload, query_vector

log = logging.getLogger(__name__)

SERVER_UPSERT_BATCH = 256


def _qc() -> Any:
    try:
        import qdrant_client
    except ImportError as err:
        raise StoreError(
            "qdrant-client is not installed: run `pip install qdrant-client==1.20.0` (pinned in requirements.txt)"
        ) from err
    return qdrant_client


def _models() -> Any:
    return _qc().models


def _stored(record: Any) -> StoredPoint:
    raw = record.vector or {}
    vectors = {n: np.asarray(v, dtype=np.float32) for n, v in raw.items()} if isinstance(raw, dict) else {}
    return StoredPoint(id=str(record.id), payload=dict(record.payload or {}), vectors=vectors)


def _filter(video_ids: Sequence[str] | None, exclude_ids: Sequence[str] = ()) -> Any:
    m = _models()
    must = [m.FieldCondition(key="video_id", match=m.MatchAny(any=list(video_ids)))] if video_ids is not None else []
    must_not = [m.HasIdCondition(has_id=list(exclude_ids))] if exclude_ids else []
    return m.Filter(must=must or None, must_not=must_not or None) if must or must_not else None


class QdrantClientStore:
    """``QdrantClientStore(":memory:")``, ``QdrantClientStore(path=DIR)`` or ``QdrantClientStore(url=URL, api_key=KEY)``."""

    def __init__(self, location: str | None = None, path: str | Path | None = None, url: str | None = None,
                 api_key: str | None = None, timeout_s: int = 30):
        if sum(x is not None for x in (location, path, url)) != 1 or location not in (None, ":memory:"):
            raise ConfigError("give exactly one of location=':memory:', path=DIR or url=URL to QdrantClientStore")
        self.kind = "server" if url else "local"
        self.where = url or (str(path) if path is not None else ":memory:")
        self._guard = threading.RLock() if self.kind == "local" else nullcontext()  # local mode is not thread-safe
        self._known_vectors: dict[str, dict[str, int]] = {}
        self._closed = False
        qc = _qc()
        try:
            if url:
                self._client = qc.QdrantClient(url=url, api_key=api_key, timeout=timeout_s, check_compatibility=False)
            elif path is not None:
                self._client = qc.QdrantClient(path=str(path))
            else:
                self._client = qc.QdrantClient(location=":memory:")
        except RuntimeError as err:
            if "already accessed" in str(err):
                raise StoreLockedError(path) from err
            raise StoreError(f"cannot open Qdrant at {self.where}: {err}") from err
        if url:
            with self._errors("list collections"):
                self._client.get_collections()

    def __repr__(self) -> str:
        return f"QdrantClientStore({self.kind}, {self.where!r})"

    @property
    def client(self) -> Any:
        """The ``qdrant_client.QdrantClient``, for companions that keep a collection of their own on the
        same server (the video catalog, :mod:`pipeline.index.catalog.server`)."""
        return self._client

    def __enter__(self) -> QdrantClientStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _errors(self, action: str, name: str | None = None) -> Iterator[None]:
        """Translate qdrant-client and network errors into StoreError that name the place and the cause."""
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        if self._closed:
            raise StoreError(f"the Qdrant store at {self.where} is closed: open it again")
        try:
            with self._guard:
                yield
        except BuscaError:
            raise
        except UnexpectedResponse as err:
            if err.status_code == 404 and name is not None and not self.has_collection(name):
                raise UnknownDatabaseError(name, self.list_collections()) from err
            if err.status_code in (401, 403):
                raise StoreError(f"Qdrant at {self.where} refused the API key (HTTP {err.status_code}): "
                                 "pass the right one (--qdrant-api-key / BUSCA_QDRANT_API_KEY)") from err
            detail = err.content.decode("utf-8", "replace")[:300]
            raise StoreError(f"Qdrant at {self.where} could not {action}: HTTP {err.status_code} {detail}") from err
        except ResponseHandlingException as err:
            raise StoreError(f"cannot reach the Qdrant server at {self.where} to {action} ({err.source!r}): "
                             "check that it is running and that the URL is right") from err
        except Exception as err:
            raise StoreError(f"Qdrant ({self.where}) could not {action}: {err}") from err

    def _require(self, name: str) -> None:
        """Local mode answers a missing collection with a bare ValueError: check first there."""
        if self.kind == "local" and not self.has_collection(name):
            raise UnknownDatabaseError(name, self.list_collections())

    # -- collections -------------------------------------------------------------------------

    def list_collections(self) -> list[str]:
        """The databases: collections with a valid database name (not the catalog's companion collection)."""
        with self._errors("list collections"):
            return sorted(c.name for c in self._client.get_collections().collections if valid_db_name(c.name))

    def has_collection(self, name: str) -> bool:
        with self._errors("look up a collection"):
            return bool(self._client.collection_exists(name))

    def vector_names(self, name: str) -> dict[str, int]:
        self._require(name)
        with self._errors("read the collection", name):
            vectors = self._client.get_collection(name).config.params.vectors
        if isinstance(vectors, dict):
            known = {n: int(p.size) for n, p in vectors.items()}
        else:
            known = {"": int(vectors.size)} if vectors is not None else {}
        self._known_vectors[name] = known
        return dict(known)

    def metadata(self, name: str) -> dict:
        self._require(name)
        with self._errors("read the collection", name):
            return dict(self._client.get_collection(name).config.metadata or {})

    def update_metadata(self, name: str, values: dict) -> None:
        self._require(name)
        with self._errors("update the collection metadata", name):
            self._client.update_collection(name, metadata=values)

    def _known(self, name: str) -> dict[str, int]:
        return self._known_vectors.get(name) or self.vector_names(name)

    def ensure_collection(self, name: str, vectors: dict[str, int], options: CollectionOptions | None = None) -> None:
        check_db_name(name)
        if not vectors or any(int(d) < 1 for d in vectors.values()):
            raise StoreError(f"database {name!r} needs at least one named vector with a positive dimension")
        vectors = {str(n): int(d) for n, d in vectors.items()}
        self._known_vectors.pop(name, None)
        if not self.has_collection(name):
            try:
                self._create(name, vectors, options or CollectionOptions())
            except StoreError:
                if not self.has_collection(name):  # else another client created it meanwhile
                    raise
        self._add_vectors(name, vectors)

    def _create(self, name: str, vectors: dict[str, int], options: CollectionOptions) -> None:
        m = _models()
        server = self.kind == "server"
        on_disk = True if server and options.on_disk_vectors else None
        params = {n: m.VectorParams(size=d, distance=m.Distance.COSINE, on_disk=on_disk) for n, d in vectors.items()}
        extra: dict[str, Any] = {}
        if server:
            threshold_kb = max(1, math.ceil(options.exact_below * max(vectors.values()) * 4 / 1024))
            extra = dict(
                shard_number=options.shard_number, replication_factor=options.replication_factor,
                hnsw_config=m.HnswConfigDiff(m=options.hnsw_m, ef_construct=options.hnsw_ef_construct),
                optimizers_config=m.OptimizersConfigDiff(indexing_threshold=threshold_kb),
            )
            if options.scalar_quantization:
                extra["quantization_config"] = m.ScalarQuantization(
                    scalar=m.ScalarQuantizationConfig(type=m.ScalarType.INT8, quantile=0.99, always_ram=True)
                )
        with self._errors("create the collection", name):
            self._client.create_collection(name, vectors_config=params, **extra)
            if server:
                self._client.create_payload_index(name, "video_id", field_schema=m.PayloadSchemaType.KEYWORD, wait=True)
        log.info("created %s Qdrant collection %r with vectors %s", self.kind, name, vectors)

    def _add_vectors(self, name: str, vectors: dict[str, int]) -> None:
        have = self.vector_names(name)
        for vname, dim in vectors.items():
            if vname in have and have[vname] != dim:
                raise StoreError(f"database {name!r} stores {vname!r} vectors of dimension {have[vname]}, not {dim}: "
                                 "index into another database")
        missing = {n: d for n, d in vectors.items() if n not in have}
        if not missing:
            return
        m = _models()
        with self._errors("add named vectors", name):
            for vname, dim in missing.items():
                config = m.DenseVectorNameConfig(dense=m.DenseVectorConfig(size=dim, distance=m.Distance.COSINE))
                self._client.create_vector_name(name, vname, config, wait=True)
        self._known_vectors.pop(name, None)
        log.info("database %r: added vectors %s", name, missing)

    def drop_collection(self, name: str) -> None:
        if not self.has_collection(name):
            raise UnknownDatabaseError(name, self.list_collections())
        with self._errors("drop the collection", name):
            self._client.delete_collection(name)
        self._known_vectors.pop(name, None)
        log.info("dropped Qdrant collection %r", name)

    # -- points ------------------------------------------------------------------------------

    def upsert(self, name: str, ids: Sequence[str], vectors: dict[str, np.ndarray], payloads: Sequence[dict]) -> None:
        arrays = check_batch(name, self._known(name), ids, vectors, payloads)
        step = SERVER_UPSERT_BATCH if self.kind == "server" else max(1, len(ids))
        m = _models()
        with self._errors("upsert points", name):
            for start in range(0, len(ids), step):
                stop = min(len(ids), start + step)
                batch = m.Batch(
                    ids=[str(i) for i in ids[start:stop]],
                    vectors={v: a[start:stop].tolist() for v, a in arrays.items()},
                    payloads=[plain_payload(p) for p in payloads[start:stop]],
                )
                self._client.upsert(name, points=batch, wait=True)

    def delete_video(self, name: str, video_id: str, min_shot_index: int = 0, keep_ids: Sequence[str] = ()) -> None:
        self._require(name)
        m = _models()
        must = [m.FieldCondition(key="video_id", match=m.MatchValue(value=video_id))]
        if min_shot_index > 0:
            must.append(m.FieldCondition(key="shot_index", range=m.Range(gte=min_shot_index)))
        must_not = [m.HasIdCondition(has_id=[str(i) for i in keep_ids])] if keep_ids else None
        selector = m.FilterSelector(filter=m.Filter(must=must, must_not=must_not))
        with self._errors("delete points", name):
            self._client.delete(name, points_selector=selector, wait=True)

    def query(self, name: str, vector_name: str, vector: np.ndarray, k: int, video_ids: Sequence[str] | None = None,
              one_per_video: bool = False) -> list[StoredPoint]:
        q = query_vector(name, self._known(name), vector_name, vector, k)
        if video_ids is not None and len(video_ids) == 0:
            return []
        return self._search(name, q.tolist(), vector_name, k, _filter(video_ids), one_per_video)

    def recommend(self, name: str, vector_name: str, positive: Sequence[str], negative: Sequence[str], k: int,
                  video_ids: Sequence[str] | None = None, one_per_video: bool = False) -> list[StoredPoint]:
        check_query(name, self._known(name), vector_name, k)
        if not positive:
            raise QueryError("recommend needs at least one positive example shot")
        examples = [str(i) for i in [*positive, *negative]]
        found = {p.id for p in self.retrieve(name, examples, with_vectors=True) if vector_name in p.vectors}
        missing = [i for i in examples if i not in found]
        if missing:
            raise QueryError(f"example shots not found in database {name!r}: {', '.join(missing[:5])}")
        if video_ids is not None and len(video_ids) == 0:
            return []
        m = _models()
        query = m.RecommendQuery(recommend=m.RecommendInput(
            positive=[str(i) for i in positive], negative=[str(i) for i in negative],
            strategy=m.RecommendStrategy.AVERAGE_VECTOR,
        ))
        return self._search(name, query, vector_name, k, _filter(video_ids, examples), one_per_video)

    def _search(self, name: str, query: Any, using: str, k: int, flt: Any, one_per_video: bool) -> list[StoredPoint]:
        with self._errors("search", name):
            if one_per_video:
                groups = self._client.query_points_groups(
                    name, group_by="video_id", query=query, using=using, query_filter=flt, limit=k, group_size=1,
                    with_payload=True,
                ).groups
                hits = [g.hits[0] for g in groups if g.hits]
            else:
                hits = self._client.query_points(
                    name, query=query, using=using, query_filter=flt, limit=k, with_payload=True
                ).points
        return [StoredPoint(id=str(h.id), payload=dict(h.payload or {}), score=float(h.score)) for h in hits]

    def retrieve(self, name: str, ids: Sequence[str], with_vectors: bool = False) -> list[StoredPoint]:
        self._require(name)
        if not ids:
            return []
        with self._errors("retrieve points", name):
            records = self._client.retrieve(name, [str(i) for i in ids], with_payload=True, with_vectors=with_vectors)
        by_id = {str(r.id): _stored(r) for r in records}
        return [by_id[str(i)] for i in ids if str(i) in by_id]

    def count(self, name: str, video_id: str | None = None) -> int:
        self._require(name)
        m = _models()
        flt = None if video_id is None else m.Filter(
            must=[m.FieldCondition(key="video_id", match=m.MatchValue(value=video_id))]
        )
        with self._errors("count points", name):
            return int(self._client.count(name, count_filter=flt, exact=True).count)

    def scroll(self, name: str, with_vectors: bool = False, batch_size: int = 256) -> Iterator[StoredPoint]:
        self._require(name)
        return self._scroll(name, bool(with_vectors), max(1, batch_size))

    def _scroll(self, name: str, with_vectors: bool, batch_size: int) -> Iterator[StoredPoint]:
        offset = None
        while True:
            with self._errors("scroll points", name):
                records, offset = self._client.scroll(
                    name, limit=batch_size, offset=offset, with_payload=True, with_vectors=with_vectors
                )
            yield from (_stored(r) for r in records)
            if offset is None:
                return

    # -- lifecycle ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Nothing to do: local mode persists each write before returning, a server on ``wait=True``."""
        if self._closed:
            raise StoreError(f"the Qdrant store at {self.where} is closed: open it again")

    def close(self) -> None:
        if self._closed:
            return
        with self._guard:
            self._closed = True
            self._client.close()
