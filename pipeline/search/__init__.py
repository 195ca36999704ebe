"""Query to ranked shots: the query and its vectors (query encoders: M-CLIP, translation, a cache), the store search, relevance feedback, and
the per-video overview (2-D map, timeline) that browsing needs."""

from pipeline.search.engine import search, search_vector, to_hits
from pipeline.search.explore import FrameMap, MapCache, video_overview
from pipeline.search.feedback import refine, rocchio, similar
from pipeline.search.projection import PROJECTIONS, project_2d
from pipeline.search.query import Query, encode_query, fuse_vectors, normalise
from pipeline.search.text_encoders import (
    QUERY_ENCODERS,
    CachedTextEncoder,
    QueryEncoderChoice,
    TranslatingEncoder,
    choose_query_encoder,
)

__all__ = [
    "PROJECTIONS",
    "QUERY_ENCODERS",
    "CachedTextEncoder",
    "FrameMap",
    "MapCache",
    "Query",
    "QueryEncoderChoice",
    "TranslatingEncoder",
    "choose_query_encoder",
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
