"""Where model files come from: a models folder, the Hugging Face cache, or one try at the hub.

Archives often run on isolated networks, so a model that cannot be had must fail *once*, at
once, with one line that says which model, why, and the two ways out. Nothing here retries:
the hub is probed once (a single HTTP request, a few seconds at most) before any download,
and an unreachable or disabled hub (``HF_HUB_OFFLINE=1``) with no cached copy is an error.

The models folder (``BUSCA_MODELS_DIR`` / ``--models-dir``, the Docker image's ``/models``)
holds one sub-folder per model, made by ``python -m app models download``::

    <models>/clip/<spec>/      open_clip local-dir: open_clip_config.json, weights, tokenizer files
    <models>/mclip/<repo>/     M-CLIP text tower: config.json, weights, tokenizer files
    <models>/whisper/<size>/   faster-whisper (CTranslate2) model
    <models>/hf/<repo>/        any other Hugging Face repository (VLM, text embedders)

where ``/`` and ``:`` in a name become ``--``. When a models folder is given, every model is
loaded from it and the network is never used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

from pipeline.errors import ModelError

log = logging.getLogger(__name__)

KINDS = ("clip", "mclip", "whisper", "hf")
PROBE_TIMEOUT_S = 5.0

#: ``fetch(repo_id, filename) -> local path``: one file of a hub repository.
Fetch = Callable[[str, str], Path]


def folder_name(name: str) -> str:
    """``ViT-B-16-SigLIP2/webli`` -> ``ViT-B-16-SigLIP2--webli`` (a safe single path component)."""
    safe = re.sub(r"[/:\\]+", "--", name.strip()).strip(".-")
    if not safe or not re.fullmatch(r"[A-Za-z0-9._+-]+", safe):
        raise ModelError(f"model name {name!r} cannot name a folder: use letters, digits and . _ + - / :")
    return safe


def model_folder(models_dir: str | Path, kind: str, name: str) -> Path:
    """Where model ``name`` of ``kind`` lives in a models folder (it may not exist)."""
    if kind not in KINDS:
        raise ModelError(f"unknown model kind {kind!r}")
    return Path(models_dir).expanduser() / kind / folder_name(name)


def unavailable(model: str, why: str, kind: str = "clip") -> ModelError:
    """The one-line error for a model that cannot be had, with the two ways out."""
    example = "local-dir:/path/to/folder" if kind == "clip" else "a local folder path"
    return ModelError(code="model.unavailable", model=model, why=why, alternative=example)


def in_models_dir(models_dir: str | Path | None, kind: str, name: str, marker: str | None = None) -> Path | None:
    """The model's folder when a models folder is set; an error when it is set but lacks the model."""
    if not models_dir:
        return None
    folder = model_folder(models_dir, kind, name)
    if not folder.is_dir() or (marker and not (folder / marker).exists()):
        raise unavailable(name, f"it is not in the models folder {Path(models_dir).expanduser()} "
                                f"(expected {folder}{'/' + marker if marker else ''})", kind)
    return folder


