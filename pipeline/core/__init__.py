"""Plumbing every stage uses: atomic file writes, the one CSV writer, timecodes, file locks and the naming rule."""

from pipeline.core import atomic
from pipeline.core.csvout import DIALECTS, csv_bytes, format_number, neutralise, write_csv
from pipeline.core.locks import DirectoryLock, exclusive_lock
from pipeline.core.names import check_db_name, check_video_id, valid_db_name
from pipeline.core.timecode import FrameRate, format_frame_timecode, format_timecode, parse_timecode

__all__ = [
    "FrameRate",
    "DIALECTS",
    "DirectoryLock",
    "atomic",
    "check_db_name",
    "check_video_id",
    "csv_bytes",
    "exclusive_lock",
    "format_frame_timecode",
    "format_number",
    "format_timecode",
    "neutralise",
    "parse_timecode",
    "valid_db_name",
    "write_csv",
]
