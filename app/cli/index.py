"""CLI commands for the archive: ``ingest``, ``search``, ``videos``, ``databases`` and ``serve``.

Each command parses its values, calls one pipeline function and prints records. Top-level
imports stay light (``app.cli.main`` imports this module to build its parser).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import asdict

from app.cli.output import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, print_json
from app.config import Settings


def add_parsers(sub, add_common: Callable, add_model: Callable) -> None:
    ingest = sub.add_parser("ingest", help="index video files and folders into a database")
    ingest.add_argument("inputs", nargs="+", help="video files or folders (searched recursively)")
    ingest.add_argument("--fps", type=float, help="frames sampled per second (env BUSCA_FPS, default 2)")
    ingest.add_argument("--force", action="store_true", help="recompute artifacts even if they exist")
    ingest.add_argument("--keep-frames", action="store_true", help="keep every sampled frame as JPEG")
    ingest.add_argument("--skip-similar", type=float, default=3.0, metavar="LEVELS",
                        help="reuse the last embedding for a frame within this many grey levels of the last frame "
                             "encoded, in every 16x16 cell (default 3; 0 encodes every frame)")
    ingest.add_argument("--decoder", choices=("pyav", "torchcodec"), default="pyav",
                        help="frame source: pyav (CPU) or torchcodec (NVDEC with its CUDA build)")
    ingest.add_argument("--decode-ahead", type=int, metavar="N",
                        help="videos decoding while one is encoded (default: 4 on a GPU, 0 on a CPU)")
    ingest.add_argument("--json", action="store_true", help="print the per-file results as JSON")
    ingest.set_defaults(handler="app.cli.index:run_ingest")
    add_common(ingest)
    add_model(ingest)

    search = sub.add_parser("search", help="search shots by text, image or both")
    search.add_argument("--text", help="description of the scene")
    search.add_argument("--image", help="example image (JPG, PNG, WEBP, AVIF)")
    search.add_argument("--image-weight", type=float, default=0.5, help="weight of the image with --text (0..1)")
    search.add_argument("--k", type=int, default=10, help="number of results")
    search.add_argument("--one-per-video", action="store_true", help="keep only the best shot of each video")
    search.add_argument("--video", action="append", help="restrict to this video id (repeatable)")
    search.add_argument("--json", action="store_true", help="print JSON instead of a table")
    search.set_defaults(handler="app.cli.index:run_search")
    add_common(search)
    add_model(search)

    videos = sub.add_parser("videos", help="list the videos indexed in a database")
    videos.add_argument("--json", action="store_true")
    videos.set_defaults(handler="app.cli.index:run_videos")
    add_common(videos)

    dbs = sub.add_parser("databases", help="list databases")
    dbs.set_defaults(handler="app.cli.index:run_databases")
    add_common(dbs)

    serve = sub.add_parser("serve", help="start the web app (the default without a command)")
    serve.add_argument("--host", help="bind address (env BUSCA_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (env BUSCA_PORT, default 7860)")
    serve.set_defaults(handler="app.cli.index:run_serve")
    add_common(serve)
    add_model(serve)


def run_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import Services, make_decoder
    from pipeline.core import check_db_name
    from pipeline.index import IngestOptions, ingest_paths
    from pipeline.media import DecodeOptions

    check_db_name(settings.db)
    services = Services.start(settings)
    try:
        gpu = services.encoder.device != "cpu"
        ahead = args.decode_ahead if args.decode_ahead is not None else (4 if gpu else 0)
        options = IngestOptions(decode=DecodeOptions(fps=settings.fps, batch_size=64 if gpu else 32), force=args.force,
                                keep_frames=args.keep_frames, skip_similar=args.skip_similar, decode_ahead=ahead)
        decoder = make_decoder(args.decoder, services.encoder.device)
        results = ingest_paths(args.inputs, services.encoder, services.store, services.layout, settings.db, options,
                               decoder)
    finally:
        services.close()
    if args.json:
        print_json([asdict(r) for r in results])
    else:
        for r in results:
            if r.status == "indexed":
                how = "reused artifacts" if r.reused else f"{r.seconds:.1f} s"
                print(f"ok      {r.path}: {r.n_shots} shots, {r.n_scenes} scenes ({how}) id={r.video_id}")
            else:
                print(f"FAILED  {r.error}")
    failed = sum(r.status != "indexed" for r in results)
    print(f"{len(results) - failed} indexed, {failed} failed, database '{settings.db}'", file=sys.stderr)
    if not results:
        print("error: no video files found in the given inputs", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_PARTIAL if failed else EXIT_OK


def _require_db(services, db: str) -> None:
    from pipeline.core import check_db_name
    from pipeline.errors import UnknownDatabaseError

    check_db_name(db)
    if not services.store.has_collection(db):
        raise UnknownDatabaseError(db, services.databases())


def run_search(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import Services
    from pipeline.search import Query, search
    from pipeline.sources import load_image

    image = load_image(args.image) if args.image else None
    query = Query(text=args.text, image=image, image_weight=args.image_weight, k=args.k,
                  one_per_video=args.one_per_video, video_ids=tuple(args.video) if args.video else None)
    services = Services.start(settings)
    try:
        _require_db(services, settings.db)
        hits = search(services.store, services.encoder, settings.db, query)
    finally:
        services.close()
    if args.json:
        print_json([{**h.to_json(), "thumbnail_path": str(settings.data_dir / h.thumbnail)} for h in hits])
        return EXIT_OK
    if not hits:
        print("no results")
        return EXIT_OK
    print(f"{'#':>3}  {'score':>6}  {'video':30}  {'start':>12} - {'end':12}  {'scene':>5} {'class':>5}  thumbnail")
    for h in hits:
        print(f"{h.rank:>3}  {h.score:6.3f}  {h.source[:30]:30}  {h.start_tc:>12} - {h.end_tc:12}  "
              f"{h.scene:>5} {h.class_id:>5}  {settings.data_dir / h.thumbnail}")
    return EXIT_OK


def run_videos(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import Services
    from pipeline.core import format_timecode

    services = Services.start(settings)
    try:
        _require_db(services, settings.db)
        videos = list(services.catalog.videos(settings.db).values())
    finally:
        services.close()
    if args.json:
        print_json([asdict(v) for v in videos])
        return EXIT_OK
    print(f"{'video id':20}  {'duration':>12}  {'shots':>5} {'scenes':>6}  source")
    for v in videos:
        print(f"{v.video_id:20}  {format_timecode(v.duration_s):>12}  {v.n_shots:>5} {v.n_scenes:>6}  {v.source}")
    print(f"{len(videos)} videos in '{settings.db}'", file=sys.stderr)
    return EXIT_OK


def run_databases(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import Services

    services = Services.start(settings)
    try:
        for name in services.databases():
            count = services.store.count(name) if services.store.has_collection(name) else 0
            print(f"{name}\t{count} shots\t{len(services.catalog.videos(name))} videos")
    finally:
        services.close()
    return EXIT_OK


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from app.ui import launch
    except ImportError as err:
        print(f"error: the web app is not available ({err})", file=sys.stderr)
        return EXIT_ERROR
    return launch(settings, host=getattr(args, "host", None), port=getattr(args, "port", None))

