"""Video ids without re-reading unchanged files.

A video's id is a hash of all its bytes (:func:`pipeline.index.layout.content_id`): about a
second per GB, which re-ingesting a large archive would pay again for every file. This cache
remembers each file's id under its *fingerprint*, ``(resolved path, size, mtime in ns,
inode)``, in ``<data>/content_ids.sqlite``; a file whose fingerprint is unchanged is not read
again. Any change of size, modification time or inode (a file replaced by another, even with
the same name) hashes it again. The cache is only a shortcut: losing or corrupting it costs one
hash per file, never a wrong result for a changed file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path

from pipeline.index.layout import content_id

log = logging.getLogger(__name__)

FILE_NAME = "content_ids.sqlite"
_SCHEMA = ("CREATE TABLE IF NOT EXISTS content_ids (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
           "mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, video_id TEXT NOT NULL)")


class ContentIds:
    """``video_id(path)``: the cached id when the file's fingerprint is unchanged, else a fresh hash."""

    def __init__(self, root: Path):
        self.path = Path(root) / FILE_NAME
        self.hashed = 0  # files read and hashed by this object (the others came from the cache)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute(_SCHEMA)
        return connection

    def _lookup(self, key: str, stat: os.stat_result) -> str | None:
        try:
            with closing(self._connect()) as db:
                row = db.execute("SELECT size, mtime_ns, inode, video_id FROM content_ids WHERE path = ?",
                                 (key,)).fetchone()
        except sqlite3.Error as err:
            log.warning("%s is unreadable (%s); hashing the file instead", self.path, err)
            return None
        if row and tuple(row[:3]) == (stat.st_size, stat.st_mtime_ns, stat.st_ino):
            return str(row[3])
        return None

    def _remember(self, key: str, stat: os.stat_result, video_id: str) -> None:
        try:
            with closing(self._connect()) as db, db:
                db.execute("INSERT OR REPLACE INTO content_ids VALUES (?, ?, ?, ?, ?)",
                           (key, stat.st_size, stat.st_mtime_ns, stat.st_ino, video_id))
        except sqlite3.Error as err:
            if isinstance(err, sqlite3.DatabaseError) and "not a database" in str(err):
                log.warning("%s is damaged; starting it again", self.path)
                self.path.unlink(missing_ok=True)
            else:
                log.warning("cannot record the video id of %s in %s (%s)", key, self.path, err)

    def video_id(self, path: str | Path) -> str:
        path = Path(path)
        try:
            key, stat = str(path.resolve()), path.stat()
        except OSError:
            return content_id(path)  # raises MediaError naming the file
        cached = self._lookup(key, stat)
        if cached is not None:
            return cached
        video_id = content_id(path)
        self.hashed += 1
        after = path.stat()
        if (after.st_size, after.st_mtime_ns) == (stat.st_size, stat.st_mtime_ns):  # not written meanwhile
            self._remember(key, stat, video_id)
        return video_id
