"""The "Análisis de vídeo" tab, and what the batch tab shares with it.

A session's :class:`~app.ui.analysis_models.AnalysisConfig` lives in a ``gr.State``.
``/analyze_video`` takes an upload or a URL (through :func:`pipeline.sources.resolve_source`,
i.e. the one URL validator), gets the models for the session's configuration from the
context, and runs :func:`pipeline.analysis.analyze_video` as a server-side job of the
``analysis`` kind (:mod:`app.ui.jobs`): it outlives the page, a reloaded page shows it again,
it can be cancelled, and it never runs beside a batch (one analysis at a time: the models
are replaced only between analyses). The models are checked before any segmentation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import gradio as gr
from pydantic import ValidationError

from app.config import AnalysisSettings
from app.services import make_source_options
from app.ui.analysis_format import config_markdown, shots_html, summary_markdown
from app.ui.analysis_messages import error_text
from app.ui.analysis_models import AnalysisConfig, SharedEncoder
from app.ui.context import UiContext
from app.ui.errors import ui_message
from app.ui.i18n import check_lang
from app.ui.job_view import JobPanel
from app.ui.jobs import Job
from pipeline.analysis import AnalysisOptions, VideoAnalysis, analyze_video
from pipeline.errors import BuscaError
from pipeline.index import IngestOptions
from pipeline.media import VIDEO_EXTENSIONS, DecodeOptions
from pipeline.sources import SourceOptions, looks_like_url, resolve_source

log = logging.getLogger(__name__)


def session_setup(ctx: UiContext, config: AnalysisConfig | None,
                  lang: str = "es") -> tuple[AnalysisSettings, AnalysisOptions]:
    """The checked settings and options of a session's configuration (the defaults when it has none)."""
    config = config if isinstance(config, AnalysisConfig) else AnalysisConfig.from_settings(ctx.analysis_env)
    try:
        return config.check(ctx.analysis_env), config.options()
    except BuscaError as err:
        raise gr.Error(error_text(err, lang), print_exception=False) from err


def source_options(ctx: UiContext, settings: AnalysisSettings) -> SourceOptions:
    """Where URLs are downloaded (``<data>/downloads``) and what they may be (one rule: :mod:`app.services`)."""
    return make_source_options(ctx.layout.root, settings)


def ingest_options(ctx: UiContext) -> IngestOptions:
    return IngestOptions(decode=DecodeOptions(fps=ctx.services.settings.fps), margin=ctx.services.settings.margin)


def _file_stem(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", Path(text).stem)[:60].strip("._") or "video"


class AnalysisHandlers:
    def __init__(self, ctx: UiContext):
        self.ctx = ctx
        self.panel: JobPanel | None = None  # set by build_analysis_tab

    async def analyze_video(self, file: str | None, url: str | None, config: AnalysisConfig | None,
                            lang: str) -> AsyncIterator[list]:
        """One video: its shots (keyframe, time range, transcript, JSON), its summary, the JSON file."""
        lang = check_lang(lang)
        settings, options = session_setup(self.ctx, config, lang)
        url = (url or "").strip()
        if file and url:
            raise ui_message(lang, "both_sources")
        if not file and not url:
            raise ui_message(lang, "no_video")
        if url and not looks_like_url(url):
            raise ui_message(lang, "not_a_url", url=url)  # a typed path would read the server's files
        name = url or Path(file).name
        models = self.ctx.analysis_models

        def work(job: Job):
            job.update(index=1, total=1, name=name, stage="fetch")
            video = resolve_source(url or Path(file), source_options(self.ctx, settings))
            title = video.title or video.path.name
            job.update(name=title)

            def shots_done(done: int, total: int, message: str) -> None:
                job.raise_if_cancelled()
                job.update(fraction=done / max(total, 1))

            def stage(name: str) -> None:
                job.raise_if_cancelled()
                job.update(stage=name, fraction=0.0)

            analysis = analyze_video(video.path, SharedEncoder(self.ctx.ready_encoder), models.transcriber(settings),
                                     models.describer(settings), self.ctx.layout, replace(options, progress=False),
                                     replace(ingest_options(self.ctx), progress=False), progress=shots_done,
                                     source=title, on_stage=stage)
            target = self.ctx.export_path(f"{_file_stem(title)}.analysis.json")
            target.write_text(analysis.model_dump_json(indent=1), encoding="utf-8")
            log.info("analysed %s: %d shots, %d failed", title, analysis.summary.shots_total,
                     analysis.summary.shots_failed)
            return analysis, target

        job = self.panel.submit(("job_analysis_title", {"name": name}), work, lang)
        async for update in self.panel.follow(job, lang):
            yield update

    @staticmethod
    def render(job: Job, lang: str) -> list:
        """Nothing old while a job runs (a stale result is never shown as current); the result when it ends."""
        if job.state != "done":
            return ["", shots_html(None, lang), None, gr.update(value=None, visible=False)]
        analysis, target = job.result
        return [summary_markdown(analysis, lang), shots_html(analysis, lang), analysis.model_dump(mode="json"),
                gr.update(value=str(target), visible=True)]

    @staticmethod
    def relabel(analysis: dict | None, config: AnalysisConfig | None, lang: str):
        """The shown analysis and the configuration line, in another language."""
        lang = check_lang(lang)
        line = config_markdown(config, lang) if isinstance(config, AnalysisConfig) else gr.update()
        try:
            shown = VideoAnalysis.model_validate(analysis) if analysis else None
        except ValidationError:
            shown = None
        if shown is None:
            return gr.update(), shots_html(None, lang), line
        return summary_markdown(shown, lang), shots_html(shown, lang), line


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
    panel = handlers.panel = JobPanel(ctx.jobs, "analysis", handlers.render, "be-an", tx("cancel_job"))
    tx.bind(panel.cancel_btn, value="cancel_job")
    summary = gr.Markdown(elem_id="be-an-summary")
    shots = gr.HTML(shots_html(None, tx.lang), elem_id="be-an-shots")
    with gr.Row():
        download = tx.bind(gr.File(label=tx("analysis_download"), interactive=False, visible=False,
                                   elem_id="be-an-download"), label="analysis_download")
    with tx.accordion("analysis_json", open=False):
        json_out = gr.JSON(elem_id="be-an-json")

    outputs = [summary, shots, json_out, download]
    panel.wire(outputs, lang)
    outputs += panel.outputs
    follow = panel.follow_options("analysis_follow")
    run_btn.click(handlers.analyze_video, [file, url, config, lang], outputs, api_name="analyze_video", **follow)
    url.submit(handlers.analyze_video, [file, url, config, lang], outputs, api_visibility="private", **follow)
    # Not lang.change: a State's change event does not fire when a queue=False event (the relabel) sets it.
    switch.change(handlers.relabel, [json_out, config, switch], [summary, shots, config_line],
                  api_visibility="private", queue=False)
    return config_line
