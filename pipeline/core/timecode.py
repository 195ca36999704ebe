"""Timecodes are made at the edges: the pipeline keeps time as float seconds."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

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


#: Drop-frame counting (SMPTE 12M, at 30000/1001 and 60000/1001 fps): frame numbers skipped at
#: each minute except every tenth, per nominal rate.
_DROPPED = {30: 2, 60: 4}


@dataclass(frozen=True)
class FrameRate:
    """A video's rate as timecode counts it: ``nominal`` frames per timecode second, ``drop`` for
    SMPTE drop-frame (NTSC 29.97 and 59.94), ``fps`` the real rate (frames per second of time)."""

    fps: float
    nominal: int
    drop: bool

    @classmethod
    def of(cls, fps: float) -> FrameRate:
        if not fps or not math.isfinite(fps) or fps <= 0 or fps > 1000:
            raise ValueError(f"a frame timecode needs the video's frame rate; got {fps!r}")
        nominal = max(1, int(round(fps)))
        ntsc = abs(fps - nominal * 1000 / 1001) < 0.01
        return cls(float(fps), nominal, ntsc and nominal in _DROPPED)

    def frame_at(self, seconds: float) -> int:
        """The frame showing at ``seconds`` (counted from the file's first frame)."""
        if seconds < 0:
            raise ValueError(f"negative time {seconds!r}")
        return int(math.floor(seconds * self.fps + 1e-6))

    def timecode(self, frame: int) -> str:
        """``HH:MM:SS:FF`` of frame number ``frame``; ``HH:MM:SS;FF`` in drop-frame, as editors expect."""
        if frame < 0:
            raise ValueError(f"negative frame {frame!r}")
        label = frame
        if self.drop:  # add back the frame numbers skipped at each minute except every tenth
            dropped = _DROPPED[self.nominal]
            per_10min = self.nominal * 600 - dropped * 9
            per_min = self.nominal * 60 - dropped
            tens, rest = divmod(frame, per_10min)
            label += dropped * 9 * tens + (dropped * ((rest - dropped) // per_min) if rest > dropped else 0)
        total_s, frames = divmod(label, self.nominal)
        hours, rest = divmod(total_s, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours % 24:02d}:{minutes:02d}:{secs:02d}{';' if self.drop else ':'}{frames:02d}"  # SMPTE wraps at 24 h


def format_frame_timecode(seconds: float, fps: float) -> str:
    """Broadcast ``HH:MM:SS:FF`` at the video's frame rate: the frame showing at ``seconds``
    (``floor(seconds * fps)``), drop-frame at 29.97/59.94, other rates at their rounded rate."""
    rate = FrameRate.of(fps)
    return rate.timecode(rate.frame_at(seconds))
