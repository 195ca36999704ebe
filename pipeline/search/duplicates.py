"""Reused footage: where the same material appears in other videos of a database.

Two steps, over the shot vectors already in the store (no model, no decoding):

1. **Near-identical shots.** Each shot of the videos asked about is searched with its own stored
   vector; shots of *other* videos at or above ``min_similarity`` (cosine) are candidates. The
   same footage, even re-encoded, scaled or at another frame rate, gives nearly the same
   embeddings; different footage of a similar subject usually stays below 0.95 with CLIP.
2. **Alignment of consecutive shots.** Within each pair of videos, candidate shot pairs are
   chained when they follow each other in both videos (up to ``max_gap_shots`` skipped on either
   side, since the two videos may be segmented differently around the same material) and keep
   one time offset between the videos: each shot pair admits the offsets that make its two
   shots overlap, and a chain keeps the offsets every pair admits (``offset_tolerance_s``
   wider). A chain is one reuse.
3. **Frame-precise spans** (when the videos' frame embeddings are at hand): the offset is
   refined on the sampled frames of the two spans, and the reuse grows over the frames that
   still match along that offset (``frame_similarity``). Two videos segmented differently
   around the same material (one shot here, two there) then still give the whole reuse, with
   its time span in both videos to about one sampled frame (0.5 s at 2 fps). Without frames,
   spans are the matched shots' boundaries.

What this cannot tell apart:
two different recordings of the same still scene (a static camera on an empty room) look as
identical to the encoder as a re-use; ``min_shots`` above 1 asks for a sequence of shots.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from pipeline.core import format_timecode
from pipeline.errors import ConfigError, QueryError
from pipeline.records import FrameEmbeddings, IndexedVideo
from pipeline.store import StoredPoint, VectorStore, point_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DuplicateOptions:
    """``min_similarity``: cosine of two shot vectors for "the same material". ``neighbours``:
    shots of other videos looked at per shot. ``max_gap_shots``: shots one video may have between
    two aligned shots that the other lacks. ``offset_tolerance_s``: slack on the time offset
    between the videos along a chain. ``min_shots``/``min_duration_s``: the smallest reuse reported."""

    min_similarity: float = 0.95
    neighbours: int = 20
    max_gap_shots: int = 1
    offset_tolerance_s: float = 1.0
    min_shots: int = 1
    min_duration_s: float = 0.0
    frame_similarity: float = 0.9

    def __post_init__(self) -> None:
        if not 0.0 < self.min_similarity <= 1.0:
            raise ConfigError(f"minimum similarity must be in (0, 1], got {self.min_similarity}")
        if not 1 <= self.neighbours <= 500:
            raise ConfigError(f"neighbours must be between 1 and 500, got {self.neighbours}")
        if not 0.0 < self.frame_similarity <= 1.0:
            raise ConfigError(f"frame similarity must be in (0, 1], got {self.frame_similarity}")
        if self.max_gap_shots < 0 or self.offset_tolerance_s < 0 or self.min_shots < 1 or self.min_duration_s < 0:
            raise ConfigError("max_gap_shots, offset_tolerance_s and min_duration_s must be >= 0, min_shots >= 1")


@dataclass(frozen=True)
class ShotRef:
    """One shot as the store's payload describes it."""

    video_id: str
    source: str
    index: int
    start_s: float
    end_s: float

    @classmethod
    def of(cls, point: StoredPoint) -> ShotRef:
        p = point.payload
        return cls(str(p["video_id"]), str(p["source"]), int(p["shot_index"]), float(p["start_s"]), float(p["end_s"]))


@dataclass(frozen=True)
class Span:
    """A stretch of one video: its time span and the shots it covers."""

    video_id: str
    source: str
    start_s: float
    end_s: float
    shots: tuple[int, ...]

    def to_json(self) -> dict:
        return {"video_id": self.video_id, "source": self.source, "start_s": self.start_s, "end_s": self.end_s,
                "start_tc": format_timecode(self.start_s), "end_tc": format_timecode(self.end_s),
                "shots": list(self.shots)}


