"""Pre-flight checks of the analysis models: is each one usable, before hours of work depend on it?

Cheap and model-free: nothing is loaded. A :class:`ModelStatus` says what was found:

- ``found``: the weights are on this machine (a folder, or the Hugging Face cache);
- ``download``: not here yet; downloaded from the Hugging Face hub the first time (needs internet);
- ``reachable``: the OpenAI-compatible server answers (and lists the model, when it lists models);
- ``missing``: not here, and cannot be downloaded (``HF_HUB_OFFLINE``, or a folder that is not there);
- ``unreachable``: the server does not answer; ``refused``: it refused the API key;
- ``not_served``: the server answers but does not serve that model (``detail`` lists what it serves);
- ``not_installed``: the library is missing; ``invalid``: the name is not a model name.

The models' ``check()`` methods raise :class:`ModelUnavailable` (a ModelError with a ``code`` and
``params`` that front ends can say in the user's language) unless the status is usable.
"""

from __future__ import annotations

import importlib.util
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import ModelError

USABLE = ("found", "download", "reachable")
KINDS = {"whisper": "Whisper model", "vlm": "vision-language model"}


@dataclass(frozen=True)
class ModelStatus:
    """``kind``: ``whisper`` or ``vlm``; ``name``: the model as configured; ``where``: the folder,
    hub id or server URL it was looked for at; ``detail``: the cause, or what a server serves."""

    kind: str
    state: str
    name: str
    where: str = ""
    detail: str = ""
    served: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.state in USABLE

    @property
    def code(self) -> str:
        return f"model_{self.state}"

    @property
    def params(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "where": self.where, "detail": self.detail,
                "served": ", ".join(self.served)}

    def message(self) -> str:
        """One English line (CLI, logs)."""
        what = f"{KINDS.get(self.kind, self.kind)} {self.name!r}"
        return {
            "found": f"{what}: found at {self.where}",
            "download": f"{what}: not on this machine; it will be downloaded from {self.where} on first use",
            "reachable": f"{what}: the server at {self.where} answers",
            "missing": f"{what} is not on this machine ({self.detail}); put it in the Hugging Face cache or "
                       "give a local folder",
            "unreachable": f"cannot reach the model server at {self.where} ({self.detail}); start it "
                           "(vLLM: vllm serve MODEL; Ollama: ollama serve) or fix the base URL",
            "refused": f"the model server at {self.where} refused the API key ({self.detail})",
            "not_served": f"the model server at {self.where} does not serve {self.name!r}; it serves: "
                          f"{', '.join(self.served) or 'nothing'}",
            "not_installed": f"{what}: {self.detail}",
            "invalid": f"{what}: {self.detail}",
        }.get(self.state, f"{what}: {self.state} {self.detail}")


class ModelUnavailable(ModelError):
    """A model failed its pre-flight; ``status`` says how. ``code`` (``model_<state>``) and
    ``params`` name the cause for front ends (:mod:`app.ui.analysis_messages` says it)."""

    def __init__(self, status: ModelStatus):
        super().__init__(status.message())
        self.status, self.code, self.params = status, status.code, status.params


def require_usable(status: ModelStatus) -> ModelStatus:
    if not status.ok:
        raise ModelUnavailable(status)
    return status


