"""Plumbing every stage uses: atomic file writes, timecodes, file locks, free disk space and the naming rule."""

from pipeline.core import atomic
from pipeline.core.disk import (
    NO_MARGIN,
    DiskMargin,
    check_free_space,
    disk_space,
    fills_holes_on_read,
    space_shortfall,
    sparse_bytes,
)
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
    "fills_holes_on_read",
    "format_timecode",
    "parse_timecode",
    "space_shortfall",
    "sparse_bytes",
    "valid_db_name",
]
