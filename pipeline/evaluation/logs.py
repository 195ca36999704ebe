"""Documentalists' time-coded logs: the ground truth an archive is evaluated against.

One entry names a video file, a logged span and its description, which is the query.
Supported formats (chosen by extension, or ``LogOptions.format``):

- **plain** (``.txt``, ``.log``, anything else) — one entry per line::

      DG90602601.mp4 00:02:22.205 - 00:02:41.861 BOTELLAS CON PRODUCTOS ... (BOTTLES WITH ...)

  A trailing parenthesised part of the description is taken as its *translation* (the
  second query) unless ``paren_translation=False``; a description that is all in
  parentheses is kept whole. Blank lines and lines starting with ``#`` are skipped.
- **csv** / **tsv** — columns ``video, start, end, text[, translation]``, in that order, or
  named in a header row (aliases: ``file``/``filename``/``source``; ``description``/``query``;
  ``en``/``query_en``/``translation``; ``tc_in``/``tc_out``).
- **jsonl** — one object per line with the same keys.

Times are ``HH:MM:SS[.mmm]`` (a comma before the milliseconds is accepted) or plain
seconds in CSV/TSV/JSONL. Every malformed line is reported with its number in one
:class:`LogFormatError`.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.core import parse_timecode
from pipeline.errors import ConfigError, human_size

log = logging.getLogger(__name__)

FORMATS = ("auto", "plain", "csv", "tsv", "jsonl")
_TC = r"\d{1,3}:\d{2}:\d{2}(?:[.,]\d+)?"
_PLAIN = re.compile(rf"^(?P<video>.+?)\s+(?P<start>{_TC})\s*[-\u2013\u2014]\s*(?P<end>{_TC})\s+(?P<text>\S.*)$")
_ALIASES = {
    "video": ("video", "file", "filename", "file_name", "video_file", "source", "archivo", "fichero"),
    "start": ("start", "start_s", "start_tc", "tc_in", "in", "inicio"),
    "end": ("end", "end_s", "end_tc", "tc_out", "out", "fin"),
    "text": ("text", "description", "query", "descripcion", "descripción", "query_es", "es"),
    "translation": ("translation", "translated", "query_en", "en", "english", "traduccion", "traducción"),
}
_MAX_REPORTED = 10
MB = 1024 * 1024


class LogTooLargeError(ConfigError):
    """A log over the configured caps (entries or bytes): refused before it costs memory."""

    def __init__(self, path: str | Path, limit: int, size: int | None = None):
        if size is None:
            super().__init__(code="config.log_too_many", path=str(path), limit=limit)
        else:
            super().__init__(code="config.log_too_big", path=str(path), size=human_size(size),
                             limit=human_size(limit))


class LogFormatError(ConfigError):
    """Lines of a log file cannot be read. ``line`` is the first bad line (1-based)."""

    def __init__(self, path: str | Path, problems: list[tuple[int, str]]):
        self.path = str(path)
        self.problems = problems
        self.line = problems[0][0]
        shown = "; ".join(f"line {n}: {cause}" for n, cause in problems[:_MAX_REPORTED])
        more = f" (and {len(problems) - _MAX_REPORTED} more)" if len(problems) > _MAX_REPORTED else ""
        plural = "s" if len(problems) > 1 else ""
        super().__init__(f"{self.path}: {len(problems)} malformed line{plural}: {shown}{more}. Fix or remove "
                         "them; see `python -m app evaluate --help` for the accepted formats")


@dataclass(frozen=True)
class LogEntry:
    """One logged span: ``video`` is the file name as written in the log."""

    line: int
    video: str
    start_s: float
    end_s: float
    text: str
    translation: str | None = None


@dataclass(frozen=True)
class LogOptions:
    """``max_lines``: most entries read; ``max_bytes``: largest file read (checked before reading).
    Both bound the memory of an evaluation (``BUSCA_EVAL_MAX_LINES``, ``BUSCA_EVAL_MAX_MB``)."""

    format: str = "auto"
    paren_translation: bool = True
    max_lines: int = 20_000
    max_bytes: int = 20 * MB

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ConfigError(f"unknown log format {self.format!r}: use one of {', '.join(FORMATS)}")
        if self.max_lines < 1 or self.max_bytes < 1:
            raise ConfigError("the log caps (entries and bytes) must be positive")


def detect_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    return {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(suffix, "plain")


def split_translation(text: str) -> tuple[str, str | None]:
    """``"BOTELLAS (BOTTLES)"`` -> ``("BOTELLAS", "BOTTLES")``; balanced parentheses only, and a
    description that is all in parentheses stays whole."""
    stripped = text.rstrip()
    if not stripped.endswith(")"):
        return text.strip(), None
    depth = 0
    for i in range(len(stripped) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(stripped[i], 0)
        if depth == 0:
            head, inner = stripped[:i].strip(), stripped[i + 1:-1].strip()
            return (head, inner or None) if head else (text.strip(), None)
    return text.strip(), None


def parse_time(value: object) -> float:
    """A timecode string or a number of seconds."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip().replace(",", ".")
        if ":" in text:
            seconds = parse_timecode(text)
        else:
            try:
                seconds = float(text)
            except ValueError:
                raise ValueError(f"not a time (expected HH:MM:SS[.mmm] or seconds): {value!r}") from None
    if not seconds >= 0:
        raise ValueError(f"time must be a non-negative number of seconds, got {value!r}")
    return seconds


