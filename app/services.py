"""The composition root: one long-lived object owns the encoder, the store and the data layout.

The encoder loads lazily (the first search or ingest pays for it); the store opens at
start-up so that a locked embedded store is reported at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.config import Settings
from models.clip import ClipOptions, OpenClipEncoder
from pipeline.artifacts import DataLayout
from pipeline.store.base import VectorStore
from pipeline.store.factory import open_store

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    layout: DataLayout
    store: VectorStore
    encoder: OpenClipEncoder

    @classmethod
    def start(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(settings.data_dir, url=settings.qdrant_url, api_key=settings.qdrant_api_key,
                           backend=settings.store)
        encoder = OpenClipEncoder(ClipOptions(model=settings.clip_model, device=settings.device))
        log.info("data in %s, store %s, encoder %s", settings.data_dir, store.kind, settings.clip_model)
        return cls(settings, DataLayout(settings.data_dir), store, encoder)

    def databases(self) -> list[str]:
        """Databases known to the store or to the catalog."""
        return sorted(set(self.store.list_collections()) | set(self.layout.catalog_databases()))

    def close(self) -> None:
        self.store.close()
