"""Exports for editors and players: CMX3600 EDLs of results, WebVTT/SRT of a video's transcript,
and deep links that open the app's player at a moment."""

from pipeline.exports.archive import frame_rates, hit_clips, video_transcript
from pipeline.exports.edl import MAX_EVENTS, EdlClip, EdlEvent, edl_events, one_line, reel_names, write_edl
from pipeline.exports.links import LinkTarget, check_base_url, deep_link, parse_link, parse_time
from pipeline.exports.subtitles import FORMATS as SUBTITLE_FORMATS
from pipeline.exports.subtitles import cues, subtitles, to_srt, to_webvtt

__all__ = [
    "MAX_EVENTS",
    "SUBTITLE_FORMATS",
    "EdlClip",
    "EdlEvent",
    "LinkTarget",
    "check_base_url",
    "cues",
    "deep_link",
    "edl_events",
    "frame_rates",
    "hit_clips",
    "one_line",
    "parse_link",
    "parse_time",
    "reel_names",
    "subtitles",
    "to_srt",
    "to_webvtt",
    "video_transcript",
    "write_edl",
]
