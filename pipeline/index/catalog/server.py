"""The catalog on a Qdrant server: a companion collection beside the databases' collections.

With a server, the archive must look the same from every process and machine, with nothing
kept on one machine's disk: so the videos are recorded in the server itself, in the collection
``_buscaescenas_catalog`` (a name no database can take: database names start with a letter or
a digit). It has no vectors; each point is one (database, video) row whose payload is the
:class:`~pipeline.records.IndexedVideo` plus ``db`` and ``status``, with keyword indexes on
``db``, ``video_id`` and ``status``. Point ids are UUIDs of ``(db, video_id)``, so recording a
video twice (two machines, a re-run) writes one row. A text-channel record is a point of its own
with ``status`` ``channel`` (id: UUID of ``(db, video_id, channel)``; payload ``db``,
``video_id``, ``channel``, ``record``), so that writing one costs one point and dropping or
renaming a database takes the records with its rows.

Listing: a page is a filtered scroll from a point-id cursor (a fixed, arbitrary order; the
SQLite catalog pages in name order); :meth:`ServerCatalog.videos` reads the whole database and
sorts by name. Qdrant cannot sum a field, so :meth:`ServerCatalog.totals` reads ``n_shots`` of
every row (payload only): O(videos), fine for the checks that use it.

Tested here against qdrant-client's local mode, which implements the same client API; no Qdrant
server was available to this work.
"""

from __future__ import annotations

import logging
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pipeline.core import check_db_name, check_video_id
from pipeline.errors import BuscaError, CatalogError, ConfigError
from pipeline.index.catalog.base import (
    INDEXED,
    PENDING,
    CatalogTotals,
    ChannelRecords,
    VideoPage,
    channel_rows,
    entry_dict,
    entry_from,
)
from pipeline.records import IndexedVideo

log = logging.getLogger(__name__)

COLLECTION = "_buscaescenas_catalog"
#: Never change it: stored row ids depend on it.
ROW_NAMESPACE = uuid.UUID("1b1e5f0c-5b59-4d0e-9a56-0c7b8d0f7a21")
SCROLL_BATCH = 1024
CHANNEL = "channel"  # the status of a channel record's point


def row_id(db: str, video_id: str, channel: str | None = None) -> str:
    return str(uuid.uuid5(ROW_NAMESPACE, f"{db}:{video_id}" if channel is None else f"{db}:{video_id}:{channel}"))


