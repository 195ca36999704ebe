"""The evaluation tab: upload a documentalists' log, evaluate the chosen database against it,
see R@K, MRR and median rank (video and shot level) and each query's ranks, download the report.

The handler is thin: :func:`pipeline.evaluate.evaluate` does the work, with the app's store,
encoder and data layout; the Markdown and JSON reports go to the app's export folder.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from pathlib import Path

import gradio as gr
import pandas as pd

from app.ui.context import TRACK_TQDM, UiContext
from app.ui.errors import ui_free_error
from app.ui.i18n import check_lang, t
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
#: The log formats :func:`pipeline.evaluate_logs.read_log` tells apart by extension.
LOG_TYPES = [".csv", ".tsv", ".jsonl", ".txt"]
#: Outputs of evaluate, in order.
EVALUATE_OUTPUTS = ("summary", "metrics", "ranks", "files")


def _value(x: float) -> float | None:
    return None if math.isinf(x) else round(float(x), 4)


def _rank(x: float) -> int | None:
    return None if math.isinf(x) else int(x)


def metrics_frame(report: EvaluationReport, lang: str) -> pd.DataFrame:
    """One row per metric (video- and shot-level R@K, MRR, median rank; queries, excluded), one column
    per configuration. A median rank beyond the depth (more than half missed) is empty."""
    rows: list[list] = []
    for level in ("video", "shot"):
        name = t(lang, f"eval_level_{level}")
        summaries = [getattr(r, level) for r in report.results]
        rows += [[f"{name} R@{k}", *(round(s.recall[k], 4) for s in summaries)] for k in report.options.ks]
        rows.append([f"{name} MRR", *(round(s.mrr, 4) for s in summaries)])
        rows.append([f"{name} {t(lang, 'eval_median')}", *(_value(s.median_rank) for s in summaries)])
    rows.append([t(lang, "eval_queries"), *(len(report.entries) for _ in report.results)])
    rows.append([t(lang, "eval_excluded"), *(len(report.excluded) for _ in report.results)])
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


def summary_markdown(report: EvaluationReport, seconds: float, lang: str) -> str:
    text = t(lang, "eval_summary", n=len(report.entries), total=report.total_entries, excluded=len(report.excluded),
             db=report.db, seconds=seconds)
    lines = [f"- {t(lang, 'eval_col_line').lower()} {e.line} ({e.video}): {e.reason}" for e in report.excluded]
    return "\n".join([text, *lines])


class EvaluateHandlers:
    def __init__(self, ctx: UiContext):
        self.ctx = ctx

    def evaluate(self, db: str | None, log_file: str | None, min_overlap: str | None, compare: bool, lang: str,
                 progress=TRACK_TQDM):
        lang = check_lang(lang)
        if not log_file:
            raise gr.Error(t(lang, "eval_no_file"))
        db = self.ctx.require_db(db, lang)
        path = Path(log_file)
        started = time.perf_counter()
        progress(0, desc=path.name)
        settings = self.ctx.services.settings
        try:
            options = EvaluateOptions(
                configs=COMPARE_DEFAULT if compare else (EvalConfig(),),
                overlap=parse_min_overlap(min_overlap) if (min_overlap or "").strip() else EvaluateOptions().overlap,
                log=LogOptions(max_lines=settings.eval_max_lines, max_bytes=int(settings.eval_max_mb * 1024 * 1024)),
                progress=True)
            report = evaluate(path, self.ctx.services.store, self.ctx.ready_encoder(), self.ctx.layout, db, options)
        except BuscaError as err:
            # the upload's name, not the server's temporary path, in the message ("…: line 2: …")
            raise ui_free_error(str(err).replace(str(path), path.name), self.ctx.layout.root) from err
        report = dataclasses.replace(report, logs=path.name)
        folder = self.ctx.export_path("evaluation.md").parent
        paths = report.write(folder)
        log.info("evaluated %s on %s: %d queries, %d excluded", path.name, db, len(report.entries),
                 len(report.excluded))
        return (summary_markdown(report, time.perf_counter() - started, lang), metrics_frame(report, lang),
                ranks_frame(report, lang), gr.update(value=[str(p) for p in paths], visible=True))


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
    summary = gr.Markdown(elem_id="be-eval-summary")
    metrics = tx.bind(gr.Dataframe(label=tx("eval_metrics"), interactive=False, wrap=True, elem_id="be-eval-metrics"),
                      label="eval_metrics")
    ranks = tx.bind(gr.Dataframe(label=tx("eval_ranks"), interactive=False, wrap=True, max_height=400,
                                 elem_id="be-eval-ranks"), label="eval_ranks")
    files = tx.bind(gr.File(label=tx("eval_files"), file_count="multiple", interactive=False, visible=False,
                            elem_id="be-eval-files"), label="eval_files")
    run_btn.click(handlers.evaluate, [db, log_file, min_overlap, compare, lang], [summary, metrics, ranks, files],
                  api_name="evaluate", concurrency_id="evaluate", concurrency_limit=1)
