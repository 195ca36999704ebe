"""Plumbing every stage uses: atomic file writes, timecodes, file locks and the naming rules."""

from pipeline.core import atomic
from pipeline.core.locks import DirectoryLock, exclusive_lock
from pipeline.core.names import check_db_name, check_video_id, valid_db_name, vector_name_for
from pipeline.core.timecode import format_timecode, parse_timecode

__all__ = [
    "DirectoryLock",
    "atomic",
    "check_db_name",
    "check_video_id",
    "exclusive_lock",
    "format_timecode",
    "parse_timecode",
    "valid_db_name",
    "vector_name_for",
]
