"""The composition root: one long-lived object owns the encoders, the store, the data layout and
the video catalog; and the factories that build every model from the settings (the CLI and the
web app build models only through them).

The encoder loads lazily (the first search or ingest pays for it); the store opens at
start-up so that a locked embedded store is reported at once. The catalog goes with the store
(SQLite in the data directory, or a companion collection on a Qdrant server); a damaged catalog
does not stop anything from starting: :meth:`Services.warnings` names it. A database is searched
with the encoder that made its vectors (:meth:`Services.encoder_for_db`), and text queries go
through the query encoder chosen for it (:meth:`Services.query_encoder`). When the data
directory's disk has less than the margin free (``BUSCA_MIN_FREE_MB`` / ``_PERCENT``), the
embedded store opens read-only: search works, writes are refused with a clear error instead of
a SIGBUS.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.config import AnalysisSettings, ChannelSettings, Settings
from models.catalogue import ENCODERS, MCLIP_MODEL, ORIGINAL_ENCODER, is_multilingual, resolve_encoder_name
from models.clip import ClipOptions, OpenClipEncoder
from pipeline.channels import OCR, SPEECH, ChannelModels, migrate_registry_files
from pipeline.core import check_free_space, space_shortfall
from pipeline.errors import BuscaError, ConfigError, QueryError
from pipeline.index import Catalog, DataLayout, EncoderRecord, catalog_for, open_catalog, stored_encoders
from pipeline.protocols import CutDetector, Describer, TextEmbedder, TextEncoder, TextReader, Transcriber
from pipeline.search import CachedTextEncoder, QueryEncoderChoice, TranslatingEncoder, choose_query_encoder
from pipeline.store import VectorStore, open_store

log = logging.getLogger(__name__)

KNOWN_SPECS = tuple(entry.spec for entry in ENCODERS)


def make_encoder(model: str, device: str, models_dir=None, text_runtime: str = "auto") -> OpenClipEncoder:
    """An open_clip encoder (nothing is loaded until it is first used). ``model`` may be a
    catalogue name (``siglip2-b16``) or any open_clip spec. ``text_runtime`` ``auto`` runs text
    queries with ONNX Runtime on CPU when it is installed (README, "Performance", text queries)."""
    return OpenClipEncoder(ClipOptions(model=resolve_encoder_name(model), device=device,
                                       models_dir=str(models_dir) if models_dir else None, text_runtime=text_runtime))


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


def make_transcriber(analysis: AnalysisSettings, device: str, models_dir=None) -> Transcriber:
    """faster-whisper (CTranslate2 runs on cpu or cuda; other devices fall back to auto). With a
    models folder the model loads from ``<models>/whisper/<size>``; without one, a size that is
    neither cached nor downloadable fails here, once."""
    from models.whisper import WhisperTranscriber, local_whisper

    models_dir = models_dir or os.environ.get("BUSCA_MODELS_DIR") or None  # the web app's factories pass none
    kind = device.split(":")[0]
    whisper_device = kind if kind in ("cpu", "cuda") else "auto"
    model = local_whisper(analysis.whisper_model, whisper_device, str(models_dir) if models_dir else None)
    return WhisperTranscriber(model, device=whisper_device, language=analysis.audio_lang)


def make_text_embedder(channels: ChannelSettings, device: str, models_dir=None) -> TextEmbedder:
    """The text channels' multilingual-e5 embedder (nothing is loaded yet); with a models folder a
    Hugging Face id loads from ``<models>/hf/<repo>``."""
    from models.text_embed import E5TextEmbedder

    models_dir = models_dir or os.environ.get("BUSCA_MODELS_DIR") or None
    return E5TextEmbedder(channels.text_model, device=device, models_dir=models_dir)


def make_speech_transcriber(channels: ChannelSettings, language: str | None, device: str,
                            models_dir=None) -> Transcriber:
    """faster-whisper with word times for the speech channel, each stretch of speech decoded on its
    own (see :class:`models.whisper.WhisperTranscriber`); ``auto``: base on CPU, large-v3 on a GPU
    (unmeasured here). With a models folder the model loads from ``<models>/whisper/<size>``."""
    from models.whisper import WhisperTranscriber, local_whisper, resolve_whisper

    models_dir = models_dir or os.environ.get("BUSCA_MODELS_DIR") or None
    kind = device.split(":")[0]
    kind = kind if kind in ("cpu", "cuda") else "auto"
    model = channels.speech_model
    if model == "auto":
        model = "large-v3" if resolve_whisper("auto", kind, "auto")[1] == "cuda" else "base"
    model, kind, compute = resolve_whisper(model, kind, "auto")  # a name that loading does not change
    model = local_whisper(model, kind, str(models_dir) if models_dir else None)
    return WhisperTranscriber(model, device=kind, compute_type=compute, language=language, word_timestamps=True,
                              beam_size=1, chunked=True)


def make_text_reader(channels: ChannelSettings) -> TextReader:
    """The OCR engine of the on-screen text channel (loaded on first use)."""
    from models.ocr import make_reader

    return make_reader(channels.ocr_engine)


def make_channel_models(channels: ChannelSettings, language: str | None, device: str,
                        wanted: Sequence[str], models_dir=None) -> ChannelModels:
    """The models the wanted channels need (speech: Whisper, in ``language``: a code, ``es,en`` to
    detect among those, or None to detect; ocr: OCR; all: the text embedder)."""
    return ChannelModels(
        embedder=make_text_embedder(channels, device, models_dir),
        transcriber=make_speech_transcriber(channels, language, device, models_dir) if SPEECH in wanted else None,
        reader=make_text_reader(channels) if OCR in wanted else None,
    )


def channel_problems(models: ChannelModels, channels: Sequence[str]) -> dict[str, str]:
    """Why each of ``channels`` cannot run here (nothing is loaded): its model cannot be had, or the
    text embedder every text channel needs. Empty when all can."""
    from models.hub import hub_offline_reason

    def problem(model) -> str | None:
        try:
            model.check()
            status = getattr(model, "status", None)  # Whisper: "download" still needs a hub that answers
            if callable(status) and status().state == "download":
                return hub_offline_reason()
        except BuscaError as err:
            return str(err)
        return None

    shared = problem(models.embedder)
    out = {}
    for channel in channels:
        model = {SPEECH: models.transcriber, OCR: models.reader}.get(channel)
        why = shared or (problem(model) if model is not None else None)
        if why:
            out[channel] = why
    return out


def make_describer(analysis: AnalysisSettings, device: str, models_dir=None) -> Describer:
    """The vision-language model of the chosen backend (nothing is loaded yet)."""
    if analysis.vlm_backend == "openai":
        from models.vlm_openai import OpenAICompatibleDescriber, OpenAIVLMOptions

        if not analysis.vlm_url:
            raise ConfigError("--vlm-backend openai needs the server's URL: --vlm-url http://HOST:PORT/v1 "
                              "(or BUSCA_VLM_URL)")
        return OpenAICompatibleDescriber(OpenAIVLMOptions(base_url=analysis.vlm_url, model=analysis.vlm_model,
                                                          api_key=analysis.vlm_api_key))
    from models.hub import local_hf_model
    from models.vlm_transformers import QwenVLDescriber, QwenVLOptions

    models_dir = models_dir or os.environ.get("BUSCA_MODELS_DIR") or None
    model, offline = local_hf_model(analysis.vlm_model, str(models_dir) if models_dir else None)
    return QwenVLDescriber(QwenVLOptions(model=model, device=device, local_files_only=offline))


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
    _text_embedder: TextEmbedder | None = None
    _encoders: dict = field(default_factory=dict, repr=False)
    _text_encoders: dict = field(default_factory=dict, repr=False)
    _available: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def start(cls, settings: Settings, write: str | None = None) -> Services:
        """Open the store (read-only when the disk is short). ``write`` names what the caller is
        about to write (e.g. ``"ingest"``): then a short disk is an error, raised before anything opens."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if write:  # artifacts and media go to the data directory, whatever the store
            check_free_space(settings.data_dir, settings.margin, write)
        embedded = not settings.qdrant_url
        short = space_shortfall(settings.data_dir, settings.margin) if embedded else None
        if short is not None:
            log.warning("only %d MB free on %s (margin %d MB): the store opens read-only, ingest is refused",
                        short[0] >> 20, settings.data_dir, short[1] >> 20)
        store = open_store(settings.data_dir, url=settings.qdrant_url, api_key=settings.qdrant_api_key,
                           backend=settings.store, read_only=short is not None, margin=settings.margin)
        try:
            catalog = catalog_for(store, settings.data_dir, catalog_replication())
        except BaseException:
            store.close()
            raise
        encoder = make_encoder(settings.clip_model, settings.device, settings.models_dir, settings.text_runtime)
        log.info("data in %s, store %s, catalog %s, encoder %s", settings.data_dir, store.kind, catalog.where,
                 settings.clip_model)
        services = cls(settings, DataLayout(settings.data_dir), catalog, store, encoder)
        problems = catalog.problems()
        for problem in problems:
            log.warning("%s", problem)
        if not problems:  # channel records of an earlier version, before any command moves their database
            migrate_registry_files(store, settings.data_dir, catalog)
        return services

    @property
    def text_embedder(self) -> TextEmbedder:
        """The text channels' embedder for queries, made on first use (loaded on first query)."""
        if self._text_embedder is None:
            self._text_embedder = make_text_embedder(ChannelSettings.from_env(), self.settings.device,
                                                     self.settings.models_dir)
        return self._text_embedder

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

    # --- encoders --------------------------------------------------------------------------------

    def encoder_named(self, spec: str) -> OpenClipEncoder:
        """One long-lived encoder per model spec (the configured one is :attr:`encoder`)."""
        spec = resolve_encoder_name(spec)
        if spec in (self.encoder.name, getattr(self.encoder, "model_id", None)):
            return self.encoder
        with self._lock:
            if spec not in self._encoders:
                self._encoders[spec] = make_encoder(spec, self.settings.device, self.settings.models_dir,
                                                    self.settings.text_runtime)
            return self._encoders[spec]

    def db_encoders(self, db: str) -> dict[str, EncoderRecord]:
        """The database's image-text encoders (named vectors ``clip-*``; other channels' vectors,
        e.g. text embeddings, are not searched with an image encoder) with the model and weights
        that made each."""
        records = stored_encoders(self.store, db, KNOWN_SPECS)
        return {name: record for name, record in records.items() if name.startswith("clip-")}

    def encoder_for_db(self, db: str, requested: str | None = None) -> OpenClipEncoder:
        """The encoder to search ``db`` with: ``requested`` (a name or spec) when given, else the
        configured one when the database holds its vectors, else the model that made the database's
        vectors (the configured model is only the default for new databases)."""
        if requested:
            return self.encoder_named(requested)
        if self.settings.clip_model_explicit or not self.store.has_collection(db):
            return self.encoder
        records = self.db_encoders(db)
        if not records or self.encoder.vector_name in records:
            return self.encoder
        known = [r for r in records.values() if r.model]
        if not known:
            raise QueryError(f"database {db!r} holds vectors of models it did not record "
                             f"({', '.join(records)}): pass the model that made them with --clip-model")
        preferred = sorted(known, key=lambda r: KNOWN_SPECS.index(r.model) if r.model in KNOWN_SPECS else 99)[0]
        log.info("database %r: searching with %s, the model that made its vectors", db, preferred.model)
        return self.encoder_named(preferred.model)

    def add_other_encoders(self, db: str, encoder, video_ids: list[str], progress: bool = False) -> list:
        """Give ``video_ids`` (just ingested with ``encoder``) the vectors of every other encoder
        ``db`` records, by re-indexing them (:func:`pipeline.index.reindex`); the results per video."""
        from pipeline.index import reindex

        results = []
        if not video_ids:
            return results
        for record in self.db_encoders(db).values():
            if record.vector_name == encoder.vector_name or not record.model:
                continue
            other = self.encoder_named(record.model)
            log.info("adding %s vectors to %d new videos of %r", record.model, len(video_ids), db)
            results += reindex(other, self.store, self.layout, db, video_ids=video_ids,
                               short_side=max(224, other.image_size), progress=progress, catalog=self.catalog)
        return results

    def available(self, what: str) -> bool:
        """Whether query encoder ``mclip`` (its files at hand) or ``translate`` (Apertium) can run here."""
        if what not in self._available:
            if what == "translate":
                from models.translate import ApertiumTranslator

                self._available[what] = ApertiumTranslator.available()
            else:
                from models.mclip import MClipTextEncoder

                self._available[what] = MClipTextEncoder.present(MCLIP_MODEL, self._models_dir())
        return self._available[what]

    def _models_dir(self) -> str | None:
        return str(self.settings.models_dir) if self.settings.models_dir else None

    def query_encoder(self, db: str, encoder: OpenClipEncoder, requested: str | None = None
                      ) -> tuple[TextEncoder, QueryEncoderChoice]:
        """The text encoder for queries on ``db`` (cached: repeated queries cost nothing) and why."""
        requested = (requested or self.settings.query_encoder or "auto").lower()
        records = self.db_encoders(db) if self.store.has_collection(db) else {}
        record = records.get(encoder.vector_name)
        space = record.model if record and record.model else getattr(encoder, "model_id", encoder.name)
        choice = choose_query_encoder(requested, is_multilingual(space), space, ORIGINAL_ENCODER,
                                      self.available("mclip") if requested in ("auto", "mclip") else False,
                                      self.available("translate") if requested in ("auto", "translate") else False)
        key = (choice.kind, encoder.vector_name, id(encoder))
        with self._lock:
            if key not in self._text_encoders:
                self._text_encoders[key] = CachedTextEncoder(self._build_text_encoder(choice.kind, encoder))
            return self._text_encoders[key], choice

    def _build_text_encoder(self, kind: str, encoder: OpenClipEncoder) -> TextEncoder:
        if kind == "mclip":
            from models.mclip import MClipTextEncoder

            return MClipTextEncoder(MCLIP_MODEL, device=self.settings.device, models_dir=self._models_dir(),
                                    space=ORIGINAL_ENCODER)
        if kind == "translate":
            from models.translate import ApertiumTranslator

            return TranslatingEncoder(ApertiumTranslator(), encoder)
        return encoder

    def close(self) -> None:
        try:
            self.catalog.close()
        finally:
            self.store.close()


def describe_choice(encoder: OpenClipEncoder, text_encoder: TextEncoder, choice: QueryEncoderChoice) -> str:
    """One line for the results: which encoder and which query encoder ran, and why."""
    space = getattr(encoder, "model_id", encoder.name)
    if choice.kind == "native":
        return f"encoder {space} (its own text tower: {choice.reason})"
    return f"encoder {space}, query encoder {choice.kind}: {text_encoder.name} ({choice.reason})"
