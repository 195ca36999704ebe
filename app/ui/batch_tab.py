"""The "Análisis masivo" tab: uploads, URLs or server paths -> one resumable job, its results
table and its exports; a previous job can be resumed."""

from __future__ import annotations

import gradio as gr

from app.ui.analysis_format import config_markdown
from app.ui.analysis_handlers import ANALYSIS_QUEUE
from app.ui.batch_handlers import BatchHandlers
from app.ui.context import Refresh, UiContext
from pipeline.media import VIDEO_EXTENSIONS


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
