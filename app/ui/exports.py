"""Exports of a result list or of the selection, for people and for programs. No gradio here.

- **table**: a CSV for a spreadsheet set to Spanish (``;`` and a decimal comma), an
  international CSV (``,`` and a point), or an ``.xlsx`` workbook; headers in the user's
  language; every CSV through the project's one writer (:mod:`pipeline.core.csvout`);
- **JSON** beside it, with stable English keys.

Every export records its **provenance** (query, example image, database, encoder and its
weights, date) in each row of the table, on a sheet of its own in the workbook, and at the top
of the JSON. Timecodes are clamped to the video's duration, as ``HH:MM:SS.mmm`` or broadcast
``HH:MM:SS:FF`` at the video's frame rate.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from app.ui.formatting import MARKS, shot_reference
from app.ui.i18n import t
from pipeline.core import atomic, format_frame_timecode, format_timecode, write_csv

#: The table's columns, in order: their header is the text ``xcol_<key>`` in the user's language.
TABLE_COLUMNS = ("position", "mark", "score", "source", "shot", "start_tc", "end_tc", "start_s", "end_s",
                 "scene", "class", "reference", "query", "image", "database", "encoder", "weights", "exported_at")
#: Export formats offered: a CSV for Spanish spreadsheets, an international CSV, an Excel workbook.
FORMATS = ("csv_es", "csv_intl", "xlsx")
TIMECODES = ("ms", "frames")


@dataclass(frozen=True)
class Provenance:
    """Where a list of results came from."""

    query: str  # the text, or a description of a "more like this" / selection
    image: str  # the example image's file name ("" without one)
    database: str
    encoder: str  # the model, e.g. ViT-L-14
    weights: str  # its weights, e.g. openai, or the checkpoint folder's name
    exported_at: str  # ISO date and time, local


def encoder_parts(spec: str) -> tuple[str, str]:
    """``ViT-L-14/openai`` -> ``(ViT-L-14, openai)``; ``local-dir:/m/x`` -> ``(local-dir, x)``;
    ``hf-hub:org/repo`` -> ``(org/repo, hf-hub)``."""
    if spec.startswith("local-dir:"):
        return "local-dir", Path(spec.removeprefix("local-dir:").rstrip("/")).name
    if spec.startswith("hf-hub:"):
        return spec.removeprefix("hf-hub:"), "hf-hub"
    name, _, tag = spec.partition("/")
    return name, tag


def provenance(query: str, image: str | None, database: str, encoder_spec: str,
               now: datetime | None = None) -> Provenance:
    encoder, weights = encoder_parts(encoder_spec)
    stamp = (now or datetime.now().astimezone()).isoformat(timespec="seconds")
    return Provenance(query, Path(image).name if image else "", database, encoder, weights, stamp)


def _timecode(seconds: float, fps: float | None, style: str) -> str:
    if style == "frames" and fps:
        return format_frame_timecode(seconds, fps)
    return format_timecode(seconds)


def table_rows(records: list[dict], prov: Provenance, lang: str, timecodes: str = "ms") -> list[dict]:
    """One row per record: what people read (shot numbers from 1, marks in words), then the provenance."""
    if timecodes not in TIMECODES:
        raise ValueError(f"timecodes must be one of {TIMECODES}, got {timecodes!r}")
    rows = []
    for position, r in enumerate(records, start=1):
        mark = r.get("mark")
        rows.append({
            "position": position, "mark": t(lang, f"mark_{mark}") if mark in MARKS else "",
            "score": round(float(r["score"]), 4), "source": r["source"], "shot": int(r["shot_index"]) + 1,
            "start_tc": _timecode(r["start_s"], r.get("fps"), timecodes),
            "end_tc": _timecode(r["end_s"], r.get("fps"), timecodes),
            "start_s": round(float(r["start_s"]), 3), "end_s": round(float(r["end_s"]), 3),
            "scene": int(r["scene"]) + 1, "class": int(r["class_id"]) + 1, "reference": shot_reference(r),
            **asdict(prov), "database": r.get("db") or prov.database,
        })
    return rows


def json_document(records: list[dict], prov: Provenance) -> dict:
    keep = ("rank", "score", "point_id", "video_id", "source", "shot_index", "scene", "class_id", "start_s", "end_s",
            "start_tc", "end_tc", "duration_s", "fps", "db", "mark", "thumbnail")
    results = [{**{k: r.get(k) for k in keep}, "position": i, "shot_number": int(r["shot_index"]) + 1}
               for i, r in enumerate(records, start=1)]
    return {"provenance": asdict(prov), "results": results}


def _write_xlsx(path: Path, columns: list[str], header: list[str], rows: list[dict], prov: Provenance,
                lang: str) -> None:
    """A workbook: the results (every text cell typed as text: a leading ``=`` is never a formula)
    and a provenance sheet."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = t(lang, "sheet_results")[:31]
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(c) for c in columns])
    info = book.create_sheet(t(lang, "sheet_provenance")[:31])
    for key, value in asdict(prov).items():
        info.append([t(lang, f"xcol_{key}"), value])
    for ws in (sheet, info):
        for line in ws.iter_rows():
            for cell in line:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # openpyxl would take "=..." for a formula
    sheet.freeze_panes = "A2"
    tmp = path.with_name(f".{path.name}.tmp")
    book.save(tmp)
    tmp.replace(path)


def slug(text: str, limit: int = 40) -> str:
    """A safe piece of a file name from free text (ASCII letters, digits and ``-``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")


def write_export(records: list[dict], prov: Provenance, folder: Path, stem: str, lang: str,
                 fmt: str = "csv_es", timecodes: str = "ms") -> list[Path]:
    """The table (CSV or ``.xlsx``) and the JSON of ``records`` in ``folder``, named ``stem.*``."""
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {FORMATS}, got {fmt!r}")
    folder.mkdir(parents=True, exist_ok=True)
    rows = table_rows(records, prov, lang, timecodes)
    columns = list(TABLE_COLUMNS)
    header = [t(lang, f"xcol_{c}") for c in columns]
    if fmt == "xlsx":
        table = folder / f"{stem}.xlsx"
        _write_xlsx(table, columns, header, rows, prov, lang)
    else:
        table = write_csv(folder / f"{stem}.csv", columns, rows, "es" if fmt == "csv_es" else "intl", header)
    document = folder / f"{stem}.json"
    atomic.write_bytes(document, json.dumps(json_document(records, prov), ensure_ascii=False, indent=1).encode())
    return [table, document]
