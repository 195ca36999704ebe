"""The evaluation report: typed results, rendered as Markdown (for people) and JSON (for tools).

JSON has no infinity: a rank beyond the evaluation depth (a miss) is written ``null``.
The files are named after the log and the date: ``<log>-evaluation-YYYY-MM-DD-HHMM.md/.json``.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.core import atomic
from pipeline.evaluation.config import EvalConfig, EvaluateOptions
from pipeline.evaluation.logs import LogEntry, LogProblem
from pipeline.evaluation.metrics import OverlapOptions, RankSummary

DEFINITIONS = {
    "video": "rank of the logged video in the one-per-video ranking (each video at the place of its best "
             "shot); R@K = share of queries whose video is among the first K videos",
    "shot": "rank of the first returned shot that comes from the logged video and overlaps the logged span "
            "(see min_overlap); R@K = share of queries with such a shot among the first K shots",
    "video_in_shots": "rank, in the plain shot ranking, of the first shot of the logged video (a video "
                      "with many shots pushes others down; this is how a shot-ranking store like the "
                      "original Qdrant setup is scored)",
    "mrr": "mean of 1/rank, 0 for a miss",
    "median_rank": "median of the ranks, misses counted as infinite (null when more than half miss)",
    "miss": "a rank beyond the evaluation depth; written null",
}


@dataclass(frozen=True)
class Excluded:
    """A log entry left out of the evaluation, and why (``code``/``params`` name the cause for
    front ends that say it in another language)."""

    line: int
    video: str
    reason: str
    code: str = ""
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class QueryRanks:
    """The ranks of one query under one configuration (``inf`` = miss)."""

    video_rank: float
    shot_rank: float
    video_in_shots_rank: float
    top_video: str | None = None  # source of the best-ranked video, for diagnosis


@dataclass(frozen=True)
class ConfigResult:
    config: EvalConfig
    vector_name: str
    seconds: float
    ranks: tuple[QueryRanks, ...]
    video: RankSummary
    shot: RankSummary
    video_in_shots: RankSummary
    #: The query encoder that ran (its name), e.g. the encoder's own text tower or M-CLIP.
    query_encoder: str = ""


@dataclass(frozen=True)
class CorpusStats:
    videos: int
    shots: int
    duration_s: float


def _ran(result: ConfigResult) -> str:
    return f", query encoder {result.query_encoder}" if result.query_encoder else ""


def _rank(value: float) -> int | None:
    return None if math.isinf(value) else int(value)


def _number(value: float) -> float | None:
    return None if math.isinf(value) else round(value, 4)


def _summary_json(summary: RankSummary) -> dict:
    return {"n": summary.n, "found": summary.found, "recall": {str(k): round(v, 4) for k, v in summary.recall.items()},
            "mrr": round(summary.mrr, 4), "median_rank": _number(summary.median_rank)}


def format_duration(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{seconds:.0f} s"


@dataclass(frozen=True)
class EvaluationReport:
    """Everything one evaluation found; ``entries`` are the evaluated log entries, in log order,
    aligned with each result's ``ranks``."""

    logs: str
    db: str
    created_at: str
    corpus: CorpusStats
    total_entries: int
    entries: tuple[LogEntry, ...]
    excluded: tuple[Excluded, ...]
    options: EvaluateOptions
    results: tuple[ConfigResult, ...]
    #: Lines of the log that could not be read, skipped.
    malformed: tuple[LogProblem, ...] = ()

    @property
    def file_stem(self) -> str:
        """``<log name>-evaluation-<date>``: what the report files are called."""
        stem = re.sub(r"[^\w.-]+", "_", Path(self.logs).stem).strip("._")[:60] or "log"
        try:
            made = datetime.fromisoformat(self.created_at).strftime("%Y-%m-%d-%H%M")
        except ValueError:
            made = "undated"
        return f"{stem}-evaluation-{made}"

    def to_json(self) -> dict:
        opts = self.options
        return {
            "logs": self.logs, "db": self.db, "created_at": self.created_at,
            "corpus": {**asdict(self.corpus), "duration": format_duration(self.corpus.duration_s)},
            "entries": {"total": self.total_entries, "evaluated": len(self.entries), "excluded": len(self.excluded),
                        "malformed": len(self.malformed)},
            "options": {"ks": list(opts.ks), "depth": opts.depth, "min_overlap_s": opts.overlap.min_overlap_s,
                        "min_overlap_fraction": opts.overlap.min_overlap_fraction},
            "definitions": DEFINITIONS,
            "configs": [{**r.config.to_json(), "vector_name": r.vector_name, "query_encoder_ran": r.query_encoder,
                         "seconds": round(r.seconds, 3),
                         "video": _summary_json(r.video), "shot": _summary_json(r.shot),
                         "video_in_shots": _summary_json(r.video_in_shots)} for r in self.results],
            "excluded": [{"line": e.line, "video": e.video, "reason": e.reason} for e in self.excluded],
            "malformed": [{"line": p.line, "problem": p.message} for p in self.malformed],
            "queries": [self._query_json(i, e) for i, e in enumerate(self.entries)],
        }

    def _query_json(self, index: int, entry: LogEntry) -> dict:
        ranks = {}
        for result in self.results:
            r = result.ranks[index]
            ranks[result.config.name] = {"video": _rank(r.video_rank), "shot": _rank(r.shot_rank),
                                         "video_in_shots": _rank(r.video_in_shots_rank), "top_video": r.top_video}
        return {"line": entry.line, "video": entry.video, "start_s": entry.start_s, "end_s": entry.end_s,
                "text": entry.text, "translation": entry.translation, "ranks": ranks}

    def to_markdown(self, per_query: bool = True) -> str:
        """The report for people; ``per_query=False`` leaves out the table of every query's ranks."""
        return "\n".join(_markdown_lines(self, per_query)) + "\n"

    def write(self, directory: str | Path) -> tuple[Path, Path]:
        """Write the Markdown and JSON reports into ``directory``, named by :attr:`file_stem`."""
        directory = Path(directory)
        md, js = directory / f"{self.file_stem}.md", directory / f"{self.file_stem}.json"
        atomic.write_bytes(md, self.to_markdown().encode("utf-8"))
        atomic.write_json(js, self.to_json())
        return md, js


