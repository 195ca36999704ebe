"""Settings from the environment, overridable by CLI flags. Nothing is read at import time."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.core import DiskMargin
from pipeline.errors import ConfigError

#: Environment variables, their defaults, and what they mean (the README lists them too).
ENVIRONMENT = {
    "BUSCA_DATA_DIR": ("./data", "data directory: artifacts, catalog, embedded Qdrant store"),
    "BUSCA_DB": ("archivo", "default database (Qdrant collection)"),
    "BUSCA_CLIP_MODEL": ("ViT-B-16-SigLIP2/webli", "encoder for new databases: a catalogue name (python -m app "
                         "models) or open_clip spec NAME/TAG, hf-hub:org/repo, local-dir:/path"),
    "BUSCA_QUERY_ENCODER": ("auto", "how text queries are encoded: auto, native, mclip (ViT-L-14/openai databases) "
                            "or translate (Apertium es->en)"),
    "BUSCA_MODELS_DIR": ("", "folder of downloaded models (python -m app models download); when set, every model "
                         "loads from it and the network is never used"),
    "BUSCA_TEXT_RUNTIME": ("auto", "text queries on CPU: auto (ONNX Runtime when installed), onnx or torch"),
    "BUSCA_DEVICE": ("auto", "torch device for the models: auto, cuda, mps or cpu"),
    "BUSCA_STORE": ("edge", "embedded store backend: edge (Qdrant Edge), local (qdrant-client local mode)"),
    "BUSCA_QDRANT_URL": ("", "Qdrant server or cluster URL; when set, the embedded store is not used"),
    "BUSCA_QDRANT_API_KEY": ("", "API key for the Qdrant server"),
    "BUSCA_FPS": ("2", "frames sampled per second of video"),
    "BUSCA_MIN_FREE_MB": ("1024", "free disk space every write leaves on the data directory, in MB (with the next)"),
    "BUSCA_MIN_FREE_PERCENT": ("5", "... or this share of the disk, whichever is larger; below it the store opens read-only"),
    "BUSCA_EVAL_MAX_LINES": ("20000", "most log entries an evaluation reads"),
    "BUSCA_EVAL_MAX_MB": ("20", "largest log file an evaluation reads, in MB"),
    # The web app's settings (read by app/ui/settings.py when it starts):
    "BUSCA_HOST": ("127.0.0.1", "web app bind address; 0.0.0.0 exposes it to the network (set BUSCA_AUTH)"),
    "BUSCA_PORT": ("7860", "web app port"),
    "BUSCA_AUTH": ("", "web app login as user:password (several: comma-separated)"),
    "BUSCA_AUTH_FILE": ("", "file with one user:password per line, instead of BUSCA_AUTH"),
    "BUSCA_ALLOW_ANONYMOUS": ("", "1: let the web app listen beyond this machine without a login (refused otherwise)"),
    "BUSCA_MAX_UPLOAD_MB": ("200", "largest file the web app accepts, in MB"),
    "BUSCA_MAX_REQUEST_MB": ("1000", "largest upload request (all its files together), in MB"),
    "BUSCA_MAX_UPLOAD_FILES": ("20", "most files in one upload request"),
    "BUSCA_INGEST_ROOT": ("/archivo", "server folders the web app may ingest from, ':'-separated (mount the archive there)"),
    "BUSCA_LANG": ("es", "web app language: es or en"),
    "BUSCA_PUBLIC_URL": ("", "the web app's address as users reach it, for deep links in results and exports "
                         "(default http://BUSCA_HOST:BUSCA_PORT/)"),
    # Analysis mode (python -m app analyze; read by AnalysisSettings):
    "BUSCA_WHISPER_MODEL": ("auto", "faster-whisper size or CTranslate2 dir; auto: large-v3 on GPU, small on CPU"),
    "BUSCA_AUDIO_LANG": ("es", "language spoken in the videos (es, en, ...); auto detects it per video"),
    "BUSCA_VLM_BACKEND": ("transformers", "vision-language model: transformers (local) or openai (a server)"),
    "BUSCA_VLM_MODEL": ("Qwen/Qwen2.5-VL-7B-Instruct", "Hugging Face id or local dir; with openai, the served name"),
    "BUSCA_VLM_URL": ("", "OpenAI-compatible server up to /v1, e.g. http://localhost:8000/v1 (vLLM)"),
    "BUSCA_VLM_API_KEY": ("", "API key for BUSCA_VLM_URL"),
    "BUSCA_VLM_URLS": ("", "other model servers web users may pick, comma-separated (default: only BUSCA_VLM_URL)"),
    "BUSCA_UI_MODELS": ("restricted", "restricted: web users pick only listed models and servers; open: anything"),
    "BUSCA_UI_WHISPER_MODELS": ("", "Whisper models web users may pick besides the sizes offered, comma-separated"),
    "BUSCA_UI_VLM_MODELS": ("", "vision-language models web users may pick besides BUSCA_VLM_MODEL, comma-separated"),
    "BUSCA_ALLOWED_HOSTS": ("", "video hosts allowed for URLs besides YouTube, comma-separated"),
    "BUSCA_MAX_DURATION_S": ("7200", "longest video a URL may point to, in seconds"),
    "BUSCA_MAX_DOWNLOAD_MB": ("2048", "largest download from a URL, in MB"),
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    db: str
    clip_model: str
    device: str
    store: str
    qdrant_url: str | None
    qdrant_api_key: str | None
    fps: float
    #: Free space every write leaves on the data directory's disk (below it: read-only).
    margin: DiskMargin = DiskMargin()
    #: Caps on a log that an evaluation reads (entries, file size in MB).
    eval_max_lines: int = 20_000
    eval_max_mb: float = 20.0
    #: ``BUSCA_MODELS_DIR``: load every model from this folder, never from the network.
    models_dir: Path | None = None
    #: ``BUSCA_QUERY_ENCODER``: auto, native, mclip or translate.
    query_encoder: str = "auto"
    #: ``BUSCA_TEXT_RUNTIME``: auto, onnx or torch (text queries on CPU).
    text_runtime: str = "auto"
    #: Whether ``clip_model`` was given on purpose (a flag), rather than being the default for new databases.
    clip_model_explicit: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(name, ENVIRONMENT[name][0]).strip()

        try:
            fps = float(get("BUSCA_FPS"))
        except ValueError as err:
            raise ConfigError(f"BUSCA_FPS must be a number, got {get('BUSCA_FPS')!r}") from err
        margin = DiskMargin(_number(env, "BUSCA_MIN_FREE_MB", allow_zero=True),
                            _number(env, "BUSCA_MIN_FREE_PERCENT", allow_zero=True))
        return cls(
            data_dir=Path(get("BUSCA_DATA_DIR")).expanduser(),
            db=get("BUSCA_DB"),
            clip_model=get("BUSCA_CLIP_MODEL"),
            device=get("BUSCA_DEVICE"),
            store=get("BUSCA_STORE"),
            qdrant_url=get("BUSCA_QDRANT_URL") or None,
            qdrant_api_key=get("BUSCA_QDRANT_API_KEY") or None,
            fps=fps,
            margin=margin,
            eval_max_lines=int(_number(env, "BUSCA_EVAL_MAX_LINES")),
            eval_max_mb=_number(env, "BUSCA_EVAL_MAX_MB"),
            models_dir=Path(get("BUSCA_MODELS_DIR")).expanduser() if get("BUSCA_MODELS_DIR") else None,
            query_encoder=get("BUSCA_QUERY_ENCODER").lower() or "auto",
            text_runtime=get("BUSCA_TEXT_RUNTIME").lower() or "auto",
        )

    def override(self, **changes) -> Settings:
        """Apply CLI flags that were given (``None`` means 'not given')."""
        given = {k: v for k, v in changes.items() if v is not None}
        for key in ("data_dir", "models_dir"):
            if key in given:
                given[key] = Path(given[key]).expanduser()
        if "clip_model" in given:
            given.setdefault("clip_model_explicit", True)
        return replace(self, **given)


def public_url(env: dict[str, str] | None = None, host: str | None = None, port: int | None = None) -> str:
    """Where users reach the web app (deep links): ``BUSCA_PUBLIC_URL``, else the web app's bind address
    and port (``host``/``port`` as it runs, or ``BUSCA_HOST``/``BUSCA_PORT``; a wildcard address as 127.0.0.1)."""
    env = os.environ if env is None else env
    given = env.get("BUSCA_PUBLIC_URL", "").strip()
    if given:
        return given
    host = host or env.get("BUSCA_HOST", "").strip() or ENVIRONMENT["BUSCA_HOST"][0]
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    host = f"[{host}]" if ":" in host else host
    port = port or env.get("BUSCA_PORT", "").strip() or ENVIRONMENT["BUSCA_PORT"][0]
    return f"http://{host}:{port}/"


VLM_BACKENDS = ("transformers", "openai")


def _names(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))


def _number(env, name: str, allow_zero: bool = False) -> float:
    raw = env.get(name, ENVIRONMENT[name][0]).strip()
    try:
        value = float(raw)
    except ValueError as err:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from err
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be {'zero or ' if allow_zero else ''}positive, got {raw!r}")
    return value


@dataclass(frozen=True)
class AnalysisSettings:
    """The analysis mode's settings. ``audio_lang`` ``None`` means: detect the language."""

    whisper_model: str
    audio_lang: str | None
    vlm_backend: str
    vlm_model: str
    vlm_url: str | None
    vlm_api_key: str | None
    allowed_hosts: tuple[str, ...]
    max_duration_s: float
    max_download_mb: float
    #: Model servers a web user may choose besides ``vlm_url`` (``BUSCA_VLM_URLS``).
    vlm_urls: tuple[str, ...] = ()
    #: ``restricted`` or ``open``: what web users may choose in the Configuración tab.
    ui_models: str = "restricted"
    #: Models web users may pick besides the defaults (``BUSCA_UI_WHISPER_MODELS``, ``BUSCA_UI_VLM_MODELS``).
    ui_whisper_models: tuple[str, ...] = ()
    ui_vlm_models: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.vlm_backend not in VLM_BACKENDS:
            raise ConfigError(f"unknown VLM backend {self.vlm_backend!r}: use {' or '.join(VLM_BACKENDS)}")
        if self.ui_models not in ("restricted", "open"):
            raise ConfigError(f"BUSCA_UI_MODELS must be restricted or open, got {self.ui_models!r}")
        if self.audio_lang is not None and not re.fullmatch(r"[a-z]{2,3}", self.audio_lang):
            raise ConfigError(f"audio language must be a code such as es or en, or auto; got {self.audio_lang!r}")

    @staticmethod
    def parse_lang(value: str) -> str | None:
        value = value.strip().lower()
        return None if value == "auto" else value

    @staticmethod
    def parse_hosts(value: str) -> tuple[str, ...]:
        return tuple(h.strip().lower().rstrip(".") for h in value.split(",") if h.strip())

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> AnalysisSettings:
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(name, ENVIRONMENT[name][0]).strip()

        return cls(
            whisper_model=get("BUSCA_WHISPER_MODEL") or "auto",
            audio_lang=cls.parse_lang(get("BUSCA_AUDIO_LANG") or "es"),
            vlm_backend=get("BUSCA_VLM_BACKEND").lower(),
            vlm_model=get("BUSCA_VLM_MODEL") or ENVIRONMENT["BUSCA_VLM_MODEL"][0],
            vlm_url=get("BUSCA_VLM_URL") or None,
            vlm_api_key=get("BUSCA_VLM_API_KEY") or None,
            allowed_hosts=cls.parse_hosts(get("BUSCA_ALLOWED_HOSTS")),
            max_duration_s=_number(env, "BUSCA_MAX_DURATION_S"),
            max_download_mb=_number(env, "BUSCA_MAX_DOWNLOAD_MB"),
            vlm_urls=_names(get("BUSCA_VLM_URLS")),
            ui_models=get("BUSCA_UI_MODELS").lower(),
            ui_whisper_models=_names(get("BUSCA_UI_WHISPER_MODELS")),
            ui_vlm_models=_names(get("BUSCA_UI_VLM_MODELS")),
        )

    def override(self, **changes) -> AnalysisSettings:
        """Apply CLI flags that were given (``None`` means 'not given')."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
