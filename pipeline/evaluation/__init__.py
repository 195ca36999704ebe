"""Recall against documentalists' time-coded logs: reading logs, configurations, metrics, the run
and its report."""

from pipeline.evaluation.config import (
    COMPARE_DEFAULT,
    EvalConfig,
    EvaluateOptions,
    parse_config,
    parse_ks,
    parse_min_overlap,
)
from pipeline.evaluation.logs import LogOptions
from pipeline.evaluation.report import EvaluationReport
from pipeline.evaluation.run import evaluate

__all__ = [
    "COMPARE_DEFAULT",
    "EvalConfig",
    "EvaluateOptions",
    "EvaluationReport",
    "LogOptions",
    "evaluate",
    "parse_config",
    "parse_ks",
    "parse_min_overlap",
]
