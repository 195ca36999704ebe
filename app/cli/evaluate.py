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

Configurations (--config, repeatable):
  NAME:query=text|translation|text+translation[,weight=W][,model=SPEC][,qe=auto|native|mclip|translate]
  (es/en = text/translation; qe = query encoder) or JSON: '{"name": "b", "query": "es+en", "weight": 0.3}'
--compare alone: text vs text+translation at weight 0.5, plus every other encoder the database holds,
plus M-CLIP and Apertium translation for English-only encoders (where available).

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


def compare_configs(services, db: str, encoder) -> tuple:
    """``--compare``: text vs text+translation, each other encoder the database holds, and the
    query encoders an English-only encoder can use here (M-CLIP, Apertium translation)."""
    from app.services import KNOWN_SPECS
    from models.catalogue import ORIGINAL_ENCODER, find_encoder, is_multilingual
    from pipeline.evaluation import COMPARE_DEFAULT, EvalConfig

    configs = list(COMPARE_DEFAULT)
    records = [r for r in services.db_encoders(db).values() if r.model]
    specs = [getattr(encoder, "model_id", encoder.name)] + [r.model for r in records]
    for spec in dict.fromkeys(specs):
        short = (find_encoder(spec).name if find_encoder(spec) else spec.split("/")[0])[:20]
        if spec != specs[0]:
            configs.append(EvalConfig(name=short, model=spec))
        if is_multilingual(spec) is False and spec in KNOWN_SPECS:
            for kind in ("mclip", "translate"):
                if not services.available(kind) or (kind == "mclip" and spec != ORIGINAL_ENCODER):
                    continue  # no M-CLIP files here, or no Apertium: nothing to compare
                configs.append(EvalConfig(name=f"{short}-{kind}", model=None if spec == specs[0] else spec,
                                          query_encoder=kind))
    return tuple(configs)


def evaluate_options(args: argparse.Namespace, compare: tuple = (), settings: Settings | None = None):
    """The run's options; ``compare`` holds the ``--compare`` configurations (default: text vs
    text+translation); ``settings`` give the log caps (default: from the environment)."""
    from pipeline.evaluation import (
        COMPARE_DEFAULT,
        EvalConfig,
        EvaluateOptions,
        LogOptions,
        parse_config,
        parse_ks,
        parse_min_overlap,
    )

    settings = settings or Settings.from_env()
    if args.config:
        configs = tuple(parse_config(spec) for spec in args.config)
    else:
        configs = (compare or COMPARE_DEFAULT) if args.compare else (EvalConfig(),)
    return EvaluateOptions(configs=configs, ks=parse_ks(args.ks), depth=args.depth,
                           overlap=parse_min_overlap(args.min_overlap),
                           log=LogOptions(format=args.format, paren_translation=not args.no_paren_translation,
                                          max_lines=settings.eval_max_lines,
                                          max_bytes=int(settings.eval_max_mb * 1024 * 1024)),
                           progress=sys.stderr.isatty(), within_s=args.within)


def run_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli.output import EXIT_OK, print_json
    from app.services import Services
    from pipeline.core import check_db_name
    from pipeline.errors import UnknownDatabaseError
    from pipeline.evaluation import evaluate

    check_db_name(settings.db)
    evaluate_options(args, settings=settings)  # bad options fail before the store opens
    services = Services.start(settings)
    try:
        if not services.store.has_collection(settings.db):
            raise UnknownDatabaseError(settings.db, services.databases())
        base = services.encoder_for_db(settings.db, settings.clip_model if settings.clip_model_explicit else None)
        options = evaluate_options(args, compare_configs(services, settings.db, base) if args.compare else (),
                                   settings)
        encoders = {c.model: services.encoder_named(c.model) for c in options.configs if c.model}
        text_encoders = {c.name: services.query_encoder(settings.db, encoders.get(c.model, base), c.query_encoder)[0]
                         for c in options.configs}
        report = evaluate(args.logs, services.store, base, services.layout, settings.db, options, encoders,
                          text_encoders=text_encoders)
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
