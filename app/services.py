"""The composition root: one long-lived object owns the encoder, the store, the data layout and
the video catalog; and the factories that build every model from the settings (the CLI and the
web app build models only through them).

The encoder loads lazily (the first search or ingest pays for it); the store opens at
start-up so that a locked embedded store is reported at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.config import AnalysisSettings, Settings
from models.clip import ClipOptions, OpenClipEncoder
from pipeline.errors import ConfigError
from pipeline.index import DataLayout, VideoCatalog
from pipeline.protocols import Describer, Transcriber
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


@dataclass
class Services:
    settings: Settings
    layout: DataLayout
    catalog: VideoCatalog
    store: VectorStore
    encoder: OpenClipEncoder

    @classmethod
    def start(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(settings.data_dir, url=settings.qdrant_url, api_key=settings.qdrant_api_key,
                           backend=settings.store)
        encoder = make_encoder(settings.clip_model, settings.device)
        log.info("data in %s, store %s, encoder %s", settings.data_dir, store.kind, settings.clip_model)
        return cls(settings, DataLayout(settings.data_dir), VideoCatalog(settings.data_dir), store, encoder)

    def databases(self) -> list[str]:
        """Databases known to the store or to the catalog."""
        return sorted(set(self.store.list_collections()) | set(self.catalog.databases()))

    def close(self) -> None:
        self.store.close()
