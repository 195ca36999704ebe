"""Indexing: a video's artifacts on disk (the data layout), its shots written to the store, and
the catalog of the videos confirmed in each database."""

from pipeline.index.catalog import VideoCatalog
from pipeline.index.ingest import (
    IngestOptions,
    IngestResult,
    PreparedVideo,
    index_video,
    ingest_one,
    ingest_paths,
    place_media,
    prepare_video,
)
from pipeline.index.layout import DataLayout, content_id

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
    "place_media",
    "prepare_video",
]
