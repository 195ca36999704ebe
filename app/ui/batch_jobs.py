"""The batch tab's jobs on disk and what goes into them.

Jobs live in ``<data>/jobs/<job_id>`` (a :mod:`pipeline.analysis.jobs` job: manifest, items). Job
ids are made here (``YYYYMMDD-HHMMSS-xxxxxx``) and any id that comes back from a client is
checked against that pattern before it names a folder. Uploaded videos are taken into
``<job>/uploads/NN/<name>`` (:func:`app.ui.uploads.take_uploads`: hard link, or copy) so that a
job resumed after Gradio has cleaned its upload cache still finds them. Server paths pass the same checks as the ingest
tab's folder (:func:`app.ui.paths.under_roots`, after symlinks and ``..``);
URLs go into the job as typed and are validated by the fetch stage
(:func:`pipeline.sources.resolve_source`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.ui.paths import FolderRefused, check_path, under_roots
from app.ui.uploads import place_uploads
from pipeline.analysis import MANIFEST, job_status, read_manifest
from pipeline.errors import BuscaError, ConfigError
from pipeline.sources import expand_sources, looks_like_url

JOB_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")


@dataclass(frozen=True)
class JobEntry:
    job_id: str
    items: int
    done: int
    created_at: str


def new_job_id() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def job_dir(root: Path, job_id: str | None) -> Path:
    """The folder of an existing job; ConfigError for a malformed or unknown id."""
    job_id = (job_id or "").strip()
    if not JOB_ID.fullmatch(job_id):
        raise ConfigError(f"invalid job id {job_id!r}")
    folder = root / job_id
    if not (folder / MANIFEST).is_file():
        raise ConfigError(f"job {job_id} does not exist (no {MANIFEST} in {folder})")
    return folder


def list_jobs(root: Path, limit: int = 50) -> list[JobEntry]:
    """The newest jobs first; unreadable folders are left out."""
    if not root.is_dir():
        return []
    entries = []
    for folder in sorted((p for p in root.iterdir() if JOB_ID.fullmatch(p.name)), reverse=True)[:limit]:
        try:
            manifest = read_manifest(folder)
            done = job_status(folder).counts.get(manifest.stages[-1], {}).get("done", 0)
        except (BuscaError, IndexError):
            continue
        entries.append(JobEntry(folder.name, len(manifest.items), done, manifest.created_at))
    return entries


def source_lines(text: str | None) -> list[str]:
    """The non-empty lines that are not ``#`` comments, trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip() and not line.strip().startswith("#")]


def line_sources(lines: Sequence[str], roots: Sequence[Path]) -> tuple[list[str], list[FolderRefused]]:
    """(sources, skipped): URLs as typed; paths checked and folders walked for videos. A line
    the app will not read (missing, outside the roots), and a file found inside a folder that
    resolves outside them, is skipped with its reason; the other lines go on."""
    sources, skipped = [], []
    for line in lines:
        if looks_like_url(line):
            sources.append(line)
            continue
        try:
            path = check_path(line, roots)
        except FolderRefused as err:
            skipped.append(err)
            continue
        for found in map(Path, expand_sources([str(path)])) if path.is_dir() else [path]:
            real = found.resolve()
            if under_roots(real, roots):
                sources.append(str(real))
            else:
                skipped.append(FolderRefused("path_outside", str(found)))
    return list(dict.fromkeys(sources)), skipped


__all__ = ["JobEntry", "job_dir", "line_sources", "list_jobs", "new_job_id", "place_uploads", "source_lines"]
