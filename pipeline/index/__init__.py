"""Indexing: a video's artifacts on disk (the data layout), its shots written to the store, the
catalog of the videos confirmed in each database, and re-segmentation from stored embeddings."""

from pipeline.index.catalog import VideoCatalog
from pipeline.index.ingest import (
    IngestOptions,
    IngestResult,
    PreparedVideo,
    index_video,
    ingest_one,
    ingest_paths,
    prepare_video,
)
from pipeline.index.layout import DataLayout, content_id
from pipeline.index.resegment import KEEP, NONE, ResegmentResult, resegment_database
from pipeline.index.shots import hard_cuts, read_cuts, stored_point_ids

__all__ = [
    "KEEP",
    "NONE",
    "DataLayout",
    "IngestOptions",
    "IngestResult",
    "PreparedVideo",
    "ResegmentResult",
    "VideoCatalog",
    "content_id",
    "hard_cuts",
    "index_video",
    "ingest_one",
    "ingest_paths",
    "prepare_video",
    "read_cuts",
    "resegment_database",
    "stored_point_ids",
]
