"""Query to ranked shots: the query and its vectors, the fused search over the channels a database
holds (with the reasons each hit matched), relevance feedback, and the per-video overview (2-D
map, timeline) that browsing needs."""

from pipeline.search.engine import to_hits
from pipeline.search.explore import FrameMap, MapCache, video_overview
from pipeline.search.feedback import refine, rocchio
from pipeline.search.fused import (
    DEPTH,
    RRF_K,
    DatabaseChannels,
    Plan,
    SearchResult,
    database_channels,
    plan_query,
    search,
    search_channels,
)
from pipeline.search.projection import PROJECTIONS, project_2d
from pipeline.search.query import IMAGE_FUSIONS, Query, encode_query, fuse_vectors, normalise

__all__ = [
    "DEPTH",
    "IMAGE_FUSIONS",
    "PROJECTIONS",
    "RRF_K",
    "DatabaseChannels",
    "FrameMap",
    "MapCache",
    "Plan",
    "Query",
    "SearchResult",
    "database_channels",
    "encode_query",
    "fuse_vectors",
    "normalise",
    "plan_query",
    "project_2d",
    "refine",
    "rocchio",
    "search",
    "search_channels",
    "to_hits",
    "video_overview",
]
