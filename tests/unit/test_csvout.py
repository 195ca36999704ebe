"""The project's one CSV writer (formula guard, Spanish and international dialects) and broadcast
timecodes; and a check that no other module writes CSV on its own."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from pipeline.core import csv_bytes, format_frame_timecode, format_number, neutralise, write_csv

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ["=1+2+3.mp4", "@SUM(1+1).mp4", "+34 600.mp4", "-x.mp4", "\tTAB", "\rCR", "normal.mp4", "a=b.mp4"]


def _rows(data: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def test_text_cells_that_a_spreadsheet_would_run_are_neutralised_numbers_are_not():
    data = csv_bytes(["name", "score"], [{"name": n, "score": -0.5} for n in HOSTILE], "es")
    rows = _rows(data, ";")[1:]
    assert [r[0] for r in rows] == ["'=1+2+3.mp4", "'@SUM(1+1).mp4", "'+34 600.mp4", "'-x.mp4", "'\tTAB", "'\rCR",
                                    "normal.mp4", "a=b.mp4"]
    assert {r[1] for r in rows} == {"-0,5"}  # a negative number stays a number
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    assert neutralise("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"


def test_spanish_dialect_parses_back_with_semicolons_and_decimal_commas():
    rows = [{"video": "vídeo, con coma.mp4", "score": 0.8125, "start": 6.0, "n": 3, "flag": True, "none": None}]
    es = _rows(csv_bytes(["video", "score", "start", "n", "flag", "none"], rows, "es"), ";")
    intl = _rows(csv_bytes(["video", "score", "start", "n", "flag", "none"], rows), ",")
    assert es == [["video", "score", "start", "n", "flag", "none"], ["vídeo, con coma.mp4", "0,8125", "6,0", "3", "True", ""]]
    assert intl[1] == ["vídeo, con coma.mp4", "0.8125", "6.0", "3", "True", ""]
    with pytest.raises(ValueError, match="dialect"):
        csv_bytes(["a"], [], "fr")


def test_numbers_never_print_minus_zero():
    assert format_number(-0.0) == "0.0" and format_number(-0.0001, ",", 3) == "0,000"
    assert format_number(-0.25, ",", 2) == "-0,25" and format_number(float("nan")) == ""


def test_header_is_guarded_too_and_the_file_is_written_whole(tmp_path):
    path = write_csv(tmp_path / "x.csv", ["a"], [{"a": "=1"}], header=["=cmd"])
    assert _rows(path.read_bytes(), ",") == [["'=cmd"], ["'=1"]]


def test_frame_timecodes_at_the_videos_rate_with_drop_frame_for_ntsc():
    assert format_frame_timecode(10.0, 25) == "00:00:10:00" and format_frame_timecode(9.999, 25) == "00:00:09:24"
    assert format_frame_timecode(3661.5, 25) == "01:01:01:12"
    ntsc = 30000 / 1001
    assert format_frame_timecode(1800 / ntsc, ntsc) == "00:01:00;02"  # frames 00 and 01 are dropped at each minute
    assert format_frame_timecode(1799 / ntsc, ntsc) == "00:00:59;29"
    assert format_frame_timecode(17982 / ntsc, ntsc) == "00:10:00;00"  # but not at each tenth minute
    with pytest.raises(ValueError, match="frame rate"):
        format_frame_timecode(1.0, 0)


def test_no_module_writes_csv_except_the_one_writer():
    """Every CSV the project writes goes through pipeline.core.csvout (issue 13 point 4)."""
    writers = re.compile(r"csv\.(writer|DictWriter)\(")
    offenders = [str(path.relative_to(ROOT)) for folder in ("app", "pipeline", "models", "bench")
                 for path in (ROOT / folder).rglob("*.py")
                 if writers.search(path.read_text(encoding="utf-8")) and path.name != "csvout.py"]
    assert offenders == []
