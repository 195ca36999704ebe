"""The evaluation tab: upload a documentalists' log, evaluate the chosen database against it,
see R@K (as percentages, like the original's table), MRR and median rank (video and shot
level) and each query's ranks, download the report (named after the log and the date).

The evaluation runs as a server-side job of its own kind (:mod:`app.ui.jobs`): one at a
time, in its own pool and waiting line, so evaluations never take the search's slots; it
outlives the page and can be cancelled between queries. Malformed lines of the log are
skipped and listed; every message speaks to a web user, in the page's language.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import gradio as gr
import pandas as pd

from app.ui.analysis_messages import plural, problem_text
from app.ui.context import UiContext
from app.ui.errors import ui_message
from app.ui.i18n import check_lang, t
from app.ui.job_view import JobPanel
from app.ui.jobs import Job
from pipeline.errors import BuscaError
from pipeline.evaluation import (
    COMPARE_DEFAULT,
    EvalConfig,
    EvaluateOptions,
    EvaluationReport,
    LogOptions,
    evaluate,
    parse_min_overlap,
)

log = logging.getLogger(__name__)
#: The log formats :func:`pipeline.evaluation.logs.parse_log` tells apart by extension.
LOG_TYPES = [".csv", ".tsv", ".jsonl", ".txt"]
#: Outputs of evaluate, in order.
EVALUATE_OUTPUTS = ("summary", "metrics", "ranks", "files")


def percent(x: float) -> str:
    return f"{100 * x:.1f} %"


def _median(x: float, depth: int) -> str:
    return f"> {depth}" if math.isinf(x) else f"{x:g}"


def _rank(x: float) -> int | None:
    return None if math.isinf(x) else int(x)


def metrics_frame(report: EvaluationReport, lang: str) -> pd.DataFrame:
    """One row per metric (video- and shot-level R@K as percentages, MRR, median rank; queries,
    excluded), one column per configuration. A median rank beyond the depth reads "> depth"."""
    rows: list[list] = []
    depth = report.options.depth
    for level in ("video", "shot"):
        name = t(lang, f"eval_level_{level}")
        summaries = [getattr(r, level) for r in report.results]
        rows += [[t(lang, "col_recall", level=name, k=k), *(percent(s.recall[k]) for s in summaries)]
                 for k in report.options.ks]
        rows.append([f"{name} MRR", *(f"{s.mrr:.3f}" for s in summaries)])
        rows.append([f"{name} {t(lang, 'eval_median')}", *(_median(s.median_rank, depth) for s in summaries)])
    rows.append([t(lang, "eval_queries"), *(str(len(report.entries)) for _ in report.results)])
    rows.append([t(lang, "eval_excluded"), *(str(len(report.excluded)) for _ in report.results)])
    return pd.DataFrame(rows, columns=[t(lang, "eval_col_metric"), *(r.config.name for r in report.results)])


def ranks_frame(report: EvaluationReport, lang: str) -> pd.DataFrame:
    """One row per evaluated log entry: its line, video, description, and per configuration the
    video-level and shot-level ranks (empty for a miss)."""
    video, shot = t(lang, "eval_level_video"), t(lang, "eval_level_shot")
    columns = [t(lang, "eval_col_line"), t(lang, "eval_col_video"), t(lang, "eval_col_text")]
    for r in report.results:
        columns += [f"{r.config.name}: {video}", f"{r.config.name}: {shot}"]
    rows = []
    for i, entry in enumerate(report.entries):
        row = [entry.line, entry.video, entry.text]
        for r in report.results:
            row += [_rank(r.ranks[i].video_rank), _rank(r.ranks[i].shot_rank)]
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _excluded_reason(entry, lang: str) -> str:
    if entry.code == "bad_frame":
        return t(lang, "problem_bad_frame", **entry.params)
    if entry.code:
        return t(lang, f"excluded_{entry.code}", **entry.params)
    return entry.reason


def summary_markdown(report: EvaluationReport, seconds: float, lang: str) -> str:
    """The counts, then every skipped (malformed) line and every excluded entry with its reason."""
    text = t(lang, "eval_summary", n=len(report.entries), total=report.total_entries, excluded=len(report.excluded),
             db=report.db, seconds=seconds)
    lines = [text]
    if report.malformed:
        lines += ["", plural(lang, "eval_skipped", len(report.malformed)),
                  *[f"- {problem_text(p, lang)}" for p in report.malformed]]
    if report.excluded:
        lines += ["", t(lang, "eval_excluded_title"),
                  *[f"- {t(lang, 'eval_line', line=e.line)} ({e.video}): {_excluded_reason(e, lang)}"
                    for e in report.excluded]]
    return "\n".join(lines)


class EvaluateHandlers:
    def __init__(self, ctx: UiContext):
        self.ctx = ctx
        self.panel: JobPanel | None = None  # set by build_evaluate_tab

    async def evaluate(self, db: str | None, log_file: str | None, min_overlap: str | None, compare: bool,
                       lang: str) -> AsyncIterator[list]:
        lang = check_lang(lang)
        if not log_file:
            raise ui_message(lang, "eval_no_file")
        db = self.ctx.require_db(db, lang)
        path = Path(log_file)
        try:
            overlap = parse_min_overlap(min_overlap) if (min_overlap or "").strip() else EvaluateOptions().overlap
        except BuscaError as err:
            raise ui_message(lang, "eval_bad_overlap", value=min_overlap) from err
        settings = self.ctx.services.settings
        caps = LogOptions(max_lines=settings.eval_max_lines, max_bytes=int(settings.eval_max_mb * 1024 * 1024))
        options = EvaluateOptions(configs=COMPARE_DEFAULT if compare else (EvalConfig(),), overlap=overlap,
                                  log=caps, progress=False)

        def work(job: Job):
            started = time.perf_counter()
            job.update(name=path.name, unit="query")

            def on_query(done: int, total: int) -> None:
                job.raise_if_cancelled()
                job.update(index=min(done + 1, total), total=total, fraction=0.0 if done < total else 1.0)

            encoder = self.ctx.ready_encoder(db)
            text_encoder, _ = self.ctx.services.query_encoder(db, encoder)  # as a search of this database would
            report = evaluate(path, self.ctx.services.store, encoder, self.ctx.layout, db, options,
                              on_query=on_query, text_encoders={c.name: text_encoder for c in options.configs})
            report = dataclasses.replace(report, logs=path.name)
            paths = report.write(self.ctx.export_path("report").parent)
            log.info("evaluated %s on %s: %d queries, %d excluded, %d malformed lines", path.name, db,
                     len(report.entries), len(report.excluded), len(report.malformed))
            return report, time.perf_counter() - started, paths

        job = self.panel.submit(("job_evaluate_title", {"db": db, "name": path.name}), work, lang)
        async for update in self.panel.follow(job, lang):
            yield update

    @staticmethod
    def render(job: Job, lang: str) -> list:
        """Nothing old while a job runs; the summary, the tables and the files when it ends."""
        if job.state != "done":
            return ["", None, None, gr.update(value=None, visible=False)]
        report, seconds, paths = job.result
        return [summary_markdown(report, seconds, lang), metrics_frame(report, lang), ranks_frame(report, lang),
                gr.update(value=[str(p) for p in paths], visible=True)]


def build_evaluate_tab(ctx: UiContext, db: gr.Dropdown, lang: gr.State) -> None:
    """The tab; the database is the header's selector."""
    tx, handlers = ctx.texts, EvaluateHandlers(ctx)
    tx.bind(gr.Markdown(tx("eval_help")), value="eval_help")
    with gr.Row(equal_height=True):
        log_file = tx.bind(gr.File(label=tx("eval_file"), file_types=LOG_TYPES, type="filepath", scale=2,
                                   elem_id="be-eval-file"), label="eval_file")
        with gr.Column(scale=1):
            min_overlap = tx.bind(gr.Textbox(label=tx("eval_min_overlap"), info=tx("eval_min_overlap_info"),
                                             placeholder="1.5s · 50%", elem_id="be-eval-overlap"),
                                  label="eval_min_overlap", info="eval_min_overlap_info")
            compare = tx.bind(gr.Checkbox(label=tx("eval_compare"), value=False, elem_id="be-eval-compare"),
                              label="eval_compare")
            run_btn = tx.bind(gr.Button(tx("eval_run"), variant="primary", elem_id="be-eval-run"), value="eval_run")
    panel = handlers.panel = JobPanel(ctx.jobs, "evaluate", handlers.render, "be-eval", tx("cancel_job"))
    tx.bind(panel.cancel_btn, value="cancel_job")
    summary = gr.Markdown(elem_id="be-eval-summary")
    metrics = tx.bind(gr.Dataframe(label=tx("eval_metrics"), interactive=False, wrap=True, elem_id="be-eval-metrics"),
                      label="eval_metrics")
    ranks = tx.bind(gr.Dataframe(label=tx("eval_ranks"), interactive=False, wrap=True, max_height=400,
                                 elem_id="be-eval-ranks"), label="eval_ranks")
    files = tx.bind(gr.File(label=tx("eval_files"), file_count="multiple", interactive=False, visible=False,
                            elem_id="be-eval-files"), label="eval_files")
    outputs = [summary, metrics, ranks, files]
    panel.wire(outputs, lang)
    run_btn.click(handlers.evaluate, [db, log_file, min_overlap, compare, lang], outputs + panel.outputs,
                  api_name="evaluate", **panel.follow_options("evaluate_follow"))
