"""The "Análisis masivo" tab: many videos, one resumable :mod:`pipeline.analysis.jobs` job
with the analysis stages (fetch -> segment -> transcribe -> describe), then its exports
(JSONL, CSV and a ZIP of everything).

The job is written to ``<data>/jobs/<job_id>`` before it runs, and runs as a server-side job
of the ``analysis`` kind (:mod:`app.ui.jobs`): it goes on when the page is closed, a reloaded
page shows it with its progress ("Descripción · vídeo 2 de 5 · nombre · 80 %") above the
per-video table, and it can be cancelled. A job interrupted by a restart is resumed from the
job list; finished work is not redone. The models are checked before anything runs; a model
that cannot work stops the job ("Trabajo detenido: …") and leaves the rest "no iniciado".
A line of the list that the app will not read is skipped and reported; the others go on.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import gradio as gr
import pandas as pd

from app.ui.analysis_format import BATCH_COLUMNS, batch_rows, config_markdown, source_label
from app.ui.analysis_messages import error_text, plural, stop_text
from app.ui.analysis_models import AnalysisConfig, SharedEncoder
from app.ui.batch_jobs import job_dir, line_sources, list_jobs, new_job_id, source_lines
from app.ui.context import Refresh, UiContext
from app.ui.errors import ui_message
from app.ui.i18n import check_lang, t
from app.ui.job_view import JobPanel
from app.ui.jobs import Job
from app.ui.paths import FolderRefused
from app.ui.tabs.analysis import ingest_options, session_setup, source_options
from app.ui.uploads import check_caps, take_uploads
from pipeline.analysis import (
    STAGES,
    Exported,
    ItemResult,
    ItemState,
    StopInfo,
    analysis_stages,
    create_job,
    export_job,
    job_results,
    read_manifest,
    run_job,
)
from pipeline.errors import BuscaError
from pipeline.media import VIDEO_EXTENSIONS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchView:
    """What a running batch publishes for the page: its items, the one being worked on, the
    lines skipped when it was made."""

    items: list[ItemResult]
    current: str | None = None
    skipped: tuple[FolderRefused, ...] = ()


def skipped_text(skipped: Sequence[FolderRefused], roots: str, lang: str) -> str:
    reasons = "; ".join(t(lang, s.key, path=s.path, roots=roots) for s in skipped[:5])
    return plural(lang, "skipped_lines", len(skipped), lines=reasons + (" …" if len(skipped) > 5 else ""))


class BatchHandlers:
    def __init__(self, ctx: UiContext):
        self.ctx = ctx
        self.panel: JobPanel | None = None  # set by build_batch_tab

    @property
    def roots(self) -> str:
        return ", ".join(map(str, self.ctx.ui.ingest_roots))

    # ------------------------------------------------------------------ display

    @staticmethod
    def table(items: list[ItemResult], lang: str, running: bool = False, current: str | None = None) -> pd.DataFrame:
        return pd.DataFrame(batch_rows(items, lang, running, current), columns=[t(lang, c) for c in BATCH_COLUMNS])

    def summary(self, job_id: str, items: list[ItemResult], lang: str, stopped: StopInfo | None = None,
                skipped: Sequence[FolderRefused] = ()) -> str:
        counts = {s: sum(i.status == s for i in items) for s in ("done", "partial", "failed", "pending")}
        lines = [t(lang, "batch_counts", job=job_id, **counts)]
        if stopped is not None:
            lines.append(f"**{stop_text(stopped, lang)}** {t(lang, 'batch_stopped_hint')}")
        if skipped:
            lines.append(skipped_text(skipped, self.roots, lang))
        return "\n\n".join(lines)

    def _disk(self, job_id: str | None) -> tuple[list[ItemResult], StopInfo | None]:
        try:
            folder = job_dir(self.ctx.jobs_dir, job_id)
            return job_results(folder), read_manifest(folder).stopped
        except BuscaError:
            return [], None

    def show(self, job_id: str | None, lang: str) -> list:
        """A job picked in the list: its table and summary (from the running job, or from disk)."""
        lang = check_lang(lang)
        job = self.ctx.jobs.get(job_id)
        if job is not None and job.view is not None:
            return [*self.render(job, lang)[:2], job_id]
        items, stopped = self._disk(job_id)
        if not items:
            return [self.table([], lang), "", job_id]
        return [self.table(items, lang), self.summary(job_id, items, lang, stopped), job_id]

    def relabel(self, job_id: str | None, config: AnalysisConfig | None, lang: str):
        """The shown job's table and summary and the configuration line, in another language."""
        lang = check_lang(lang)
        line = config_markdown(config, lang) if isinstance(config, AnalysisConfig) else gr.update()
        table, status, _ = self.show(job_id, lang) if job_id else (self.table([], lang), gr.update(), None)
        return table, status or gr.update(), line

    def job_choices(self, lang: str, value: str | None = None):
        """The job list (newest first) as a dropdown update; a running job says so."""
        running = {j.id for j in self.ctx.jobs.jobs("batch") if not j.finished}
        choices = [(t(lang, "job_label", job=j.job_id, n=j.items, done=j.done)
                    + (f" · {t(lang, 'status_running')}" if j.job_id in running else ""), j.job_id)
                   for j in list_jobs(self.ctx.jobs_dir)]
        return gr.update(choices=choices, value=value) if value else gr.update(choices=choices)

    def jobs(self) -> list[dict]:
        """The analysis jobs on this server, newest first."""
        running = {j.id for j in self.ctx.jobs.jobs("batch") if not j.finished}
        return [{"job_id": j.job_id, "items": j.items, "done": j.done, "created_at": j.created_at,
                 "running": j.job_id in running} for j in list_jobs(self.ctx.jobs_dir)]

    def render(self, job: Job, lang: str) -> list:
        """The table (the item being worked on marked), the summary, the job list, the downloads."""
        view: BatchView | None = job.view
        if view is None:
            return [gr.update(), "", gr.update(), gr.update()]
        if not job.finished:
            table = self.table(view.items, lang, running=True, current=view.current)
            status = t(lang, "batch_started", job=job.id, n=len(view.items))
            if view.skipped:
                status += "\n\n" + skipped_text(view.skipped, self.roots, lang)
            return [table, status, gr.update(value=job.id), gr.update(value=None, visible=False)]
        stopped, downloads = job.result if job.state == "done" else (None, None)
        if job.state == "cancelled":  # cancelled before it started: nothing ran
            stopped = StopInfo(reason="cancelled", at="")
        return [self.table(view.items, lang), self.summary(job.id, view.items, lang, stopped, view.skipped),
                self.job_choices(lang, job.id),
                gr.update(value=downloads, visible=True) if downloads else gr.update(value=None, visible=False)]

    def outcome(self, job: Job, lang: str) -> tuple[str, str] | None:
        """A batch that stopped says so in the progress line and the job list, not "Terminado"."""
        stopped = job.result[0] if job.state == "done" else None
        if stopped is None:
            return None
        return ("cancelled" if stopped.reason == "cancelled" else "stopped"), stop_text(stopped, lang)

    # ------------------------------------------------------------------ events

    async def analyze_batch(self, files: list[str] | None, lines: str | None, config: AnalysisConfig | None,
                            lang: str) -> AsyncIterator[list]:
        """Uploads plus one URL or server path per line -> a new job, run to the end (or until it stops)."""
        lang = check_lang(lang)
        setup = session_setup(self.ctx, config, lang)  # a bad configuration is reported before any job is made
        paths, skipped = line_sources(source_lines(lines), self.ctx.ui.ingest_roots)
        if not files and not paths:
            detail = f" {skipped_text(skipped, self.roots, lang)}" if skipped else ""
            raise gr.Error(t(lang, "no_sources") + detail, print_exception=False)
        check_caps(files or [], self.ctx.ui, lang)
        if skipped:
            gr.Warning(skipped_text(skipped, self.roots, lang))
        folder = self.ctx.jobs_dir / new_job_id()

        def make() -> None:
            sources = list(dict.fromkeys(take_uploads(files or [], folder / "uploads") + paths))
            create_job(folder, sources, STAGES)

        try:
            await asyncio.to_thread(make)  # uploads are copied when they cannot be linked: not on the event loop
        except BuscaError as err:
            shutil.rmtree(folder, ignore_errors=True)
            raise gr.Error(error_text(err, lang), print_exception=False) from err
        async for update in self._start(folder, setup, lang, tuple(skipped)):
            yield update

    async def resume_batch(self, job_id: str | None, config: AnalysisConfig | None, lang: str) -> AsyncIterator[list]:
        """Run a previous job again: finished stages are kept, failed and unfinished ones are redone."""
        lang = check_lang(lang)
        setup = session_setup(self.ctx, config, lang)
        if not job_id:
            raise ui_message(lang, "no_job")
        try:
            folder = job_dir(self.ctx.jobs_dir, job_id)
        except BuscaError as err:
            raise ui_message(lang, "job_unknown", job=job_id) from err
        async for update in self._start(folder, setup, lang):
            yield update

    async def _start(self, folder: Path, setup: tuple, lang: str,
                     skipped: tuple[FolderRefused, ...] = ()) -> AsyncIterator[list]:
        settings, options = setup
        models, job_id = self.ctx.analysis_models, folder.name

        def work(job: Job) -> tuple[StopInfo | None, list[str]]:
            job.view = BatchView(job_results(folder), None, skipped)

            def on_item(stage: str, index: int, total: int, item: ItemState) -> None:
                job.raise_if_cancelled()
                job.update(stage=stage, index=index, total=total, name=source_label(item.source), fraction=0.0)
                job.view = replace(job.view, current=item.id)

            def item_done(stage: str, done: int, total: int) -> None:
                job.view = replace(job.view, items=job_results(folder))

            def shots_done(done: int, total: int, message: str) -> None:
                job.raise_if_cancelled()
                job.update(fraction=done / max(total, 1))

            stages = analysis_stages(self.ctx.layout, source_options(self.ctx, settings),
                                     SharedEncoder(self.ctx.ready_encoder), models.transcriber(settings),
                                     models.describer(settings), options, ingest_options(self.ctx),
                                     shot_progress=shots_done)
            summary = run_job(folder, stages, progress=item_done, should_stop=lambda: job.cancel_requested,
                              on_item=on_item)
            exported = export_job(folder)
            job.view = BatchView(exported.items, None, skipped)
            log.info("job %s: %s", job_id, self.summary(job_id, exported.items, "en", summary.stopped))
            return summary.stopped, self._downloads(job_id, exported)

        n = len(read_manifest(folder).items)
        job = self.panel.submit(("job_batch_title", {"job": job_id, "n": n}), work, lang, job_id=job_id)
        async for update in self.panel.follow(job, lang):
            yield update

    def _downloads(self, job_id: str, exported: Exported) -> list[str]:
        """Copies of the exports in the app's export folder (the data directory is not served)."""
        first = self.ctx.export_path(f"{job_id}-{exported.jsonl.name}")
        out = []
        for path in (exported.jsonl, exported.csv, exported.zip):
            target = first.parent / f"{job_id}-{path.name}"
            shutil.copyfile(path, target)
            out.append(str(target))
        return out


