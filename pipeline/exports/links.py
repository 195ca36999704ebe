"""Deep links: a URL that opens the web app's player on one video at one moment.

``BASE?db=archivo&video=0123456789abcdef0123&t=83.5`` (``t`` in seconds, or ``HH:MM:SS[.mmm]``
when typed by hand). Every result and export carries one. The parameters come from a browser,
so :func:`parse_link` checks each and drops what is malformed instead of trusting it.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.core import check_db_name, check_video_id, parse_timecode, valid_db_name
from pipeline.errors import ConfigError

#: Longest time a link may name (a week of video): anything longer is a typing error.
MAX_T = 7 * 24 * 3600.0


@dataclass(frozen=True)
class LinkTarget:
    """What a deep link asks for: a database, a video in it, and a moment in seconds."""

    db: str
    video_id: str
    t: float


def check_base_url(base_url: str) -> str:
    """An http(s) URL with a host, ending in ``/`` unless it names a page."""
    parts = urllib.parse.urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"the app's public address must be an http(s) URL with a host, got {base_url!r} "
                          "(set BUSCA_PUBLIC_URL, e.g. https://archivo.example.org/buscaescenas/)")
    path = parts.path or "/"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _seconds_text(t: float) -> str:
    return f"{t:.3f}".rstrip("0").rstrip(".") or "0"


def deep_link(base_url: str, db: str, video_id: str, t: float) -> str:
    """The link that opens ``video_id`` of ``db`` at ``t`` seconds in the app at ``base_url``."""
    if not (math.isfinite(t) and 0 <= t <= MAX_T):
        raise ConfigError(f"a link's time must be between 0 and {MAX_T:.0f} seconds, got {t!r}")
    query = urllib.parse.urlencode({"db": check_db_name(db), "video": check_video_id(video_id),
                                    "t": _seconds_text(t)})
    return f"{check_base_url(base_url)}?{query}"


def parse_time(text: str) -> float | None:
    """Seconds (``83.5``) or a timecode (``00:01:23.5``); None when it is neither or out of range."""
    text = (text or "").strip()
    try:
        value = parse_timecode(text) if ":" in text else float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and 0 <= value <= MAX_T else None


def parse_link(params: Mapping[str, str]) -> LinkTarget | None:
    """The player moment a page's query parameters ask for, or None when there is none or it is malformed."""
    db, video = params.get("db") or "", (params.get("video") or "").lower()
    t = parse_time(params.get("t") or "0")
    if not valid_db_name(db) or t is None:
        return None
    try:
        return LinkTarget(db, check_video_id(video), t)
    except ConfigError:
        return None
