"""The store interface every backend implements, and the payload schema.

One *collection* per user-visible "database". Each collection holds one point per
semantic shot, with one **named vector per encoder** (e.g. ``clip-vit-l-14-openai``),
so that other encoders (multilingual text, OCR, transcript) can be added beside it
later without migrating.

Payload of a shot point (all backends):

``video_id`` (str), ``source`` (str, file name), ``shot_index`` (int), ``scene`` (int),
``class_id`` (int), ``start_s`` (float), ``end_s`` (float), ``thumbnail`` (str, path
relative to the data directory).

Text channels (:mod:`pipeline.channels`) add, per channel, a payload text
(``<channel>_text``), a BM25 **sparse** named vector and a dense text named vector to the
shots that have text in that channel; a shot without text has neither.

Point ids are deterministic UUIDs of ``(video_id, shot_index)`` (:func:`point_id`), so
re-ingesting a video overwrites its points instead of duplicating them. Re-segmentation keeps
the id of every shot it leaves unchanged and gives new shots :func:`span_point_id`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

#: Namespace for point ids. Never change it: ids already stored depend on it.
POINT_NAMESPACE = uuid.UUID("6f6b0f1e-8a51-4c1e-9d0b-2b7c1b0e5a11")

PAYLOAD_FIELDS = ("video_id", "source", "shot_index", "scene", "class_id", "start_s", "end_s", "thumbnail")


def point_id(video_id: str, shot_index: int) -> str:
    """Deterministic point id of one shot."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{video_id}:{shot_index}"))


