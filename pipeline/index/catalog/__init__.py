"""The video catalog: which videos are confirmed in each database, in one place every process sees.

* Embedded stores (Qdrant Edge, qdrant-client local mode): :class:`VideoCatalog`, one SQLite file
  in the data directory (``<data>/catalog/catalog.sqlite3``).
* A Qdrant server or cluster: :class:`ServerCatalog`, a companion collection on the server, so
  that every machine using the server sees the same archive with no local state.

:func:`catalog_for` gives the catalog that goes with an open store; :func:`open_catalog` opens it
from the same settings without opening the store (to list videos while an app holds the
embedded store). Both implement :class:`Catalog`.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.index.catalog.base import INDEXED, PENDING, Catalog, CatalogTotals, VideoPage
from pipeline.index.catalog.legacy import read_json_catalog, write_json_catalog
from pipeline.index.catalog.server import COLLECTION as SERVER_COLLECTION
from pipeline.index.catalog.server import ServerCatalog
from pipeline.index.catalog.sqlite import VideoCatalog
from pipeline.store import VectorStore


def catalog_for(store: VectorStore, data_dir: str | Path, replication_factor: int | None = None) -> Catalog:
    """The catalog of ``store``: on a server, the companion collection through the store's own client;
    otherwise the SQLite catalog of ``data_dir``."""
    if store.kind == "server":
        return ServerCatalog(store.client, store.where, replication_factor)
    return VideoCatalog(data_dir)


def open_catalog(data_dir: str | Path, url: str | None = None, api_key: str | None = None,
                 replication_factor: int | None = None) -> Catalog:
    """The catalog for these settings, without opening the store (``url``: a Qdrant server)."""
    if url:
        return ServerCatalog.connect(url, api_key, replication_factor=replication_factor)
    return VideoCatalog(data_dir)


__all__ = [
    "INDEXED",
    "PENDING",
    "SERVER_COLLECTION",
    "Catalog",
    "CatalogTotals",
    "ServerCatalog",
    "VideoCatalog",
    "VideoPage",
    "catalog_for",
    "open_catalog",
    "read_json_catalog",
    "write_json_catalog",
]
