"""Query to ranked shots: the query and its vectors (query encoders: M-CLIP, translation, a cache),
the store search, relevance feedback, a minimum score and orders, temporal queries ("A, then B"),
reused footage, and the per-video overview (2-D map, timeline) that browsing needs."""

from pipeline.search.arrange import SORTS, arrange
from pipeline.search.duplicates import DuplicateOptions, Reuse, Span, appearances, find_reuse
from pipeline.search.engine import search, search_vector, to_hits
from pipeline.search.explore import FrameMap, MapCache, video_overview
from pipeline.search.feedback import refine, rocchio, similar
from pipeline.search.projection import PROJECTIONS, project_2d
from pipeline.search.query import Query, encode_query, fuse_vectors, normalise
from pipeline.search.temporal import (
    DEFAULT_WITHIN_S,
    TemporalHit,
    check_within,
    pair_hits,
    temporal_search,
)
from pipeline.search.text_encoders import (
    QUERY_ENCODERS,
    CachedTextEncoder,
    QueryEncoderChoice,
    TranslatingEncoder,
    choose_query_encoder,
)

__all__ = [
    "DEFAULT_WITHIN_S",
    "PROJECTIONS",
    "QUERY_ENCODERS",
    "SORTS",
    "CachedTextEncoder",
    "DuplicateOptions",
    "FrameMap",
    "MapCache",
    "Query",
    "QueryEncoderChoice",
    "Reuse",
    "Span",
    "TemporalHit",
    "TranslatingEncoder",
    "appearances",
    "arrange",
    "check_within",
    "choose_query_encoder",
    "encode_query",
    "find_reuse",
    "fuse_vectors",
    "normalise",
    "pair_hits",
    "project_2d",
    "refine",
    "rocchio",
    "search",
    "search_vector",
    "similar",
    "temporal_search",
    "to_hits",
    "video_overview",
]
