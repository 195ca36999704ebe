"""One exception hierarchy for the whole pipeline.

Every error carries a **code** and its **parameters** (``err.code``, ``err.params``), and
``str(err)`` is a good English one-liner made from :data:`MESSAGES`: the CLI prints it. The web
app renders the code in the user's language instead (``app/ui/texts/errors.py`` has a Spanish
and an English text for every code here, cause first, with file names but never server paths).

An error raised with free text (``raise QueryError("...")``) gets its class's generic code
(``query``, ``media``...) and the text as ``detail``: the CLI still prints the text, the web
app shows the class's generic message in the user's language (and logs the detail). Raise
with a code wherever a person may read the message::

    raise MediaError(path, code="media.still_image", format="jpeg")
    raise QueryError(code="query.k_range", value=k)
"""

from __future__ import annotations

from pathlib import Path

#: The English text of every code, formatted with the error's parameters. Media codes give the
#: cause only: ``str(err)`` puts the file before it (``clip.mp4: file not found``).
MESSAGES: dict[str, str] = {
    # generic codes of errors raised with free text
    "error": "{detail}",
    "media": "{detail}",
    "config": "{detail}",
    "query": "{detail}",
    "store": "{detail}",
    "model": "{detail}",
    "url": "{detail}",
    "catalog": "{detail}",
    # media files (ingest, analysis) and query images
    "media.not_found": "file not found",
    "media.is_folder": "is a folder, not a media file",
    "media.empty": "empty file (0 bytes)",
    "media.corrupt": "not a readable media file, or truncated/corrupt ({reason})",
    "media.unopenable": "cannot be opened as media ({reason})",
    "media.still_image": "is a still image ({format}), not a video",
    "media.no_video_stream": "has no video stream (streams found: {streams})",
    "media.no_decoder": "video codec is not supported by this FFmpeg build (no decoder for it): "
                        "re-encode the file, e.g. ffmpeg -i IN -c:v libx264 OUT.mp4",
    "media.too_many_pixels": "resolution {width}x{height} exceeds the limit of {limit} pixels",
    "media.no_frames": "no decodable video frames{reason}: the video data is damaged or not what the "
                       "container declares",
    "media.unreadable": "cannot be read ({reason})",
    "media.unplaceable": "cannot be placed in the data directory ({reason})",
    "media.unexpected": "unexpected {kind}: {reason}",
    "media.worker_died": "its worker process died {times} times while preparing it (out of memory, or killed)",
    "image.not_found": "image file not found",
    "image.invalid": "not a valid image file (use JPG, PNG, WEBP or AVIF)",
    "image.undecodable": "the image is damaged or truncated and cannot be decoded ({reason})",
    "image.too_many_pixels": "image is {width}x{height}, above {limit} pixels",
    "image.too_big": "image file is {size_mb} MB, above the limit of {limit_mb} MB",
    # names and settings
    "config.db_name": "invalid database name {name!r}: use 1-64 letters, digits, '-' or '_', starting with a "
                      "letter or digit",
    "config.video_id": "invalid video id {video_id!r}",
    # queries, refinement and "more like this"
    "query.empty": "empty query: give a text description, an example image, or both",
    "query.weight_range": "image_weight must be between 0 and 1, got {value}",
    "query.k_range": "k must be between 1 and 1000, got {value}",
    "query.zero_vector": "the query vector is zero: the text and image cancel out; change the weight",
    "query.marked_both": "a result cannot be marked both relevant and not relevant",
    "query.refine_empty": "refine needs a query or at least one relevant result",
    "query.recommend_positive": "recommend needs at least one result marked relevant",
    "query.refine_method": "unknown refine method {method!r}: use rocchio or recommend",
    "query.unknown_shot": "shot {shot!r} is not in database {db!r}: search again and pick a result",
    "query.no_vectors": "database {db!r} has no {vector!r} vectors (it has {known}): search it with the "
                        "encoder it was indexed with",
    # encoders: which model made a database's vectors, query encoders, models that cannot be had
    "query.encoder_missing": "database {db!r} has no vectors made by {model} ({vector}); it holds {held}. Search it "
                             "with the encoder it holds (--clip-model, or the encoder picker), or add this encoder's "
                             "vectors: python -m app reindex --db {db} --model {model}",
    "query.encoder_weights": "database {db!r}: its {vector} vectors were made by {made_by} with weights {weights}, but "
                             "{model} loaded weights {mine}: refused rather than answered in the wrong space. Load the "
                             "model that made them, or index with this one into another database",
    "query.encoder_space": "database {db!r}: its {vector} vectors were made by {made_by}, but {model} maps queries "
                           "into the space of {space}: refused rather than answered in the wrong space",
    "query.mclip_space": "the M-CLIP query encoder maps into the space of {space} only; this database's vectors "
                         "were made by {made_by}: use native or translate",
    "query.no_translator": "the translate query encoder needs Apertium (Debian: apt install apertium-eng-spa)",
    "query.query_encoder": "unknown query encoder {name!r}: use {choices}",
    "model.unavailable": "model {model!r} is not available: {why}. Either run `python -m app models download "
                         "{model} --to DIR` on a connected machine and point BUSCA_MODELS_DIR (or --models-dir) at "
                         "DIR, or give {alternative}",
    # temporal queries, thresholds and orders, transcripts for subtitles
    "query.within_range": "'within' must be between 0 and {limit} seconds, got {value}",
    "query.sort": "unknown order {sort!r}: use one of {orders}",
    "query.min_score": "minimum score must be between -1 and 1, got {value}",
    "media.no_transcript": "has no transcript yet: transcribe it first (the analysis mode, `python -m app analyze`, "
                           "stores one)",
    # stores and databases
    "store.locked": "the embedded Qdrant store at {path} is already open in another process. An embedded "
                    "store serves one process only: stop the other process, or run a Qdrant server and point "
                    "every process at it with --qdrant-url / BUSCA_QDRANT_URL.",
    "store.unknown_db": "database {name!r} does not exist. Known databases: {known}.",
    "store.no_databases": "database {name!r} does not exist. No database exists yet: ingest a video first.",
    "store.disk_full": "not enough free disk space to {action}: the data directory {path} has {free} free and "
                       "needs {needed}. Free space there, or lower the margin (BUSCA_MIN_FREE_MB, "
                       "BUSCA_MIN_FREE_PERCENT)",
    "store.read_only": "cannot {action}: the store at {path} was opened read-only because its disk was nearly "
                       "full; free space there and start again to write",
    "store.damaged": "Qdrant Edge failed to {action} in database {name!r}: its files are damaged ({reason}). "
                     "Restore the database from a backup (python -m app restore), or drop it and ingest again",
    # URLs (the one validator, pipeline.sources.urls)
    "url.scheme": "{url}: only http and https URLs are accepted (got {scheme} scheme)",
    "url.credentials": "{url}: URLs with a user name or password are refused",
    "url.bad_port": "{url}: invalid port ({reason})",
    "url.no_host": "{url}: the URL has no host",
    "url.unresolvable": "{url}: cannot resolve host {host} ({reason})",
    "url.no_address": "{url}: host {host} resolves to no address",
    "url.not_public": "{url}: refused, host {host} leads to a non-public address ({problem})",
    "url.not_allowed": "{url}: host {host} is not on the allowlist ({allowed}); an administrator can add hosts "
                       "to the sources settings",
    # URLs (the download, pipeline.sources.fetch)
    "url.playlist": "{url}: is a playlist or channel; give the URL of a single video",
    "url.live": "{url}: live streams cannot be analysed; wait until the recording is published",
    "url.too_long": "{url}: the video lasts {minutes} min, over the limit of {limit} min",
    "url.too_big": "{url}: the download is about {mb} MB, over the limit of {limit} MB",
    "url.no_file": "{url}: the download produced no file (larger than {limit} MB, or no format up to "
                   "{height}p)",
    "url.not_video": "{url}: the downloaded file is not a readable video ({reason})",
    "url.no_video": "{url}: yt-dlp found no video (no allowed extractor for this URL)",
    "url.download_failed": "{url}: download failed: {reason}",
    # evaluation logs
    "config.log_too_many": "{path}: more than {limit} log entries: split the log, or raise the limit "
                           "(BUSCA_EVAL_MAX_LINES)",
    "config.log_too_big": "{path}: the log is {size}, over the limit of {limit}: split it, or raise the limit "
                          "(BUSCA_EVAL_MAX_MB)",
}