def build_batch_tab(ctx: UiContext, config: gr.State, lang: gr.State,
                    switch: gr.Radio) -> tuple[gr.Markdown, list[Refresh]]:
    """The tab; returns its "configuration in use" line and what follows the page (the job list).
    ``switch`` is the language selector: the results table follows it."""
    tx, handlers = ctx.texts, BatchHandlers(ctx)
    mb, roots = ctx.ui.max_upload_mb, handlers.roots
    tx.bind(gr.Markdown(tx("batch_help", roots=roots)), {"roots": roots}, value="batch_help")
    with gr.Row(equal_height=True):
        files = tx.bind(gr.File(label=tx("batch_files", mb=mb), file_count="multiple", file_types=sorted(VIDEO_EXTENSIONS),
                                height=150, elem_id="be-batch-files", scale=3), {"mb": mb}, label="batch_files")
        lines = tx.bind(gr.Textbox(label=tx("batch_lines"), placeholder=tx("batch_lines_placeholder"), lines=5,
                                   elem_id="be-batch-lines", scale=2), label="batch_lines",
                        placeholder="batch_lines_placeholder")
    run_btn = tx.bind(gr.Button(tx("analyze_batch"), variant="primary", elem_id="be-batch-run"), value="analyze_batch")
    with gr.Row(equal_height=True):
        job = tx.bind(gr.Dropdown(choices=[], label=tx("batch_job"), allow_custom_value=True, scale=3,  # checked by job_dir
                                  elem_id="be-batch-job"),
                      label="batch_job")
        resume_btn = tx.bind(gr.Button(tx("resume"), scale=1, elem_id="be-batch-resume"), value="resume")
    config_line = gr.Markdown(config_markdown(config.value, tx.lang), elem_id="be-batch-config")
    panel = handlers.panel = JobPanel(ctx.jobs, "batch", handlers.render, "be-batch", tx("cancel_job"),
                                      outcome=handlers.outcome)
    tx.bind(panel.cancel_btn, value="cancel_job")
    status = gr.Markdown(elem_id="be-batch-status")
    table = tx.bind(gr.Dataframe(handlers.table([], tx.lang), label=tx("batch_results"), interactive=False, wrap=True,
                                 elem_id="be-batch-table"), label="batch_results")
    downloads = tx.bind(gr.File(label=tx("batch_files_out"), file_count="multiple", interactive=False, visible=False,
                                elem_id="be-batch-downloads"), label="batch_files_out")

    outputs = [table, status, job, downloads]
    panel.wire(outputs, lang)
    outputs += panel.outputs
    follow = panel.follow_options("batch_follow")
    run_btn.click(handlers.analyze_batch, [files, lines, config, lang], outputs, api_name="analyze_batch", **follow)
    resume_btn.click(handlers.resume_batch, [job, config, lang], outputs, api_name="resume_batch", **follow)
    job.input(handlers.show, [job, lang], [table, status, panel.shown], api_visibility="private", queue=False)
    switch.change(handlers.relabel, [panel.shown, config, switch], [table, status, config_line],
                  api_visibility="private", queue=False)
    gr.api(handlers.jobs, api_name="analysis_jobs")
    return config_line, [(job, lambda _db, code: handlers.job_choices(code))]
