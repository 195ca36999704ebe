"""The composition root: one long-lived object owns the encoder, the store, the data layout and
the video catalog; and the factories that build every model from the settings (the CLI and the
web app build models only through them).

The encoder loads lazily (the first search or ingest pays for it); the store opens at
start-up so that a locked embedded store is reported at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from app.config import AnalysisSettings, ChannelSettings, Settings
from models.clip import ClipOptions, OpenClipEncoder
from pipeline.channels import OCR, SPEECH, ChannelModels
from pipeline.errors import ConfigError
from pipeline.index import DataLayout, VideoCatalog
from pipeline.protocols import Describer, TextEmbedder, TextReader, Transcriber
from pipeline.store import VectorStore, open_store

log = logging.getLogger(__name__)


def make_encoder(model: str, device: str) -> OpenClipEncoder:
    """An open_clip encoder (nothing is loaded until it is first used)."""
    return OpenClipEncoder(ClipOptions(model=model, device=device))


def make_transcriber(analysis: AnalysisSettings, device: str) -> Transcriber:
    """faster-whisper (CTranslate2 runs on cpu or cuda; other devices fall back to auto)."""
    from models.whisper import WhisperTranscriber

    kind = device.split(":")[0]
    return WhisperTranscriber(analysis.whisper_model, device=kind if kind in ("cpu", "cuda") else "auto",
                              language=analysis.audio_lang)


def make_text_embedder(channels: ChannelSettings, device: str) -> TextEmbedder:
    """The text channels' multilingual-e5 embedder (nothing is loaded yet)."""
    from models.text_embed import E5TextEmbedder

    return E5TextEmbedder(channels.text_model, device=device)


def make_speech_transcriber(channels: ChannelSettings, language: str | None, device: str) -> Transcriber:
    """faster-whisper with word times for the speech channel; ``auto``: base on CPU (measured at
    ~7x real time on 2 cores), large-v3 on a GPU (unmeasured here)."""
    from models.whisper import WhisperTranscriber, resolve_whisper

    kind = device.split(":")[0]
    kind = kind if kind in ("cpu", "cuda") else "auto"
    model = channels.speech_model
    if model == "auto":
        model = "large-v3" if resolve_whisper("auto", kind, "auto")[1] == "cuda" else "base"
    model, kind, compute = resolve_whisper(model, kind, "auto")  # a name that loading does not change
    return WhisperTranscriber(model, device=kind, compute_type=compute, language=language, word_timestamps=True,
                              beam_size=1)


def make_text_reader(channels: ChannelSettings) -> TextReader:
    """The OCR engine of the on-screen text channel (loaded on first use)."""
    from models.ocr import make_reader

    return make_reader(channels.ocr_engine)


def make_channel_models(channels: ChannelSettings, analysis: AnalysisSettings, device: str,
                        wanted: Sequence[str]) -> ChannelModels:
    """The models the wanted channels need (speech: Whisper; ocr: OCR; all: the text embedder)."""
    return ChannelModels(
        embedder=make_text_embedder(channels, device),
        transcriber=make_speech_transcriber(channels, analysis.audio_lang, device) if SPEECH in wanted else None,
        reader=make_text_reader(channels) if OCR in wanted else None,
    )


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


@dataclass
class Services:
    settings: Settings
    layout: DataLayout
    catalog: VideoCatalog
    store: VectorStore
    encoder: OpenClipEncoder
    _text_embedder: TextEmbedder | None = None

    @classmethod
    def start(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(settings.data_dir, url=settings.qdrant_url, api_key=settings.qdrant_api_key,
                           backend=settings.store)
        encoder = make_encoder(settings.clip_model, settings.device)
        log.info("data in %s, store %s, encoder %s", settings.data_dir, store.kind, settings.clip_model)
        return cls(settings, DataLayout(settings.data_dir), VideoCatalog(settings.data_dir), store, encoder)

    @property
    def text_embedder(self) -> TextEmbedder:
        """The text channels' embedder for queries, made on first use (loaded on first query)."""
        if self._text_embedder is None:
            self._text_embedder = make_text_embedder(ChannelSettings.from_env(), self.settings.device)
        return self._text_embedder

    def databases(self) -> list[str]:
        """Databases known to the store or to the catalog."""
        return sorted(set(self.store.list_collections()) | set(self.catalog.databases()))

    def close(self) -> None:
        self.store.close()