def hub_offline_reason() -> str | None:
    """Why the hub cannot be used right now (``None`` when a probe request succeeded)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return "the Hugging Face hub is disabled (HF_HUB_OFFLINE=1) and the files are not in the local cache"
    import urllib.error
    import urllib.request

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    try:
        urllib.request.urlopen(urllib.request.Request(endpoint, method="HEAD"), timeout=PROBE_TIMEOUT_S).close()
    except urllib.error.HTTPError:
        return None  # the server answered (an error status still means it is reachable)
    except (urllib.error.URLError, OSError) as err:
        cause = getattr(err, "reason", err)
        return (f"the Hugging Face hub ({endpoint}) cannot be reached ({cause}) "
                "and the files are not in the local cache")
    return None


class HubFiles:
    """Fetches files of hub repositories: the local cache first, then (once the hub answered a
    probe) the network. Any failure is one :func:`unavailable` line naming ``model``."""

    def __init__(self, model: str, kind: str = "clip"):
        self.model, self.kind = model, kind
        self._online: bool | None = None

    def _hub(self):
        try:
            import huggingface_hub
        except ImportError as err:
            raise ModelError(f"huggingface_hub is not installed ({err}): pip install -r requirements.txt") from err
        return huggingface_hub

    def cached(self, repo: str, filename: str) -> Path | None:
        """The file from the local Hugging Face cache, or ``None`` when the cache lacks it."""
        hub = self._hub()
        try:
            return Path(hub.hf_hub_download(repo, filename, local_files_only=True))
        except (hub.errors.EntryNotFoundError, hub.errors.HFValidationError, OSError):
            return None

    def _go_online(self) -> None:
        if self._online is None:
            reason = hub_offline_reason()
            if reason:
                raise unavailable(self.model, reason, self.kind)
            self._online = True

    def fetch(self, repo: str, filename: str) -> Path:
        """One file, from the cache or the hub."""
        path = self.cached(repo, filename)
        if path is not None:
            return path
        self._go_online()
        hub = self._hub()
        try:
            return Path(hub.hf_hub_download(repo, filename))
        except Exception as err:
            raise unavailable(self.model, f"{repo}/{filename} could not be downloaded "
                                          f"({type(err).__name__}: {str(err).splitlines()[0][:200]})", self.kind) from err

    def first(self, repo: str, filenames: list[str]) -> Path:
        """The first of ``filenames`` the repository has (cache first, for all of them)."""
        for name in filenames:
            path = self.cached(repo, name)
            if path is not None:
                return path
        self._go_online()
        errors = []
        for name in filenames:
            try:
                return Path(self._hub().hf_hub_download(repo, name))
            except Exception as err:
                errors.append(f"{name}: {type(err).__name__}")
        raise unavailable(self.model, f"none of {', '.join(filenames)} could be downloaded from {repo} "
                                      f"({'; '.join(errors)})", self.kind)

    def list_files(self, repo: str) -> list[str]:
        """The repository's file names (needs the hub)."""
        self._go_online()
        try:
            return sorted(self._hub().list_repo_files(repo))
        except Exception as err:
            raise unavailable(self.model, f"the file list of {repo} could not be read "
                                          f"({type(err).__name__}: {str(err).splitlines()[0][:200]})", self.kind) from err

    def snapshot(self, repo: str, dest: Path, patterns: list[str] | None = None) -> Path:
        """Every file of ``repo`` (matching ``patterns``) into ``dest``."""
        self._go_online()
        try:
            return Path(self._hub().snapshot_download(repo, local_dir=dest, allow_patterns=patterns))
        except Exception as err:
            raise unavailable(self.model, f"{repo} could not be downloaded "
                                          f"({type(err).__name__}: {str(err).splitlines()[0][:200]})", self.kind) from err


def weights_fingerprint(path: str | Path, sample: int = 8 << 20) -> str:
    """A cheap, stable identity for a weights file: BLAKE2b of its size, first and last 8 MiB.

    Different checkpoints of one architecture differ in those bytes with near certainty, and
    hashing 16 MiB costs ~20 ms where hashing a 2 GB checkpoint would cost seconds."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.blake2b(str(size).encode(), digest_size=12)
    with open(path, "rb") as handle:
        digest.update(handle.read(sample))
        if size > sample:
            handle.seek(max(sample, size - sample))
            digest.update(handle.read(sample))
    return digest.hexdigest()


def local_hf_model(name: str, models_dir: str | Path | None) -> tuple[str, bool]:
    """``(what to give from_pretrained, local files only?)`` for a Hugging Face model: with a models
    folder its copy there (one :func:`unavailable` line when it is missing), else ``name`` as it is
    (the model's own pre-flight says whether it can be had)."""
    if not models_dir or Path(name).expanduser().is_dir():
        return name, False
    return str(in_models_dir(models_dir, "hf", name, marker="config.json")), True
