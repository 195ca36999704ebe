"""Open the vector store a configuration asks for: the one place that picks a backend."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.core import DiskMargin
from pipeline.errors import ConfigError
from pipeline.store.base import VectorStore

log = logging.getLogger(__name__)

#: Embedded backends, by name. A URL always means a Qdrant server or cluster.
BACKENDS = ("edge", "local", "memory")


def open_store(data_dir: Path, url: str | None = None, api_key: str | None = None, backend: str = "edge", *,
               read_only: bool = False, margin: DiskMargin | None = None) -> VectorStore:
    """The store for ``data_dir``: a Qdrant server when ``url`` is given, else the embedded
    ``backend``: ``"edge"`` (Qdrant Edge at ``<data>/edge``, the default), ``"local"``
    (qdrant-client local mode at ``<data>/qdrant``) or ``"memory"`` (nothing persisted).

    ``read_only`` and ``margin`` (free space every write leaves) apply to Edge, which a full
    disk would kill with SIGBUS; the other backends report a full disk as an error."""
    if url:
        from pipeline.store.qdrant import QdrantClientStore

        log.info("vector store: Qdrant server at %s", url)
        return QdrantClientStore(url=url, api_key=api_key)
    if backend == "server":
        raise ConfigError("the 'server' store backend needs the server's URL: pass --qdrant-url or set BUSCA_QDRANT_URL")
    if backend not in BACKENDS:
        raise ConfigError(f"unknown store backend {backend!r}: choose one of {', '.join(BACKENDS)} (or give a server URL)")
    data_dir = Path(data_dir)
    if backend == "edge":
        from pipeline.store.edge import EdgeStore

        log.info("vector store: Qdrant Edge at %s%s", data_dir / "edge", " (read-only)" if read_only else "")
        return EdgeStore(data_dir / "edge", read_only=read_only, margin=margin)
    from pipeline.store.qdrant import QdrantClientStore

    if backend == "local":
        log.info("vector store: qdrant-client local mode at %s", data_dir / "qdrant")
        return QdrantClientStore(path=data_dir / "qdrant")
    log.info("vector store: in memory (nothing is saved)")
    return QdrantClientStore(":memory:")
