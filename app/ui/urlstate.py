"""A search in the address bar, settings in the browser's storage: parsed and checked here (no gradio).

The URL carries what makes a search (``?q=...&db=...&k=20&w=0.5&one=1&v=ID,ID&lang=es``, or
``like=VIDEO_ID:N`` for "more like this"; ``then=...&within=60`` for "A, then B"; and
``video=ID&t=83.5`` for the shot open in the player, a deep link: :mod:`pipeline.exports.links`),
so a search can be bookmarked and sent; the browser's storage keeps a person's settings (number of
results, weight, export format...). Anything malformed is dropped, never trusted: both come from
the browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.ui.exports import FORMATS, TIMECODES
from app.ui.i18n import LANGUAGES
from pipeline.core import valid_db_name

#: What the player does at the end of the shot.
END_MODES = ("continue", "stop", "loop")
REFINE_METHODS = ("rocchio", "recommend")
#: Settings kept in the browser, with their defaults.
DEFAULT_PREFS = {"k": 20, "weight": 0.5, "one": False, "method": "rocchio", "fmt": "csv_es", "tc": "ms",
                 "end": "stop", "lang": None}
MAX_QUERY_CHARS = 2000


def _number(text: object, kind: type, low: float, high: float):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        return None
    return value if low <= value <= high else None


def _flag(text: object) -> bool | None:
    if isinstance(text, bool):
        return text
    return {"1": True, "true": True, "0": False, "false": False}.get(str(text).lower())


@dataclass(frozen=True)
class SearchParams:
    """The search a URL asks for (``None``: not given, or not valid)."""

    db: str | None = None
    lang: str | None = None
    text: str = ""
    weight: float | None = None
    k: int | None = None
    one: bool | None = None
    videos: list[str] = field(default_factory=list)
    like: str | None = None
    then: str = ""
    within: float | None = None

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> SearchParams:
        db = params.get("db")
        videos = [v for v in (params.get("v") or "").split(",") if len(v) == 20 and v.isalnum()]
        like = params.get("like") or None
        if like is not None:
            video, sep, number = like.partition(":")
            like = like if sep and len(video) == 20 and video.isalnum() and number.isdigit() else None
        return cls(db=db if valid_db_name(db) else None,
                   lang=params.get("lang") if params.get("lang") in LANGUAGES else None,
                   text=(params.get("q") or "")[:MAX_QUERY_CHARS], weight=_number(params.get("w"), float, 0, 1),
                   k=_number(params.get("k"), int, 1, 100), one=_flag(params.get("one")), videos=videos, like=like,
                   then=(params.get("then") or "")[:MAX_QUERY_CHARS], within=_number(params.get("within"), float, 0, 600))

    @property
    def runs_a_search(self) -> bool:
        return bool(self.text.strip() or self.like)


def clean_prefs(value: object) -> dict:
    """Settings read back from the browser: the known keys with valid values, defaults otherwise."""
    stored = value if isinstance(value, dict) else {}
    prefs = dict(DEFAULT_PREFS)
    checks = {
        "k": lambda v: _number(v, int, 1, 100), "weight": lambda v: _number(v, float, 0, 1), "one": _flag,
        "method": lambda v: v if v in REFINE_METHODS else None, "fmt": lambda v: v if v in FORMATS else None,
        "tc": lambda v: v if v in TIMECODES else None, "end": lambda v: v if v in END_MODES else None,
        "lang": lambda v: v if v in LANGUAGES else None,
    }
    for key, check in checks.items():
        if key in stored and check(stored[key]) is not None:
            prefs[key] = check(stored[key])
    return prefs
