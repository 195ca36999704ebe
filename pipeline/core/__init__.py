"""Plumbing every stage uses: atomic file writes, timecodes, file locks, free disk space and the naming rule."""

from pipeline.core import atomic
from pipeline.core.disk import NO_MARGIN, DiskMargin, check_free_space, disk_space, space_shortfall
from pipeline.core.locks import DirectoryLock, exclusive_lock
from pipeline.core.names import check_db_name, check_video_id, valid_db_name
from pipeline.core.timecode import format_timecode, parse_timecode

__all__ = [
    "NO_MARGIN",
    "DirectoryLock",
    "DiskMargin",
    "atomic",
    "check_db_name",
    "check_free_space",
    "check_video_id",
    "disk_space",
    "exclusive_lock",
    "format_timecode",
    "parse_timecode",
    "space_shortfall",
    "valid_db_name",
]
