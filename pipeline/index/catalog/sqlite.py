"""The catalog of the embedded stores: one SQLite file, ``<data>/catalog/catalog.sqlite3``.

One row per (database, video), keyed by both; an index on ``(db, status, source, video_id)``
serves listing and paging, one on ``video_id`` the question "which databases hold this video",
one on ``(db, status, n_shots)`` the counts (an index-only sum). The table ``channels`` holds one
row per (database, video, channel): the channel record as JSON (schema version 2 added it; a
version-1 file gains the empty table when it opens).
The file is in WAL mode with ``synchronous=NORMAL``: a commit survives the process being
killed at any point; only a power cut can take back the last commits (then ``check --repair``
finds the video's points without a row and rebuilds the row from the store and the artifacts).
A commit costs microseconds instead of the 3-8 ms an fsync per commit costs here (see
``bench/catalog.py``). Several processes may read and write it (WAL, a busy timeout); the
embedded stores themselves serve one process.

JSON catalogs of earlier versions (``<data>/catalog/<db>.json``) are imported the first time
the catalog opens, then renamed ``<db>.json.migrated`` (kept, never read again). A damaged one
is left in place and reported by :meth:`VideoCatalog.problems`; ``check --repair`` rebuilds
that database's rows from the store.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from pipeline.core import check_db_name, check_video_id, exclusive_lock, valid_db_name
from pipeline.errors import CatalogError, ConfigError
from pipeline.index.catalog.base import (
    ENTRY_FIELDS,
    INDEXED,
    PENDING,
    CatalogTotals,
    ChannelRecords,
    VideoPage,
    channel_rows,
)
from pipeline.index.catalog.legacy import read_json_catalog
from pipeline.index.layout import DataLayout
from pipeline.records import IndexedVideo

log = logging.getLogger(__name__)

FILE = "catalog.sqlite3"
SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS videos (
    db TEXT NOT NULL,
    video_id TEXT NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    duration_s REAL NOT NULL DEFAULT 0,
    n_frames INTEGER NOT NULL DEFAULT 0,
    n_shots INTEGER NOT NULL DEFAULT 0,
    n_scenes INTEGER NOT NULL DEFAULT 0,
    n_classes INTEGER NOT NULL DEFAULT 0,
    encoder TEXT NOT NULL DEFAULT '',
    indexed_at TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (db, video_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS videos_listing ON videos (db, status, source, video_id);
CREATE INDEX IF NOT EXISTS videos_by_id ON videos (video_id);
CREATE INDEX IF NOT EXISTS videos_totals ON videos (db, status, n_shots);
CREATE TABLE IF NOT EXISTS channels (
    db TEXT NOT NULL,
    video_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (db, video_id, channel)
) WITHOUT ROWID;
"""
COLUMNS = ", ".join(ENTRY_FIELDS)
_UPSERT = (f"INSERT OR REPLACE INTO videos (db, status, {COLUMNS}) "
           f"VALUES (?, ?, {', '.join('?' * len(ENTRY_FIELDS))})")


def _repair_hint(db: str | None = None) -> str:
    return f"run `python -m app check --db {db or 'NAME'} --repair` to rebuild it from the store"