def span_point_id(video_id: str, first_frame: int, end_frame: int) -> str:
    """Deterministic point id of a shot made by re-segmentation, from the frames it spans (never
    equal to a :func:`point_id`, so unchanged shots can keep theirs; see ``pipeline.index.resegment``)."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{video_id}:frames:{first_frame}-{end_frame}"))


@dataclass(frozen=True)
class SparseVector:
    """A sparse vector (BM25 weights): token ids and their weights, same length."""

    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.indices) != len(self.values):
            raise ValueError(f"sparse vector has {len(self.indices)} indices but {len(self.values)} values")

    def __bool__(self) -> bool:
        return bool(self.indices)


@dataclass(frozen=True)
class StoredPoint:
    """A point as read back from a store: id, score (for queries), payload, optional vectors
    (dense in ``vectors``, sparse in ``sparse``)."""

    id: str
    payload: dict
    score: float = 0.0
    vectors: dict[str, np.ndarray] = field(default_factory=dict, compare=False)
    sparse: dict[str, SparseVector] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Prefetch:
    """One ranking to fuse: ``query`` (a dense array, or a :class:`SparseVector`) against the named
    vector ``using``; or, with ``children``, the reciprocal-rank fusion of those rankings. ``weight``
    is this ranking's weight in its parent's fusion; ``label`` names it in explanations."""

    label: str
    using: str = ""
    query: np.ndarray | SparseVector | None = field(default=None, compare=False)
    weight: float = 1.0
    children: tuple[Prefetch, ...] = ()

    def __post_init__(self) -> None:
        if (self.query is None) == (not self.children):
            raise ValueError(f"prefetch {self.label!r} needs either a query or child prefetches")
        if self.weight < 0:
            raise ValueError(f"prefetch {self.label!r} has a negative weight")

    def leaves(self) -> list[Prefetch]:
        """The rankings that query a vector, depth first."""
        return [self] if not self.children else [leaf for c in self.children for leaf in c.leaves()]


@dataclass(frozen=True)
class FusedResult:
    """A fused query's answer: the fused points, best first, and each leaf ranking's ids, best
    first (``rankings[label]``), so that every hit can say which rankings found it and where;
    ``rankings`` is None when the query did not ask for them (``ranks=False``)."""

    points: list[StoredPoint]
    rankings: dict[str, list[str]] | None


@dataclass(frozen=True)
class CollectionOptions:
    """How a collection is created.

    ``shard_number``, ``replication_factor``, ``on_disk_vectors`` and
    ``scalar_quantization`` only apply to a Qdrant server/cluster. ``exact_below``,
    ``hnsw_m``, ``hnsw_ef_construct`` and ``hnsw_ef`` control index search on a server:
    below ``exact_below`` points a query is exact (brute force); above it, HNSW, built by
    the server in the background (``ef = ef_construct``, its default). qdrant-client local
    mode is always exact.

    Qdrant Edge builds no HNSW graph (its build holds the process for minutes): it keeps
    segments of at most ``edge_segment_points`` points, each with int8 scalar-quantised
    copies of its vectors, and searches them all exhaustively with rescoring (see
    :mod:`pipeline.store.edge`). A smaller value makes each segment's build shorter (the
    longest pause of a write) and queries a little slower.
    """

    shard_number: int | None = None
    replication_factor: int | None = None
    on_disk_vectors: bool = False
    scalar_quantization: bool = False
    exact_below: int = 20_000
    hnsw_m: int = 16
    hnsw_ef_construct: int = 200
    hnsw_ef: int = 256
    edge_segment_points: int = 10_000


class VectorStore(Protocol):
    """One facade over the embedded stores and a Qdrant server.

    All methods raise :class:`pipeline.errors.StoreError` (or a subclass) on failure,
    and :class:`pipeline.errors.UnknownDatabaseError` for a collection that does not
    exist (except ``ensure_collection``, ``has_collection`` and ``list_collections``).
    A query or recommend that cannot match the collection (unknown vector name, wrong
    dimension, ``k < 1``, no positive example, an example id not stored) raises
    :class:`pipeline.errors.QueryError`. ``video_ids=[]`` matches nothing (empty result).
    An embedded store opened by a second process raises
    :class:`pipeline.errors.StoreLockedError`. Implementations: ``pipeline.store.edge``,
    ``pipeline.store.qdrant``; pick one with ``pipeline.store.factory.open_store``.
    """

    #: ``"edge"``, ``"local"`` or ``"server"``.
    kind: str

    def list_collections(self) -> list[str]: ...

    def has_collection(self, name: str) -> bool: ...

    def ensure_collection(self, name: str, vectors: dict[str, int], options: CollectionOptions | None = None) -> None:
        """Create the collection if missing, with named cosine vectors ``{name: dim}``;
        add a named vector missing from an existing collection where the backend can,
        else raise StoreError. Creates a payload index on ``video_id``."""
        ...

    def vector_names(self, name: str) -> dict[str, int]:
        """The collection's named vectors and their dimensions."""
        ...

    def metadata(self, name: str) -> dict:
        """The collection's metadata: a JSON object the project keeps with the database (e.g.
        ``{"encoders": {vector_name: {...}}}``, see :mod:`pipeline.index.encoders`); ``{}`` if none."""
        ...

    def update_metadata(self, name: str, values: dict) -> None:
        """Merge ``values`` into the collection's metadata (top-level keys replaced)."""
        ...

    def upsert(self, name: str, ids: Sequence[str], vectors: dict[str, np.ndarray], payloads: Sequence[dict],
               sparse: dict[str, Sequence[SparseVector]] | None = None) -> None:
        """Insert or replace points (a replaced point loses vectors not given again).
        ``vectors`` maps vector names to ``(len(ids), dim)`` arrays; ``sparse`` maps sparse names to
        one :class:`SparseVector` per point (an empty one: the point has none). Returns only once the
        store has confirmed the write; call :meth:`flush` to make it durable on disk."""
        ...

    def delete_video(self, name: str, video_id: str, min_shot_index: int = 0, keep_ids: Sequence[str] = ()) -> None:
        """Delete the video's points whose ``shot_index >= min_shot_index``, except the points
        ``keep_ids`` (confirmed). ``keep_ids`` lets a writer replace a video's shots whatever ids
        the earlier ones had (re-segmentation keeps the ids of unchanged shots)."""
        ...

    def query(
        self,
        name: str,
        vector_name: str,
        vector: np.ndarray,
        k: int,
        video_ids: Sequence[str] | None = None,
        one_per_video: bool = False,
    ) -> list[StoredPoint]:
        """Top-k by cosine similarity, best first; optionally restricted to some videos,
        and optionally keeping only the best shot of each video (still k results when
        k videos match)."""
        ...

    def recommend(
        self,
        name: str,
        vector_name: str,
        positive: Sequence[str],
        negative: Sequence[str],
        k: int,
        video_ids: Sequence[str] | None = None,
        one_per_video: bool = False,
    ) -> list[StoredPoint]:
        """Qdrant's recommend (average-vector strategy: ``2·mean(positive) − mean(negative)``
        of the stored vectors) from stored point ids; the example points themselves are
        excluded from the results."""
        ...

    def retrieve(self, name: str, ids: Sequence[str], with_vectors: bool = False) -> list[StoredPoint]:
        """Points by id (missing ids are skipped), in the order asked."""
        ...

    def count(self, name: str, video_id: str | None = None) -> int: ...

    def scroll(self, name: str, with_vectors: bool = False, batch_size: int = 256) -> Iterator[StoredPoint]:
        """Every point of the collection, in a stable order."""
        ...

    def drop_collection(self, name: str) -> None: ...

    # -- text channels: sparse vectors, vector and payload updates, fused queries -----------------

    def sparse_names(self, name: str) -> list[str]:
        """The collection's sparse named vectors (BM25, with Qdrant's IDF modifier)."""
        ...

    def ensure_sparse(self, name: str, names: Sequence[str]) -> None:
        """Add the sparse vectors ``names`` (IDF modifier) that the collection lacks."""
        ...

    def update_vectors(self, name: str, ids: Sequence[str], dense: dict[str, np.ndarray] | None = None,
                       sparse: dict[str, Sequence[SparseVector]] | None = None) -> None:
        """Set these named vectors on existing points, keeping their other vectors (confirmed)."""
        ...

    def clear_fields(self, name: str, video_id: str, vectors: Sequence[str], payload_keys: Sequence[str] = ()) -> None:
        """Remove these named vectors (dense or sparse; unknown names are ignored) and payload keys
        from every point of a video (confirmed); its other vectors and keys stay."""
        ...

    def set_payload(self, name: str, ids: Sequence[str], payloads: Sequence[dict]) -> None:
        """Merge each dict into its point's payload (other keys stay); ``None`` values delete keys."""
        ...

    def fused_query(self, name: str, prefetches: Sequence[Prefetch], k: int, depth: int = 100,
                    video_ids: Sequence[str] | None = None, exclude_ids: Sequence[str] = (),
                    one_per_video: bool = False, rrf_k: int = 2, ranks: bool = True) -> FusedResult:
        """Weighted reciprocal-rank fusion of the prefetches, computed by Qdrant's query API
        (prefetches, then ``Fusion.Rrf(k, weights)``), best first. Each leaf ranking fetches
        ``depth`` points. ``ranks`` also returns each leaf ranking (what explains the hits), at the
        cost of running the leaves a second time. See :func:`pipeline.store.common.fused_search`."""
        ...

    def flush(self) -> None:
        """Make every acknowledged write durable on disk (no-op for a server)."""
        ...

    def close(self) -> None: ...
