"""The ingest tab: upload videos or name a server folder; per-video status with progress."""

from __future__ import annotations

import gradio as gr

from app.ui.context import Refresh, UiContext
from app.ui.ingest_handlers import IngestHandlers
from pipeline.media import VIDEO_EXTENSIONS


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
