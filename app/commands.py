"""CLI command implementations: parse values, call one pipeline function, print records."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from app.cli import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, print_json
from app.config import Settings
from app.services import Services
from pipeline.artifacts import check_db_name
from pipeline.decode import DecodeOptions
from pipeline.errors import UnknownDatabaseError
from pipeline.images import load_image
from pipeline.ingest import IngestOptions, ingest_paths
from pipeline.search import Query, search
from pipeline.timecode import format_timecode


def run_ingest(args: argparse.Namespace, settings: Settings) -> int:
    check_db_name(settings.db)
    services = Services.start(settings)
    try:
        options = IngestOptions(decode=DecodeOptions(fps=settings.fps), force=args.force,
                                keep_frames=args.keep_frames)
        results = ingest_paths(args.inputs, services.encoder, services.store, services.layout, settings.db, options)
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


def _require_db(services: Services, db: str) -> None:
    check_db_name(db)
    if not services.store.has_collection(db):
        raise UnknownDatabaseError(db, services.databases())


def run_search(args: argparse.Namespace, settings: Settings) -> int:
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
    services = Services.start(settings)
    try:
        _require_db(services, settings.db)
        videos = list(services.layout.catalog(settings.db).values())
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
    services = Services.start(settings)
    try:
        for name in services.databases():
            count = services.store.count(name) if services.store.has_collection(name) else 0
            print(f"{name}\t{count} shots\t{len(services.layout.catalog(name))} videos")
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

