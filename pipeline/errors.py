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


class DiskFullError(StoreError):
    """Too little free space to write safely where a write was asked for.

    Qdrant Edge writes through memory-mapped files: on a full disk it dies of SIGBUS instead of
    raising, so writes are refused *before* the disk fills (:mod:`pipeline.core.disk`)."""

    def __init__(self, path: str | Path, action: str, free_bytes: int, needed_bytes: int):
        self.path, self.action = str(path), action
        self.free_bytes, self.needed_bytes = int(free_bytes), int(needed_bytes)
        super().__init__(
            f"not enough free disk space to {action}: the data directory {self.path} has "
            f"{human_size(free_bytes)} free and needs {human_size(needed_bytes)}. Free space there, or lower the "
            "margin (BUSCA_MIN_FREE_MB, BUSCA_MIN_FREE_PERCENT)"
        )


def human_size(n: float) -> str:
    """``1536`` -> ``"1.5 KB"``: sizes in messages."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


class ModelError(BuscaError):
    """A model could not be loaded or run. The message says how to fix it."""


class UrlError(BuscaError):
    """A URL was refused or could not be fetched."""
