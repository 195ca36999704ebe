"""The catalog's JSON form: ``{"videos": {video_id: entry}}``.

It was the catalog itself until the SQLite catalog replaced it (``<data>/catalog/<db>.json``,
migrated automatically on open and kept as ``<db>.json.migrated``), and it stays the form a
database's catalog takes in a backup directory (``catalog.json``), so that old backups restore
and new ones read as plain JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pipeline.core import atomic, check_video_id
from pipeline.errors import CatalogError, ConfigError
from pipeline.index.catalog.base import entry_dict, entry_from
from pipeline.records import IndexedVideo


def read_json_catalog(path: Path) -> list[IndexedVideo]:
    """The entries of a JSON catalog; :class:`CatalogError` naming the file when it is damaged."""
    try:
        data = atomic.read_json(path)
        videos = data["videos"]
        entries = [entry_from({**entry, "video_id": vid}) for vid, entry in videos.items()]
        for entry in entries:
            check_video_id(entry.video_id)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ConfigError) as err:
        raise CatalogError(path, f"is damaged ({type(err).__name__}: {err})") from err
    return entries


def write_json_catalog(path: Path, entries: Iterable[IndexedVideo]) -> int:
    """Write entries in the JSON form, atomically; returns how many."""
    ordered = sorted(entries, key=lambda e: (e.source, e.video_id))
    atomic.write_json(path, {"videos": {e.video_id: entry_dict(e) for e in ordered}})
    return len(ordered)
