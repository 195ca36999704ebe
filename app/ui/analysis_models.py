"""The analysis tabs' settings per session, and the models they need, owned by the context.

:class:`AnalysisConfig` is what the "Configuración" tab edits; each browser session keeps
its own in a ``gr.State`` (the defaults come from the ``BUSCA_*`` analysis variables).
:class:`AnalysisModels` holds one transcriber and one describer, made for the configuration
of the analysis that asks for them and loaded lazily by the models themselves; an analysis
with another configuration replaces them, unloading the old one first. The analysis events
share one concurrency slot, so a model is never replaced while an analysis uses it.
:class:`SharedEncoder` lends the search encoder to the analysis stages without its
``unload``: a batch must not free the model a concurrent search is using.
No gradio here.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from app.config import VLM_BACKENDS, AnalysisSettings
from app.services import make_describer, make_transcriber
from pipeline.analysis import DEFAULT_INSTRUCTIONS, AnalysisOptions
from pipeline.errors import ConfigError
from pipeline.protocols import Describer, ImageTextEncoder, Transcriber

log = logging.getLogger(__name__)

WHISPER_SIZES = ("auto", "tiny", "base", "small", "medium", "large-v3")
AUDIO_LANGS = ("es", "en", "ca", "eu", "gl", "pt", "fr", "auto")
MAX_FRAMES_PER_SHOT = 8
#: What the browser may keep of a configuration (never the API key).
STORED_FIELDS = ("audio_lang", "whisper_model", "vlm_backend", "vlm_model", "vlm_url", "frames_per_shot",
                 "instructions")


class SettingRefused(ConfigError):
    """A setting the app will not use. ``str()`` is English (logs, API); ``key`` and ``params``
    name the message in the texts table, for the page's language."""

    def __init__(self, key: str, message: str, **params: object):
        super().__init__(message)
        self.key, self.params = key, {**self.params, **params}


def allowed_urls(base: AnalysisSettings) -> list[str]:
    """The model servers a restricted web user may pick: ``BUSCA_VLM_URL`` then ``BUSCA_VLM_URLS``."""
    return list(dict.fromkeys(u for u in (base.vlm_url or "", *base.vlm_urls) if u))


#: Vision-language models offered to web users besides the administrator's (the model
#: catalogue of ``python -m app models`` can feed this seam).
VLM_CATALOGUE = ("Qwen/Qwen2.5-VL-3B-Instruct", "Qwen/Qwen2.5-VL-7B-Instruct")


def allowed_choices(base: AnalysisSettings) -> dict[str, tuple[str, ...]]:
    """What a web user may pick in restricted mode, per field: the catalogue, the server's
    defaults and the administrator's lists (``BUSCA_UI_WHISPER_MODELS``, ``BUSCA_UI_VLM_MODELS``)."""
    return {
        "whisper_model": tuple(dict.fromkeys((*WHISPER_SIZES, base.whisper_model, *base.ui_whisper_models))),
        "vlm_model": tuple(dict.fromkeys((*VLM_CATALOGUE, base.vlm_model, *base.ui_vlm_models))),
        "audio_lang": tuple(dict.fromkeys((*AUDIO_LANGS, base.audio_lang or "auto"))),
    }


