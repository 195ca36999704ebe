"""Qdrant Edge backend (``qdrant-edge-py`` 0.9), the embedded default: ``kind = "edge"``.

Layout under the root directory (``<data>/edge``)::

    .busca.lock              flock held while an EdgeStore has the root open (one process)
    <db>/collection.json     vector names/dims and CollectionOptions, written atomically
    <db>/shard/              the EdgeShard: segments, WAL, edge_config.json

A database exists once its ``collection.json`` exists; a folder without one is what a crash
during creation leaves, and is replaced when that database is created again.

What Edge 0.9's Python API lacks, emulated here:

* **group-by** (``one_per_video``): over-fetch, keep the best shot of each video, and query
  again excluding the videos already found, until k videos or the collection is exhausted.
  With exact search this gives exactly Qdrant's ``group_by`` result.
* **recommend with the average-vector strategy** (Edge has best-score and sum-scores only):
  the query vector is built as Qdrant builds it, ``2·mean(positive) − mean(negative)`` over
  the stored (normalised) vectors, and the examples are excluded with a ``has_id`` filter.

Faults: errors *and panics* of the bindings become a :class:`StoreError` naming the database,
and an index build's leftovers are removed on open (:mod:`pipeline.store.edge_faults`).

Disk: Edge writes through memory-mapped files, so a full disk kills the process with SIGBUS
instead of raising. Every write first checks that a margin stays free
(:func:`pipeline.core.check_free_space`, else :class:`DiskFullError`); sealing a segment
that would not fit is skipped (its points stay appendable, searched exactly). ``read_only=True``
(what the services choose when the disk is already short) refuses every write and never
flushes, so the archive stays searchable: loading a shard needs only a few KB, except on tmpfs,
where reading a hole of a mapped file allocates it: there a shard opens only if its holes fit
in the free space.

Index: Edge 0.9 runs no background optimizer, and its bindings hold the GIL inside
``optimize`` (and ``update``/``query``): an HNSW build blocks every thread of the process,
35-80 s per 20k 768-d points on 2 cores. So a database made by this version (``format`` 2 in
``collection.json``) builds no graph at all. Points land in an appendable segment, searched
exactly; once it holds ``edge_segment_points`` points, the optimizer turns it into a sealed
segment with int8 scalar-quantised copies of its vectors (kept in RAM). A query scans every
segment's quantised vectors, over-fetches ``SQ_OVERSAMPLING`` times k and rescores those
candidates with the full vectors: recall@20 1.0 on the benchmark's clustered shots at 100k, and
p95 under 10 ms. The optimizer runs after each ``edge_segment_points`` points written and in
:meth:`EdgeStore.flush`, so each run seals one segment, whatever the size of the database:
0.3 s of CPU at 10k points here (0.5 s at 20k), the longest pause the process sees.
``bench/store.py`` measures it.

Databases made before (``format`` 1: HNSW above ``exact_below`` points, built in ``flush``)
open unchanged and keep the segments they have; ``flush`` no longer runs their optimizer, so
new points stay in appendable segments and are searched exactly. ``backup`` + ``restore``
rebuilds one in the new layout.
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core import (
    NO_MARGIN,
    DirectoryLock,
    DiskMargin,
    check_db_name,
    check_free_space,
    fills_holes_on_read,
    space_shortfall,
    sparse_bytes,
    valid_db_name,
)
from pipeline.core.atomic import read_json, write_json
from pipeline.errors import BuscaError, QueryError, StoreError, StoreLockedError, UnknownDatabaseError
from pipeline.store.base import CollectionOptions, SparseVector, StoredPoint
from pipeline.store.common import (
    average_vector,
    best_per_video,
    check_batch,
    check_query,
    check_sparse_batch,
    plain_payload,
    query_vector,
    sparse_rows_bytes,
)
from pipeline.store.edge_channels import EdgeChannelsMixin, edge_sparse
from pipeline.store.edge_faults import edge_errors, is_panic, panic_error, remove_builder_leftovers

log = logging.getLogger(__name__)

META_FILE = "collection.json"
SHARD_DIR = "shard"
META_FORMAT = 2  # 1: HNSW built in flush() (databases made before); 2: sealed quantised segments, no graph
FULL_SCAN_KB = 10_000  # filtered searches over fewer vectors than this scan them exactly
UPSERT_BATCH = 1024
SQ_OVERSAMPLING = 2.0  # candidates taken from the int8 scan, as a multiple of k, before rescoring
SLOW_MAINTENANCE_S = 2.0  # a pause longer than this is logged as a warning
#: What Edge maps and reads whole when it opens a shard (measured on tmpfs with 0.9).
MAPPED_ON_OPEN = ("segments/*/vector_storage*", "segments/*/vector_index*", "segments/*/payload_index")
PAYLOAD_BYTES = 1024  # a generous estimate of one point's payload on disk
WRITE_OVERHEAD = 3  # WAL + segment + index: bytes on disk per byte of vector


def _qe() -> Any:
    try:
        import qdrant_edge
    except ImportError as err:
        raise StoreError(
            "Qdrant Edge is not installed: run `pip install qdrant-edge-py==0.9.0` (pinned in "
            "requirements.txt), or choose the 'local' store backend"
        ) from err
    return qdrant_edge


@dataclass(frozen=True)
class _Collection:
    name: str
    shard: Any
    vectors: dict[str, int]
    options: CollectionOptions
    format: int = META_FORMAT
    metadata: dict = field(default_factory=dict)
    sparse: tuple[str, ...] = ()

    @property
    def sealed_segments(self) -> bool:
        """Format 2: quantised segments sealed by the optimizer (format 1 built HNSW instead)."""
        return self.format >= 2


def _shard_config(vectors: dict[str, int], options: CollectionOptions) -> Any:
    """Format 2: no HNSW graph (``m=0``); a segment is sealed, with int8 copies of its vectors,
    once its vectors take more than ``edge_segment_points`` points' worth of kilobytes (less one,
    so that a segment of exactly that many points is over the threshold)."""
    qe = _qe()
    if options.edge_segment_points < 100:
        raise StoreError(f"edge_segment_points must be at least 100, got {options.edge_segment_points}")
    segment_kb = max(1, options.edge_segment_points * max(vectors.values()) * 4 // 1024 - 1)
    return qe.EdgeConfig(
        vectors={n: qe.EdgeVectorParams(size=d, distance=qe.Distance.Cosine) for n, d in vectors.items()},
        hnsw_config=qe.HnswIndexConfig(m=0, ef_construct=options.hnsw_ef_construct, full_scan_threshold=FULL_SCAN_KB),
        quantization_config=qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, quantile=0.99, always_ram=True),
        optimizers=qe.EdgeOptimizersConfig(indexing_threshold=segment_kb, max_segment_size=segment_kb),
    )


def _write_meta(folder: Path, vectors: dict[str, int], options: CollectionOptions, metadata: dict | None = None,
                fmt: int = META_FORMAT, sparse: tuple[str, ...] = ()) -> None:
    write_json(folder / META_FILE, {"format": fmt, "vectors": vectors, "sparse": list(sparse),
                                    "options": asdict(options), "metadata": metadata or {}})


def _read_meta(folder: Path) -> tuple[dict[str, int], CollectionOptions, dict, int, tuple[str, ...]]:
    path = folder / META_FILE
    try:
        meta = read_json(path)
        known = {f.name for f in fields(CollectionOptions)}
        options = CollectionOptions(**{k: v for k, v in meta.get("options", {}).items() if k in known})
        metadata = meta.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise TypeError("metadata is not an object")
        sparse = tuple(str(n) for n in meta.get("sparse", []))
        return ({str(n): int(d) for n, d in meta["vectors"].items()}, options, metadata, int(meta.get("format", 1)),
                sparse)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise StoreError(f"{path} is unreadable ({err}): restore the database from an export, or drop it") from err


def _stored(record: Any, score: float = 0.0) -> StoredPoint:
    qe = _qe()
    vectors, sparse = {}, {}
    for n, v in (record.vector or {}).items():
        if isinstance(v, qe.SparseVector):
            sparse[n] = SparseVector(tuple(v.indices), tuple(v.values))
        else:
            vectors[n] = np.asarray(v, dtype=np.float32)
    return StoredPoint(id=str(record.id), payload=dict(record.payload or {}), score=score, vectors=vectors,
                       sparse=sparse)


def _filter(video_ids: Sequence[str] | None = None, exclude_videos: Sequence[str] = (),
            exclude_ids: Sequence[str] = ()) -> Any:
    qe = _qe()
    must = [qe.FieldCondition("video_id", match=qe.MatchAny(list(video_ids)))] if video_ids is not None else []
    must_not = []
    if exclude_videos:
        must_not.append(qe.FieldCondition("video_id", match=qe.MatchAny(list(exclude_videos))))
    if exclude_ids:
        must_not.append(qe.HasIdCondition({str(i) for i in exclude_ids}))
    return qe.Filter(must=must, must_not=must_not) if must or must_not else None


class EdgeStore(EdgeChannelsMixin):
    """One EdgeShard per database under ``root``; one process at a time (flock on the root)."""

    kind = "edge"
    # what the text-channel methods (pipeline.store.edge_channels) use of this module
    _api = staticmethod(_qe)
    _errors = staticmethod(edge_errors)
    WRITE_OVERHEAD = WRITE_OVERHEAD

    def __init__(self, root: str | Path, *, read_only: bool = False, margin: DiskMargin | None = None):
        """``read_only`` refuses every write (and never flushes); ``margin`` is the free space every
        write must leave on the file system (default :class:`DiskMargin`: max(1 GB, 5 %))."""
        self.root = Path(root)
        self.read_only = read_only
        self.margin = DiskMargin() if margin is None else margin
        self._lock = DirectoryLock(self.root)
        self._lock.acquire()
        self._open: dict[str, _Collection] = {}
        self._unsealed: dict[str, int] = {}  # points written per database since its optimizer last ran
        self._mutex = threading.RLock()
        self._closed = False
        if not read_only:
            for leftover in self.root.glob(".dropped-*"):
                shutil.rmtree(leftover, ignore_errors=True)

    def __repr__(self) -> str:
        return f"EdgeStore({str(self.root)!r}{', read-only' if self.read_only else ''})"

    def _writable(self, action: str, extra_bytes: int = 0) -> None:
        """Refuse a write (``action``, e.g. "store 12 points in database 'x'") in read-only mode, or
        one that would leave less than the margin free."""
        self._check_open()
        if self.read_only:
            raise StoreError(code="store.read_only", action=action, path=str(self.root))
        check_free_space(self.root, self.margin, action, extra_bytes)

    def __enter__(self) -> EdgeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- collections -------------------------------------------------------------------------

    def list_collections(self) -> list[str]:
        self._check_open()
        return sorted(p.name for p in self.root.iterdir() if valid_db_name(p.name) and (p / META_FILE).is_file())

    def has_collection(self, name: str) -> bool:
        self._check_open()
        return valid_db_name(name) and (self.root / name / META_FILE).is_file()

    def ensure_collection(self, name: str, vectors: dict[str, int], options: CollectionOptions | None = None) -> None:
        check_db_name(name)
        if not vectors or any(int(d) < 1 for d in vectors.values()):
            raise StoreError(f"database {name!r} needs at least one named vector with a positive dimension")
        vectors = {str(n): int(d) for n, d in vectors.items()}
        with self._mutex:
            if self.has_collection(name):
                c = self._get(name)
                if any(v not in c.vectors for v in vectors):
                    self._writable(f"add named vectors to database {name!r}")
                self._add_vectors(c, vectors)
            else:
                self._writable(f"create database {name!r}")
                self._create(name, vectors, options or CollectionOptions())

    def _create(self, name: str, vectors: dict[str, int], options: CollectionOptions) -> None:
        folder = self.root / name
        if folder.exists():
            log.warning("replacing %s: a database creation was interrupted there", folder)
            shutil.rmtree(folder)
        qe = _qe()
        with edge_errors("create the shard", name):
            shard = qe.EdgeShard.create(str(folder / SHARD_DIR), _shard_config(vectors, options))
            shard.update(qe.UpdateOperation.create_field_index("video_id", qe.PayloadSchemaType.Keyword))
            shard.flush()
        _write_meta(folder, vectors, options)
        self._open[name] = _Collection(name, shard, vectors, options)
        log.info("created Edge database %r with vectors %s", name, vectors)

    def _add_vectors(self, c: _Collection, vectors: dict[str, int]) -> None:
        for vname, dim in vectors.items():
            if vname in c.vectors and c.vectors[vname] != dim:
                raise StoreError(
                    f"database {c.name!r} stores {vname!r} vectors of dimension {c.vectors[vname]}, not {dim}: "
                    "index into another database"
                )
        missing = {n: d for n, d in vectors.items() if n not in c.vectors}
        if not missing:
            return
        qe = _qe()
        with edge_errors("add named vectors", c.name):
            for vname, dim in missing.items():
                c.shard.update(qe.UpdateOperation.create_dense_vector(vname, dim, qe.Distance.Cosine))
            c.shard.flush()
        merged = {**c.vectors, **missing}
        _write_meta(self.root / c.name, merged, c.options, c.metadata, c.format, c.sparse)
        self._open[c.name] = replace(c, vectors=merged)
        log.info("database %r: added vectors %s", c.name, missing)

    def _remember_sparse(self, c: _Collection, sparse: tuple[str, ...]) -> None:
        _write_meta(self.root / c.name, c.vectors, c.options, c.metadata, c.format, sparse)
        self._open[c.name] = replace(c, sparse=sparse)

    def _get(self, name: str) -> _Collection:
        self._check_open()
        c = self._open.get(name)
        if c is not None:
            return c
        with self._mutex:
            if name in self._open:
                return self._open[name]
            if not self.has_collection(name):
                raise UnknownDatabaseError(name, self.list_collections())
            vectors, options, metadata, fmt, sparse = _read_meta(self.root / name)
            c = _Collection(name, self._load_shard(name), vectors, options, fmt, metadata, sparse)
            self._open[name] = c
            return c

    def _load_shard(self, name: str) -> Any:
        path = self.root / name / SHARD_DIR
        if not self.read_only:
            remove_builder_leftovers(path)
        if fills_holes_on_read(path):  # tmpfs: opening allocates the holes of the files Edge maps and reads
            mapped = (d for pattern in MAPPED_ON_OPEN for d in path.glob(pattern))
            check_free_space(self.root, NO_MARGIN, f"open database {name!r} (on a memory-backed file system)",
                             sum(sparse_bytes(d) for d in mapped))
        try:
            return _qe().EdgeShard.load(str(path))
        except BuscaError:
            raise
        except Exception as err:
            if "WouldBlock" in str(err):
                raise StoreLockedError(self.root) from err
            raise StoreError(f"Qdrant Edge could not open database {name!r} at {path}: {err}") from err
        except BaseException as err:
            if is_panic(err):
                raise panic_error("open", name, err) from err
            raise

    def vector_names(self, name: str) -> dict[str, int]:
        return dict(self._get(name).vectors)

    def metadata(self, name: str) -> dict:
        return copy.deepcopy(self._get(name).metadata)

    def update_metadata(self, name: str, values: dict) -> None:
        with self._mutex:
            c = self._get(name)
            merged = {**c.metadata, **copy.deepcopy(values)}
            _write_meta(self.root / name, c.vectors, c.options, merged, c.format, c.sparse)
            self._open[name] = replace(c, metadata=merged)

    def drop_collection(self, name: str) -> None:
        with self._mutex:
            if not self.has_collection(name):
                raise UnknownDatabaseError(name, self.list_collections())
            if self.read_only:
                self._writable(f"drop database {name!r}")
            c = self._open.pop(name, None)
            if c is not None:
                with edge_errors("close the shard", name):
                    c.shard.close()
            trash = self.root / f".dropped-{uuid.uuid4().hex}"
            os.replace(self.root / name, trash)
            shutil.rmtree(trash)
            log.info("dropped Edge database %r", name)

    # -- points ------------------------------------------------------------------------------

    def upsert(self, name: str, ids: Sequence[str], vectors: dict[str, np.ndarray], payloads: Sequence[dict],
               sparse: dict[str, Sequence[SparseVector]] | None = None) -> None:
        c = self._get(name)
        arrays = check_batch(name, c.vectors, ids, vectors, payloads)
        sparse_rows = check_sparse_batch(name, c.sparse, len(ids), sparse)
        per_point = (sum(a.shape[1] * 4 for a in arrays.values()) + PAYLOAD_BYTES
                     + sparse_rows_bytes(sparse_rows) // max(1, len(ids)))
        self._writable(f"store {len(ids)} points in database {name!r}", len(ids) * per_point * WRITE_OVERHEAD)
        qe = _qe()
        with edge_errors("upsert points", name):
            for start in range(0, len(ids), UPSERT_BATCH):
                stop = min(len(ids), start + UPSERT_BATCH)
                rows = {v: a[start:stop].tolist() for v, a in arrays.items()}
                points = [
                    qe.Point(str(ids[i]), {**{v: r[i - start] for v, r in rows.items()},
                                           **{v: edge_sparse(r[i]) for v, r in sparse_rows.items() if r[i]}},
                             plain_payload(payloads[i]))
                    for i in range(start, stop)
                ]
                c.shard.update(qe.UpdateOperation.upsert_points(points))
                self._after_write(c, stop - start)

    def delete_video(self, name: str, video_id: str, min_shot_index: int = 0, keep_ids: Sequence[str] = ()) -> None:
        c = self._get(name)
        self._writable(f"delete points in database {name!r}")
        qe = _qe()
        must = [qe.FieldCondition("video_id", match=qe.MatchValue(video_id))]
        if min_shot_index > 0:
            must.append(qe.FieldCondition("shot_index", range=qe.RangeFloat(gte=float(min_shot_index))))
        must_not = [qe.HasIdCondition({str(i) for i in keep_ids})] if keep_ids else None
        with edge_errors("delete points", name):
            c.shard.update(qe.UpdateOperation.delete_points_by_filter(qe.Filter(must=must, must_not=must_not)))

    def query(self, name: str, vector_name: str, vector: np.ndarray, k: int, video_ids: Sequence[str] | None = None,
              one_per_video: bool = False) -> list[StoredPoint]:
        c = self._get(name)
        q = query_vector(name, c.vectors, vector_name, vector, k)
        if video_ids is not None and len(video_ids) == 0:
            return []
        return self._nearest(c, vector_name, q, k, video_ids, (), one_per_video)

    def recommend(self, name: str, vector_name: str, positive: Sequence[str], negative: Sequence[str], k: int,
                  video_ids: Sequence[str] | None = None, one_per_video: bool = False) -> list[StoredPoint]:
        c = self._get(name)
        check_query(name, c.vectors, vector_name, k)
        if not positive:
            raise QueryError("recommend needs at least one positive example shot")
        examples = [str(i) for i in [*positive, *negative]]
        found = {p.id: p.vectors.get(vector_name) for p in self.retrieve(name, examples, with_vectors=True)}
        missing = [i for i in examples if found.get(i) is None]
        if missing:
            raise QueryError(f"example shots not found in database {name!r}: {', '.join(missing[:5])}")
        q = average_vector([found[str(i)] for i in positive], [found[str(i)] for i in negative])
        if video_ids is not None and len(video_ids) == 0:
            return []
        return self._nearest(c, vector_name, q, k, video_ids, examples, one_per_video)

    def _nearest(self, c: _Collection, using: str, q: np.ndarray, k: int, video_ids: Sequence[str] | None,
                 exclude_ids: Sequence[str], one_per_video: bool) -> list[StoredPoint]:
        qe = _qe()
        params = self._dense_params(c, k)
        query = qe.Query.Nearest(q.tolist(), using=using)

        def fetch(limit: int, exclude_videos: list[str]) -> list[StoredPoint]:
            request = qe.QueryRequest(limit=limit, query=query, filter=_filter(video_ids, exclude_videos, exclude_ids),
                                      with_payload=True, with_vector=False, params=params)
            with edge_errors("search", c.name):
                hits = c.shard.query(request)
            return [StoredPoint(id=str(h.id), payload=dict(h.payload or {}), score=float(h.score)) for h in hits]

        return best_per_video(fetch, k) if one_per_video else fetch(k, [])

    def _dense_params(self, c: _Collection, k: int) -> Any:
        """How a dense search runs: over sealed int8 segments with rescoring (format 2); exact below
        ``exact_below`` points, else HNSW (format 1)."""
        qe = _qe()
        if c.sealed_segments:
            return qe.SearchParams(quantization=qe.QuantizationSearchParams(rescore=True, oversampling=SQ_OVERSAMPLING))
        with edge_errors("count points", c.name):
            exact = c.shard.info().points_count < c.options.exact_below
        return qe.SearchParams(exact=True) if exact else qe.SearchParams(hnsw_ef=max(c.options.hnsw_ef, k))

    def retrieve(self, name: str, ids: Sequence[str], with_vectors: bool = False) -> list[StoredPoint]:
        c = self._get(name)
        if not ids:
            return []
        with edge_errors("retrieve points", name):
            records = c.shard.retrieve([str(i) for i in ids], True, bool(with_vectors))
        by_id = {str(r.id): _stored(r) for r in records}
        return [by_id[str(i)] for i in ids if str(i) in by_id]

    def count(self, name: str, video_id: str | None = None) -> int:
        c = self._get(name)
        qe = _qe()
        flt = None if video_id is None else qe.Filter(must=[qe.FieldCondition("video_id", match=qe.MatchValue(video_id))])
        with edge_errors("count points", name):
            return int(c.shard.count(qe.CountRequest(exact=True, filter=flt)))

    def scroll(self, name: str, with_vectors: bool = False, batch_size: int = 256) -> Iterator[StoredPoint]:
        c = self._get(name)  # raise UnknownDatabaseError now, not at the first next()
        return self._scroll(c, bool(with_vectors), max(1, batch_size))

    def _scroll(self, c: _Collection, with_vectors: bool, batch_size: int) -> Iterator[StoredPoint]:
        qe = _qe()
        offset = None
        while True:
            request = qe.ScrollRequest(offset=offset, limit=batch_size, with_payload=True, with_vector=with_vectors)
            with edge_errors("scroll points", c.name):
                records, offset = c.shard.scroll(request)
            yield from (_stored(r) for r in records)
            if offset is None:
                return

    # -- lifecycle ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Flush every open shard to disk, then seal the segment that filled up, if one did
        (format 2; a format-1 database is only flushed: its HNSW build would block for minutes)."""
        self._check_open()
        if self.read_only:
            return  # nothing was written
        for c in list(self._open.values()):
            with edge_errors("flush", c.name):
                c.shard.flush()
            if c.sealed_segments:
                self._seal(c)

    def _after_write(self, c: _Collection, n: int) -> None:
        """Seal a segment as soon as one is full, so that no run of the optimizer has more
        than one segment to build, however many points a caller writes before flushing."""
        pending = self._unsealed.get(c.name, 0) + n
        self._unsealed[c.name] = pending
        if c.sealed_segments and pending >= c.options.edge_segment_points:
            self._seal(c)

    def _seal(self, c: _Collection) -> None:
        with edge_errors("count points", c.name):
            info = c.shard.info()
        unsealed = info.points_count - info.indexed_vectors_count // max(1, len(c.vectors))
        # a seal writes the appendable segment's vectors again, with int8 copies: 5 bytes a dimension
        short = space_shortfall(self.root, self.margin, max(0, unsealed) * sum(c.vectors.values()) * 5)
        if short is not None:
            if unsealed >= c.options.edge_segment_points:  # a segment is due: say why it stays appendable
                log.warning("database %r: segment not sealed, %d MB free on %s and about %d MB needed; its points "
                            "stay searched exactly until space is freed", c.name, short[0] >> 20, self.root,
                            short[1] >> 20)
            return
        start = time.perf_counter()
        with edge_errors("optimize segments", c.name):
            changed = c.shard.optimize()
        if changed:
            self._unsealed[c.name] = 0
        seconds = time.perf_counter() - start
        if seconds > SLOW_MAINTENANCE_S:
            log.warning("database %r: sealing a segment held the process for %.1f s; a smaller "
                        "edge_segment_points shortens this", c.name, seconds)
        elif changed:
            log.debug("database %r: segment sealed in %.2f s", c.name, seconds)

    def close(self) -> None:
        with self._mutex:
            if self._closed:
                return
            self._closed = True
            try:
                for c in self._open.values():
                    with edge_errors("close", c.name):
                        if not self.read_only:
                            c.shard.flush()
                        c.shard.close()
            finally:
                self._open.clear()
                self._lock.release()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the Edge store at {self.root} is closed: open it again")
