"""The "Análisis masivo" tab: many videos, one resumable :mod:`pipeline.analysis.jobs` job
with the analysis stages (fetch -> segment -> transcribe -> describe), then its exports
(JSONL, CSV and a ZIP of everything).

The job is written to ``<data>/jobs/<job_id>`` before it runs, so an interrupted one (a
closed page, a restarted server) is resumed from the job list; finished work is not redone.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pandas as pd

from app.ui.analysis_format import BATCH_COLUMNS, batch_rows, config_markdown
from app.ui.analysis_models import AnalysisConfig, SharedEncoder
from app.ui.batch_jobs import job_dir, line_sources, list_jobs, new_job_id, source_lines
from app.ui.context import TRACK_TQDM, Refresh, UiContext
from app.ui.errors import ui_free_error, ui_message
from app.ui.i18n import check_lang, t
from app.ui.paths import FolderRefused
from app.ui.tabs.analysis import ANALYSIS_QUEUE, ingest_options, session_setup, source_options
from app.ui.uploads import check_caps, take_uploads
from pipeline.analysis import (
    STAGES,
    Exported,
    ItemResult,
    analysis_stages,
    create_job,
    export_job,
    job_results,
    run_job,
)
from pipeline.errors import BuscaError
from pipeline.media import VIDEO_EXTENSIONS

log = logging.getLogger(__name__)


class BatchHandlers:
    def __init__(self, ctx: UiContext):
        self.ctx = ctx

    # ------------------------------------------------------------------ display

    @staticmethod
    def table(items: list[ItemResult], lang: str) -> pd.DataFrame:
        return pd.DataFrame(batch_rows(items, lang), columns=[t(lang, c) for c in BATCH_COLUMNS])

    @staticmethod
    def summary(job_id: str, items: list[ItemResult], lang: str) -> str:
        counts = {s: sum(i.status == s for i in items) for s in ("done", "failed", "pending")}
        return t(lang, "batch_summary", job=job_id, **counts)

    def relabel(self, job_id: str | None, config: AnalysisConfig | None, lang: str):
        """The shown job's table and summary and the configuration line, in another language."""
        lang = check_lang(lang)
        line = config_markdown(config, lang) if isinstance(config, AnalysisConfig) else gr.update()
        try:
            items = job_results(job_dir(self.ctx.jobs_dir, job_id)) if job_id else []
        except BuscaError:
            items = []
        return self.table(items, lang), self.summary(job_id, items, lang) if items else gr.update(), line

    def job_choices(self, lang: str, value: str | None = None):
        """The job list (newest first) as a dropdown update."""
        jobs = list_jobs(self.ctx.jobs_dir)
        choices = [(t(lang, "job_label", job=j.job_id, n=j.items, done=j.done), j.job_id) for j in jobs]
        return gr.update(choices=choices, value=value) if value else gr.update(choices=choices)

    def jobs(self) -> list[dict]:
        """The analysis jobs on this server, newest first."""
        return [{"job_id": j.job_id, "items": j.items, "done": j.done, "created_at": j.created_at}
                for j in list_jobs(self.ctx.jobs_dir)]

    # ------------------------------------------------------------------ events

    def analyze_batch(self, files: list[str] | None, lines: str | None, config: AnalysisConfig | None, lang: str,
                      progress=TRACK_TQDM) -> Iterator[tuple]:
        """Uploads plus one URL or server path per line -> a new job, run to the end."""
        lang = check_lang(lang)
        session_setup(self.ctx, config)  # a bad configuration is reported before any job is made
        roots = self.ctx.ui.ingest_roots
        try:
            paths, skipped = line_sources(source_lines(lines), roots)
        except FolderRefused as err:
            raise ui_message(lang, err.key, path=err.path, roots=", ".join(map(str, roots))) from err
        if not files and not paths:
            raise gr.Error(t(lang, "no_sources"))
        check_caps(files or [], self.ctx.ui, lang)
        if skipped:
            gr.Warning(t(lang, "skipped_outside", n=len(skipped), paths=", ".join(skipped[:5])))
        folder = self.ctx.jobs_dir / new_job_id()
        try:
            sources = list(dict.fromkeys(take_uploads(files or [], folder / "uploads") + paths))
            create_job(folder, sources, STAGES)
        except BuscaError as err:
            shutil.rmtree(folder, ignore_errors=True)
            raise ui_free_error(str(err), self.ctx.layout.root) from err
        yield from self._run(folder, config, lang, progress)

    def resume_batch(self, job_id: str | None, config: AnalysisConfig | None, lang: str,
                     progress=TRACK_TQDM) -> Iterator[tuple]:
        """Run a previous job again: finished stages are kept, failed and unfinished ones are redone."""
        lang = check_lang(lang)
        if not job_id:
            raise gr.Error(t(lang, "no_job"))
        try:
            folder = job_dir(self.ctx.jobs_dir, job_id)
        except BuscaError as err:
            raise ui_free_error(str(err), self.ctx.layout.root) from err
        yield from self._run(folder, config, lang, progress)

    def _run(self, folder: Path, config: AnalysisConfig | None, lang: str, progress) -> Iterator[tuple]:
        settings, options = session_setup(self.ctx, config)
        job_id = folder.name
        items = job_results(folder)
        yield (self.table(items, lang), t(lang, "batch_started", job=job_id, n=len(items)),
               self.job_choices(lang, job_id), gr.update(value=None, visible=False), job_id)

        def stage_done(stage: str, done: int, total: int) -> None:
            progress((done, total), desc=t(lang, f"stage_{stage}"), unit=t(lang, "video").lower())

        def shot_done(done: int, total: int, message: str) -> None:
            progress((done, total), desc=f"{t(lang, 'stage_describe')} · {message}", unit=t(lang, "planos").lower())

        models = self.ctx.analysis_models
        try:
            stages = analysis_stages(self.ctx.layout, source_options(self.ctx, settings),
                                     SharedEncoder(self.ctx.ready_encoder), models.transcriber(settings),
                                     models.describer(settings), options, ingest_options(self.ctx),
                                     shot_progress=shot_done)
            run_job(folder, stages, progress=stage_done)
            exported = export_job(folder)
        except BuscaError as err:
            raise ui_free_error(str(err), self.ctx.layout.root) from err
        summary = self.summary(job_id, exported.items, lang)
        log.info("job %s: %s", job_id, summary)
        yield (self.table(exported.items, lang), summary, self.job_choices(lang, job_id),
               gr.update(value=self._downloads(job_id, exported), visible=True), job_id)

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
    mb, roots = ctx.ui.max_upload_mb, ", ".join(str(r) for r in ctx.ui.ingest_roots)
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
    status = gr.Markdown(elem_id="be-batch-status")
    table = tx.bind(gr.Dataframe(handlers.table([], tx.lang), label=tx("batch_results"), interactive=False, wrap=True,
                                 elem_id="be-batch-table"), label="batch_results")
    downloads = tx.bind(gr.File(label=tx("batch_files_out"), file_count="multiple", interactive=False, visible=False,
                                elem_id="be-batch-downloads"), label="batch_files_out")

    shown = gr.State(None)  # the job whose results the table shows
    outputs = [table, status, job, downloads, shown]
    opts = {"show_progress_on": [table], **ANALYSIS_QUEUE}
    run_btn.click(handlers.analyze_batch, [files, lines, config, lang], outputs, api_name="analyze_batch", **opts)
    resume_btn.click(handlers.resume_batch, [job, config, lang], outputs, api_name="resume_batch", **opts)
    switch.change(handlers.relabel, [shown, config, switch], [table, status, config_line],
                  api_visibility="private", queue=False)
    gr.api(handlers.jobs, api_name="analysis_jobs")
    return config_line, [(job, lambda _db, code: handlers.job_choices(code))]
