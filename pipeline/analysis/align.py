"""Transcript-to-shot alignment (pure functions).

Two modes:

* ``"split"`` (default): a segment overlapping several shots is cut in words, and each
  shot gets a share of the words proportional to its share of the segment's overlapped
  time (speech assumed evenly paced inside a segment). Word boundaries are the cumulative
  shares rounded half up: with ``n`` words and cumulative shares ``c_k``, shot ``k`` gets
  words ``[round(n*c_{k-1}), round(n*c_k))``. A shot whose share rounds to no word gets
  nothing from that segment. Every word of a segment that overlaps any shot ends up in
  exactly one shot, in order.
* ``"max"``: the whole segment goes to the one shot it overlaps most (the earliest on a tie).

In both modes the pieces keep the overlap's times (clipped to the shot). A segment that
overlaps no shot (speech in a gap, or after the last shot) belongs to no shot; it stays in
the video's full transcript. A zero-length segment goes to the shot that contains its instant.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Protocol

from pipeline.records import TranscriptSegment

MODES = ("split", "max")


class Span(Protocol):
    start_s: float
    end_s: float


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


class _ShotIndex:
    """Finds the shots a time range touches: by bisection when the shots are ordered and do
    not overlap (what segmentation gives), by a full scan otherwise."""

    def __init__(self, shots: Sequence[Span]):
        self.shots = shots
        self.starts = [s.start_s for s in shots]
        self.ends = [s.end_s for s in shots]
        self.ordered = all(self.ends[i] <= self.starts[i + 1] for i in range(len(shots) - 1)) and \
            all(a <= b for a, b in zip(self.starts, self.ends, strict=True))

    def candidates(self, start: float, end: float) -> range:
        if not self.ordered:
            return range(len(self.shots))
        return range(bisect.bisect_right(self.ends, start), bisect.bisect_right(self.starts, end))

    def overlaps(self, seg: TranscriptSegment) -> list[tuple[int, float]]:
        """(shot index, seconds of overlap) for every shot the segment touches."""
        if seg.end_s <= seg.start_s:  # an instant: the shot that contains it
            for i in self.candidates(seg.start_s, seg.start_s):
                if self.starts[i] <= seg.start_s < self.ends[i]:
                    return [(i, 0.0)]
            return []
        out = []
        for i in self.candidates(seg.start_s, seg.end_s):
            amount = _overlap(seg.start_s, seg.end_s, self.starts[i], self.ends[i])
            if amount > 0:
                out.append((i, amount))
        return out


def _piece(seg: TranscriptSegment, shot: Span, text: str) -> TranscriptSegment:
    start = max(seg.start_s, shot.start_s)
    end = max(start, min(seg.end_s, shot.end_s))
    return TranscriptSegment(seg.video_id, start, end, text)


def _split_words(words: list[str], amounts: list[float]) -> list[list[str]]:
    total = sum(amounts)
    bounds, acc = [0], 0.0
    for amount in amounts:
        acc += amount
        bounds.append(math.floor(len(words) * acc / total + 0.5) if total > 0 else len(words))
    bounds[-1] = len(words)
    return [words[bounds[k]:bounds[k + 1]] for k in range(len(amounts))]


def align_transcript(segments: Sequence[TranscriptSegment], shots: Sequence[Span],
                     mode: str = "split") -> list[list[TranscriptSegment]]:
    """For each shot (same order as ``shots``), the transcript pieces that fall in it."""
    if mode not in MODES:
        raise ValueError(f"unknown alignment mode {mode!r}; use one of {', '.join(MODES)}")
    result: list[list[TranscriptSegment]] = [[] for _ in shots]
    lookup = _ShotIndex(shots)
    for seg in segments:
        hits = lookup.overlaps(seg)
        if not hits:
            continue
        if mode == "max" or len(hits) == 1:
            best = max(hits, key=lambda hit: (hit[1], -shots[hit[0]].start_s, -hit[0]))[0]
            result[best].append(_piece(seg, shots[best], seg.text.strip()))
            continue
        hits.sort(key=lambda hit: (shots[hit[0]].start_s, hit[0]))  # words go out in time order
        parts = _split_words(seg.text.split(), [amount for _, amount in hits])
        for (index, _), words in zip(hits, parts, strict=True):
            if words:
                result[index].append(_piece(seg, shots[index], " ".join(words)))
    return result


def pieces_text(pieces: Sequence[TranscriptSegment]) -> str:
    return " ".join(p.text.strip() for p in pieces if p.text.strip())


def full_text(segments: Sequence[TranscriptSegment]) -> str:
    return " ".join(s.text.strip() for s in segments if s.text.strip())
