"""``python -m app models download NAME... --to DIR``: every file a model needs, for machines
without internet. Copy ``DIR`` to the isolated machine and point ``BUSCA_MODELS_DIR`` (or
``--models-dir``, or the Docker image's ``/models`` volume) at it.

Names:

- an encoder: a catalogue name (``siglip2-b16``), an open_clip ``NAME/TAG`` (``ViT-L-14/openai``)
  or ``hf-hub:org/repo``: weights, tokenizer files and an ``open_clip_config.json`` into
  ``DIR/clip/<spec>`` (:mod:`models.clip_files`);
- ``mclip`` or ``M-CLIP/XLM-Roberta-Large-Vit-L-14``: M-CLIP's text tower into ``DIR/mclip/...``;
- ``whisper:SIZE`` (``whisper:small``, ``whisper:large-v3``): faster-whisper's CTranslate2 model
  into ``DIR/whisper/SIZE``;
- any other Hugging Face repository ``org/name`` (``Qwen/Qwen2.5-VL-7B-Instruct``,
  ``intfloat/multilingual-e5-small``): its configs, tokenizer and safetensors weights (``.bin``
  only when it has no safetensors) into ``DIR/hf/org--name``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from models.catalogue import MCLIP_MODEL, resolve_encoder_name
from models.clip_files import gather
from models.device import require
from models.hub import HubFiles, model_folder
from models.mclip import gather_mclip
from pipeline.errors import ModelError

HF_PATTERNS = ("*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken", "*.jinja")


@dataclass(frozen=True)
class Download:
    name: str
    kind: str
    ident: str


def classify(name: str) -> Download:
    """What kind of model a download name is (see the module docstring)."""
    raw = name.strip()
    if not raw:
        raise ModelError("empty model name")
    if raw.startswith("local-dir:"):
        raise ModelError(f"{raw} is already a local folder: copy it instead")
    lowered = raw.lower()
    if lowered.startswith(("whisper:", "faster-whisper:")):
        return Download(raw, "whisper", raw.split(":", 1)[1])
    if lowered == "mclip" or raw == MCLIP_MODEL:
        return Download(raw, "mclip", MCLIP_MODEL)
    spec = resolve_encoder_name(raw)
    if spec.startswith("hf-hub:"):
        return Download(raw, "clip", spec)
    open_clip = require("open_clip", "pip install open_clip_torch")
    if spec.split("/", 1)[0] in open_clip.list_models():
        return Download(raw, "clip", spec)
    if lowered.startswith("hf:"):
        raw = raw[3:]
    if raw.count("/") == 1:
        return Download(raw, "hf", raw)
    raise ModelError(f"unknown model {name!r}: give a catalogue name (python -m app models), an open_clip "
                     "NAME/TAG, hf-hub:org/repo, mclip, whisper:SIZE or a Hugging Face org/name")


def _hf_repo(repo: str, dest: Path, files: HubFiles) -> Path:
    present = files.list_files(repo)
    patterns = list(HF_PATTERNS)
    if not any(f.endswith(".safetensors") for f in present):
        patterns.append("*.bin")
    wanted = [f for f in present if any(fnmatch.fnmatch(f, p) for p in patterns)]
    if not wanted:
        raise ModelError(f"{repo} has no model files to download")
    return files.snapshot(repo, dest, wanted)


def download(name: str, to_dir: str | Path) -> Path:
    """Download one model into the models folder ``to_dir``; returns its folder."""
    item = classify(name)
    to_dir = Path(to_dir).expanduser()
    if item.kind == "clip":
        return gather(item.ident, model_folder(to_dir, "clip", item.ident), HubFiles(item.ident), copy=True)
    if item.kind == "mclip":
        return gather_mclip(item.ident, model_folder(to_dir, "mclip", item.ident), HubFiles(item.ident, "mclip"))
    if item.kind == "whisper":
        from models.whisper import whisper_repo

        repo = whisper_repo(item.ident)
        return _hf_repo(repo, model_folder(to_dir, "whisper", item.ident),
                        HubFiles(f"whisper:{item.ident}", "whisper"))
    return _hf_repo(item.ident, model_folder(to_dir, "hf", item.ident), HubFiles(item.ident, "hf"))
