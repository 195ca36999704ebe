"""Vector stores behind one interface: Qdrant Edge (embedded default), qdrant-client
local mode (embedded fallback) and a Qdrant server or cluster reached by URL."""

from pipeline.store.base import CollectionOptions, StoredPoint, VectorStore, point_id

__all__ = ["CollectionOptions", "StoredPoint", "VectorStore", "point_id"]