class BuscaError(Exception):
    """Base class of every error the pipeline raises on purpose.

    ``BuscaError("free text")`` or ``BuscaError(code="...", **params)`` (see :data:`MESSAGES`).
    """

    #: The code of an error of this class raised with free text.
    generic = "error"

    def __init__(self, message: str | None = None, *, code: str | None = None, **params: object):
        if code is None:
            code, params = self.generic, {**params, "detail": message or ""}
        elif code not in MESSAGES:
            raise KeyError(f"unknown error code {code!r}: add it to pipeline.errors.MESSAGES")
        self.code: str = code
        self.params: dict[str, object] = params
        super().__init__(message if message is not None else MESSAGES[code].format(**params))


class MediaError(BuscaError):
    """A media file cannot be used. ``str(err)`` is ``"<path>: <cause>"``; ``params["path"]`` is the file."""

    generic = "media"

    def __init__(self, path: str | Path, cause: str | None = None, *, code: str | None = None, **params: object):
        self.path = str(path)
        if code is None:
            code, params = self.generic, {**params, "detail": cause or ""}
        elif code not in MESSAGES:
            raise KeyError(f"unknown error code {code!r}: add it to pipeline.errors.MESSAGES")
        self.code, self.params = code, {"path": self.path, **params}
        self.cause = cause if cause is not None else MESSAGES[code].format(**self.params)
        Exception.__init__(self, f"{self.path}: {self.cause}")


