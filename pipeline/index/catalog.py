"""The video catalog: which videos are confirmed in each database.

One JSON file per database, ``<data>/catalog/<db>.json``, written atomically under an
exclusive lock (several ingests may share a data directory when they write to one Qdrant
server). A video is recorded only after its shots are confirmed and flushed in the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from pipeline.core import atomic, check_db_name, exclusive_lock
from pipeline.records import IndexedVideo


class VideoCatalog:
    """The catalogs under one data directory."""

    def __init__(self, data_dir: Path):
        self.root = Path(data_dir)

    def path(self, db: str) -> Path:
        return self.root / "catalog" / f"{check_db_name(db)}.json"

    def videos(self, db: str) -> dict[str, IndexedVideo]:
        """The videos of ``db`` by id ({} for a database never recorded)."""
        path = self.path(db)
        if not path.exists():
            return {}
        data = atomic.read_json(path)
        return {vid: IndexedVideo(**entry) for vid, entry in data["videos"].items()}

    def record(self, db: str, entry: IndexedVideo) -> None:
        with self._locked(db):
            videos = self.videos(db)
            videos[entry.video_id] = entry
            self._write(db, videos)

    def forget(self, db: str, video_id: str) -> None:
        with self._locked(db):
            videos = self.videos(db)
            if videos.pop(video_id, None) is not None:
                self._write(db, videos)

    def databases(self) -> list[str]:
        folder = self.root / "catalog"
        return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []

    @contextmanager
    def _locked(self, db: str) -> Iterator[None]:
        path = self.path(db)
        with exclusive_lock(path.with_name(f".{path.stem}.lock")):
            for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a writer that was killed
                stale.unlink(missing_ok=True)
            yield

    def _write(self, db: str, videos: dict[str, IndexedVideo]) -> None:
        ordered = dict(sorted(videos.items(), key=lambda item: item[1].source))
        atomic.write_json(self.path(db), {"videos": {vid: asdict(v) for vid, v in ordered.items()}})
