"""Indexing: a video's artifacts on disk (the data layout), its shots written to the store, the
catalog of the videos confirmed in each database, its checks and repairs, managing the archive,
re-segmentation from stored embeddings; which encoders made each database's vectors, and
re-indexing a database with another encoder."""

from pipeline.index.calibrate import EncoderCalibration, calibrate_database
from pipeline.index.catalog import (
    Catalog,
    CatalogTotals,
    ServerCatalog,
    VideoCatalog,
    VideoPage,
    catalog_for,
    open_catalog,
    read_json_catalog,
    write_json_catalog,
)
from pipeline.index.check import CatalogIssue, CheckReport, Drift, check_archive, check_database
from pipeline.index.encoders import (
    ANY_WEIGHTS,
    UNRECORDED,
    EncoderRecord,
    check_encoder,
    identity_of,
    record_encoder,
    stored_encoders,
)
from pipeline.index.ingest import IngestResult, index_video, ingest_one, ingest_paths, place_media
from pipeline.index.layout import DataLayout, content_id
from pipeline.index.manage import Removed, delete_database, find_videos, remove_video, rename_database
from pipeline.index.prepare import IngestOptions, PreparedVideo, prepare_video
from pipeline.index.reindex import ReindexResult, reindex, reindex_video
from pipeline.index.resegment import ResegmentResult, resegment_database
from pipeline.index.shots import read_cuts, shot_point_id, stored_point_ids
from pipeline.index.workers import Shard, ingest_parallel, select_shard

__all__ = [
    "ANY_WEIGHTS",
    "UNRECORDED",
    "Catalog",
    "CatalogIssue",
    "CatalogTotals",
    "CheckReport",
    "DataLayout",
    "Drift",
    "EncoderCalibration",
    "EncoderRecord",
    "IngestOptions",
    "IngestResult",
    "PreparedVideo",
    "ReindexResult",
    "Removed",
    "ResegmentResult",
    "ServerCatalog",
    "Shard",
    "VideoCatalog",
    "VideoPage",
    "calibrate_database",
    "catalog_for",
    "check_archive",
    "check_database",
    "check_encoder",
    "content_id",
    "delete_database",
    "find_videos",
    "identity_of",
    "index_video",
    "ingest_one",
    "ingest_parallel",
    "ingest_paths",
    "open_catalog",
    "place_media",
    "prepare_video",
    "read_cuts",
    "read_json_catalog",
    "record_encoder",
    "reindex",
    "reindex_video",
    "remove_video",
    "rename_database",
    "resegment_database",
    "select_shard",
    "shot_point_id",
    "stored_encoders",
    "stored_point_ids",
    "write_json_catalog",
]
