"""Qdrant behind one facade: Qdrant Edge (embedded default), qdrant-client local mode, or a
Qdrant server or cluster by URL; plus copying databases between them, and Qdrant's BM25 for the
text channels' sparse vectors."""

from pipeline.store.base import (
    CollectionOptions,
    FusedResult,
    Prefetch,
    SparseVector,
    StoredPoint,
    VectorStore,
    point_id,
    span_point_id,
)
from pipeline.store.bm25 import Bm25Encoder, Bm25Options
from pipeline.store.common import average_vector
from pipeline.store.edge import EdgeStore
from pipeline.store.factory import open_store
from pipeline.store.qdrant import QdrantClientStore
from pipeline.store.transfer import copy_collection, export_collection, export_contents, import_collection

__all__ = [
    "Bm25Encoder",
    "Bm25Options",
    "CollectionOptions",
    "FusedResult",
    "Prefetch",
    "SparseVector",
    "EdgeStore",
    "QdrantClientStore",
    "StoredPoint",
    "VectorStore",
    "average_vector",
    "copy_collection",
    "export_collection",
    "export_contents",
    "import_collection",
    "open_store",
    "point_id",
    "span_point_id",
]
