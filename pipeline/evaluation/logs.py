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
  ``en``/``query_en``/``translation``; ``tc_in``/``tc_out``). A ``.csv`` may be separated by
  semicolons, as Spanish Excel saves it (told apart from the first lines; Excel's ``sep=;``
  line is understood), with decimal commas in plain seconds.
- **jsonl** — one object per line with the same keys.

Times are ``HH:MM:SS[.mmm]`` (a comma before the milliseconds is accepted), broadcast frame
timecodes ``HH:MM:SS:FF`` (``;`` before the frames for drop-frame), or plain seconds in
CSV/TSV/JSONL. A frame timecode needs the video's frame rate, which the log does not hold:
the entry keeps its frames (:attr:`LogEntry.start_ff`) until :meth:`LogEntry.at_fps` is given
the rate of the matched video.

:func:`parse_log` is lenient, as a real log needs: every malformed line becomes a
:class:`LogProblem` (line number, a ``code`` and its ``params``, an English ``message``) and is
skipped; only a log without any valid entry is refused. :func:`read_log` is strict: any
malformed line raises one :class:`LogFormatError` naming each.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.core import parse_timecode
from pipeline.errors import ConfigError, human_size

log = logging.getLogger(__name__)

FORMATS = ("auto", "plain", "csv", "tsv", "jsonl")
_TC = r"\d{1,3}:\d{2}:\d{2}(?:[.,]\d+|[:;]\d{2})?"
_FRAME_TC = re.compile(r"^(\d{1,3}):(\d{2}):(\d{2})[:;](\d{2})$")
#: Frame numbers above this are refused while the log is read (no video runs faster).
MAX_FPS = 120
_SEP_LINE = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)
_PLAIN = re.compile(rf"^(?P<video>.+?)\s+(?P<start>{_TC})\s*[-\u2013\u2014]\s*(?P<end>{_TC})\s+(?P<text>\S.*)$")
_ALIASES = {
    "video": ("video", "vídeo", "file", "filename", "file_name", "video_file", "source", "archivo", "fichero"),
    "start": ("start", "start_s", "start_tc", "tc_in", "tc in", "in", "inicio", "entrada", "tc_entrada"),
    "end": ("end", "end_s", "end_tc", "tc_out", "tc out", "out", "fin", "salida", "tc_salida"),
    "text": ("text", "texto", "description", "query", "consulta", "descripcion", "descripción", "query_es", "es"),
    "translation": ("translation", "translated", "query_en", "en", "english", "inglés", "ingles", "traduccion",
                    "traducción"),
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


@dataclass(frozen=True)
class LogProblem:
    """A line that cannot be read: its number, what is wrong (``code``, with ``params`` to say
    it in another language) and an English ``message``."""

    line: int
    code: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        p = self.params
        return {
            "plain": f"expected 'VIDEO HH:MM:SS[.mmm] - HH:MM:SS[.mmm] DESCRIPTION', got {p.get('text', '')!r}",
            "columns": f"expected at least 4 columns (video, start, end, text), got {p.get('n')}",
            "header": f"header lacks column(s) {p.get('columns')}",
            "no_video": "no video file name",
            "no_text": "empty description",
            "bad_time": f"not a time (expected HH:MM:SS[.mmm], HH:MM:SS:FF or seconds): {p.get('value')!r}",
            "negative_time": f"time must be a non-negative number of seconds, got {p.get('value')!r}",
            "over_60": f"minutes and seconds must be below 60: {p.get('value')!r}",
            "end_before_start": f"end {p.get('end')} is before start {p.get('start')}",
            "bad_frame": f"frame {p.get('frame')} does not exist at {p.get('fps')} fps",
            "bad_json": f"not valid JSON ({p.get('detail', '')})",
            "not_object": "expected a JSON object",
        }.get(self.code, self.code)


class _Bad(ValueError):
    def __init__(self, code: str, **params: object):
        self.code, self.params = code, params
        super().__init__(LogProblem(0, code, params).message)


class EmptyLog(ConfigError):
    """A log without any entry. ``code`` (``log_empty``) and ``params`` name the cause for front ends."""

    def __init__(self, path: str | Path, fmt: str):
        super().__init__(f"{path}: no log entries found (format {fmt})")
        self.code, self.params = "log_empty", {"name": Path(path).name, "problems": []}


class LogFormatError(ConfigError):
    """Lines of a log file cannot be read. ``line`` is the first bad line (1-based); ``code``
    (``log_malformed``) and ``params`` (``name``, ``problems``) name the cause for front ends."""

    def __init__(self, path: str | Path, problems: list[LogProblem]):
        self.path = str(path)
        self.problems = [(p.line, p.message) for p in problems]
        self.details = list(problems)
        self.line = problems[0].line
        problems = self.problems
        shown = "; ".join(f"line {n}: {cause}" for n, cause in problems[:_MAX_REPORTED])
        more = f" (and {len(problems) - _MAX_REPORTED} more)" if len(problems) > _MAX_REPORTED else ""
        plural = "s" if len(problems) > 1 else ""
        super().__init__(f"{self.path}: {len(problems)} malformed line{plural}: {shown}{more}. Fix or remove "
                         "them; see `python -m app evaluate --help` for the accepted formats")
        self.code, self.params = "log_malformed", {"name": Path(path).name, "problems": self.details}


@dataclass(frozen=True)
class LogEntry:
    """One logged span: ``video`` is the file name as written in the log. With frame timecodes,
    ``start_s``/``end_s`` hold the whole seconds and ``start_ff``/``end_ff`` the frames, until
    :meth:`at_fps` turns them into seconds."""

    line: int
    video: str
    start_s: float
    end_s: float
    text: str
    translation: str | None = None
    start_ff: int | None = None
    end_ff: int | None = None

    @property
    def needs_fps(self) -> bool:
        return self.start_ff is not None or self.end_ff is not None

    def at_fps(self, fps: float) -> LogEntry:
        """The entry with its frames turned into seconds at ``fps``; ValueError (a ``bad_frame``
        :class:`LogProblem` message) for a frame number the rate does not have."""
        if not self.needs_fps:
            return self
        for frame in (self.start_ff, self.end_ff):
            if frame is not None and frame >= round(fps):
                raise _Bad("bad_frame", frame=frame, fps=f"{fps:g}")
        return replace(self, start_s=self.start_s + (self.start_ff or 0) / fps,
                       end_s=self.end_s + (self.end_ff or 0) / fps, start_ff=None, end_ff=None)


@dataclass(frozen=True)
class ParsedLog:
    """What a lenient read found: the valid entries, the skipped lines, the format used."""

    entries: list[LogEntry]
    problems: list[LogProblem]
    format: str


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


def parse_time(value: object) -> tuple[float, int | None]:
    """A timecode string or a number of seconds -> (seconds, frames); ``frames`` is None
    unless the value is a frame timecode ``HH:MM:SS:FF``. Raises ValueError with the cause."""
    if isinstance(value, bool) or value is None:
        raise _Bad("bad_time", value=value)
    frames = None
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip()
        framed = _FRAME_TC.match(text)
        try:
            if framed:
                hours, minutes, secs, ff = map(int, framed.groups())
                seconds, frames = parse_timecode(f"{hours}:{minutes:02d}:{secs:02d}"), ff
                if frames >= MAX_FPS:
                    raise _Bad("bad_frame", frame=frames, fps=MAX_FPS)
            else:
                text = text.replace(",", ".")
                seconds = parse_timecode(text) if ":" in text else float(text)
        except _Bad:
            raise
        except ValueError as err:
            raise _Bad("over_60" if "below 60" in str(err) else "bad_time", value=value) from None
    if not seconds >= 0:
        raise _Bad("negative_time", value=value)
    return seconds, frames


def make_entry(line: int, video: object, start: object, end: object, text: object,
               translation: object = None) -> LogEntry:
    """Validate one entry's fields (raises ValueError with the cause)."""
    video = str(video or "").strip()
    text = str(text or "").strip()
    if not video:
        raise _Bad("no_video")
    if not text:
        raise _Bad("no_text")
    (start_s, start_ff), (end_s, end_ff) = parse_time(start), parse_time(end)
    if (end_s, end_ff or 0) < (start_s, start_ff or 0):
        raise _Bad("end_before_start", start=start, end=end)
    translation = str(translation).strip() if translation not in (None, "") else None
    return LogEntry(line, video, start_s, end_s, text, translation or None, start_ff, end_ff)


def parse_log(path: str | Path, options: LogOptions = LogOptions()) -> ParsedLog:
    """Every valid entry of a log file, in file order, and every malformed line (skipped).
    Raises :class:`LogFormatError` when no line is valid, ConfigError when there is none."""
    path = Path(path)
    fmt = detect_format(path) if options.format == "auto" else options.format
    lines = _read_lines(path, options.max_bytes)
    entries: list[LogEntry] = []
    problems: list[LogProblem] = []
    parse = {"plain": _parse_plain, "csv": _parse_table, "tsv": _parse_table, "jsonl": _parse_jsonl}[fmt]
    for item in parse(lines, fmt, options):
        (entries if isinstance(item, LogEntry) else problems).append(item)
        if len(entries) + len(problems) > options.max_lines:  # malformed lines count too
            raise LogTooLargeError(path, options.max_lines)
    if not entries and problems:
        raise LogFormatError(path, problems)
    if not entries:
        raise EmptyLog(path, fmt)
    return ParsedLog(entries, problems, fmt)


def read_log(path: str | Path, options: LogOptions = LogOptions()) -> list[LogEntry]:
    """Every entry of a log file, in file order. Raises :class:`LogFormatError` naming each bad line."""
    parsed = parse_log(path, options)
    if parsed.problems:
        raise LogFormatError(path, parsed.problems)
    return parsed.entries


def _problem(number: int, err: ValueError) -> LogProblem:
    if isinstance(err, _Bad):
        return LogProblem(number, err.code, err.params)
    return LogProblem(number, "bad_time", {"value": str(err)})


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


def _parse_plain(lines: list[str], fmt: str, options: LogOptions) -> Iterator[LogEntry | LogProblem]:
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PLAIN.match(line.strip())
        if not match:
            yield LogProblem(number, "plain", {"text": line.strip()[:60]})
            continue
        text, translation = match["text"], None
        if options.paren_translation:
            text, translation = split_translation(text)
        try:
            yield make_entry(number, match["video"], match["start"], match["end"], text, translation)
        except ValueError as err:
            yield _problem(number, err)


def _header_columns(row: list[str]) -> dict[str, int] | None:
    names = [cell.strip().lower() for cell in row]
    columns = {key: next((i for i, n in enumerate(names) if n in aliases), None) for key, aliases in _ALIASES.items()}
    if columns["video"] is None or columns["start"] is None:
        return None
    missing = [key for key in ("end", "text") if columns[key] is None]
    if missing:
        raise _Bad("header", columns=", ".join(missing))
    return {key: i for key, i in columns.items() if i is not None}


def csv_delimiter(lines: list[str]) -> str:
    """``;`` or ``,``: the one that splits the first data lines into more columns (``;`` on a
    tie: a comma inside a Spanish description or decimal is more likely than a semicolon in
    an English one). Excel's ``sep=X`` first line wins."""
    content = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if content and (sep := _SEP_LINE.match(content[0])):
        return sep.group(1)
    sample = content[:5]
    counts = {d: sum(len(row) for row in csv.reader(sample, delimiter=d)) for d in (";", ",")}
    return ";" if counts[";"] >= counts[","] and counts[";"] > len(sample) else ","


def _parse_table(lines: list[str], fmt: str, options: LogOptions) -> Iterator[LogEntry | LogProblem]:
    delimiter = "\t" if fmt == "tsv" else csv_delimiter(lines)
    lines = ["" if _SEP_LINE.match(line) else line for line in lines[:1]] + lines[1:]  # Excel's "sep=;"
    reader = csv.reader(lines, delimiter=delimiter)
    columns = None
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if columns is None:
            try:
                columns = _header_columns(row)
            except _Bad as err:
                yield LogProblem(number, err.code, err.params)
                return
            if columns is not None:
                continue
            columns = {"video": 0, "start": 1, "end": 2, "text": 3, "translation": 4}
        if len(row) < 4:
            yield LogProblem(number, "columns", {"n": len(row)})
            continue
        fields = {key: row[i] if i < len(row) else None for key, i in columns.items()}
        try:
            yield make_entry(number, **fields)
        except ValueError as err:
            yield _problem(number, err)


def _parse_jsonl(lines: list[str], fmt: str, options: LogOptions) -> Iterator[LogEntry | LogProblem]:
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            yield LogProblem(number, "bad_json", {"detail": err.msg})
            continue
        if not isinstance(data, dict):
            yield LogProblem(number, "not_object")
            continue
        lowered = {str(k).lower(): v for k, v in data.items()}
        fields = {key: next((lowered[a] for a in aliases if a in lowered), None) for key, aliases in _ALIASES.items()}
        try:
            yield make_entry(number, **fields)
        except ValueError as err:
            yield _problem(number, err)