def make_entry(line: int, video: object, start: object, end: object, text: object,
               translation: object = None) -> LogEntry:
    """Validate one entry's fields (raises ValueError with the cause)."""
    video = str(video or "").strip()
    text = str(text or "").strip()
    if not video:
        raise ValueError("no video file name")
    if not text:
        raise ValueError("empty description")
    start_s, end_s = parse_time(start), parse_time(end)
    if end_s < start_s:
        raise ValueError(f"end {end} is before start {start}")
    translation = str(translation).strip() if translation not in (None, "") else None
    return LogEntry(line, video, start_s, end_s, text, translation or None)


def read_log(path: str | Path, options: LogOptions = LogOptions()) -> list[LogEntry]:
    """Every entry of a log file, in file order. Raises :class:`LogFormatError` naming each bad line."""
    path = Path(path)
    fmt = detect_format(path) if options.format == "auto" else options.format
    lines = _read_lines(path, options.max_bytes)
    entries: list[LogEntry] = []
    problems: list[tuple[int, str]] = []
    parse = {"plain": _parse_plain, "csv": _parse_table, "tsv": _parse_table, "jsonl": _parse_jsonl}[fmt]
    for item in parse(lines, fmt, options):
        (entries if isinstance(item, LogEntry) else problems).append(item)
        if len(entries) > options.max_lines:
            raise LogTooLargeError(path, options.max_lines)
    if problems:
        raise LogFormatError(path, problems)
    if not entries:
        raise ConfigError(f"{path}: no log entries found (format {fmt})")
    return entries


def _read_lines(path: Path, max_bytes: int) -> list[str]:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LogTooLargeError(path, max_bytes, size)
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read ({err.strerror or err})") from err
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.warning("%s is not UTF-8; reading it as Windows-1252", path)
        text = raw.decode("cp1252", errors="replace")
    return text.splitlines()


def _parse_plain(lines: list[str], fmt: str, options: LogOptions) -> Iterator[LogEntry | tuple[int, str]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PLAIN.match(line.strip())
        if not match:
            yield number, ("expected 'VIDEO HH:MM:SS[.mmm] - HH:MM:SS[.mmm] DESCRIPTION', got "
                           f"{line.strip()[:60]!r}")
            continue
        text, translation = match["text"], None
        if options.paren_translation:
            text, translation = split_translation(text)
        try:
            yield make_entry(number, match["video"], match["start"], match["end"], text, translation)
        except ValueError as err:
            yield number, str(err)


def _header_columns(row: list[str]) -> dict[str, int] | None:
    names = [cell.strip().lower() for cell in row]
    columns = {key: next((i for i, n in enumerate(names) if n in aliases), None) for key, aliases in _ALIASES.items()}
    if columns["video"] is None or columns["start"] is None:
        return None
    missing = [key for key in ("end", "text") if columns[key] is None]
    if missing:
        raise ValueError(f"header lacks column(s) {', '.join(missing)}")
    return {key: i for key, i in columns.items() if i is not None}


def _parse_table(lines: list[str], fmt: str, options: LogOptions) -> Iterator[LogEntry | tuple[int, str]]:
    reader = csv.reader(lines, delimiter="\t" if fmt == "tsv" else ",")
    columns = None
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if columns is None:
            try:
                columns = _header_columns(row)
            except ValueError as err:
                yield number, str(err)
                return
            if columns is not None:
                continue
            columns = {"video": 0, "start": 1, "end": 2, "text": 3, "translation": 4}
        if len(row) < 4:
            yield number, f"expected at least 4 columns (video, start, end, text), got {len(row)}"
            continue
        fields = {key: row[i] if i < len(row) else None for key, i in columns.items()}
        try:
            yield make_entry(number, **fields)
        except ValueError as err:
            yield number, str(err)


def _parse_jsonl(lines: list[str], fmt: str, options: LogOptions) -> Iterator[LogEntry | tuple[int, str]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            yield number, f"not valid JSON ({err.msg})"
            continue
        if not isinstance(data, dict):
            yield number, "expected a JSON object"
            continue
        lowered = {str(k).lower(): v for k, v in data.items()}
        fields = {key: next((lowered[a] for a in aliases if a in lowered), None) for key, aliases in _ALIASES.items()}
        try:
            yield make_entry(number, **fields)
        except ValueError as err:
            yield number, str(err)
