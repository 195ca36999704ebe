"""Text per shot, pure functions: speech segments aligned to shots, OCR frames chosen and their
lines merged, and the payload each channel stores.

Speech: a segment belongs to **every** shot it overlaps in time (a sentence spanning a cut is
found from both shots), with its words and their times, so that a hit can play from the word
that matched. A zero-length segment belongs to the shot that contains its instant.

On-screen text: each shot is read at its keyframe, and a long shot also every ``interval_s``
seconds. Lines that repeat across a shot's frames (a caption held on screen, read slightly
differently each time) are merged: two lines are the same when their letters and digits, lower
case, match at 80 % or more; the better-read one is kept, with the time it first appeared.
A line of fewer than two letters or digits is dropped: OCR finds lone glyphs in textures.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from pipeline.channels.spec import text_field
from pipeline.records import OcrLine, Shot, TranscriptSegment

SAME_LINE_RATIO = 0.8
MIN_CHARS = 2


@dataclass(frozen=True)
class ShotText:
    """The text one channel found in one shot, and the payload it stores there."""

    shot_index: int
    text: str
    extra: dict = field(default_factory=dict, compare=False)

    def payload(self, channel: str) -> dict:
        return {text_field(channel): self.text, **self.extra}


def _overlaps(seg: TranscriptSegment, shot: Shot) -> bool:
    if seg.end_s <= seg.start_s:
        return shot.start_s <= seg.start_s < shot.end_s
    return seg.start_s < shot.end_s and seg.end_s > shot.start_s


def speech_per_shot(segments: Sequence[TranscriptSegment], shots: Sequence[Shot]) -> list[ShotText]:
    """The shots with speech, each with the whole text of every segment that overlaps it."""
    out = []
    for shot in shots:
        mine = [s for s in segments if s.text.strip() and _overlaps(s, shot)]
        if not mine:
            continue
        stored = [[round(s.start_s, 3), round(s.end_s, 3), s.text.strip(),
                   [[round(w.start_s, 3), round(w.end_s, 3), w.text] for w in s.words]] for s in mine]
        out.append(ShotText(shot.index, " ".join(s.text.strip() for s in mine), {"speech_segments": stored}))
    return out


def ocr_times(shots: Sequence[Shot], frame_times: Sequence[float], interval_s: float) -> list[tuple[int, float]]:
    """``(shot index, time)`` of every frame to read: each shot's keyframe (its time in
    ``frame_times``, the sampled frames' times), plus one every ``interval_s`` inside long shots."""
    if interval_s <= 0:
        raise ValueError(f"interval_s must be positive, got {interval_s}")
    picks = []
    for shot in shots:
        key = float(frame_times[shot.keyframe]) if 0 <= shot.keyframe < len(frame_times) else \
            (shot.start_s + shot.end_s) / 2
        times = {round(key, 3)}
        t = shot.start_s + interval_s / 2
        while shot.end_s - shot.start_s > interval_s and t < shot.end_s:
            if abs(t - key) >= interval_s / 4:  # not a near-copy of the keyframe
                times.add(round(t, 3))
            t += interval_s
        picks.extend((shot.index, t) for t in sorted(times))
    return picks


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return re.sub(r"[\W_]+", "", "".join(c for c in folded if not unicodedata.combining(c)))


def merge_lines(reads: Sequence[tuple[float, Sequence[OcrLine]]]) -> list[tuple[float, OcrLine]]:
    """One shot's frames ``(time, lines)`` -> its distinct lines ``(first time seen, best reading)``."""
    kept: list[tuple[float, OcrLine, str]] = []
    for t, lines in sorted(reads, key=lambda r: r[0]):
        for line in lines:
            key = _key(line.text)
            if len(key) < MIN_CHARS:  # a lone glyph: what OCR "reads" in textures more often than not
                continue
            for i, (first, best, best_key) in enumerate(kept):
                if key == best_key or SequenceMatcher(None, key, best_key, autojunk=False).ratio() >= SAME_LINE_RATIO:
                    if line.score > best.score:
                        kept[i] = (first, line, key)
                    break
            else:
                kept.append((t, line, key))
    return [(t, line) for t, line, _ in kept]


def ocr_per_shot(reads: Sequence[tuple[int, float, Sequence[OcrLine]]]) -> list[ShotText]:
    """``(shot index, time, lines)`` per frame read -> the shots with on-screen text."""
    by_shot: dict[int, list[tuple[float, Sequence[OcrLine]]]] = {}
    for index, t, lines in reads:
        by_shot.setdefault(index, []).append((t, lines))
    out = []
    for index in sorted(by_shot):
        merged = merge_lines(by_shot[index])
        if merged:
            out.append(ShotText(index, " | ".join(line.text for _, line in merged),
                                {"ocr_lines": [[round(t, 3), line.text] for t, line in merged]}))
    return out

