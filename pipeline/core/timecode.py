"""Timecodes are made at the edges: the pipeline keeps time as float seconds."""

from __future__ import annotations

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
