"""Indexing: a video's artifacts on disk (the data layout), its shots written to the store, the
catalog of the videos confirmed in each database, its checks and repairs, and managing the archive."""

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

__all__ = [
    "Catalog",
    "CatalogTotals",
    "DataLayout",
    "IngestOptions",
    "IngestResult",
    "PreparedVideo",
    "ServerCatalog",
    "VideoCatalog",
    "VideoPage",
    "catalog_for",
    "content_id",
    "index_video",
    "ingest_one",
    "ingest_paths",
    "open_catalog",
    "prepare_video",
    "read_json_catalog",
    "write_json_catalog",
]
