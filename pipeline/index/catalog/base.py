"""What every video catalog offers, and the records it deals in.

A catalog lists, per database, the videos whose shots are confirmed in the store
(``indexed``), and the videos an ingest has started to write (``pending``: a marker written
*before* any point, so a point in the store always has a catalog row, and ``check`` can tell
an interrupted ingest from a lost record). Readers see ``indexed`` videos only.

Beside its videos, a catalog keeps the text-channel records of each (database, video, channel)
(:class:`pipeline.channels.ChannelRegistry`: what made the channel, how many shots got text, a
note), as plain JSON objects, written one at a time; removing a video, dropping or renaming a
database takes them along.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Protocol

from pipeline.core import check_video_id
from pipeline.errors import CatalogError, ConfigError
from pipeline.records import IndexedVideo

INDEXED, PENDING = "indexed", "pending"
#: ``{video_id: {channel: record}}``: text-channel records of one database
ChannelRecords = dict[str, dict[str, dict]]
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


def channel_rows(records: Mapping[str, Mapping[str, dict]]) -> list[tuple[str, str, dict]]:
    """``(video_id, channel, record)`` of each record, the video ids and records checked."""
    rows = []
    for video_id, channels in records.items():
        check_video_id(video_id)
        for channel, record in channels.items():
            if not str(channel) or not isinstance(record, Mapping):
                raise ConfigError(f"channel record {channel!r} of video {video_id} is not an object")
            rows.append((video_id, str(channel), dict(record)))
    return rows


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
        """Drop the video's row (indexed or pending) and its channel records from ``db``."""
        ...

    def channel_records(self, db: str, video_id: str | None = None) -> ChannelRecords:
        """The text-channel records of ``db`` (of one video with ``video_id``)."""
        ...

    def record_channels(self, db: str, records: Mapping[str, Mapping[str, dict]], keep: bool = False) -> int:
        """Write channel records ``{video_id: {channel: record}}`` (each replaces the one it names;
        with ``keep``, one already there stays); returns how many were given."""
        ...

    def forget_channels(self, db: str, video_id: str) -> None:
        """Drop the video's channel records (the video's row stays)."""
        ...

    def databases(self) -> list[str]: ...

    def holders(self, video_id: str) -> list[str]:
        """The databases that list ``video_id`` (indexed or pending)."""
        ...

    def drop_database(self, db: str) -> int:
        """Drop ``db``'s rows and channel records; returns the rows dropped."""
        ...

    def rename_database(self, old: str, new: str) -> int:
        """Move ``old``'s rows and channel records to ``new``; returns the rows moved."""
        ...

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
