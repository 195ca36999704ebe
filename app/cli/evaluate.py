"""CLI command ``evaluate``: recall of a database against documentalists' time-coded logs.

Top-level imports stay light (``app.cli`` imports this module to build its parser); the
pipeline, the stores and the models are imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from app.config import Settings

EVALUATE_EPILOG = """\
Log formats (by extension, or --format):
  plain  VIDEO HH:MM:SS[.mmm] - HH:MM:SS[.mmm] DESCRIPTION (TRANSLATION)
         a trailing parenthesised part is the translation (--no-paren-translation keeps it in the text)
  csv    video,start,end,text[,translation]  (positional, or named in a header row;
         semicolons as Spanish Excel writes them are recognised)
  tsv    the same, tab-separated
  jsonl  {"video": ..., "start": ..., "end": ..., "text": ..., "translation": ...} per line
Times: HH:MM:SS[.mmm], frame timecodes HH:MM:SS:FF (at the indexed video's frame rate), or
seconds. Malformed lines are skipped and listed (stderr and the report); a log with no valid
line is an error.

Configurations (--config, repeatable; --compare alone = text vs text+translation at weight 0.5):
  NAME:query=text|translation|text+translation[,weight=W][,model=SPEC]   (es/en = text/translation)
  or JSON: '{"name": "b", "query": "es+en", "weight": 0.3}'

Two-part queries: a description "A >> B" (or "A → B") is searched as "A, then B within --within
seconds"; its ranked pairs count as hits from A's start to B's end.

Metrics: video-level R@K (one-per-video ranking), shot-level R@K (a shot of the logged video
overlapping the logged span, --min-overlap), video among the top-K shots, MRR, median rank.
"""

def add_parsers(sub, add_common: Callable, add_model: Callable) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    ev = sub.add_parser("evaluate", help="recall of a database against time-coded logs (R@K, MRR)",
                        epilog=EVALUATE_EPILOG, formatter_class=fmt)
    ev.add_argument("logs", help="log file: plain lines, .csv, .tsv or .jsonl")
    ev.add_argument("--format", default="auto", choices=["auto", "plain", "csv", "tsv", "jsonl"])
    ev.add_argument("--no-paren-translation", action="store_true",
                    help="plain logs: keep a trailing (parenthesised) part in the description")
    ev.add_argument("--config", action="append", metavar="SPEC", help="a configuration to evaluate (repeatable)")
    ev.add_argument("--compare", action="store_true", help="without --config: text vs text+translation (0.5)")
    ev.add_argument("--ks", default="1,2,5,10,20,50", help="K values of R@K")
    ev.add_argument("--depth", type=int, default=100, help="shots/videos fetched per query; deeper ranks are misses")
    ev.add_argument("--min-overlap", default="0", help="shot-level match: seconds (1.5, 1.5s) or percentage "
                    "of the shorter interval (50%%); default: any overlap")
    ev.add_argument("--within", type=float, default=60.0,
                    help="two-part entries (A >> B): B starts at most this many seconds after A ends (default 60)")
    ev.add_argument("--out", help="write the report into this directory as LOG-evaluation-DATE.md and .json")
    ev.add_argument("--json", action="store_true", help="print the JSON report instead of the Markdown summary")
    ev.set_defaults(handler="app.cli.evaluate:run_evaluate")
    add_common(ev)
    add_model(ev)


# --- evaluate -------------------------------------------------------------------------------


def evaluate_options(args: argparse.Namespace):
    from pipeline.evaluation import (
        COMPARE_DEFAULT,
        EvalConfig,
        EvaluateOptions,
        LogOptions,
        parse_config,
        parse_ks,
        parse_min_overlap,
    )

    if args.config:
        configs = tuple(parse_config(spec) for spec in args.config)
    else:
        configs = COMPARE_DEFAULT if args.compare else (EvalConfig(),)
    return EvaluateOptions(configs=configs, ks=parse_ks(args.ks), depth=args.depth,
                           overlap=parse_min_overlap(args.min_overlap),
                           log=LogOptions(format=args.format, paren_translation=not args.no_paren_translation),
                           progress=sys.stderr.isatty(), within_s=args.within)


def run_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli.output import EXIT_OK, print_json
    from app.services import Services, make_encoder
    from pipeline.core import check_db_name
    from pipeline.evaluation import evaluate

    check_db_name(settings.db)
    options = evaluate_options(args)
    services = Services.start(settings)
    try:
        encoders = {c.model: make_encoder(c.model, settings.device)
                    for c in options.configs if c.model}
        report = evaluate(args.logs, services.store, services.encoder, services.layout, settings.db, options, encoders)
    finally:
        services.close()
    if args.out:
        for path in report.write(args.out):
            print(f"wrote {path}", file=sys.stderr)
    if report.malformed:
        shown = "; ".join(f"line {p.line}: {p.message}" for p in report.malformed[:5])
        more = f" (and {len(report.malformed) - 5} more)" if len(report.malformed) > 5 else ""
        print(f"{len(report.malformed)} malformed log line(s) skipped: {shown}{more}", file=sys.stderr)
    if report.excluded:
        print(f"{len(report.excluded)} of {report.total_entries} log entries excluded (listed in the report)",
              file=sys.stderr)
    if args.json:
        print_json(report.to_json())
    else:
        sys.stdout.write(report.to_markdown(per_query=False))
    return EXIT_OK
