"""The "Indexar vídeos" tab: uploaded videos or a server folder, indexed one video at a time.

Uploaded files arrive in Gradio's upload folder; they are taken out of it at once into
``<data>/uploads/<id>/`` (:func:`app.ui.uploads.take_uploads`), within the caps of one
operation, and each is deleted from there once indexed: ingest places each video under
``<data>/media`` (hard link, or copy across file systems), so the app plays it from the data
directory. A server folder must lie under an allowed root (:mod:`app.ui.paths`). A full disk
stops the batch with one message (:class:`DiskFullError`).
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import gradio as gr
import pandas as pd

from app.ui.context import Refresh, UiContext
from app.ui.errors import render_error, ui_error, ui_message
from app.ui.i18n import check_lang, t
from app.ui.job_view import JobPanel
from app.ui.jobs import Job
from app.ui.paths import FolderRefused, check_folder, under_roots
from app.ui.uploads import check_caps, take_uploads
from pipeline.core import check_db_name, format_timecode
from pipeline.errors import BuscaError
from pipeline.index import IngestOptions, IngestResult, ingest_paths, record_encoder
from pipeline.media import VIDEO_EXTENSIONS, DecodeOptions
from pipeline.sources import expand_sources

log = logging.getLogger(__name__)

STATUS_COLUMNS = ("col_file", "col_status", "col_shots", "col_scenes", "col_seconds", "col_detail")
VIDEO_COLUMNS = ("col_file", "video", "col_shots", "col_scenes", "time")


class IngestHandlers:
    """Each ingest is a server-side job (:mod:`app.ui.jobs`): it goes on when the page is
    closed or reloaded, a reloaded page shows it again, and it can be cancelled between videos."""

    def __init__(self, ctx: UiContext):
        self.ctx = ctx
        self.panel: JobPanel | None = None  # set by build_ingest_tab

    async def ingest_uploads(self, files: list[str] | None, db: str, force: bool, lang: str) -> AsyncIterator[list]:
        lang = check_lang(lang)
        if not files:
            raise ui_message(lang, "no_files")
        check_caps(files, self.ctx.ui, lang)
        staging = self.ctx.layout.root / "uploads" / uuid.uuid4().hex
        try:
            paths = [Path(p) for p in take_uploads(files, staging)]
        except BuscaError as err:
            shutil.rmtree(staging, ignore_errors=True)
            raise ui_error(lang, err) from err
        async for update in self._start(paths, db, force, lang, staging=staging):
            yield update

    async def ingest_folder(self, folder: str | None, db: str, force: bool, lang: str) -> AsyncIterator[list]:
        lang = check_lang(lang)
        roots = self.ctx.ui.ingest_roots
        try:
            path = check_folder(folder, roots)
        except FolderRefused as err:
            raise ui_message(lang, err.key, path=err.path, roots=", ".join(map(str, roots))) from err
        paths = [Path(found) for found in expand_sources([str(path)])]
        if not paths:
            raise ui_message(lang, "no_videos_found")
        refused = {p for p in paths if not under_roots(p.resolve(), roots)}  # symlinks leading outside
        async for update in self._start(paths, db, force, lang, refused):
            yield update

    async def _start(self, paths: list[Path], db: str, force: bool, lang: str, refused: set[Path] = frozenset(),
                     staging: Path | None = None) -> AsyncIterator[list]:
        """``staging``: the folder the uploads were taken into; each file is deleted once indexed
        (its media is in ``<data>/media`` by then), and the folder when the job ends."""
        try:
            check_db_name(db)
        except BuscaError as err:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise ui_error(lang, err) from err
        settings = self.ctx.services.settings
        fps = settings.fps
        outside = t(lang, "folder_outside", path="{path}", roots=", ".join(map(str, self.ctx.ui.ingest_roots)))

        def work(job: Job) -> list[IngestResult | None]:
            results: list[IngestResult | None] = [None] * len(paths)
            job.view = (db, paths, results)
            try:
                # the database's own encoder, checked against (and recorded in) the database before any video
                encoder = self.ctx.ready_encoder(db)
                record_encoder(self.ctx.services.store, db, encoder)
                decode = DecodeOptions(fps=fps, short_side=max(DecodeOptions.short_side,
                                                               getattr(encoder, "image_size", 224)))
                options = IngestOptions(decode=decode, force=bool(force), media="link", margin=settings.margin)
                for i, path in enumerate(paths):
                    job.raise_if_cancelled()
                    job.update(index=i + 1, total=len(paths), name=path.name)
                    if path in refused:
                        results[i] = IngestResult(str(path), "failed", error=outside.replace("{path}", str(path)))
                        continue
                    try:  # a full disk (DiskFullError) ends the job: the next video would fail alike
                        [results[i]] = ingest_paths([path], encoder, self.ctx.services.store, self.ctx.layout, db,
                                                    options, self.ctx.services.catalog)
                    finally:
                        if staging is not None:
                            path.unlink(missing_ok=True)
                # a database that holds several encoders gets all of them for the new videos
                self.ctx.services.add_other_encoders(db, encoder,
                                                     [r.video_id for r in results if r.status == "indexed"])
            finally:
                if staging is not None:
                    shutil.rmtree(staging, ignore_errors=True)
            return results

        job = self.panel.submit(("job_ingest_title", {"n": len(paths), "db": db}), work, lang)
        async for update in self.panel.follow(job, lang):
            yield update

    def render(self, job: Job, lang: str) -> list:
        """The per-video table (pending rows included), and when the job ended its summary, the
        database list and the database's videos."""
        if job.view is None:
            return [gr.update()] * 4
        db, paths, results = job.view
        table = self._table(paths, results, lang)
        if not job.finished:
            return [table, "", gr.update(), gr.update()]
        done = [r for r in results if r is not None]
        ok = sum(r.status == "indexed" for r in done)
        summary = t(lang, "ingest_summary", ok=ok, failed=len(done) - ok, db=db)
        return [table, summary, gr.update(choices=self.ctx.databases(), value=db), self.videos_table(db, lang)]

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
    panel = handlers.panel = JobPanel(ctx.jobs, "ingest", handlers.render, "be-ingest", tx("cancel_job"))
    tx.bind(panel.cancel_btn, value="cancel_job")
    status = tx.bind(gr.Dataframe(handlers.status_table([], tx.lang), label=tx("ingest_status"), interactive=False,
                                  wrap=True, elem_id="be-ingest-status"), label="ingest_status")
    videos = tx.bind(gr.Dataframe(lambda: handlers.videos_table(ctx.services.settings.db, tx.lang), label=tx("db_videos"),
                                  interactive=False, wrap=True), label="db_videos")

    outputs = [status, summary, db, videos]
    panel.wire(outputs, lang)
    outputs += panel.outputs
    opts = panel.follow_options("ingest_follow")
    events = [
        upload_btn.click(handlers.ingest_uploads, [files, db, force, lang], outputs, api_name="ingest", **opts),
        folder_btn.click(handlers.ingest_folder, [folder, db, force, lang], outputs, api_name="ingest_folder", **opts),
    ]
    return [(videos, handlers.videos_table)], events
