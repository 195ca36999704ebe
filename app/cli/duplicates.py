"""CLI command ``duplicates``: where the same footage appears in several videos of a database.

Reads the shot vectors in the store and the frame embeddings kept at ingest; no model is loaded.
Top-level imports stay light (``app.cli.main`` imports this module to build its parser).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable

from app.cli.output import EXIT_OK, print_json
from app.config import Settings

EPILOG = """\
How it works: each shot is searched with its own stored vector; shots of other videos at or above
--min-similarity (cosine) are the same material. Shot pairs that follow each other in both videos
at one time offset are chained into one reuse, and its spans are refined on the sampled frames.
Examples:
  python -m app duplicates --db archivo                    every reuse in the database
  python -m app duplicates --db archivo --video DG90602601.mp4 --json
  python -m app duplicates --db archivo --edl reusos.edl   both spans of each reuse, for an editor
"""


def add_parsers(sub, add_common: Callable, add_model: Callable) -> None:
    dup = sub.add_parser("duplicates", help="find reused footage: the same material in several videos",
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    dup.add_argument("--video", action="append", help="only the material of this video (id or file name; repeatable)")
    dup.add_argument("--min-similarity", type=float, default=0.95,
                     help="cosine of two shot vectors that counts as the same material (default 0.95)")
    dup.add_argument("--frame-similarity", type=float, default=0.9,
                     help="cosine of two sampled frames that still match while a reuse grows (default 0.9)")
    dup.add_argument("--min-shots", type=int, default=1, help="smallest reuse, in matched shot pairs (default 1)")
    dup.add_argument("--min-duration", type=float, default=0.0, help="smallest reuse, in seconds (default 0)")
    dup.add_argument("--max-gap", type=int, default=1,
                     help="shots one video may have between two aligned shots that the other lacks (default 1)")
    dup.add_argument("--json", action="store_true", help="print the reuses as JSON (with deep links)")
    dup.add_argument("--edl", metavar="FILE", help="also write a CMX3600 EDL: both spans of each reuse")
    dup.set_defaults(handler="app.cli.duplicates:run_duplicates")
    add_common(dup)


def _videos(catalog, db: str, wanted: list[str] | None):
    from pipeline.errors import ConfigError, UnknownDatabaseError
    from pipeline.index import find_videos

    every = catalog.videos(db)
    if not every and db not in catalog.databases():
        raise UnknownDatabaseError(db, catalog.databases())
    if not wanted:
        return sorted(every.values(), key=lambda v: (v.source.casefold(), v.video_id))
    chosen = {}
    for name in wanted:
        found = [v for v in find_videos(catalog, db, name) if v.video_id in every]
        if not found:
            raise ConfigError(f"no video {name!r} in database {db!r}: give a video id or a file name as "
                              "`python -m app videos` lists them")
        chosen.update({v.video_id: v for v in found})
    return list(chosen.values())


def run_duplicates(args: argparse.Namespace, settings: Settings) -> int:
    from app.config import public_url
    from app.services import Services
    from pipeline.core import check_db_name, format_timecode
    from pipeline.errors import BuscaError
    from pipeline.exports import deep_link
    from pipeline.search import DuplicateOptions, find_reuse

    check_db_name(settings.db)
    options = DuplicateOptions(min_similarity=args.min_similarity, frame_similarity=args.frame_similarity,
                               min_shots=args.min_shots, min_duration_s=args.min_duration,
                               max_gap_shots=args.max_gap)
    services = Services.start(settings)
    try:
        videos = _videos(services.catalog, settings.db, args.video)
        if not videos:
            print(f"database '{settings.db}' has no videos", file=sys.stderr)
            return EXIT_OK
        vector = Counter(v.encoder for v in videos).most_common(1)[0][0]
        layout = services.layout

        def frames(video_id: str):
            try:
                return layout.load_frames(video_id, vector)
            except (OSError, ValueError, BuscaError):
                return None  # artifacts gone: shot spans only

        def progress(done: int, total: int) -> None:
            if total > 1:
                print(f"\r{done}/{total} videos", end="" if done < total else "\n", file=sys.stderr)

        reuses = find_reuse(services.store, settings.db, vector, videos, options, frames, progress)
        if args.edl:
            _write_edl(args.edl, reuses, layout, settings.db)
    finally:
        services.close()
    base = public_url()
    if args.json:
        out = []
        for r in reuses:
            item = r.to_json()
            for key, span in (("first", r.first), ("second", r.second)):
                item[key]["link"] = deep_link(base, settings.db, span.video_id, span.start_s)
            out.append(item)
        print_json(out)
        return EXIT_OK
    for n, r in enumerate(reuses, start=1):
        frames_note = f", frames {r.frame_similarity:.3f}" if r.frame_similarity is not None else ""
        print(f"reuse {n}: {r.duration_s:.1f} s, similarity {r.similarity:.3f}{frames_note}, {r.pairs} shot pairs")
        for span in (r.first, r.second):
            print(f"    {span.source[:40]:40}  {format_timecode(span.start_s)} - {format_timecode(span.end_s)}  "
                  f"{deep_link(base, settings.db, span.video_id, span.start_s)}")
    print(f"{len(reuses)} reuses among {len(videos)} videos of '{settings.db}'", file=sys.stderr)
    return EXIT_OK


def _write_edl(path: str, reuses, layout, db: str) -> None:
    from app.cli.exports import save_edl
    from app.config import public_url
    from pipeline.errors import ConfigError
    from pipeline.exports import hit_clips

    spans = [span for r in reuses for span in (r.first, r.second)]
    if not spans:
        raise ConfigError("no reuse found: nothing to write to the EDL")
    notes = [f"reuse {n} of {r.first.source} in {r.second.source}" for n, r in enumerate(reuses, start=1)
             for _ in (0, 1)]
    save_edl(path, hit_clips(spans, layout, db, public_url(), notes), f"BuscaEscenas reuses {db}")