class ConfigError(BuscaError):
    """A setting or option has a value that cannot work."""

    generic = "config"


class QueryError(BuscaError):
    """A search request is empty or inconsistent."""

    generic = "query"


class StoreError(BuscaError):
    """The vector store failed or refused an operation."""

    generic = "store"


class StoreLockedError(StoreError):
    """The embedded store is already open in another process."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        super().__init__(code="store.locked", path=self.path)


class UnknownDatabaseError(StoreError):
    """A database (collection) that does not exist was asked for."""

    def __init__(self, name: str, known: list[str]):
        self.name = name
        if known:
            super().__init__(code="store.unknown_db", name=name, known=", ".join(known))
        else:
            super().__init__(code="store.no_databases", name=name)


class CatalogError(BuscaError):
    """The video catalog cannot be read or written. ``where`` is its file (or server), and the
    message says what to do (usually: ``python -m app check --db NAME --repair``)."""

    generic = "catalog"

    def __init__(self, where: str | Path, cause: str):
        self.where = str(where)
        self.cause = cause
        super().__init__(f"video catalog {self.where}: {cause}")


class DiskFullError(StoreError):
    """Too little free space to write safely where a write was asked for.

    Qdrant Edge writes through memory-mapped files: on a full disk it dies of SIGBUS instead of
    raising, so writes are refused *before* the disk fills (:mod:`pipeline.core.disk`)."""

    def __init__(self, path: str | Path, action: str, free_bytes: int, needed_bytes: int):
        self.path, self.action = str(path), action
        self.free_bytes, self.needed_bytes = int(free_bytes), int(needed_bytes)
        super().__init__(code="store.disk_full", path=self.path, action=action, free=human_size(free_bytes),
                         needed=human_size(needed_bytes))


def human_size(n: float) -> str:
    """``1536`` -> ``"1.5 KB"``: sizes in messages."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


class ModelError(BuscaError):
    """A model could not be loaded or run. The message says how to fix it."""

    generic = "model"


class UrlError(BuscaError):
    """A URL was refused or could not be fetched."""

    generic = "url"
