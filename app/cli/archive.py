"""CLI commands that manage the archive: ``check`` (drift between videos, points and files, and
its repair), ``remove`` (videos from a database) and ``databases`` (list, delete, rename).

Top-level imports stay light (``app.cli.main`` imports this module to build its parser).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from app.cli.output import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, print_json
from app.config import Settings

CHECK_EPILOG = """\
Drift found, and what --repair does:
  orphan_points       points without a catalog record: record rebuilt from the artifacts (or the points)
  interrupted         an ingest began and died: completed from the artifacts, or its points deleted
  missing_points      a record whose points are gone: points rewritten from the artifacts
  incomplete_points   some points gone: rewritten from the artifacts
  missing_media       the video file is gone: placed again from the original file if it is still there
  missing_thumbnails  thumbnails gone: cut again from the video file
A damaged catalog file is moved aside and every database rebuilt from the store.
Run it while no ingest writes to the database. Exit code 3 when drift remains.
"""


def add_parsers(sub, add_common: Callable, add_model: Callable) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    check = sub.add_parser("check", help="find (and --repair) drift between videos, points, thumbnails and media",
                           epilog=CHECK_EPILOG, formatter_class=fmt)
    check.add_argument("--repair", action="store_true", help="fix what can be fixed")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(handler="app.cli.archive:run_check")
    add_common(check)

    remove = sub.add_parser("remove", help="remove videos from a database (points, thumbnails, media)")
    remove.add_argument("videos", nargs="+", help="video ids or file names (as `videos` lists them)")
    remove.add_argument("--keep-files", action="store_true",
                        help="keep the thumbnails, artifacts and media (by default they go unless another "
                             "database lists the video)")
    remove.set_defaults(handler="app.cli.archive:run_remove")
    add_common(remove)

    dbs = sub.add_parser("databases", help="list, delete or rename databases")
    dbs.set_defaults(handler="app.cli.archive:run_databases")
    add_common(dbs)
    # Options left out after the action keep what was given before it (SUPPRESS: no default overrides them).
    actions = dbs.add_subparsers(dest="db_action")
    delete = actions.add_parser("delete", help="delete a database: its points, its catalog, and the files of "
                                "videos no other database lists", argument_default=argparse.SUPPRESS)
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    delete.add_argument("--keep-files", action="store_true", help="keep thumbnails, artifacts and media")
    delete.set_defaults(handler="app.cli.archive:run_delete")
    add_common(delete)
    rename = actions.add_parser("rename", help="rename a database (its points are copied into a new collection)",
                                argument_default=argparse.SUPPRESS)
    rename.add_argument("old")
    rename.add_argument("new")
    rename.set_defaults(handler="app.cli.archive:run_rename")
    add_common(rename)


def _print_reports(reports) -> None:
    for report in reports:
        for problem in report.catalog_problems:
            print(f"catalog  {problem}")
        for d in report.drift:
            what = f"{d.video_id} {d.source}".strip()
            after = f" -> {d.action}" if d.action else (f" ({d.advice})" if d.advice else "")
            print(f"{d.kind:18} {what}: {d.detail}{after}")
        state = "clean" if report.clean else f"{len(report.unrepaired)} problems left"
        if report.drift and not report.unrepaired:
            state = f"{len(report.drift)} problems repaired"
        print(f"'{report.db}': {report.videos} videos, {report.points} points; {state}", file=sys.stderr)


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import Services
    from pipeline.core import check_db_name
    from pipeline.index import check_archive

    check_db_name(settings.db)
    services = Services.start(settings)
    try:
        reports = check_archive(services.store, services.catalog, services.layout, settings.db, args.repair)
    finally:
        services.close()
    if args.json:
        print_json([r.to_json() for r in reports])
    else:
        _print_reports(reports)
    left = any(r.unrepaired or any(not c.rebuilt for c in r.catalog_problems) for r in reports)
    if left and not args.repair:
        print(f"run `python -m app check --db {settings.db} --repair` to fix what can be fixed", file=sys.stderr)
    return EXIT_PARTIAL if left else EXIT_OK


def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import Services
    from pipeline.core import check_db_name
    from pipeline.index import find_videos, remove_video

    check_db_name(settings.db)
    services = Services.start(settings)
    failed = 0
    try:
        for wanted in args.videos:
            found = find_videos(services.catalog, settings.db, wanted)
            if len(found) != 1:
                ids = ", ".join(v.video_id for v in found)
                why = f"matches {len(found)} videos ({ids}): give the id" if found else "is not in the database"
                print(f"FAILED  {wanted}: {why}")
                failed += 1
                continue
            removed = remove_video(services.store, services.catalog, services.layout, settings.db,
                                   found[0].video_id, keep_files=args.keep_files)
            files = "files removed" if removed.files_removed else "files kept"
            print(f"removed {found[0].video_id} {found[0].source}: {removed.points} points, {files}")
    finally:
        services.close()
    return EXIT_PARTIAL if failed and failed < len(args.videos) else (EXIT_ERROR if failed else EXIT_OK)


def run_databases(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import Services

    services = Services.start(settings)
    try:
        for name in services.databases():
            count = services.store.count(name) if services.store.has_collection(name) else 0
            print(f"{name}\t{count} shots\t{services.catalog.totals(name).videos} videos")
        for warning in services.warnings():
            print(f"warning: {warning}", file=sys.stderr)
    finally:
        services.close()
    return EXIT_OK


def run_delete(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import Services
    from pipeline.index import delete_database

    if not getattr(args, "yes", False):
        print(f"error: deleting database '{args.name}' cannot be undone: add --yes to confirm", file=sys.stderr)
        return EXIT_USAGE
    services = Services.start(settings)
    try:
        removed = delete_database(services.store, services.catalog, services.layout, args.name,
                                  getattr(args, "keep_files", False))
    finally:
        services.close()
    print(f"deleted '{args.name}': {removed.videos} videos, {removed.points} points; files of "
          f"{removed.files_removed} videos removed, {removed.files_kept} kept")
    return EXIT_OK


def run_rename(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import Services
    from pipeline.index import rename_database

    services = Services.start(settings)
    try:
        points = rename_database(services.store, services.catalog, args.old, args.new)
    finally:
        services.close()
    print(f"renamed '{args.old}' to '{args.new}' ({points} points)")
    return EXIT_OK
