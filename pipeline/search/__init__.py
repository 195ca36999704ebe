"""Query to ranked shots: the query and its vectors, the store search, relevance feedback, and
the per-video overview (2-D map, timeline) that browsing needs."""

from pipeline.search.engine import search, search_vector, to_hits
from pipeline.search.explore import FrameMap, MapCache, video_overview
from pipeline.search.feedback import refine, rocchio, similar
from pipeline.search.projection import PROJECTIONS, project_2d
from pipeline.search.query import Query, encode_query, fuse_vectors, normalise

__all__ = [
    "PROJECTIONS",
    "FrameMap",
    "MapCache",
    "Query",
    "encode_query",
    "fuse_vectors",
    "normalise",
    "project_2d",
    "refine",
    "rocchio",
    "search",
    "search_vector",
    "similar",
    "to_hits",
    "video_overview",
]