@dataclass(frozen=True)
class Reuse:
    """The same material in two videos: ``first`` (a video asked about) and ``second``, the mean and
    lowest cosine of the aligned shot pairs, and ``offset_s``: a moment of ``first`` at ``t`` is at
    about ``t + offset_s`` in ``second``."""

    first: Span
    second: Span
    similarity: float
    min_similarity: float
    pairs: int
    offset_s: float
    frame_similarity: float | None = None  # mean cosine of the aligned frames, when spans were refined

    @property
    def duration_s(self) -> float:
        return min(self.first.end_s - self.first.start_s, self.second.end_s - self.second.start_s)

    def to_json(self) -> dict:
        return {"first": self.first.to_json(), "second": self.second.to_json(), "similarity": round(self.similarity, 4),
                "min_similarity": round(self.min_similarity, 4), "pairs": self.pairs,
                "offset_s": round(self.offset_s, 3), "duration_s": round(self.duration_s, 3),
                "frame_similarity": None if self.frame_similarity is None else round(self.frame_similarity, 4)}


#: ``(shot in a video asked about, shot of another video, cosine)``.
Candidate = tuple[ShotRef, ShotRef, float]
#: ``frames(video_id)``: the video's sampled frame embeddings, or None when they are not kept.
FramesFn = Callable[[str], FrameEmbeddings | None]


def video_shots(store: VectorStore, db: str, entry: IndexedVideo, vector_name: str) -> list[StoredPoint]:
    """A video's shot points with their vectors (ids from the catalog's shot count), in shot order."""
    points = store.retrieve(db, [point_id(entry.video_id, i) for i in range(entry.n_shots)], with_vectors=True)
    return [p for p in points if vector_name in p.vectors]


def near_identical(store: VectorStore, db: str, vector_name: str, shots: Sequence[StoredPoint],
                   options: DuplicateOptions) -> list[Candidate]:
    """Shots of other videos whose vectors are near-identical to each of ``shots`` (one video's)."""
    if not shots:
        return []
    own = str(shots[0].payload["video_id"])
    k = min(1000, options.neighbours + len(shots))  # the video's own shots come first: skip past them
    found = []
    for point in shots:
        for hit in store.query(db, vector_name, point.vectors[vector_name], k):
            if hit.score < options.min_similarity:
                break  # best first
            if str(hit.payload["video_id"]) != own:
                found.append((ShotRef.of(point), ShotRef.of(hit), float(hit.score)))
    return found


def _admits(a: ShotRef, b: ShotRef, slack: float) -> tuple[float, float]:
    """Offsets ``d`` (``second = first + d``) at which the two shots overlap in time."""
    return b.start_s - a.end_s - slack, b.end_s - a.start_s + slack


def _follows(prev: Candidate, nxt: Candidate, gap: int) -> bool:
    di, dj = nxt[0].index - prev[0].index, nxt[1].index - prev[1].index
    return 0 <= di <= gap + 1 and 0 <= dj <= gap + 1 and (di, dj) != (0, 0)


def align(candidates: Iterable[Candidate], options: DuplicateOptions) -> list[Reuse]:
    """Chain the candidate shot pairs of each pair of videos into reuses (see the module docstring)."""
    by_videos: dict[tuple[str, str], dict[tuple[int, int], Candidate]] = defaultdict(dict)
    for a, b, score in candidates:
        pairs = by_videos[(a.video_id, b.video_id)]
        key = (a.index, b.index)
        if key not in pairs or pairs[key][2] < score:
            pairs[key] = (a, b, score)
    reuses = []
    for pairs in by_videos.values():
        reuses += _chains(sorted(pairs.values(), key=lambda c: (c[0].index, c[1].index)), options)
    return _ordered([r for r in reuses if r.pairs >= options.min_shots and r.duration_s >= options.min_duration_s])


def _chains(pairs: list[Candidate], options: DuplicateOptions) -> list[Reuse]:
    """Greedy chaining in shot order: each pair extends the open chain it follows and agrees with on
    the offset (the longest such chain), or starts a new one."""
    slack = options.offset_tolerance_s
    chains: list[tuple[list[Candidate], float, float]] = []  # pairs, admitted offset interval
    for pair in pairs:
        low, high = _admits(pair[0], pair[1], slack)
        open_chains = [n for n, (members, lo, hi) in enumerate(chains)
                       if _follows(members[-1], pair, options.max_gap_shots) and max(lo, low) <= min(hi, high)]
        best = max(open_chains, key=lambda n: len(chains[n][0]), default=None)
        if best is None:
            chains.append(([pair], low, high))
        else:
            members, lo, hi = chains[best]
            chains[best] = ([*members, pair], max(lo, low), min(hi, high))
    return [_reuse(members, lo + slack, hi - slack) for members, lo, hi in chains]


