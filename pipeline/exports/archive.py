"""What the exports read from the archive: each video's frame rate, its transcript, and results
turned into EDL clips with their deep links."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline.analysis import analysis_dir, read_transcript
from pipeline.errors import MediaError
from pipeline.exports.edl import EdlClip
from pipeline.exports.links import deep_link
from pipeline.index import DataLayout
from pipeline.records import TranscriptSegment


def frame_rates(layout: DataLayout, video_ids: Iterable[str]) -> dict[str, float]:
    """Each video's frame rate, from the probe result stored at ingest."""
    return {video_id: layout.load_info(video_id).fps for video_id in dict.fromkeys(video_ids)}


def hit_clips(hits: Sequence, layout: DataLayout, db: str, base_url: str | None = None,
              notes: Sequence[str] | None = None) -> list[EdlClip]:
    """One EDL clip per hit (anything with ``video_id``, ``source``, ``start_s``, ``end_s``), at its
    video's frame rate, with its deep link and a note (``notes``, or the hit's rank and score)."""
    rates = frame_rates(layout, (h.video_id for h in hits))
    clips = []
    for n, h in enumerate(hits):
        note = notes[n] if notes is not None else f"#{h.rank} score {float(h.score):.3f}"
        link = deep_link(base_url, db, h.video_id, h.start_s) if base_url else ""
        clips.append(EdlClip(h.video_id, h.source, float(h.start_s), float(h.end_s), rates[h.video_id], note, link))
    return clips


def transcript_sources(layout: DataLayout, video_id: str) -> list[Path]:
    """Where a video's transcript may be, best first: the analysis mode's."""
    return [analysis_dir(layout, video_id) / "transcript.json"]


def video_transcript(layout: DataLayout, video_id: str, source: str = "") -> list[TranscriptSegment]:
    """The video's stored transcript; a clear error when none was made."""
    for path in transcript_sources(layout, video_id):
        if path.is_file():
            return read_transcript(path)
    raise MediaError(source or video_id, code="media.no_transcript")
