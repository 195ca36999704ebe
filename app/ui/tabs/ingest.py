"""The "Indexar vídeos" tab: uploaded videos or a server folder, indexed one video at a time.

Uploaded files arrive in Gradio's upload folder; ingest places each video under
``<data>/media`` (hard link, or copy across file systems) before it is indexed, so the
app plays it from the data directory. A server folder must lie under an allowed root
(:mod:`app.ui.paths`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pandas as pd

from app.ui.context import TRACK_TQDM, Refresh, UiContext
from app.ui.errors import render_error, ui_error
from app.ui.i18n import check_lang, t
from app.ui.paths import FolderRefused, check_folder, under_roots
from pipeline.core import check_db_name, format_timecode
from pipeline.errors import BuscaError
from pipeline.index import IngestOptions, IngestResult, ingest_paths
from pipeline.media import VIDEO_EXTENSIONS, DecodeOptions
from pipeline.sources import expand_sources

log = logging.getLogger(__name__)

STATUS_COLUMNS = ("col_file", "col_status", "col_shots", "col_scenes", "col_seconds", "col_detail")
VIDEO_COLUMNS = ("col_file", "video", "col_shots", "col_scenes", "time")


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
            raise ui_error(lang, err) from err
        results: list[IngestResult | None] = [None] * len(paths)
        yield self._table(paths, results, lang), "", gr.update(), self.videos_table(db, lang)
        for i, path in enumerate(paths):
            progress((i, len(paths)), desc=path.name, unit="video")
            if path in refused:
                roots = ", ".join(map(str, self.ctx.ui.ingest_roots))
                results[i] = IngestResult(str(path), "failed", error=t(lang, "folder_outside", path=path, roots=roots))
            else:
                [results[i]] = ingest_paths([path], encoder, self.ctx.services.store, self.ctx.layout, db, options,
                                            self.ctx.services.catalog)
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
            detail = render_error(lang, r.error_code, r.error_params) if r.error_code else r.error
            rows.append([path.name, t(lang, status), r.n_shots or "", r.n_scenes or "", f"{r.seconds:.1f}",
                         detail or r.video_id or ""])
        return self.status_table(rows, lang)

    def videos_table(self, db: str | None, lang: str) -> pd.DataFrame:
        """The videos indexed in ``db`` (empty for an unknown database)."""
        lang = check_lang(lang)
        rows = [[v.source, v.video_id, v.n_shots, v.n_scenes, format_timecode(v.duration_s)]
                for v in self.ctx.videos(db).values()]
        return pd.DataFrame(rows, columns=[t(lang, c) for c in VIDEO_COLUMNS])


def build_ingest_tab(ctx: UiContext, db: gr.Dropdown, lang: gr.State) -> tuple[list[Refresh], list]:
    """The tab; returns what must follow the database choice, and the ingest events (after
    which every tab's video lists are refreshed)."""
    tx, handlers = ctx.texts, IngestHandlers(ctx)
    roots = ", ".join(str(r) for r in ctx.ui.ingest_roots)
    tx.bind(gr.Markdown(tx("ingest_help")), value="ingest_help")
    with gr.Row(equal_height=True):
        files = tx.bind(gr.File(label=tx("ingest_files", mb=ctx.ui.max_upload_mb), file_count="multiple",
                                file_types=sorted(VIDEO_EXTENSIONS), elem_id="be-ingest-files", scale=3),
                        {"mb": ctx.ui.max_upload_mb}, label="ingest_files")
        with gr.Column(scale=2):
            folder = tx.bind(gr.Textbox(label=tx("ingest_folder"), info=tx("ingest_folder_info", roots=roots),
                                        placeholder=str(ctx.ui.ingest_roots[0]), elem_id="be-ingest-folder"),
                             {"roots": roots}, label="ingest_folder", info="ingest_folder_info")
            force = tx.bind(gr.Checkbox(label=tx("force"), value=False), label="force")
    with gr.Row():
        upload_btn = tx.bind(gr.Button(tx("ingest_upload_button"), variant="primary", elem_id="be-ingest"),
                             value="ingest_upload_button")
        folder_btn = tx.bind(gr.Button(tx("ingest_folder_button"), elem_id="be-ingest-folder-btn"),
                             value="ingest_folder_button")
    summary = gr.Markdown(elem_id="be-ingest-summary")
    status = tx.bind(gr.Dataframe(handlers.status_table([], tx.lang), label=tx("ingest_status"), interactive=False,
                                  wrap=True), label="ingest_status")
    videos = tx.bind(gr.Dataframe(lambda: handlers.videos_table(ctx.services.settings.db, tx.lang), label=tx("db_videos"),
                                  interactive=False, wrap=True), label="db_videos")

    outputs = [status, summary, db, videos]
    opts = {"concurrency_id": "ingest", "concurrency_limit": 1, "show_progress_on": [status]}
    events = [
        upload_btn.click(handlers.ingest_uploads, [files, db, force, lang], outputs, api_name="ingest", **opts),
        folder_btn.click(handlers.ingest_folder, [folder, db, force, lang], outputs, api_name="ingest_folder", **opts),
    ]
    return [(videos, handlers.videos_table)], events