def hub_offline() -> bool:
    """Downloads from the Hugging Face hub are switched off (read when asked, not at import)."""
    return any(os.environ.get(name, "").strip().upper() in ("1", "ON", "YES", "TRUE")
               for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _looks_like_path(spec: str) -> bool:
    return spec.startswith(("/", ".", "~", "\\")) or Path(spec).expanduser().exists()


def _folder_status(kind: str, spec: str, needed: str) -> ModelStatus:
    path = Path(spec).expanduser()
    if (path / needed).is_file():
        return ModelStatus(kind, "found", spec, str(path))
    cause = "the folder does not exist" if not path.exists() else f"the folder has no {needed}"
    return ModelStatus(kind, "missing", spec, str(path), cause)


def _hub_status(kind: str, spec: str, repo: str, needed: str, local_only: bool) -> ModelStatus:
    if importlib.util.find_spec("huggingface_hub") is None:
        return ModelStatus(kind, "not_installed", spec, repo, "huggingface_hub is not installed")
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(repo, needed)
    except ValueError as err:  # not a valid repo id
        return ModelStatus(kind, "invalid", spec, repo, f"not a Hugging Face id or a folder ({err})")
    if isinstance(cached, str):
        return ModelStatus(kind, "found", spec, str(Path(cached).parent))
    if local_only or hub_offline():
        return ModelStatus(kind, "missing", spec, repo, "not in the Hugging Face cache, and downloads are off")
    return ModelStatus(kind, "download", spec, f"https://huggingface.co/{repo}")


def whisper_status(spec: str, device: str = "auto", local_files_only: bool = False) -> ModelStatus:
    """A faster-whisper size, hub id or CTranslate2 folder (``auto`` resolved as the model does)."""
    if importlib.util.find_spec("faster_whisper") is None:
        return ModelStatus("whisper", "not_installed", spec, "", "faster-whisper is not installed "
                           "(pip install faster-whisper)")
    from faster_whisper.utils import download_model

    from models.whisper import resolve_whisper

    try:
        model, _, _ = resolve_whisper(spec, device if device in ("cpu", "cuda") else "auto", "auto")
    except ModelError as err:
        return ModelStatus("whisper", "not_installed", spec, "", str(err))
    if _looks_like_path(model):
        return _folder_status("whisper", model, "model.bin")
    try:
        return ModelStatus("whisper", "found", model, download_model(model, local_files_only=True))
    except ValueError as err:  # faster-whisper's "Invalid model size ..."
        return ModelStatus("whisper", "invalid", model, "", str(err))
    except OSError:  # not in the cache (huggingface_hub's LocalEntryNotFoundError)
        if local_files_only or hub_offline():
            return ModelStatus("whisper", "missing", model, model, "not in the Hugging Face cache, and downloads "
                               "are off")
        return ModelStatus("whisper", "download", model, "https://huggingface.co")


def transformers_status(spec: str, local_files_only: bool = False) -> ModelStatus:
    """A Hugging Face id or a local checkpoint folder (its ``config.json`` is what is looked for)."""
    if importlib.util.find_spec("transformers") is None:
        return ModelStatus("vlm", "not_installed", spec, "", "transformers is not installed "
                           "(pip install -r requirements.txt)")
    if _looks_like_path(spec):
        return _folder_status("vlm", spec, "config.json")
    return _hub_status("vlm", spec, spec, "config.json", local_files_only)


def _served(body: object) -> tuple[str, ...]:
    data = body.get("data") if isinstance(body, dict) else None
    return tuple(str(m["id"]) for m in data if isinstance(m, dict) and "id" in m) if isinstance(data, list) else ()


def _serves(served: tuple[str, ...], model: str) -> bool:
    return model in served or f"{model}:latest" in served  # Ollama's default tag


def openai_status(base_url: str, model: str, api_key: str | None = None, timeout_s: float = 5.0) -> ModelStatus:
    """``GET {base_url}/models``: does the server answer, and does it serve ``model``? A server
    that does not list its models (404/405/501) counts as reachable."""
    url = base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout_s) as response:
            body = json.loads(response.read().decode("utf-8") or "null")
    except urllib.error.HTTPError as err:
        if err.code in (401, 403):
            return ModelStatus("vlm", "refused", model, base_url, f"HTTP {err.code}")
        if err.code in (404, 405, 501):
            return ModelStatus("vlm", "reachable", model, base_url, "the server does not list its models")
        return ModelStatus("vlm", "unreachable", model, base_url, f"HTTP {err.code}")
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as err:
        reason = getattr(err, "reason", err)
        return ModelStatus("vlm", "unreachable", model, base_url, str(getattr(reason, "strerror", None) or reason))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ModelStatus("vlm", "reachable", model, base_url, "the server's model list is not JSON")
    served = _served(body)
    if served and not _serves(served, model):
        return ModelStatus("vlm", "not_served", model, base_url, served=served[:20])
    return ModelStatus("vlm", "reachable", model, base_url, served=served[:20])