def _span(shots: list[ShotRef]) -> Span:
    unique = sorted({s.index: s for s in shots}.values(), key=lambda s: s.index)
    return Span(unique[0].video_id, unique[0].source, min(s.start_s for s in unique), max(s.end_s for s in unique),
                tuple(s.index for s in unique))


def _reuse(members: list[Candidate], low: float, high: float) -> Reuse:
    first, second = _span([m[0] for m in members]), _span([m[1] for m in members])
    scores = np.array([m[2] for m in members])
    starts = second.start_s - first.start_s
    offset = float(min(max(starts, low), high)) if low <= high else float((low + high) / 2)
    return Reuse(first, second, float(scores.mean()), float(scores.min()), len(members), offset)


def _nearest(times: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each of ``wanted``, the index of the nearest of ``times`` (sorted)."""
    right = np.clip(np.searchsorted(times, wanted), 1, len(times) - 1)
    left = right - 1
    return np.where(np.abs(times[left] - wanted) <= np.abs(times[right] - wanted), left, right)


def _period(times: np.ndarray) -> float:
    return float(np.median(np.diff(times))) if len(times) > 1 else 0.5


def diagonal(a: FrameEmbeddings, b: FrameEmbeddings, offset: float) -> np.ndarray:
    """Per frame of ``a``: its cosine with the frame of ``b`` nearest to ``t + offset`` (``-inf`` where
    that moment is outside ``b``)."""
    if not len(a.timestamps) or not len(b.timestamps):
        return np.full(len(a.timestamps), -np.inf)
    target = a.timestamps + offset
    j = np.zeros(len(target), dtype=np.int64) if len(b.timestamps) == 1 else _nearest(b.timestamps, target)
    sims = np.einsum("ij,ij->i", a.embeddings, b.embeddings[j]).astype(np.float64)
    half = _period(b.timestamps) / 2
    sims[(target < b.timestamps[0] - half) | (target > b.timestamps[-1] + half)] = -np.inf
    return sims


def refine(reuse: Reuse, a: FrameEmbeddings, b: FrameEmbeddings, options: DuplicateOptions) -> Reuse:
    """Frame-precise spans: the offset near ``reuse.offset_s`` that best matches the frames of the two
    spans, then the run of frames around them that still match (``frame_similarity``), one missed
    frame tolerated. The shots matched by vectors stay as they are."""
    period = _period(a.timestamps)
    inside = (a.timestamps >= reuse.first.start_s - 1e-6) & (a.timestamps < reuse.first.end_s - 1e-6)
    if not inside.any():
        return reuse
    reach = max(2 * period, options.offset_tolerance_s)
    grid = reuse.offset_s + np.arange(-reach, reach + 1e-9, period / 5)
    scores = [float(np.mean(np.maximum(diagonal(a, b, d)[inside], -1.0))) for d in grid]
    best = np.flatnonzero(np.asarray(scores) >= max(scores) - 1e-6)
    offset = float(np.median(grid[best]))  # nearest-frame matching is flat over a frame period: its middle
    sims = diagonal(a, b, offset)
    good = sims >= options.frame_similarity
    if not good[inside].any():
        return reuse
    seed = int(np.flatnonzero(inside)[np.argmax(sims[inside])])
    lo = hi = seed
    while lo - 1 >= 0 and (good[lo - 1] or (lo - 2 >= 0 and good[lo - 2])):
        lo -= 1 if good[lo - 1] else 2
    while hi + 1 < len(good) and (good[hi + 1] or (hi + 2 < len(good) and good[hi + 2])):
        hi += 1 if good[hi + 1] else 2
    start, end = round(float(a.timestamps[lo]), 3), round(float(a.timestamps[hi]) + period, 3)
    b_end = float(b.timestamps[-1]) + _period(b.timestamps)
    first = replace(reuse.first, start_s=start, end_s=end)
    second = replace(reuse.second, start_s=round(max(0.0, start + offset), 3), end_s=round(min(b_end, end + offset), 3))
    return replace(reuse, first=first, second=second, offset_s=offset,
                   frame_similarity=float(np.mean(sims[lo:hi + 1][good[lo:hi + 1]])))


def _merge(reuses: list[Reuse], tolerance: float) -> list[Reuse]:
    """Reuses of the same two videos whose spans overlap at one offset are one reuse."""
    out: list[Reuse] = []
    for r in sorted(reuses, key=lambda r: (r.first.video_id, r.second.video_id, r.first.start_s)):
        last = out[-1] if out else None
        if (last is not None and (last.first.video_id, last.second.video_id) == (r.first.video_id, r.second.video_id)
                and abs(last.offset_s - r.offset_s) <= tolerance and r.first.start_s <= last.first.end_s + 1e-6):
            pairs = last.pairs + r.pairs
            out[-1] = replace(
                last, pairs=pairs, similarity=(last.similarity * last.pairs + r.similarity * r.pairs) / pairs,
                min_similarity=min(last.min_similarity, r.min_similarity),
                first=_union(last.first, r.first), second=_union(last.second, r.second))
        else:
            out.append(r)
    return out


def _union(x: Span, y: Span) -> Span:
    return replace(x, start_s=min(x.start_s, y.start_s), end_s=max(x.end_s, y.end_s),
                   shots=tuple(sorted(set(x.shots) | set(y.shots))))


def find_reuse(store: VectorStore, db: str, vector_name: str, videos: Sequence[IndexedVideo],
               options: DuplicateOptions = DuplicateOptions(), frames: FramesFn | None = None,
               progress: Callable[[int, int], None] | None = None) -> list[Reuse]:
    """Every reuse of material of ``videos`` (catalog entries of ``db``) in the database's other
    videos, longest first. With every video of the database, each reuse is reported once (the
    video first in name order is ``first``). ``frames(video_id)`` gives a video's frame
    embeddings for frame-precise spans (None, or a video without them: shot spans)."""
    if vector_name not in store.vector_names(db):
        raise QueryError(f"database {db!r} has no {vector_name!r} vectors: look for reused footage with the "
                         "encoder the database was indexed with")
    asked = {v.video_id for v in videos}
    order = {v.video_id: (v.source.casefold(), v.video_id) for v in videos}
    candidates: list[Candidate] = []
    for done, entry in enumerate(videos, start=1):
        for a, b, score in near_identical(store, db, vector_name, video_shots(store, db, entry, vector_name), options):
            if b.video_id in asked and order[b.video_id] < order[a.video_id]:
                continue  # found from the other side as well: keep one direction
            candidates.append((a, b, score))
        if progress is not None:
            progress(done, len(videos))
    log.info("%d near-identical shot pairs among %d videos", len(candidates), len(videos))
    reuses = align(candidates, replace(options, min_shots=1, min_duration_s=0.0))
    if frames is not None:
        cache: dict[str, FrameEmbeddings | None] = {}

        def load(video_id: str) -> FrameEmbeddings | None:
            if video_id not in cache:
                cache[video_id] = frames(video_id)
            return cache[video_id]

        reuses = [refine(r, fa, fb, options) if (fa := load(r.first.video_id)) is not None
                  and (fb := load(r.second.video_id)) is not None else r for r in reuses]
    merged = _merge(reuses, options.offset_tolerance_s)
    return _ordered([r for r in merged if r.pairs >= options.min_shots and r.duration_s >= options.min_duration_s])


def _ordered(reuses: list[Reuse]) -> list[Reuse]:
    return sorted(reuses, key=lambda r: (-r.duration_s, -r.similarity, r.first.source, r.first.start_s,
                                         r.second.source, r.second.start_s))


def appearances(store: VectorStore, db: str, vector_name: str, entry: IndexedVideo, start_s: float, end_s: float,
                options: DuplicateOptions = DuplicateOptions(), frames: FramesFn | None = None) -> list[Reuse]:
    """Where the material of ``entry`` between ``start_s`` and ``end_s`` (a shot) appears in other videos."""
    found = find_reuse(store, db, vector_name, [entry], options, frames)
    return [r for r in found if r.first.start_s < end_s and start_s < r.first.end_s]
