"""A video's transcript as subtitles: WebVTT (players, browsers) and SubRip SRT (editors, VLC).

Pure functions over :class:`~pipeline.records.TranscriptSegment`. Cues are sorted by time; a
cue that would overlap the next one ends where the next begins (players show one line at a
time more reliably); empty texts are skipped. WebVTT carries a ``NOTE`` with the source and the
deep link to the app's player; SRT has no comment syntax, so it carries neither.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.errors import ConfigError
from pipeline.exports.edl import one_line
from pipeline.records import TranscriptSegment

FORMATS = ("vtt", "srt")
#: Shortest cue kept after overlaps are trimmed (a cue of zero length is never shown).
MIN_CUE_S = 0.05


def _clock(seconds: float, separator: str) -> str:
    total_ms = int(round(max(0.0, seconds) * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def cues(segments: Sequence[TranscriptSegment]) -> list[tuple[float, float, str]]:
    """``(start_s, end_s, text)`` per cue: sorted, non-overlapping, one paragraph of text each."""
    spoken = sorted(((s.start_s, s.end_s, " ".join(s.text.split())) for s in segments if s.text.strip()),
                    key=lambda c: (c[0], c[1]))
    out = []
    for i, (start, end, text) in enumerate(spoken):
        if i + 1 < len(spoken):
            end = min(end, spoken[i + 1][0])
        if end - start >= MIN_CUE_S:
            out.append((start, end, text))
    return out


def _vtt_text(text: str) -> str:
    # "-->" would end the cue's timing line; & and < start entities and tags
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(segments: Sequence[TranscriptSegment], source: str = "", link: str = "") -> str:
    lines = ["WEBVTT", ""]
    note = " · ".join(x for x in (one_line(source), one_line(link)) if x)
    if note:
        lines += [f"NOTE {note.replace('-->', '->')}", ""]
    for number, (start, end, text) in enumerate(cues(segments), start=1):
        lines += [str(number), f"{_clock(start, '.')} --> {_clock(end, '.')}", _vtt_text(text), ""]
    return "\n".join(lines)


def to_srt(segments: Sequence[TranscriptSegment]) -> str:
    blocks = []
    for number, (start, end, text) in enumerate(cues(segments), start=1):
        blocks.append(f"{number}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{text.replace('-->', '->')}\n")
    return "\n".join(blocks)


def subtitles(segments: Sequence[TranscriptSegment], fmt: str, source: str = "", link: str = "") -> str:
    """The transcript in ``fmt`` (``vtt`` or ``srt``)."""
    if fmt == "vtt":
        return to_webvtt(segments, source, link)
    if fmt == "srt":
        return to_srt(segments)
    raise ConfigError(f"unknown subtitle format {fmt!r}: use {' or '.join(FORMATS)}")

