"""Indexing: a video's artifacts on disk (the data layout), its shots written to the store, and
the catalog of the videos confirmed in each database; which encoders made each database's vectors, and
re-indexing a database with another encoder."""

from pipeline.index.catalog import VideoCatalog
from pipeline.index.encoders import (
    ANY_WEIGHTS,
    UNRECORDED,
    EncoderRecord,
    check_encoder,
    identity_of,
    record_encoder,
    stored_encoders,
)
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
from pipeline.index.reindex import ReindexResult, reindex, reindex_video

__all__ = [
    "ANY_WEIGHTS",
    "UNRECORDED",
    "DataLayout",
    "EncoderRecord",
    "IngestOptions",
    "IngestResult",
    "PreparedVideo",
    "ReindexResult",
    "VideoCatalog",
    "check_encoder",
    "content_id",
    "identity_of",
    "index_video",
    "ingest_one",
    "ingest_paths",
    "prepare_video",
    "record_encoder",
    "reindex",
    "reindex_video",
    "stored_encoders",
]
