"""Review from the cards, as pure functions over lists of point ids and records (no gradio here).

- **Marks**: a shot is relevant, not relevant, or neither, never both: marking it one way
  unmarks it the other way, and marking it again the same way unmarks it.
- **Refinement rounds** keep the marked shots: they stay on screen, marked, above the new
  results, and go into the export with their mark.
- **The selection** ("selección") is a basket of shots kept across searches (and databases),
  in the order they were added, exported on its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.ui.formatting import MARKS

#: The most shots a selection holds (it lives in the browser's storage too).
BASKET_LIMIT = 500
#: What a selection keeps of a record (not the server path of its thumbnail: that is resolved again).
BASKET_KEYS = ("point_id", "db", "video_id", "source", "shot_index", "scene", "class_id", "start_s", "end_s",
               "start_tc", "end_tc", "score", "thumbnail", "duration_s", "fps", "rank")


def set_mark(relevant: Sequence[str], not_relevant: Sequence[str], point_id: str,
             mark: str) -> tuple[list[str], list[str]]:
    """Toggle ``mark`` on one shot; the two lists stay disjoint."""
    if mark not in MARKS:
        raise ValueError(f"mark must be one of {MARKS}, got {mark!r}")
    rel = [p for p in relevant if p != point_id]
    neg = [p for p in not_relevant if p != point_id]
    already = point_id in (relevant if mark == "relevant" else not_relevant)
    if not already:
        (rel if mark == "relevant" else neg).append(point_id)
    return rel, neg


def keep_disjoint(relevant: Sequence[str], not_relevant: Sequence[str], winner: str) -> tuple[list[str], list[str]]:
    """After a shot was ticked in both lists (one of them just edited: ``winner``), keep it in that one."""
    rel, neg = list(dict.fromkeys(relevant)), list(dict.fromkeys(not_relevant))
    if winner == "relevant":
        return rel, [p for p in neg if p not in rel]
    return [p for p in rel if p not in neg], neg


def apply_marks(records: Sequence[dict], relevant: Sequence[str], not_relevant: Sequence[str]) -> list[dict]:
    """``records`` with each one's ``mark`` set from the two lists."""
    rel, neg = set(relevant), set(not_relevant)
    return [{**r, "mark": "relevant" if r["point_id"] in rel else "not_relevant" if r["point_id"] in neg else None}
            for r in records]


def keep_marked(previous: Sequence[dict], new: Sequence[dict], relevant: Sequence[str],
                not_relevant: Sequence[str]) -> list[dict]:
    """A refinement round's view: the marked shots of the previous view first (relevant ones, then
    not relevant ones, in marking order), then the new results that are not among them."""
    by_id = {r["point_id"]: r for r in previous}
    marked = [by_id[p] for p in [*relevant, *not_relevant] if p in by_id]
    kept = {r["point_id"] for r in marked}
    return apply_marks([*marked, *(r for r in new if r["point_id"] not in kept)], relevant, not_relevant)


def basket_item(record: dict) -> dict:
    return {k: record.get(k) for k in BASKET_KEYS}


def toggle_basket(basket: Sequence[dict], record: dict) -> list[dict]:
    """Add the shot to the selection, or take it out if it is there; the oldest go beyond the limit."""
    items = [b for b in basket if b.get("point_id") != record["point_id"]]
    if len(items) == len(basket):
        items.append(basket_item(record))
    return items[-BASKET_LIMIT:]


def remove_from_basket(basket: Sequence[dict], point_id: str) -> list[dict]:
    return [b for b in basket if b.get("point_id") != point_id]


def clean_basket(value: object) -> list[dict]:
    """A selection read back from the browser: only well-formed items, at most the limit."""
    if not isinstance(value, list):
        return []
    items = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("point_id"), str) and isinstance(item.get("db"), str):
            try:
                float(item["start_s"]), float(item["end_s"]), int(item["shot_index"])
            except (KeyError, TypeError, ValueError):
                continue
            items.append({k: item.get(k) for k in BASKET_KEYS})
    return items[-BASKET_LIMIT:]
