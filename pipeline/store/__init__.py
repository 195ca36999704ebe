"""Qdrant behind one facade: Qdrant Edge (embedded default), qdrant-client local mode, or a
Qdrant server or cluster by URL; plus copying databases between them."""

from pipeline.store.base import CollectionOptions, StoredPoint, VectorStore, point_id, span_point_id
from pipeline.store.edge import EdgeStore
from pipeline.store.factory import open_store
from pipeline.store.qdrant import QdrantClientStore
from pipeline.store.transfer import copy_collection, export_collection, export_contents, import_collection

__all__ = [
    "CollectionOptions",
    "EdgeStore",
    "QdrantClientStore",
    "StoredPoint",
    "VectorStore",
    "copy_collection",
    "export_collection",
    "export_contents",
    "import_collection",
    "open_store",
    "point_id",
    "span_point_id",
]
