"""What every video catalog offers, and the records it deals in.

A catalog lists, per database, the videos whose shots are confirmed in the store
(``indexed``), and the videos an ingest has started to write (``pending``: a marker written
*before* any point, so a point in the store always has a catalog row, and ``check`` can tell
an interrupted ingest from a lost record). Readers see ``indexed`` videos only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Protocol

from pipeline.errors import CatalogError
from pipeline.records import IndexedVideo

INDEXED, PENDING = "indexed", "pending"
ENTRY_FIELDS = tuple(f.name for f in fields(IndexedVideo))


@dataclass(frozen=True)
class VideoPage:
    """One page of a database's videos; ``next`` is the cursor of the following page (None at the end)."""

    videos: list[IndexedVideo]
    total: int
    next: str | None


@dataclass(frozen=True)
class CatalogTotals:
    """Videos and shots the catalog lists for one database, and videos with an ingest under way."""

    videos: int
    shots: int
    pending: int


def entry_from(data: dict) -> IndexedVideo:
    """An :class:`IndexedVideo` from a stored mapping (unknown keys ignored, missing numbers 0)."""
    kinds = {"duration_s": float, "n_frames": int, "n_shots": int, "n_scenes": int, "n_classes": int}
    values = {}
    for key in ENTRY_FIELDS:
        kind = kinds.get(key, str)
        values[key] = kind(data[key]) if data.get(key) is not None else kind()
    return IndexedVideo(**values)


def entry_dict(entry: IndexedVideo) -> dict:
    return asdict(entry)


class Catalog(Protocol):
    """The videos of each database. Implementations: :class:`pipeline.index.catalog.VideoCatalog`
    (SQLite in the data directory, for the embedded stores) and
    :class:`pipeline.index.catalog.ServerCatalog` (a companion collection on the Qdrant server).
    Every method raises :class:`pipeline.errors.CatalogError`, naming the file or server, when the
    catalog cannot be read or written."""

    #: The file or server, for messages.
    where: str

    def videos(self, db: str) -> dict[str, IndexedVideo]:
        """Every indexed video of ``db`` by id, in source-name order ({} for an unknown database)."""
        ...

    def get(self, db: str, video_id: str) -> IndexedVideo | None: ...

    def page(self, db: str, limit: int = 50, after: str | None = None) -> VideoPage:
        """``limit`` indexed videos after the cursor ``after`` (from a previous page's ``next``)."""
        ...

    def totals(self, db: str) -> CatalogTotals: ...

    def begin(self, db: str, video_id: str, source: str) -> None:
        """Note that an ingest is about to write ``video_id``'s points (kept as is when it is indexed)."""
        ...

    def pending(self, db: str) -> list[str]:
        """Videos whose ingest began and never finished."""
        ...

    def record(self, db: str, entry: IndexedVideo) -> None:
        """The video is indexed: its shots are confirmed and flushed in the store."""
        ...

    def record_many(self, db: str, entries: Iterable[IndexedVideo]) -> int: ...

    def forget(self, db: str, video_id: str) -> None:
        """Drop the video's row (indexed or pending) from ``db``."""
        ...

    def databases(self) -> list[str]: ...

    def holders(self, video_id: str) -> list[str]:
        """The databases that list ``video_id`` (indexed or pending)."""
        ...

    def drop_database(self, db: str) -> int: ...

    def rename_database(self, old: str, new: str) -> int: ...

    def problems(self) -> list[CatalogError]:
        """What is wrong with the catalog itself (a damaged file, an unreachable server), each naming
        the file; the app and the commands that can go on without it do."""
        ...

    def quarantine(self) -> str | None:
        """Move a damaged catalog aside so that a fresh one can be rebuilt from the store; where it
        went, or None when that is not possible (a server's collection)."""
        ...

    def damaged_json(self, db: str) -> CatalogError | None:
        """Why ``db``'s JSON catalog of an earlier version could not be imported (None: nothing wrong)."""
        ...

    def retire_damaged_json(self, db: str) -> None:
        """``db`` was rebuilt from the store: set its damaged JSON catalog aside."""
        ...

    def close(self) -> None: ...
