"""Plumbing every stage uses: atomic file writes, the one CSV writer, timecodes, file locks, free disk
space and the naming rules."""

from pipeline.core import atomic
from pipeline.core.csvout import DIALECTS, csv_bytes, format_number, neutralise, write_csv
from pipeline.core.disk import (
    NO_MARGIN,
    DiskMargin,
    check_free_space,
    fills_holes_on_read,
    space_shortfall,
    sparse_bytes,
)
from pipeline.core.locks import DirectoryLock, exclusive_lock
from pipeline.core.names import check_db_name, check_video_id, valid_db_name, vector_name_for
from pipeline.core.timecode import FrameRate, format_frame_timecode, format_timecode, parse_timecode

__all__ = [
    "FrameRate",
    "DIALECTS",
    "NO_MARGIN",
    "DirectoryLock",
    "DiskMargin",
    "atomic",
    "check_db_name",
    "check_free_space",
    "check_video_id",
    "csv_bytes",
    "exclusive_lock",
    "fills_holes_on_read",
    "format_frame_timecode",
    "format_number",
    "format_timecode",
    "neutralise",
    "parse_timecode",
    "space_shortfall",
    "sparse_bytes",
    "valid_db_name",
    "vector_name_for",
    "write_csv",
]
