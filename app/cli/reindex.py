"""CLI command ``reindex``: add another encoder's vectors to every shot of an existing database.

Top-level imports stay light (``app.cli.main`` imports this module to build its parser).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import asdict

from app.cli.output import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, print_json
from app.config import Settings

EPILOG = """\
Each video's kept media (data/media) is decoded again at the sampling it was indexed with, and
every shot gets the new model's vector beside the ones it has: same shot ids, same segmentation.
Killed, it resumes where it stopped (run it again); videos that already have the vector are
skipped. Then search with either encoder: --clip-model SPEC, or the encoder picker in the web app.

  python -m app reindex --db archivo --model ViT-B-16-SigLIP2/webli
  python -m app reindex --db archivo --model ViT-L-14/openai --video 0123456789abcdef0123
"""


def add_parsers(sub, add_common: Callable, add_model: Callable) -> None:
    p = sub.add_parser("reindex", help="add another encoder's vectors to an existing database",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="encoder to add: a catalogue name (python -m app models) or an "
                   "open_clip spec")
    p.add_argument("--video", action="append", help="only this video id (repeatable)")
    p.add_argument("--json", action="store_true", help="print the per-video results as JSON")
    p.set_defaults(handler="app.cli.reindex:run_reindex")
    add_common(p)
    p.add_argument("--device", help="auto, cuda, mps or cpu (env BUSCA_DEVICE)")
    p.add_argument("--models-dir", help="load the model from this folder, never from the network (env BUSCA_MODELS_DIR)")


def _line(result) -> str:
    if result.status == "failed":
        return f"FAILED  {result.error}"
    if result.status == "present":
        return f"ok      {result.source}: already has the vectors ({result.n_shots} shots)"
    how = "reused artifacts" if result.reused else f"{result.seconds:.1f} s"
    return f"ok      {result.source}: {result.n_shots} shots ({how}) id={result.video_id}"


def run_reindex(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import Services
    from pipeline.core import check_db_name
    from pipeline.errors import UnknownDatabaseError
    from pipeline.index import reindex

    check_db_name(settings.db)
    services = Services.start(settings)
    try:
        if not services.store.has_collection(settings.db):
            raise UnknownDatabaseError(settings.db, services.databases())
        encoder = services.encoder_named(args.model)
        encoder.load()  # a model that cannot be had fails here, once
        report = None if args.json else (lambda r: print(_line(r), flush=True))
        results = reindex(encoder, services.store, services.layout, settings.db, video_ids=args.video,
                          short_side=max(224, encoder.image_size), progress=sys.stderr.isatty(), report=report,
                          catalog=services.catalog)
        held = ", ".join(services.db_encoders(settings.db))
    finally:
        services.close()
    if args.json:
        print_json([asdict(r) for r in results])
    failed = sum(r.status == "failed" for r in results)
    added = sum(r.status == "added" for r in results)
    print(f"{added} videos re-indexed, {len(results) - added - failed} already had the vectors, {failed} failed; "
          f"database '{settings.db}' holds: {held}", file=sys.stderr)
    if not results:
        print(f"error: database '{settings.db}' has no videos in its catalog", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_PARTIAL if failed else EXIT_OK
