"""CLI commands for players and editors: ``subtitles`` (a video's transcript as WebVTT or SRT) and
``link`` (the deep link that opens the web app's player at a moment). ``search --edl`` and
``duplicates --edl`` write edit decision lists.

Top-level imports stay light (``app.cli.main`` imports this module to build its parser).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from app.cli.output import EXIT_OK
from app.config import Settings


def add_parsers(sub, add_common: Callable, add_model: Callable) -> None:
    subs = sub.add_parser("subtitles", help="write a video's transcript as WebVTT or SRT subtitles")
    subs.add_argument("video", help="video id or file name (as `videos` lists them)")
    subs.add_argument("--format", choices=["vtt", "srt"], default="vtt", help="WebVTT (default) or SubRip SRT")
    subs.add_argument("--out", help="file to write (default: print to standard output)")
    subs.set_defaults(handler="app.cli.exports:run_subtitles")
    add_common(subs)

    link = sub.add_parser("link", help="print the deep link that opens the web app's player on a video at a moment")
    link.add_argument("video", help="video id or file name")
    link.add_argument("--t", default="0", help="the moment: seconds (83.5) or HH:MM:SS[.mmm] (default 0)")
    link.set_defaults(handler="app.cli.exports:run_link")
    add_common(link)


def one_video(settings: Settings, wanted: str):
    """The catalog entry ``wanted`` names in the settings' database (read without opening the store)."""
    from app.services import open_settings_catalog
    from pipeline.core import check_db_name
    from pipeline.errors import ConfigError, UnknownDatabaseError
    from pipeline.index import find_videos

    check_db_name(settings.db)
    catalog = open_settings_catalog(settings)
    try:
        known = catalog.videos(settings.db)
        if not known and settings.db not in catalog.databases():
            raise UnknownDatabaseError(settings.db, catalog.databases())
        found = [v for v in find_videos(catalog, settings.db, wanted) if v.video_id in known]
    finally:
        catalog.close()
    if len(found) != 1:
        why = "no video" if not found else f"{len(found)} videos"
        raise ConfigError(f"{why} named {wanted!r} in database {settings.db!r}: give the video id "
                          "(`python -m app videos` lists them)")
    return found[0]


def save_edl(path: str, clips, title: str) -> None:
    """``clips`` (:class:`pipeline.exports.EdlClip`) as a CMX3600 EDL at ``path``; one line on stderr."""
    from pathlib import Path

    from pipeline.core import atomic
    from pipeline.exports import write_edl

    atomic.write_bytes(Path(path), write_edl(clips, title=title).encode("utf-8"))
    print(f"EDL written: {path} ({len(clips)} events)", file=sys.stderr)


def run_subtitles(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.config import public_url
    from pipeline.core import atomic
    from pipeline.exports import deep_link, subtitles, video_transcript
    from pipeline.index import DataLayout

    entry = one_video(settings, args.video)
    segments = video_transcript(DataLayout(settings.data_dir), entry.video_id, entry.source)
    text = subtitles(segments, args.format, entry.source, deep_link(public_url(), settings.db, entry.video_id, 0.0))
    if args.out:
        atomic.write_bytes(Path(args.out), text.encode("utf-8"))
        print(f"{args.format.upper()} written: {args.out} ({len(segments)} segments)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def run_link(args: argparse.Namespace, settings: Settings) -> int:
    from app.config import public_url
    from pipeline.errors import ConfigError
    from pipeline.exports import deep_link, parse_time

    entry = one_video(settings, args.video)
    t = parse_time(args.t)
    if t is None:
        raise ConfigError(f"--t must be seconds or HH:MM:SS[.mmm], got {args.t!r}")
    if entry.duration_s and t > entry.duration_s:
        raise ConfigError(f"--t {args.t} is past the end of {entry.source} ({entry.duration_s:.1f} s)")
    print(deep_link(public_url(), settings.db, entry.video_id, t))
    return EXIT_OK
