"""The composition root: one long-lived object owns the encoder, the store, the data layout and
the video catalog; and the factories that build every model from the settings (the CLI and the
web app build models only through them).

The encoder loads lazily (the first search or ingest pays for it); the store opens at
start-up so that a locked embedded store is reported at once. The catalog goes with the store
(SQLite in the data directory, or a companion collection on a Qdrant server); a damaged catalog
does not stop anything from starting: :meth:`Services.warnings` names it.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

from app.config import AnalysisSettings, Settings
from models.clip import ClipOptions, OpenClipEncoder
from pipeline.errors import BuscaError, ConfigError
from pipeline.index import Catalog, DataLayout, catalog_for, open_catalog
from pipeline.protocols import CutDetector, Describer, Transcriber
from pipeline.store import VectorStore, open_store

log = logging.getLogger(__name__)


def make_encoder(model: str, device: str) -> OpenClipEncoder:
    """An open_clip encoder (nothing is loaded until it is first used)."""
    return OpenClipEncoder(ClipOptions(model=model, device=device))


def make_decoder(name: str, device: str):
    """Ingest's frame source: ``pyav`` (CPU, the default) or ``torchcodec`` (NVDEC on a GPU)."""
    if name == "pyav":
        from pipeline.media import iter_frames

        return iter_frames
    if name == "torchcodec":
        from models.video import TorchcodecDecoder

        return TorchcodecDecoder(device)
    raise ConfigError(f"unknown decoder {name!r}: choose pyav or torchcodec")


def make_cut_detector(name: str, device: str) -> CutDetector:
    """A shot-boundary detector by name (``transnetv2``); nothing is loaded until it is first used."""
    if name != "transnetv2":
        raise ConfigError(f"unknown shot-boundary detector {name!r}; the one available is transnetv2")
    from models.transnetv2 import TransNetOptions, TransNetV2Detector

    return TransNetV2Detector(TransNetOptions(device=device))


def make_transcriber(analysis: AnalysisSettings, device: str) -> Transcriber:
    """faster-whisper (CTranslate2 runs on cpu or cuda; other devices fall back to auto)."""
    from models.whisper import WhisperTranscriber

    kind = device.split(":")[0]
    return WhisperTranscriber(analysis.whisper_model, device=kind if kind in ("cpu", "cuda") else "auto",
                              language=analysis.audio_lang)


def make_describer(analysis: AnalysisSettings, device: str) -> Describer:
    """The vision-language model of the chosen backend (nothing is loaded yet)."""
    if analysis.vlm_backend == "openai":
        from models.vlm_openai import OpenAICompatibleDescriber, OpenAIVLMOptions

        if not analysis.vlm_url:
            raise ConfigError("--vlm-backend openai needs the server's URL: --vlm-url http://HOST:PORT/v1 "
                              "(or BUSCA_VLM_URL)")
        return OpenAICompatibleDescriber(OpenAIVLMOptions(base_url=analysis.vlm_url, model=analysis.vlm_model,
                                                          api_key=analysis.vlm_api_key))
    from models.vlm_transformers import QwenVLDescriber, QwenVLOptions

    return QwenVLDescriber(QwenVLOptions(model=analysis.vlm_model, device=device))


def model_statuses(analysis: AnalysisSettings, device: str) -> list:
    """The pre-flight of the analysis models, Whisper then the VLM (:mod:`models.preflight`;
    nothing is loaded, a server is only asked for its list of models)."""
    return [make_transcriber(analysis, device).status(), make_describer(analysis, device).status()]


def make_source_options(data_dir, analysis: AnalysisSettings):
    """Where URLs are downloaded (``<data>/downloads``) and under which limits: the one URL validator's
    policy (YouTube plus ``BUSCA_ALLOWED_HOSTS``), ``BUSCA_MAX_DURATION_S``, ``BUSCA_MAX_DOWNLOAD_MB``."""
    from pipeline.sources import SourceOptions, UrlPolicy

    return SourceOptions(cache_dir=data_dir / "downloads", policy=UrlPolicy(extra_hosts=analysis.allowed_hosts),
                         max_duration_s=analysis.max_duration_s,
                         max_filesize_bytes=int(analysis.max_download_mb * 1024 * 1024))


