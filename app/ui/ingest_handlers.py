"""Ingest tab handlers: uploaded videos or a server folder -> pipeline.ingest, one video at a time.

Uploaded files arrive in Gradio's upload folder; ingest places each video under
``<data>/media`` (hard link, or copy across file systems) before it is indexed, so the
app plays it from the data directory. A server folder must exist, be a directory and
lie under one of the allowed roots (``BUSCA_INGEST_ROOT``, default the data directory's
parent), after symlinks and ``..`` are resolved; files found inside that resolve to a
place outside the roots are refused too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import gradio as gr
import pandas as pd

from app.ui.context import UiContext
from app.ui.i18n import check_lang, t
from pipeline.core import check_db_name, format_timecode
from pipeline.errors import BuscaError
from pipeline.index import IngestOptions, IngestResult, ingest_paths
from pipeline.media import DecodeOptions
from pipeline.sources import expand_sources

log = logging.getLogger(__name__)

STATUS_COLUMNS = ("col_file", "col_status", "col_shots", "col_scenes", "col_seconds", "col_detail")
VIDEO_COLUMNS = ("col_file", "video", "col_shots", "col_scenes", "time")
#: Gradio recognises a Progress default and fills it per event; tqdm bars of the pipeline show up.
TRACK_TQDM = gr.Progress(track_tqdm=True)


class FolderRefused(Exception):
    """A folder path the app will not read; ``key`` names the message in the texts table."""

    def __init__(self, key: str, path: str):
        self.key, self.path = key, path
        super().__init__(f"{key}: {path}")


def under_roots(path: Path, roots: Sequence[Path]) -> bool:
    return any(path.is_relative_to(root.resolve()) for root in roots)


def check_folder(text: str | None, roots: Sequence[Path]) -> Path:
    """The resolved folder, if it exists, is a directory and lies under an allowed root."""
    text = (text or "").strip()
    if not text:
        raise FolderRefused("folder_empty", "")
    try:
        path = Path(text).expanduser().resolve(strict=True)
    except (OSError, RuntimeError, ValueError) as err:
        raise FolderRefused("folder_missing", text) from err
    if not path.is_dir():
        raise FolderRefused("folder_not_dir", text)
    if not under_roots(path, roots):
        raise FolderRefused("folder_outside", text)
    return path


class IngestHandlers:
    def __init__(self, ctx: UiContext):
        self.ctx = ctx

    def ingest_uploads(self, files: list[str] | None, db: str, force: bool, lang: str,
                       progress=TRACK_TQDM) -> Iterator[tuple]:
        lang = check_lang(lang)
        if not files:
            raise gr.Error(t(lang, "no_files"))
        yield from self._ingest([Path(f) for f in files], db, force, lang, progress)

    def ingest_folder(self, folder: str | None, db: str, force: bool, lang: str,
                      progress=TRACK_TQDM) -> Iterator[tuple]:
        lang = check_lang(lang)
        roots = self.ctx.ui.ingest_roots
        try:
            path = check_folder(folder, roots)
        except FolderRefused as err:
            raise gr.Error(t(lang, err.key, path=err.path, roots=", ".join(map(str, roots)))) from err
        paths = [Path(found) for found in expand_sources([str(path)])]
        if not paths:
            raise gr.Error(t(lang, "no_videos_found"))
        refused = {p for p in paths if not under_roots(p.resolve(), roots)}  # symlinks leading outside
        yield from self._ingest(paths, db, force, lang, progress, refused)

    def _ingest(self, paths: list[Path], db: str, force: bool, lang: str, progress,
                refused: set[Path] = frozenset()) -> Iterator[tuple]:
        try:
            check_db_name(db)
            options = IngestOptions(decode=DecodeOptions(fps=self.ctx.services.settings.fps), force=bool(force),
                                    media="link")
            encoder = self.ctx.ready_encoder()
        except BuscaError as err:
            raise gr.Error(str(err)) from err
        results: list[IngestResult | None] = [None] * len(paths)
        yield self._table(paths, results, lang), "", gr.update(), self.videos_table(db, lang)
        for i, path in enumerate(paths):
            progress((i, len(paths)), desc=path.name, unit="video")
            if path in refused:
                roots = ", ".join(map(str, self.ctx.ui.ingest_roots))
                results[i] = IngestResult(str(path), "failed", error=t(lang, "folder_outside", path=path, roots=roots))
            else:
                [results[i]] = ingest_paths([path], encoder, self.ctx.services.store, self.ctx.layout, db, options)
            yield self._table(paths, results, lang), "", gr.update(), self.videos_table(db, lang)
        ok = sum(r.status == "indexed" for r in results)
        summary = t(lang, "ingest_summary", ok=ok, failed=len(results) - ok, db=db)
        databases = gr.update(choices=self.ctx.databases(), value=db)
        yield self._table(paths, results, lang), summary, databases, self.videos_table(db, lang)

    @staticmethod
    def status_table(rows: list[list], lang: str) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=[t(lang, c) for c in STATUS_COLUMNS])

    def _table(self, paths: list[Path], results: list[IngestResult | None], lang: str) -> pd.DataFrame:
        rows = []
        for path, r in zip(paths, results, strict=True):
            if r is None:
                rows.append([path.name, t(lang, "status_pending"), "", "", "", ""])
                continue
            status = "status_failed" if r.status != "indexed" else ("status_reused" if r.reused else "status_indexed")
            rows.append([path.name, t(lang, status), r.n_shots or "", r.n_scenes or "", f"{r.seconds:.1f}",
                         r.error or r.video_id or ""])
        return self.status_table(rows, lang)

    def videos_table(self, db: str | None, lang: str) -> pd.DataFrame:
        """The videos indexed in ``db`` (empty for an unknown database)."""
        lang = check_lang(lang)
        rows = [[v.source, v.video_id, v.n_shots, v.n_scenes, format_timecode(v.duration_s)]
                for v in self.ctx.videos(db).values()]
        return pd.DataFrame(rows, columns=[t(lang, c) for c in VIDEO_COLUMNS])
