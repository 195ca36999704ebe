"""Timecodes are made at the edges: the pipeline keeps time as float seconds."""

from __future__ import annotations

import math
import re

_TC = re.compile(r"^\s*(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*$")


def format_timecode(seconds: float) -> str:
    """Format seconds as ``HH:MM:SS.mmm`` (hours may exceed 99)."""
    if seconds < 0:
        raise ValueError(f"negative time {seconds!r}")
    total_ms = int(round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def parse_timecode(text: str) -> float:
    """Parse ``HH:MM:SS[.mmm]`` or ``MM:SS[.mmm]`` into seconds."""
    match = _TC.match(text)
    if not match:
        raise ValueError(f"not a timecode (expected HH:MM:SS[.mmm]): {text!r}")
    hours, minutes, secs = match.groups()
    if int(minutes) >= 60 or float(secs) >= 60:
        raise ValueError(f"minutes and seconds must be below 60: {text!r}")
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(secs)


#: Frame rates counted in drop-frame timecode (SMPTE 12M): 30000/1001 and 60000/1001.
_DROP_FRAME = {30: 2, 60: 4}


def format_frame_timecode(seconds: float, fps: float) -> str:
    """Broadcast ``HH:MM:SS:FF`` at the video's frame rate.

    The frame is ``floor(seconds * fps)`` (the frame showing at that time). NTSC rates
    (29.97, 59.94) use drop-frame counting, written ``HH:MM:SS;FF`` as editors expect; other
    rates count frames at their rounded rate (25, 24, 30...)."""
    if seconds < 0:
        raise ValueError(f"negative time {seconds!r}")
    if not fps or fps <= 0 or not math.isfinite(fps):
        raise ValueError(f"a frame timecode needs the video's frame rate; got {fps!r}")
    nominal = max(1, int(round(fps)))
    frame = int(math.floor(seconds * fps + 1e-6))
    drop = _DROP_FRAME.get(nominal, 0) if abs(fps - nominal * 1000 / 1001) < 0.01 else 0
    if drop:  # add back the frame numbers skipped at each minute except every tenth
        per_10min = nominal * 600 - drop * 9
        per_min = nominal * 60 - drop
        tens, rest = divmod(frame, per_10min)
        frame += drop * 9 * tens + (drop * ((rest - drop) // per_min) if rest > drop else 0)
    frames = frame % nominal
    total_s = frame // nominal
    hours, rest = divmod(total_s, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{';' if drop else ':'}{frames:02d}"
