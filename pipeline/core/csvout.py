"""The one CSV writer of the project: every CSV it writes goes through :func:`csv_bytes`.

- **Formula guard.** A text cell that starts with ``= + - @`` (or a tab or carriage return)
  gets a leading ``'``, so a spreadsheet shows it as text instead of running it (OWASP's advice
  for CSV injection). File names are user data too (``=1+2.mp4``). Numbers are not text: a
  negative score stays a number.
- **Dialects.** ``intl``: ``,`` between cells and a decimal point; ``es``: ``;`` and a decimal
  comma, which is what a spreadsheet set to Spanish expects when it opens a ``.csv``.
- UTF-8 with a byte-order mark, so the accents survive a double click; ``\\r\\n`` line ends.
- Floats never print as ``-0``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from pipeline.core.atomic import write_bytes

#: ``name -> (cell separator, decimal mark)``.
DIALECTS = {"intl": (",", "."), "es": (";", ",")}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """``text`` made safe for a spreadsheet cell (see the module docstring)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def format_number(value: float | int, decimal: str = ".", digits: int | None = None) -> str:
    """A number as a cell: ``digits`` decimals when given; never ``-0``; ``decimal`` as the mark."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return ""
    text = f"{value:.{digits}f}" if digits is not None else repr(float(value))
    if text.lstrip("-").strip("0.") == "":  # -0, -0.000
        text = text.lstrip("-")
    return text.replace(".", decimal) if decimal != "." else text


def cell(value: object, decimal: str = ".") -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return format_number(value, decimal)
    return neutralise(str(value))


def csv_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, object]], dialect: str = "intl",
              header: Sequence[str] | None = None) -> bytes:
    """The CSV file's bytes: a header row (``header`` or the column keys), then one row per mapping
    (missing keys are empty cells; keys outside ``columns`` are ignored)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown CSV dialect {dialect!r}: use {' or '.join(DIALECTS)}")
    separator, decimal = DIALECTS[dialect]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow([neutralise(str(h)) for h in (header or columns)])
    for row in rows:
        writer.writerow([cell(row.get(column), decimal) for column in columns])
    return buffer.getvalue().encode("utf-8-sig")


def write_csv(path: str | Path, columns: Sequence[str], rows: Iterable[Mapping[str, object]], dialect: str = "intl",
              header: Sequence[str] | None = None) -> Path:
    """:func:`csv_bytes` written atomically to ``path``."""
    path = Path(path)
    write_bytes(path, csv_bytes(columns, rows, dialect, header))
    return path