def catalog_replication() -> int | None:
    """Replication of the catalog's collection on a server: ``BUSCA_REPLICATION_FACTOR``, as the databases'."""
    raw = os.environ.get("BUSCA_REPLICATION_FACTOR", "").strip()
    try:
        return int(raw) if raw else None
    except ValueError as err:
        raise ConfigError(f"BUSCA_REPLICATION_FACTOR must be an integer, got {raw!r}") from err


def open_settings_catalog(settings: Settings) -> Catalog:
    """The catalog of these settings without opening the store (listing videos while the web app
    holds the embedded store)."""
    return open_catalog(settings.data_dir, settings.qdrant_url, settings.qdrant_api_key, catalog_replication())


#: How long a database's cheap count comparison is trusted before it is made again.
COUNT_CHECK_S = 60.0


@dataclass(frozen=True)
class ArchiveWarning:
    """Something the archive's users should know. ``kind``: ``catalog`` (a damaged catalog file, named
    in ``where``), ``points_lost`` (the store lost points the catalog lists) or ``records_missing``
    (points without catalog records); ``values`` fill the web app's texts, ``message`` is the CLI's line."""

    kind: str
    message: str
    db: str | None = None
    where: str = ""
    values: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


@dataclass
class Services:
    settings: Settings
    layout: DataLayout
    catalog: Catalog
    store: VectorStore
    encoder: OpenClipEncoder
    _counted: dict[str, tuple[float, ArchiveWarning | None]] = field(default_factory=dict, repr=False)

    @classmethod
    def start(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(settings.data_dir, url=settings.qdrant_url, api_key=settings.qdrant_api_key,
                           backend=settings.store)
        try:
            catalog = catalog_for(store, settings.data_dir, catalog_replication())
        except BaseException:
            store.close()
            raise
        encoder = make_encoder(settings.clip_model, settings.device)
        log.info("data in %s, store %s, catalog %s, encoder %s", settings.data_dir, store.kind, catalog.where,
                 settings.clip_model)
        services = cls(settings, DataLayout(settings.data_dir), catalog, store, encoder)
        for problem in catalog.problems():
            log.warning("%s", problem)
        return services

    def databases(self) -> list[str]:
        """Databases known to the store or to the catalog (the store's alone when the catalog is damaged)."""
        try:
            listed = set(self.catalog.databases())
        except BuscaError as err:
            log.warning("%s", err)
            listed = set()
        return sorted(set(self.store.list_collections()) | listed)

    def divergence(self, db: str) -> ArchiveWarning | None:
        """Cheap counts: the shots the catalog lists against the points the store holds (kept for
        ``COUNT_CHECK_S``); a warning pointing to ``check --repair`` when they disagree."""
        now = time.monotonic()
        cached = self._counted.get(db)
        if cached and now - cached[0] < COUNT_CHECK_S:
            return cached[1]
        try:
            totals = self.catalog.totals(db)
            stored = self.store.count(db) if self.store.has_collection(db) else 0
        except BuscaError:
            return None  # a damaged catalog or store is reported on its own
        values = {"db": db, "shots": totals.shots, "videos": totals.videos, "stored": stored}
        fix = f"run `python -m app check --db {db} --repair`"
        warning = None
        if stored < totals.shots:
            warning = ArchiveWarning("points_lost", f"database {db!r}: the catalog lists {totals.shots} shots in "
                                     f"{totals.videos} videos but the store holds {stored}: points were lost from "
                                     f"the store; {fix}", db, values=values)
        elif stored > totals.shots and not totals.pending:
            warning = ArchiveWarning("records_missing", f"database {db!r}: the store holds {stored} shots but the "
                                     f"catalog lists {totals.shots}: some videos have no catalog record; {fix}",
                                     db, values=values)
        if warning:
            log.warning("%s", warning)
        self._counted[db] = (now, warning)
        return warning

    def forget_counts(self, db: str | None = None) -> None:
        """After a write: the next :meth:`divergence` counts again."""
        if db is None:
            self._counted.clear()
        else:
            self._counted.pop(db, None)

    def warnings(self, databases: list[str] | None = None) -> list[ArchiveWarning]:
        """What the archive's users should know: a damaged catalog, and diverging counts."""
        found = [ArchiveWarning("catalog", str(err), where=err.where) for err in self.catalog.problems()]
        for db in self.databases() if databases is None else databases:
            if (warning := self.divergence(db)) is not None:
                found.append(warning)
        return found

    def close(self) -> None:
        try:
            self.catalog.close()
        finally:
            self.store.close()
