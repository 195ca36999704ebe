"""Temporal queries: "A, then B within N seconds" ranks pairs of shots of one video.

Known-item searchers describe two moments in order far more often than one (about 83 % of
VISIONE's text queries at VBS 2022). Each part is searched on its own, through the same search
function as any query (every channel of the fused search, a text, an image, or both), to a depth
of ``depth`` shots; then, per video:

- a pair is a shot ``a`` from A's ranking and a *later* shot ``b`` from B's: ``b`` starts at or
  after ``a`` ends, at most ``within_s`` seconds after (vitrivr's ordering rule: the next
  segment starts after the previous one ends, inside a maximum span);
- the pair's score is the **geometric mean** of the two scores, ``sqrt(score_a * score_b)``
  (scores below zero count as zero, and a pair scored zero is no pair). This is VISIONE's temporal combination (``LucTextSearch.
  combineResults_temporal`` multiplies the two scores: "geometric mean without sqrt"); the square
  root keeps the pair on the scale of a single score, so a minimum score means the same for
  pairs and single shots. A pair is strong only when both moments match, unlike vitrivr's
  arithmetic mean, which lets one excellent part carry a missing one;
- pairs are taken best first, each shot in at most one pair (VISIONE keeps each keyframe once).

The reverse order never matches: ``b`` before ``a`` is not a pair of "A, then B".
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from pipeline.core import format_timecode
from pipeline.errors import QueryError
from pipeline.records import SearchHit
from pipeline.search.query import Query

#: ``search(query) -> hits, best first``: any search of one query (plain, fused over channels...).
RankedSearch = Callable[[Query], Sequence[SearchHit]]
DEFAULT_WITHIN_S = 60.0
#: Longest gap a temporal query may ask for.
MAX_WITHIN_S = 3600.0
#: Each part is searched this deep (at least), so that pairs exist beyond the top few shots.
MIN_DEPTH = 200
#: Shots that end and start within this much of each other count as consecutive, not overlapping.
_TOUCH_S = 1e-3


@dataclass(frozen=True)
class TemporalHit:
    """A ranked pair: ``first`` matches A, ``then`` matches B, later in the same video."""

    rank: int
    score: float
    first: SearchHit
    then: SearchHit

    @property
    def video_id(self) -> str:
        return self.first.video_id

    @property
    def source(self) -> str:
        return self.first.source

    @property
    def start_s(self) -> float:
        return self.first.start_s

    @property
    def end_s(self) -> float:
        return self.then.end_s

    @property
    def gap_s(self) -> float:
        """Seconds between the end of the first shot and the start of the second."""
        return max(0.0, self.then.start_s - self.first.end_s)

    def to_json(self) -> dict:
        return {"rank": self.rank, "score": self.score, "video_id": self.video_id, "source": self.source,
                "start_s": self.start_s, "end_s": self.end_s, "start_tc": format_timecode(self.start_s),
                "end_tc": format_timecode(self.end_s), "gap_s": round(self.gap_s, 3),
                "first": self.first.to_json(), "then": self.then.to_json()}


def pair_score(a: float, b: float) -> float:
    """VISIONE's product of the two scores, as a geometric mean (on the scale of one score)."""
    return math.sqrt(max(0.0, a) * max(0.0, b))


def check_within(within_s: float) -> float:
    value = float(within_s)
    if not 0.0 <= value <= MAX_WITHIN_S:
        raise QueryError(code="query.within_range", limit=f"{MAX_WITHIN_S:.0f}", value=within_s)
    return value


def pair_hits(first: Sequence[SearchHit], then: Sequence[SearchHit], within_s: float = DEFAULT_WITHIN_S,
              k: int | None = None, one_per_video: bool = False) -> list[TemporalHit]:
    """Ranked pairs from the rankings of A and B (see the module docstring); at most ``k``."""
    within_s = check_within(within_s)
    later: dict[str, list[SearchHit]] = defaultdict(list)
    for hit in then:
        later[hit.video_id].append(hit)
    starts = {}
    for video, hits in later.items():
        hits.sort(key=lambda h: h.start_s)
        starts[video] = [h.start_s for h in hits]
    candidates = []
    for a in first:
        hits = later.get(a.video_id)
        if not hits:
            continue
        lo = bisect.bisect_left(starts[a.video_id], a.end_s - _TOUCH_S)
        hi = bisect.bisect_right(starts[a.video_id], a.end_s + within_s + _TOUCH_S)
        for b in hits[lo:hi]:
            score = pair_score(a.score, b.score)
            if b.point_id != a.point_id and score > 0:  # a part that does not match at all makes no pair
                candidates.append((score, a, b))
    candidates.sort(key=lambda c: (-c[0], c[2].start_s - c[1].end_s, c[1].rank, c[2].rank))
    used: set[str] = set()
    videos: set[str] = set()
    pairs: list[TemporalHit] = []
    for score, a, b in candidates:
        if a.point_id in used or b.point_id in used or (one_per_video and a.video_id in videos):
            continue
        used.update((a.point_id, b.point_id))
        videos.add(a.video_id)
        pairs.append(TemporalHit(len(pairs) + 1, score, a, b))
        if k is not None and len(pairs) >= k:
            break
    return pairs


def temporal_search(search: RankedSearch, first: Query, then: Query, within_s: float = DEFAULT_WITHIN_S,
                    depth: int | None = None) -> list[TemporalHit]:
    """The top ``first.k`` pairs "``first``, then ``then`` within ``within_s`` seconds", each part run
    through ``search`` to ``depth`` shots (default ``max(200, 10 k)``, at most 1000); ``first``'s
    ``one_per_video`` and ``video_ids`` apply to the pairs."""
    check_within(within_s)
    depth = min(1000, max(MIN_DEPTH, 10 * first.k) if depth is None else depth)
    scope = {"k": depth, "one_per_video": False, "video_ids": first.video_ids}
    a_hits = search(replace(first, **scope))
    b_hits = search(replace(then, **scope))
    return pair_hits(a_hits, b_hits, within_s, first.k, first.one_per_video)