class VideoCatalog:
    """The SQLite catalog under one data directory (see the module's documentation)."""

    def __init__(self, data_dir: str | Path):
        self.root = Path(data_dir)
        self.folder = self.root / "catalog"
        self.file = self.folder / FILE
        self.where = str(self.file)
        self._layout = DataLayout(self.root)
        self._mutex = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._damaged_json: dict[str, CatalogError] = {}  # db -> why its JSON catalog of old was not imported

    def __repr__(self) -> str:
        return f"VideoCatalog({self.where!r})"

    # -- connection --------------------------------------------------------------------------

    @contextmanager
    def _sql(self, action: str, db: str | None = None) -> Iterator[sqlite3.Connection]:
        """The open connection, under the process's lock; SQLite errors become CatalogError naming the file."""
        with self._mutex:
            try:
                yield self._connection()
            except CatalogError:
                raise
            except sqlite3.DatabaseError as err:
                raise self._error(action, err, db) from err

    @contextmanager
    def _write(self, action: str, db: str | None = None) -> Iterator[sqlite3.Connection]:
        """:meth:`_sql` in one write transaction, rolled back on any error."""
        with self._sql(action, db) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _error(self, action: str, err: sqlite3.Error, db: str | None) -> CatalogError:
        text = str(err)
        if isinstance(err, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return CatalogError(self.file, f"could not {action}: another process holds it ({text}); try again")
        if isinstance(err, sqlite3.OperationalError) and ("full" in text or "readonly" in text
                                                           or "unable to open" in text):
            return CatalogError(self.file, f"could not {action} ({text}): check the disk and the permissions "
                                           f"of {self.folder}")
        return CatalogError(self.file, f"is damaged ({text}): {_repair_hint(db)}")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CatalogError(self.file, f"cannot create {self.folder} ({err.strerror or err})") from err
        conn = sqlite3.connect(self.file, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise CatalogError(self.file, f"has schema version {version}; this program reads up to "
                                              f"{SCHEMA_VERSION}: update BuscaEscenas")
            conn.executescript(SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._migrate_json(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def problems(self) -> list[CatalogError]:
        try:
            with self._sql("open"):
                pass
        except CatalogError as err:
            return [err, *self._damaged_json.values()]
        return list(self._damaged_json.values())

    def quarantine(self) -> str | None:
        """Move a damaged catalog file aside (``catalog.sqlite3.damaged-<time>``) so that a fresh one
        can be rebuilt from the store; returns where it went (None when there was no file)."""
        with self._mutex:
            self.close()
            if not self.file.exists():
                return None
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            target = self.file.with_name(f"{FILE}.damaged-{stamp}")
            for suffix in ("", "-wal", "-shm"):
                part = Path(f"{self.file}{suffix}")
                if part.exists():
                    os.replace(part, Path(f"{target}{suffix}"))
            log.warning("moved the damaged catalog %s to %s", self.file, target)
            return str(target)

    # -- JSON catalogs of earlier versions -----------------------------------------------------

    def json_path(self, db: str) -> Path:
        """Where an earlier version kept ``db``'s catalog (imported, then renamed ``.json.migrated``)."""
        return self.folder / f"{check_db_name(db)}.json"

    def _migrate_json(self, conn: sqlite3.Connection) -> None:
        if not any(self.folder.glob("*.json")):
            return
        with exclusive_lock(self.folder / ".migrate.lock"):
            self._damaged_json = {}
            for path in sorted(self.folder.glob("*.json")):
                for stale in self.folder.glob(f".{path.name}.*.tmp"):  # left by a killed writer of old
                    stale.unlink(missing_ok=True)
                if not valid_db_name(path.stem):
                    continue
                try:
                    entries = read_json_catalog(path)
                except FileNotFoundError:
                    continue  # migrated by another process meanwhile
                except CatalogError as err:
                    self._damaged_json[path.stem] = CatalogError(
                        err.where, f"{err.cause}; its videos are not listed: {_repair_hint(path.stem)}")
                    continue
                rows = [self._row(path.stem, INDEXED, self._relative(e)) for e in entries]
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(_UPSERT.replace("OR REPLACE", "OR IGNORE"), rows)
                conn.execute("COMMIT")
                os.replace(path, path.with_name(f"{path.name}.migrated"))
                log.info("imported %d videos of %r from %s", len(rows), path.stem, path)

    def damaged_json(self, db: str) -> CatalogError | None:
        return self._damaged_json.get(db)

    def retire_damaged_json(self, db: str) -> None:
        """After ``db`` was rebuilt from the store: its damaged JSON catalog becomes ``<db>.json.damaged``."""
        path = self.json_path(db)
        if path.exists():
            os.replace(path, path.with_name(f"{path.name}.damaged"))
        self._damaged_json.pop(db, None)

    def _relative(self, entry: IndexedVideo) -> IndexedVideo:
        """Media paths inside the data directory become relative to it (earlier versions stored them absolute)."""
        return replace(entry, path=self._layout.stored_path(entry.path)) if entry.path else entry

    # -- rows ----------------------------------------------------------------------------------

    @staticmethod
    def _row(db: str, status: str, entry: IndexedVideo) -> tuple:
        return (db, status, *(getattr(entry, name) for name in ENTRY_FIELDS))

    @staticmethod
    def _entry(row: tuple) -> IndexedVideo:
        return IndexedVideo(*row)

    def videos(self, db: str) -> dict[str, IndexedVideo]:
        check_db_name(db)
        with self._sql("list videos", db) as conn:
            rows = conn.execute(f"SELECT {COLUMNS} FROM videos WHERE db = ? AND status = ? "
                                "ORDER BY source, video_id", (db, INDEXED)).fetchall()
        return {row[0]: self._entry(row) for row in rows}

    def get(self, db: str, video_id: str) -> IndexedVideo | None:
        check_db_name(db)
        with self._sql("read a video", db) as conn:
            row = conn.execute(f"SELECT {COLUMNS} FROM videos WHERE db = ? AND video_id = ? AND status = ?",
                               (db, video_id, INDEXED)).fetchone()
        return self._entry(row) if row else None

    def page(self, db: str, limit: int = 50, after: str | None = None) -> VideoPage:
        check_db_name(db)
        limit = max(1, int(limit))
        source, video_id = _cursor(after)
        with self._sql("list videos", db) as conn:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM videos WHERE db = ? AND status = ? AND (source, video_id) > (?, ?) "
                "ORDER BY source, video_id LIMIT ?", (db, INDEXED, source, video_id, limit + 1)).fetchall()
            total = conn.execute("SELECT COUNT(*) FROM videos WHERE db = ? AND status = ?", (db, INDEXED)).fetchone()[0]
        videos = [self._entry(row) for row in rows[:limit]]
        following = json.dumps([videos[-1].source, videos[-1].video_id]) if len(rows) > limit else None
        return VideoPage(videos, int(total), following)

    def totals(self, db: str) -> CatalogTotals:
        check_db_name(db)
        with self._sql("count videos", db) as conn:
            rows = conn.execute("SELECT status, COUNT(*), COALESCE(SUM(n_shots), 0) FROM videos WHERE db = ? "
                                "GROUP BY status", (db,)).fetchall()
        by_status = {status: (n, shots) for status, n, shots in rows}
        videos, shots = by_status.get(INDEXED, (0, 0))
        return CatalogTotals(int(videos), int(shots), int(by_status.get(PENDING, (0, 0))[0]))

    def begin(self, db: str, video_id: str, source: str) -> None:
        check_db_name(db)
        check_video_id(video_id)
        with self._sql("note the start of an ingest", db) as conn:
            conn.execute("INSERT OR IGNORE INTO videos (db, video_id, status, source) VALUES (?, ?, ?, ?)",
                         (db, video_id, PENDING, source))

    def pending(self, db: str) -> list[str]:
        check_db_name(db)
        with self._sql("list unfinished ingests", db) as conn:
            rows = conn.execute("SELECT video_id FROM videos WHERE db = ? AND status = ? ORDER BY video_id",
                                (db, PENDING)).fetchall()
        return [row[0] for row in rows]

    def record(self, db: str, entry: IndexedVideo) -> None:
        self.record_many(db, [entry])

    def record_many(self, db: str, entries: Iterable[IndexedVideo]) -> int:
        check_db_name(db)
        rows = [self._row(db, INDEXED, self._relative(e)) for e in entries]
        for row in rows:
            check_video_id(row[2])
        with self._write("record videos", db) as conn:
            conn.executemany(_UPSERT, rows)
        return len(rows)

    def forget(self, db: str, video_id: str) -> None:
        check_db_name(db)
        with self._write("forget a video", db) as conn:
            conn.execute("DELETE FROM videos WHERE db = ? AND video_id = ?", (db, video_id))
            conn.execute("DELETE FROM channels WHERE db = ? AND video_id = ?", (db, video_id))

    # -- channel records -------------------------------------------------------------------------

    def channel_records(self, db: str, video_id: str | None = None) -> ChannelRecords:
        check_db_name(db)
        where, args = ("db = ? AND video_id = ?", (db, video_id)) if video_id is not None else ("db = ?", (db,))
        with self._sql("read channel records", db) as conn:
            rows = conn.execute(f"SELECT video_id, channel, record FROM channels WHERE {where} "
                                "ORDER BY video_id, channel", args).fetchall()
        found: ChannelRecords = {}
        for vid, channel, record in rows:
            try:
                found.setdefault(vid, {})[channel] = json.loads(record)
            except ValueError as err:
                raise CatalogError(self.file, f"is damaged (channel record {channel} of {vid}: {err}): "
                                              f"{_repair_hint(db)}") from err
        return found

    def record_channels(self, db: str, records: Mapping[str, Mapping[str, dict]], keep: bool = False) -> int:
        check_db_name(db)
        rows = [(db, vid, channel, json.dumps(record, ensure_ascii=False))
                for vid, channel, record in channel_rows(records)]
        verb = "INSERT OR IGNORE" if keep else "INSERT OR REPLACE"
        with self._write("record channels", db) as conn:
            conn.executemany(f"{verb} INTO channels (db, video_id, channel, record) VALUES (?, ?, ?, ?)", rows)
        return len(rows)

    def forget_channels(self, db: str, video_id: str) -> None:
        check_db_name(db)
        with self._sql("forget channel records", db) as conn:
            conn.execute("DELETE FROM channels WHERE db = ? AND video_id = ?", (db, video_id))

    def databases(self) -> list[str]:
        with self._sql("list databases") as conn:
            return [row[0] for row in conn.execute("SELECT DISTINCT db FROM videos ORDER BY db")]

    def holders(self, video_id: str) -> list[str]:
        with self._sql("look a video up") as conn:
            return [row[0] for row in conn.execute("SELECT db FROM videos WHERE video_id = ? ORDER BY db",
                                                   (video_id,))]

    def drop_database(self, db: str) -> int:
        check_db_name(db)
        with self._write("drop a database", db) as conn:
            dropped = conn.execute("DELETE FROM videos WHERE db = ?", (db,)).rowcount
            conn.execute("DELETE FROM channels WHERE db = ?", (db,))
        return dropped

    def rename_database(self, old: str, new: str) -> int:
        check_db_name(old)
        check_db_name(new)
        with self._write("rename a database", old) as conn:
            if conn.execute("SELECT 1 FROM videos WHERE db = ? LIMIT 1", (new,)).fetchone():
                raise ConfigError(f"the catalog already lists videos in database {new!r}: choose another name")
            moved = conn.execute("UPDATE videos SET db = ? WHERE db = ?", (new, old)).rowcount
            conn.execute("DELETE FROM channels WHERE db = ?", (new,))  # records of no listed video
            conn.execute("UPDATE channels SET db = ? WHERE db = ?", (new, old))
        return moved


def _cursor(after: str | None) -> tuple[str, str]:
    """A page cursor back to ``(source, video_id)``; the start for None."""
    if not after:
        return "", ""
    try:
        source, video_id = json.loads(after)
        return str(source), str(video_id)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"invalid page cursor {after!r}") from err