class ServerCatalog:
    """``ServerCatalog(client, where)``: the catalog collection through an open ``qdrant_client.QdrantClient``
    (the store's own, see :func:`pipeline.index.catalog.catalog_for`), or :meth:`connect` by URL."""

    def __init__(self, client: Any, where: str, replication_factor: int | None = None, collection: str = COLLECTION):
        self.client = client
        self.collection = collection  # another name only for tests against a live server
        self.where = f"{where} (collection {collection})"
        self.replication_factor = replication_factor
        self._ready = False
        self._owned = False

    @classmethod
    def connect(cls, url: str, api_key: str | None = None, timeout_s: int = 30,
                replication_factor: int | None = None) -> ServerCatalog:
        try:
            import qdrant_client
        except ImportError as err:
            raise CatalogError(url, "qdrant-client is not installed: pip install qdrant-client==1.20.0") from err
        client = qdrant_client.QdrantClient(url=url, api_key=api_key, timeout=timeout_s, check_compatibility=False)
        catalog = cls(client, url, replication_factor)
        catalog._owned = True
        return catalog

    def __repr__(self) -> str:
        return f"ServerCatalog({self.where!r})"

    @contextmanager
    def _errors(self, action: str) -> Iterator[Any]:
        from qdrant_client import models

        try:
            yield models
        except (BuscaError, KeyboardInterrupt):
            raise
        except Exception as err:
            raise CatalogError(self.where, f"could not {action} ({type(err).__name__}: {str(err)[:300]}): "
                                           "check that the Qdrant server is reachable and the API key right") from err

    def _ensure(self) -> bool:
        """Create the collection on first write; False (nothing to read) when it does not exist yet."""
        if self._ready:
            return True
        with self._errors("open the catalog collection") as m, warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Payload indexes have no effect")  # qdrant-client's local mode
            if not self.client.collection_exists(self.collection):
                try:
                    self.client.create_collection(self.collection, vectors_config={},
                                                  replication_factor=self.replication_factor)
                except Exception:
                    if not self.client.collection_exists(self.collection):  # else another process made it meanwhile
                        raise
                for key in ("db", "video_id", "status"):
                    self.client.create_payload_index(self.collection, key, field_schema=m.PayloadSchemaType.KEYWORD,
                                                     wait=True)
                log.info("created the video catalog collection %s", self.where)
        self._ready = True
        return True

    def _exists(self) -> bool:
        if self._ready:
            return True
        with self._errors("open the catalog collection"):
            self._ready = bool(self.client.collection_exists(self.collection))
        return self._ready

    @staticmethod
    def _filter(m: Any, db: str | None = None, status: str | None = None, video_id: str | None = None) -> Any:
        must = [m.FieldCondition(key=key, match=m.MatchValue(value=value))
                for key, value in (("db", db), ("status", status), ("video_id", video_id)) if value is not None]
        return m.Filter(must=must)

    def _scroll(self, action: str, flt_args: dict, payload: Any = True) -> Iterator[Any]:
        if not self._exists():
            return
        offset = None
        while True:
            with self._errors(action) as m:
                records, offset = self.client.scroll(self.collection, scroll_filter=self._filter(m, **flt_args),
                                                     limit=SCROLL_BATCH, offset=offset, with_payload=payload)
            yield from records
            if offset is None:
                return

    # -- reading -------------------------------------------------------------------------------

    def videos(self, db: str) -> dict[str, IndexedVideo]:
        check_db_name(db)
        entries = [entry_from(r.payload or {}) for r in self._scroll("list videos", {"db": db, "status": INDEXED})]
        return {e.video_id: e for e in sorted(entries, key=lambda e: (e.source, e.video_id))}

    def get(self, db: str, video_id: str) -> IndexedVideo | None:
        check_db_name(db)
        if not self._exists():
            return None
        with self._errors("read a video"):
            found = self.client.retrieve(self.collection, [row_id(db, video_id)], with_payload=True)
        payload = found[0].payload if found else None
        return entry_from(payload) if payload and payload.get("status") == INDEXED else None

    def page(self, db: str, limit: int = 50, after: str | None = None) -> VideoPage:
        check_db_name(db)
        if not self._exists():
            return VideoPage([], 0, None)
        if after is not None:
            try:
                after = str(uuid.UUID(after))
            except ValueError as err:
                raise ConfigError(f"invalid page cursor {after!r}") from err
        with self._errors("list videos") as m:
            flt = self._filter(m, db=db, status=INDEXED)
            records, following = self.client.scroll(self.collection, scroll_filter=flt, limit=max(1, int(limit)),
                                                    offset=after, with_payload=True)
            total = self.client.count(self.collection, count_filter=flt, exact=True).count
        return VideoPage([entry_from(r.payload or {}) for r in records], int(total),
                         str(following) if following is not None else None)

    def totals(self, db: str) -> CatalogTotals:
        check_db_name(db)
        videos = shots = pending = 0
        for record in self._scroll("count videos", {"db": db}, payload=["status", "n_shots"]):
            payload = record.payload or {}
            if payload.get("status") == INDEXED:
                videos += 1
                shots += int(payload.get("n_shots") or 0)
            elif payload.get("status") == PENDING:
                pending += 1
        return CatalogTotals(videos, shots, pending)

    def pending(self, db: str) -> list[str]:
        check_db_name(db)
        return sorted(str((r.payload or {}).get("video_id"))
                      for r in self._scroll("list unfinished ingests", {"db": db, "status": PENDING}, ["video_id"]))

    def databases(self) -> list[str]:
        if not self._exists():
            return []
        with self._errors("list databases"):
            hits = self.client.facet(self.collection, key="db", limit=1_000_000, exact=True).hits
        return sorted(str(h.value) for h in hits if h.count)

    def holders(self, video_id: str) -> list[str]:
        return sorted({str((r.payload or {}).get("db"))
                       for r in self._scroll("look a video up", {"video_id": video_id}, ["db"])})

    def problems(self) -> list[CatalogError]:
        try:
            self._exists()
        except CatalogError as err:
            return [err]
        return []

    def quarantine(self) -> str | None:
        """Nothing to move aside on a server: its collection is not a file this program can replace."""
        return None

    def damaged_json(self, db: str) -> CatalogError | None:
        return None

    def retire_damaged_json(self, db: str) -> None:
        """A server catalog has no JSON files of old."""

    # -- writing -------------------------------------------------------------------------------

    def _upsert(self, action: str, rows: list[tuple[str, str, dict]]) -> None:
        self._ensure()
        with self._errors(action) as m:
            for start in range(0, len(rows), SCROLL_BATCH):
                points = [m.PointStruct(id=row_id(db, vid, payload.get("channel")), vector={}, payload=payload)
                          for db, vid, payload in rows[start:start + SCROLL_BATCH]]
                self.client.upsert(self.collection, points=points, wait=True)

    def begin(self, db: str, video_id: str, source: str) -> None:
        check_db_name(db)
        check_video_id(video_id)
        self._ensure()
        with self._errors("note the start of an ingest"):
            found = self.client.retrieve(self.collection, [row_id(db, video_id)], with_payload=["status"])
        if not found:
            payload = {**entry_dict(entry_from({"video_id": video_id, "source": source})), "db": db, "status": PENDING}
            self._upsert("note the start of an ingest", [(db, video_id, payload)])

    def record(self, db: str, entry: IndexedVideo) -> None:
        self.record_many(db, [entry])

    def record_many(self, db: str, entries: Iterable[IndexedVideo]) -> int:
        check_db_name(db)
        rows = [(db, check_video_id(e.video_id), {**entry_dict(e), "db": db, "status": INDEXED}) for e in entries]
        self._upsert("record videos", rows)
        return len(rows)

    def forget(self, db: str, video_id: str) -> None:
        check_db_name(db)
        if not self._exists():
            return
        with self._errors("forget a video") as m:
            self.client.delete(self.collection, points_selector=m.FilterSelector(filter=self._filter(
                m, db=db, video_id=video_id)), wait=True)

    # -- channel records -------------------------------------------------------------------------

    def channel_records(self, db: str, video_id: str | None = None) -> ChannelRecords:
        check_db_name(db)
        found: ChannelRecords = {}
        for r in self._scroll("read channel records", {"db": db, "status": CHANNEL, "video_id": video_id}):
            payload = r.payload or {}
            found.setdefault(str(payload.get("video_id")), {})[str(payload.get("channel"))] = payload.get("record") or {}
        return {vid: dict(sorted(channels.items())) for vid, channels in sorted(found.items())}

    def record_channels(self, db: str, records: Mapping[str, Mapping[str, dict]], keep: bool = False) -> int:
        check_db_name(db)
        rows = [(db, vid, {"db": db, "video_id": vid, "status": CHANNEL, "channel": channel, "record": record})
                for vid, channel, record in channel_rows(records)]
        given = len(rows)
        if keep and rows and self._exists():
            with self._errors("read channel records"):
                there = {str(p.id) for p in self.client.retrieve(
                    self.collection, [row_id(db, vid, p["channel"]) for _, vid, p in rows], with_payload=False)}
            rows = [row for row in rows if row_id(db, row[1], row[2]["channel"]) not in there]
        self._upsert("record channels", rows)
        return given

    def forget_channels(self, db: str, video_id: str) -> None:
        check_db_name(db)
        if not self._exists():
            return
        with self._errors("forget channel records") as m:
            self.client.delete(self.collection, points_selector=m.FilterSelector(filter=self._filter(
                m, db=db, status=CHANNEL, video_id=video_id)), wait=True)

    def drop_database(self, db: str) -> int:
        check_db_name(db)
        if not self._exists():
            return 0
        with self._errors("drop a database") as m:
            flt = self._filter(m, db=db)
            rows = m.Filter(must=flt.must, must_not=[m.FieldCondition(key="status", match=m.MatchValue(value=CHANNEL))])
            n = self.client.count(self.collection, count_filter=rows, exact=True).count
            self.client.delete(self.collection, points_selector=m.FilterSelector(filter=flt), wait=True)
        return int(n)

    def rename_database(self, old: str, new: str) -> int:
        """Rows are keyed by (db, video) (channel records by (db, video, channel)): each is written under
        the new name, then the old ones deleted."""
        check_db_name(old)
        check_db_name(new)
        if any(True for _ in self._scroll("rename a database", {"db": new}, False)):
            raise ConfigError(f"the catalog already lists videos in database {new!r}: choose another name")
        rows = [(new, str(p["video_id"]), {**p, "db": new})
                for p in (r.payload or {} for r in self._scroll("rename a database", {"db": old}))]
        self._upsert("rename a database", rows)
        return self.drop_database(old) if rows else 0

    def close(self) -> None:
        """Close the client if :meth:`connect` made it (a store's client is the store's to close)."""
        if self._owned:
            self.client.close()