@dataclass(frozen=True)
class AnalysisConfig:
    """One session's analysis settings. ``audio_lang`` ``"auto"`` detects the language."""

    audio_lang: str = "es"
    whisper_model: str = "auto"
    vlm_backend: str = "transformers"
    vlm_model: str = "Qwen/Qwen2.5-VL-7B-Instruct"
    vlm_url: str = ""
    vlm_api_key: str = ""
    frames_per_shot: int = 4
    instructions: str = DEFAULT_INSTRUCTIONS

    @classmethod
    def from_settings(cls, settings: AnalysisSettings) -> AnalysisConfig:
        """The server's defaults; its API key stays out (it would reach every page): see :meth:`settings`."""
        return cls(audio_lang=settings.audio_lang or "auto", whisper_model=settings.whisper_model,
                   vlm_backend=settings.vlm_backend, vlm_model=settings.vlm_model, vlm_url=settings.vlm_url or "")

    @classmethod
    def from_form(cls, audio_lang: str | None, whisper_model: str | None, frames_per_shot: float | None,
                  vlm_backend: str | None, vlm_model: str | None, vlm_url: str | None, vlm_api_key: str | None,
                  instructions: str | None) -> AnalysisConfig:
        """From the tab's fields (strings trimmed); :meth:`check` says whether it can work."""
        try:
            frames = int(frames_per_shot if frames_per_shot is not None else 4)
        except (TypeError, ValueError) as err:
            raise SettingRefused("frames_bad", f"frames per shot must be a whole number, got {frames_per_shot!r}",
                                 max=MAX_FRAMES_PER_SHOT, value=frames_per_shot) from err
        return cls(audio_lang=(audio_lang or "es").strip().lower(), whisper_model=(whisper_model or "").strip() or "auto",
                   vlm_backend=(vlm_backend or "").strip().lower(), vlm_model=(vlm_model or "").strip(),
                   vlm_url=(vlm_url or "").strip(), vlm_api_key=(vlm_api_key or "").strip(),
                   frames_per_shot=frames, instructions=(instructions or "").strip())

    @classmethod
    def from_stored(cls, data: object, default: AnalysisConfig) -> AnalysisConfig | None:
        """A configuration kept by the browser (:data:`STORED_FIELDS` over ``default``), or None."""
        if not isinstance(data, dict):
            return None
        kept = {k: data[k] for k in STORED_FIELDS if k in data}
        types = {f.name: type(getattr(default, f.name)) for f in fields(cls)}
        if any(not isinstance(v, types[k]) for k, v in kept.items()):
            return None
        return replace(default, **kept)

    def stored(self) -> dict:
        """What the browser may keep (no API key)."""
        return {k: v for k, v in asdict(self).items() if k in STORED_FIELDS}

    def settings(self, base: AnalysisSettings) -> AnalysisSettings:
        """``base`` (URL limits, allowed hosts) with this session's models; raises ConfigError.
        An empty API key means the server's own (``BUSCA_VLM_API_KEY``), and only for the
        server's own URL: it is never sent to a URL a user typed."""
        if not self.vlm_model:
            raise SettingRefused("vlm_model_empty", "the vision-language model is empty: give a Hugging Face id, "
                                 "a local directory or the name the server gives the model")
        if self.vlm_backend not in VLM_BACKENDS:
            raise SettingRefused("backend_bad", f"unknown VLM backend {self.vlm_backend!r}: use "
                                 f"{' or '.join(VLM_BACKENDS)}", value=self.vlm_backend)
        if self.audio_lang != "auto" and not re.fullmatch(r"[a-z]{2,3}", self.audio_lang):
            raise SettingRefused("audio_lang_bad", f"audio language must be a code such as es or en, or auto; got "
                                 f"{self.audio_lang!r}", value=self.audio_lang)
        self._check_allowed(base)
        key = self.vlm_api_key or (base.vlm_api_key if self.vlm_url == (base.vlm_url or "") else None)
        return replace(base, whisper_model=self.whisper_model, audio_lang=AnalysisSettings.parse_lang(self.audio_lang),
                       vlm_backend=self.vlm_backend, vlm_model=self.vlm_model, vlm_url=self.vlm_url or None,
                       vlm_api_key=key or None)

    def _check_allowed(self, base: AnalysisSettings) -> None:
        """Web users pick among what the administrator allows (:func:`allowed_choices`): no other
        model server (the app would send requests wherever it is told), no other model (the server
        would download any hub id it is given), no model folder on the server's disk, no value
        outside the lists; unless ``BUSCA_UI_MODELS=open``."""
        if base.ui_models == "open":
            return
        allowed = allowed_urls(base)
        if self.vlm_url and self.vlm_url not in allowed:
            raise SettingRefused("url_not_allowed" if allowed else "url_not_allowed_none",
                                 f"the model server {self.vlm_url} is not allowed here; the administrator lists "
                                 "allowed servers in BUSCA_VLM_URL / BUSCA_VLM_URLS (or sets BUSCA_UI_MODELS=open)",
                                 url=self.vlm_url, allowed=", ".join(allowed))
        choices = allowed_choices(base)
        for field, label in (("whisper_model", "Whisper model"), ("vlm_model", "vision-language model"),
                             ("audio_lang", "audio language")):
            value = getattr(self, field)
            if value in choices[field]:
                continue
            if value.startswith(("/", ".", "~", "\\")) or ".." in value:
                raise SettingRefused("folder_not_allowed", f"{label} {value!r}: local model folders can only be set "
                                     "by the administrator (BUSCA_WHISPER_MODEL, BUSCA_VLM_MODEL)", value=value)
            raise SettingRefused("choice_not_offered", f"{label} {value!r} is not offered here: choose one of "
                                 f"{', '.join(choices[field])}; the administrator can offer more with "
                                 "BUSCA_UI_WHISPER_MODELS / BUSCA_UI_VLM_MODELS (or BUSCA_UI_MODELS=open)",
                                 value=value, choices=", ".join(choices[field]))

    def options(self) -> AnalysisOptions:
        if not 1 <= self.frames_per_shot <= MAX_FRAMES_PER_SHOT:
            raise SettingRefused("frames_bad", f"frames per shot must be between 1 and {MAX_FRAMES_PER_SHOT}, "
                                 f"got {self.frames_per_shot}", max=MAX_FRAMES_PER_SHOT, value=self.frames_per_shot)
        if not self.instructions.strip():
            raise SettingRefused("instructions_empty", "the analysis instructions are empty")
        return AnalysisOptions(instructions=self.instructions, frames_per_shot=self.frames_per_shot)

    def check(self, base: AnalysisSettings) -> AnalysisSettings:
        """The settings, after every check that needs no model (the server URL included)."""
        settings = self.settings(base)
        self.options()
        if settings.vlm_backend == "openai":
            from models.vlm_openai import OpenAIVLMOptions

            if not settings.vlm_url:
                raise SettingRefused("url_needed", "the openai backend needs the server's base URL, "
                                     "e.g. http://localhost:8000/v1")
            if not settings.vlm_url.startswith(("http://", "https://")):
                raise SettingRefused("url_scheme", f"VLM server URL must start with http:// or https://, got "
                                     f"{settings.vlm_url!r}", url=settings.vlm_url)
            OpenAIVLMOptions(base_url=settings.vlm_url, model=settings.vlm_model)
        return settings


