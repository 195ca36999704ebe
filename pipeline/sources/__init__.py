"""Where videos come from: what a user typed (files, folders, URLs, lists), the one URL
validator, the guarded yt-dlp fetch, and query images."""

from pipeline.sources.fetch import SourceOptions, SourceVideo, resolve_source
from pipeline.sources.images import load_image
from pipeline.sources.inputs import expand_sources
from pipeline.sources.urls import UrlPolicy, looks_like_url, validate_url

__all__ = [
    "SourceOptions",
    "SourceVideo",
    "UrlPolicy",
    "expand_sources",
    "load_image",
    "looks_like_url",
    "resolve_source",
    "validate_url",
]
