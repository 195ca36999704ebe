"""The "Análisis de vídeo" tab: one uploaded MP4 or a URL -> each shot's keyframe, time range,
transcript and JSON analysis, the video summary, and the JSON to download."""

from __future__ import annotations

import gradio as gr

from app.ui.analysis_format import config_markdown, shots_html
from app.ui.analysis_handlers import ANALYSIS_QUEUE, AnalysisHandlers
from app.ui.context import UiContext
from pipeline.media import VIDEO_EXTENSIONS


def build_analysis_tab(ctx: UiContext, config: gr.State, lang: gr.State, switch: gr.Radio) -> gr.Markdown:
    """The tab; returns its "configuration in use" line (updated when the settings are saved).
    ``switch`` is the language selector: what the tab shows follows it."""
    tx, handlers = ctx.texts, AnalysisHandlers(ctx)
    mb = ctx.ui.max_upload_mb
    tx.bind(gr.Markdown(tx("analysis_help", mb=mb)), {"mb": mb}, value="analysis_help")
    with gr.Row(equal_height=True):
        file = tx.bind(gr.File(label=tx("analysis_file", mb=mb), file_types=sorted(VIDEO_EXTENSIONS), height=150,
                               elem_id="be-an-file", scale=3), {"mb": mb}, label="analysis_file")
        with gr.Column(scale=2):
            url = tx.bind(gr.Textbox(label=tx("analysis_url"), placeholder=tx("analysis_url_placeholder"),
                                     elem_id="be-an-url"), label="analysis_url", placeholder="analysis_url_placeholder")
            run_btn = tx.bind(gr.Button(tx("analyze"), variant="primary", elem_id="be-an-run"), value="analyze")
    config_line = gr.Markdown(config_markdown(config.value, tx.lang), elem_id="be-an-config")
    summary = gr.Markdown(elem_id="be-an-summary")
    shots = gr.HTML(shots_html(None, tx.lang), elem_id="be-an-shots")
    with gr.Row():
        download = tx.bind(gr.File(label=tx("analysis_download"), interactive=False, visible=False,
                                   elem_id="be-an-download"), label="analysis_download")
    with gr.Accordion(tx("analysis_json"), open=False) as box:
        tx.bind(box, label="analysis_json")
        json_out = gr.JSON(elem_id="be-an-json")

    run_btn.click(handlers.analyze_video, [file, url, config, lang], [summary, shots, json_out, download],
                  api_name="analyze_video", show_progress_on=[shots], **ANALYSIS_QUEUE)
    url.submit(handlers.analyze_video, [file, url, config, lang], [summary, shots, json_out, download],
               api_visibility="private", show_progress_on=[shots], **ANALYSIS_QUEUE)
    # Not lang.change: a State's change event does not fire when a queue=False event (the relabel) sets it.
    switch.change(handlers.relabel, [json_out, config, switch], [summary, shots, config_line],
                  api_visibility="private", queue=False)
    return config_line
