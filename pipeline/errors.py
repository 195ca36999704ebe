"""One exception hierarchy for the whole pipeline.

Every message says what happened and, where it can, what to do about it. Front ends
translate these at the edge: the CLI prints one line and exits non-zero; the Gradio
handlers raise ``gr.Error(str(err))``.
"""

from __future__ import annotations

from pathlib import Path


class BuscaError(Exception):
    """Base class of every error the pipeline raises on purpose."""


class MediaError(BuscaError):
    """A media file cannot be used. The message names the file and the cause."""

    def __init__(self, path: str | Path, cause: str):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")


class ConfigError(BuscaError):
    """A setting or option has a value that cannot work."""


class QueryError(BuscaError):
    """A search request is empty or inconsistent."""


class StoreError(BuscaError):
    """The vector store failed or refused an operation."""


class StoreLockedError(StoreError):
    """The embedded store is already open in another process."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        super().__init__(
            f"the embedded Qdrant store at {self.path} is already open in another process. "
            "An embedded store serves one process only: stop the other process, or run a "
            "Qdrant server and point every process at it with --qdrant-url / BUSCA_QDRANT_URL."
        )


class UnknownDatabaseError(StoreError):
    """A database (collection) that does not exist was asked for."""

    def __init__(self, name: str, known: list[str]):
        self.name = name
        hint = f" Known databases: {', '.join(known)}." if known else " No database exists yet: ingest a video first."
        super().__init__(f"database {name!r} does not exist.{hint}")


class CatalogError(BuscaError):
    """The video catalog cannot be read or written. ``where`` is its file (or server), and the
    message says what to do (usually: ``python -m app check --db NAME --repair``)."""

    def __init__(self, where: str | Path, cause: str):
        self.where = str(where)
        self.cause = cause
        super().__init__(f"video catalog {self.where}: {cause}")


class ModelError(BuscaError):
    """A model could not be loaded or run. The message says how to fix it."""


class UrlError(BuscaError):
    """A URL was refused or could not be fetched."""
