"""Indexing: a video's artifacts on disk (the data layout), its shots written to the store, and
the catalog of the videos confirmed in each database."""

from pipeline.index.catalog import VideoCatalog
from pipeline.index.ingest import IngestResult, index_video, ingest_one, ingest_paths
from pipeline.index.layout import DataLayout, content_id
from pipeline.index.prepare import IngestOptions, PreparedVideo, prepare_video

__all__ = [
    "DataLayout",
    "IngestOptions",
    "IngestResult",
    "PreparedVideo",
    "VideoCatalog",
    "content_id",
    "index_video",
    "ingest_one",
    "ingest_paths",
    "prepare_video",
]
