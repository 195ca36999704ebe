"""Managing the archive: remove a video from a database, delete or rename a database.

A video's files (its artifacts and thumbnails under ``videos/<id>``, its media under
``media/<id>.*``) are shared by every database that holds the video, so they are removed only
when no database of the catalog lists it any more. Order of the writes: the points go first
(the video leaves search at once), then the catalog row, then the files; a process killed in
between leaves drift that ``check`` reports and a second run of the same command finishes.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass

from pipeline.core import check_db_name
from pipeline.errors import ConfigError, UnknownDatabaseError
from pipeline.index.catalog import Catalog
from pipeline.index.layout import DataLayout
from pipeline.records import IndexedVideo
from pipeline.store import VectorStore, copy_collection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Removed:
    """What a removal took away."""

    db: str
    videos: int
    points: int
    files_removed: int  # videos whose files went (no other database lists them)
    files_kept: int  # videos whose files stay (another database lists them, or keep_files)


def find_videos(catalog: Catalog, db: str, wanted: str) -> list[IndexedVideo]:
    """The videos of ``db`` a user means by ``wanted``: a video id, or a source name (exact, then
    ignoring case). Pending videos (an ingest that never finished) count by id."""
    videos = catalog.videos(db)
    if wanted in videos:
        return [videos[wanted]]
    exact = [v for v in videos.values() if v.source == wanted]
    if exact:
        return exact
    folded = [v for v in videos.values() if v.source.casefold() == wanted.casefold()]
    if folded:
        return folded
    if wanted in catalog.pending(db):
        return [IndexedVideo(wanted, "", "", 0.0, 0, 0, 0, 0, "", "")]
    return []


def remove_files(layout: DataLayout, catalog: Catalog, video_id: str) -> bool:
    """Delete the video's artifacts and media unless a database still lists it; True if deleted."""
    if catalog.holders(video_id):
        return False
    shutil.rmtree(layout.video_dir(video_id), ignore_errors=True)
    media = layout.root / "media"
    for path in media.glob(f"{video_id}.*") if media.is_dir() else ():
        path.unlink(missing_ok=True)
    return True


def remove_video(store: VectorStore, catalog: Catalog, layout: DataLayout, db: str, video_id: str,
                 keep_files: bool = False) -> Removed:
    """Take one video out of ``db``: its points, its catalog row, and (unless ``keep_files`` or another
    database lists it) its thumbnails, artifacts and media."""
    check_db_name(db)
    known = catalog.get(db, video_id) is not None or video_id in catalog.pending(db)
    points = store.count(db, video_id) if store.has_collection(db) else 0
    if not known and not points:
        raise ConfigError(f"video {video_id} is not in database {db!r}: `python -m app videos --db {db}` lists them")
    if points:
        store.delete_video(db, video_id)
        store.flush()
    catalog.forget(db, video_id)
    gone = False if keep_files else remove_files(layout, catalog, video_id)
    log.info("removed video %s from %r (%d points, files %s)", video_id, db, points, "removed" if gone else "kept")
    return Removed(db, 1, points, int(gone), int(not gone))


def delete_database(store: VectorStore, catalog: Catalog, layout: DataLayout, db: str,
                    keep_files: bool = False) -> Removed:
    """Drop ``db``'s collection and catalog rows, and the files of videos no other database lists."""
    check_db_name(db)
    in_store = store.has_collection(db)
    video_ids = set(catalog.videos(db)) | set(catalog.pending(db))
    if not in_store and not video_ids:
        raise UnknownDatabaseError(db, sorted(set(store.list_collections()) | set(catalog.databases())))
    points = store.count(db) if in_store else 0
    if in_store:
        store.drop_collection(db)
    catalog.drop_database(db)
    removed = 0 if keep_files else sum(remove_files(layout, catalog, v) for v in sorted(video_ids))
    log.info("deleted database %r: %d videos, %d points", db, len(video_ids), points)
    return Removed(db, len(video_ids), points, removed, len(video_ids) - removed)


def rename_database(store: VectorStore, catalog: Catalog, old: str, new: str) -> int:
    """Give ``old`` the name ``new``: its points are copied into a new collection (Qdrant cannot
    rename one), the catalog rows move, then the old collection is dropped. Returns the points moved.
    A process killed before the catalog moved leaves ``new`` as a copy without records: delete it
    (``databases delete``) and rename again."""
    check_db_name(old)
    check_db_name(new)
    if old == new:
        raise ConfigError(f"database {old!r} already has that name")
    if not store.has_collection(old) and not catalog.videos(old):
        raise UnknownDatabaseError(old, sorted(set(store.list_collections()) | set(catalog.databases())))
    if store.has_collection(new) or new in catalog.databases():
        raise ConfigError(f"database {new!r} already exists: choose another name, or delete it first "
                          f"(`python -m app databases delete {new} --yes`)")
    points = copy_collection(store, store, old, new) if store.has_collection(old) else 0
    catalog.rename_database(old, new)
    if store.has_collection(old):
        store.drop_collection(old)
    log.info("renamed database %r to %r (%d points)", old, new, points)
    return points
