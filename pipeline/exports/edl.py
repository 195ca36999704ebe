"""CMX3600 edit decision lists of results, for editors' NLEs (Avid, Premiere, Resolve...).

One event per result, a straight cut on video track V, laid one after another on a record
timeline starting at 01:00:00:00. Pure functions: the caller gives each clip's span and the
frame rate of its video.

- **Source timecodes** are at the video's own frame rate, counted from 00:00:00:00 at the
  file's first frame (a timecode track in the file is not read). NTSC rates (29.97, 59.94)
  use SMPTE drop-frame counting, written ``HH:MM:SS;FF``, with ``FCM: DROP FRAME`` before
  the event; other rates count frames at their rounded rate (23.976 as 24, 25, 30...).
- **Frames**: the in point is the frame showing at the shot's start, the out point the frame
  showing at its end (exclusive, as CMX3600 reads it); at least one frame.
- **Record timecodes** run at the timeline's rate (``timeline_fps``; by default the rate most
  clips share). A clip at another rate keeps its duration in seconds, so its record length in
  frames differs from its source length; some NLEs read that as a speed change: export one
  list per frame rate where that matters.
- **Reel names** (8 characters, CMX3600's limit) come from the file name folded to ASCII
  capitals and digits; names that would collide, that are empty, or that an NLE reads as a
  special source (``AX``, ``BL``, ``BLACK``, ``BARS``) get a part of the video's id.
- Comment lines carry the file name (``* FROM CLIP NAME:`` and ``* SOURCE FILE:``), a note and
  the deep link that opens the app's player at the clip; text from users is flattened to one
  line of printable characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.core import FrameRate
from pipeline.errors import ConfigError

#: CMX3600 numbers events with three digits.
MAX_EVENTS = 999
REEL_LEN = 8
#: Reel names an NLE reads as something other than a file: auxiliary source, black, colour bars.
RESERVED_REELS = frozenset({"AX", "BL", "BLACK", "BARS"})


@dataclass(frozen=True)
class EdlClip:
    """One result to cut: ``[start_s, end_s)`` of a video whose frame rate is ``fps``."""

    video_id: str
    source: str  # the file name users know
    start_s: float
    end_s: float
    fps: float
    note: str = ""  # e.g. "Recurso #3 · score 0.312"
    link: str = ""  # the deep link that opens the app's player at the clip


@dataclass(frozen=True)
class EdlEvent:
    """What one event line says, in frames (kept for tests and callers that check the list)."""

    number: int
    reel: str
    clip: EdlClip
    rate: FrameRate
    source_in: int
    source_out: int
    record_in: int
    record_out: int


def one_line(text: str) -> str:
    """User text for a comment line: printable characters on one line (an EDL is line based)."""
    flat = "".join(ch if unicodedata.category(ch)[0] not in "CZ" else " " for ch in str(text))
    return re.sub(r"\s+", " ", flat).strip()


def _reel_base(source: str) -> str:
    stem = re.split(r"[\\/]", source.strip())[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem.strip(".") else stem
    ascii_name = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Z0-9]", "", ascii_name.upper())


def reel_names(clips: Sequence[EdlClip]) -> dict[str, str]:
    """One reel name per video id: the file name's first 8 capitals/digits, unique in the list."""
    videos = dict.fromkeys(c.video_id for c in clips)
    sources = {c.video_id: c.source for c in clips}
    wanted = {v: _reel_base(sources[v])[:REEL_LEN] for v in videos}
    counts = Counter(wanted.values())
    names: dict[str, str] = {}
    for video in videos:
        name = wanted[video]
        if not name or name in RESERVED_REELS or counts[name] > 1:
            tag = re.sub(r"[^A-Z0-9]", "", video.upper())[:4] or "0000"
            name = (name[:REEL_LEN - len(tag)] + tag) if name else f"V{video.upper()[:REEL_LEN - 1]}"
        names[video] = name
    used = Counter(names.values())
    for video in videos:  # still shared (same name prefix and id prefix): the id alone
        if used[names[video]] > 1 or names[video] in RESERVED_REELS:
            names[video] = re.sub(r"[^A-Z0-9]", "", video.upper())[:REEL_LEN]
    return names


def _rate(fps: float, what: str) -> FrameRate:
    try:
        return FrameRate.of(fps)
    except ValueError as err:
        raise ConfigError(f"{what}: {err}") from err


def _timeline_rate(clips: Sequence[EdlClip], timeline_fps: float | None) -> FrameRate:
    if timeline_fps is not None:
        return _rate(timeline_fps, "the EDL's timeline")
    rates = [_rate(c.fps, c.source) for c in clips]
    return Counter(rates).most_common(1)[0][0]  # ties: the first one met


def edl_events(clips: Sequence[EdlClip], timeline_fps: float | None = None,
               record_start_s: float = 3600.0) -> list[EdlEvent]:
    """The events of :func:`write_edl`, in frames."""
    if not clips:
        raise ConfigError("nothing to export: the list of results is empty")
    if len(clips) > MAX_EVENTS:
        raise ConfigError(f"an EDL holds at most {MAX_EVENTS} events (CMX3600 numbers them with three digits); "
                          f"got {len(clips)}: export fewer results or a selection")
    timeline = _timeline_rate(clips, timeline_fps)
    reels = reel_names(clips)
    record = int(round(record_start_s * timeline.fps))
    events = []
    for number, clip in enumerate(clips, start=1):
        if not clip.end_s > clip.start_s >= 0:
            raise ConfigError(f"clip {number} of {clip.source}: the span {clip.start_s}-{clip.end_s} s is empty")
        rate = _rate(clip.fps, clip.source)
        first = rate.frame_at(clip.start_s)
        last = max(first + 1, rate.frame_at(clip.end_s))
        length = last - first if rate == timeline else max(1, int(round((last - first) / rate.fps * timeline.fps)))
        events.append(EdlEvent(number, reels[clip.video_id], clip, rate, first, last, record, record + length))
        record += length
    return events


def write_edl(clips: Sequence[EdlClip], title: str, timeline_fps: float | None = None,
              record_start_s: float = 3600.0) -> str:
    """The clips as a CMX3600 EDL (text, CRLF-free; write it with any line ending an NLE takes)."""
    events = edl_events(clips, timeline_fps, record_start_s)
    timeline = _timeline_rate(clips, timeline_fps)
    mode = {True: "DROP FRAME", False: "NON-DROP FRAME"}
    lines = [f"TITLE: {one_line(title)[:70] or 'BuscaEscenas'}", f"FCM: {mode[timeline.drop]}", ""]
    current = timeline.drop
    for e in events:
        if e.rate.drop != current:  # the source timecodes of this event are counted the other way
            lines.append(f"FCM: {mode[e.rate.drop]}")
            current = e.rate.drop
        lines.append(f"{e.number:03d}  {e.reel:<{REEL_LEN}} V     C        "
                     f"{e.rate.timecode(e.source_in)} {e.rate.timecode(e.source_out)} "
                     f"{timeline.timecode(e.record_in)} {timeline.timecode(e.record_out)}")
        name = one_line(e.clip.source)
        lines += [f"* FROM CLIP NAME: {name}", f"* SOURCE FILE: {name}"]
        if e.rate != timeline:
            lines.append(f"* SOURCE FPS: {e.rate.fps:.3f}")
        if e.clip.note:
            lines.append(f"* COMMENT: {one_line(e.clip.note)}")
        if e.clip.link:
            lines.append(f"* LINK: {one_line(e.clip.link)}")
        lines.append("")
    return "\n".join(lines)