def _unload(model: object) -> None:
    unload = getattr(model, "unload", None)
    if callable(unload):
        unload()


class AnalysisModels:
    """One transcriber and one describer, for the configuration last asked for."""

    def __init__(self, device: str,
                 transcriber_factory: Callable[[AnalysisSettings, str], Transcriber] = make_transcriber,
                 describer_factory: Callable[[AnalysisSettings, str], Describer] = make_describer):
        self.device = device
        self._factories = {"transcriber": transcriber_factory, "describer": describer_factory}
        self._slots: dict[str, tuple[tuple, object]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(kind: str, settings: AnalysisSettings) -> tuple:
        if kind == "transcriber":
            return settings.whisper_model, settings.audio_lang
        if settings.vlm_backend == "openai":
            return settings.vlm_backend, settings.vlm_model, settings.vlm_url, settings.vlm_api_key
        return settings.vlm_backend, settings.vlm_model

    def _get(self, kind: str, settings: AnalysisSettings):
        key = self.key(kind, settings)
        with self._lock:
            current = self._slots.get(kind)
            if current is not None and current[0] == key:
                return current[1]
            if current is not None:
                log.info("analysis %s changed: unloading %s", kind, getattr(current[1], "name", "?"))
                self._slots.pop(kind)
                _unload(current[1])
            model = self._factories[kind](settings, self.device)
            self._slots[kind] = (key, model)
            return model

    def transcriber(self, settings: AnalysisSettings) -> Transcriber:
        return self._get("transcriber", settings)

    def describer(self, settings: AnalysisSettings) -> Describer:
        return self._get("describer", settings)

    def close(self) -> None:
        with self._lock:
            for _, model in self._slots.values():
                _unload(model)
            self._slots.clear()


class SharedEncoder:
    """The app's CLIP encoder for the analysis stages, without ``load``/``unload``."""

    def __init__(self, ready: Callable[[], ImageTextEncoder]):
        self._ready = ready
        encoder = ready()
        self.name, self.vector_name = encoder.name, encoder.vector_name

    @property
    def dim(self) -> int:
        return self._ready().dim

    def encode_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        return self._ready().encode_images(images)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        return self._ready().encode_texts(texts)