def _percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def _median(value: float, depth: int) -> str:
    return f"> {depth}" if math.isinf(value) else f"{value:g}"


def _metric_rows(report: EvaluationReport) -> list[str]:
    rows = []
    for level, label in (("video", "video"), ("shot", "shot"), ("video_in_shots", "video among shots")):
        summaries = [getattr(r, level) for r in report.results]
        rows += [f"| {label} R@{k} | " + " | ".join(_percent(s.recall[k]) for s in summaries) + " |"
                 for k in report.options.ks]
        rows.append(f"| {label} MRR | " + " | ".join(f"{s.mrr:.3f}" for s in summaries) + " |")
        rows.append(f"| {label} median rank | " + " | ".join(_median(s.median_rank, report.options.depth)
                                                             for s in summaries) + " |")
    return rows


def _overlap_rule(overlap: OverlapOptions) -> str:
    parts = []
    if overlap.min_overlap_s:
        parts.append(f"at least {overlap.min_overlap_s:g} s")
    if overlap.min_overlap_fraction:
        parts.append(f"at least {100 * overlap.min_overlap_fraction:g} % of the shorter of the two")
    return "a shot matches when it overlaps the logged span" + (f" by {' and '.join(parts)}" if parts else "")


def _cell(value: float) -> str:
    return "–" if math.isinf(value) else str(int(value))


def _markdown_lines(report: EvaluationReport, per_query: bool) -> list[str]:
    c, opts = report.corpus, report.options
    names = [_escape(r.config.name) for r in report.results]
    overlap = opts.overlap
    lines = [
        f"# Evaluation of database `{report.db}`", "",
        f"- Logs: {_escape(report.logs)}: {report.total_entries} entries, {len(report.entries)} evaluated, "
        f"{len(report.excluded)} excluded" + (f", {len(report.malformed)} malformed lines skipped"
                                              if report.malformed else ""),
        f"- Corpus: {c.videos} videos, {c.shots:,} shots, {format_duration(c.duration_s)}",
        f"- Depth {opts.depth} (ranks beyond it are misses, shown –); {_overlap_rule(overlap)}",
        f"- Made {report.created_at}", "",
        "## Configurations", "",
        *[f"- **{_escape(r.config.name)}**: {_escape(r.config.describe())} (vector `{r.vector_name}`{_ran(r)}, "
          f"{r.seconds:.1f} s)"
          for r in report.results], "",
        "## Results", "",
        "| metric | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
        *_metric_rows(report), "",
        "## Definitions", "",
        *[f"- **{key.replace('video_in_shots', 'video among shots')}**: {text}" for key, text in DEFINITIONS.items()],
        "",
    ]
    if report.excluded:
        lines += ["## Excluded entries", "", "| line | video | reason |", "|---:|---|---|",
                  *[f"| {e.line} | {_escape(e.video)} | {_escape(e.reason)} |" for e in report.excluded], ""]
    if report.malformed:
        lines += ["## Malformed lines (skipped)", "", "| line | problem |", "|---:|---|",
                  *[f"| {p.line} | {_escape(p.message)} |" for p in report.malformed], ""]
    if not per_query:
        return lines
    header = " | ".join(f"{n}: video | {n}: shot" for n in names)
    lines += ["## Ranks per query", "", f"| line | video | description | {header} |",
              "|---:|---|---|" + "---:|---:|" * len(names)]
    for i, entry in enumerate(report.entries):
        cells = " | ".join(f"{_cell(r.ranks[i].video_rank)} | {_cell(r.ranks[i].shot_rank)}" for r in report.results)
        lines.append(f"| {entry.line} | {_escape(entry.video)} | {_escape(entry.text[:80])} | {cells} |")
    return lines


def _escape(text: str) -> str:
    """Log text as inert Markdown table text on one line: HTML (``<script>``, ``&``) escaped, and
    the characters of tables, code spans and links (``| ` [ ]``) taken literally."""
    text = html.escape(str(text), quote=False).replace("\r", " ").replace("\n", " ").replace("\\", "\\\\")
    for char in "|`[]":
        text = text.replace(char, "\\" + char)
    return text
