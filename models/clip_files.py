"""Every file an open_clip model needs, as one open_clip ``local-dir:`` folder.

open_clip downloads weights, and for SigLIP-family models a tokenizer from the hub
(``hf_tokenizer_name``), each with its own retries, deep inside ``create_model``. Here the same
files are gathered first, from a models folder, the Hugging Face cache or one try at the hub
(:mod:`models.hub`), into a folder that open_clip then loads with ``local-dir:`` and no network:

- ``open_clip_config.json``: open_clip's own architecture config plus the pretrained tag's
  preprocessing (mean, std, interpolation, resize mode) and ``quick_gelu`` when the tag was
  trained with it (OpenAI's checkpoints were; open_clip 3.x only *warns* when it is missing);
- the weights file (safetensors first, as open_clip prefers);
- the tokenizer files of ``hf_tokenizer_name`` (SigLIP/SigLIP2: Gemma or mT5 tokenizers).

``python -m app models download`` writes the same folder with copies under
``<models>/clip/<spec>``; at run time a folder of links into the Hugging Face cache is kept under
the user's cache (``$XDG_CACHE_HOME/buscaescenas/clip``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from models.device import require
from models.hub import HubFiles, folder_name, in_models_dir, unavailable
from pipeline.errors import ModelError

log = logging.getLogger(__name__)

CONFIG = "open_clip_config.json"
WEIGHT_NAMES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
LOCAL_WEIGHT_NAMES = (*WEIGHT_NAMES, "open_clip_pytorch_model.safetensors", "model.safetensors",
                      "pytorch_model.bin", "open_clip_pytorch_model.pth", "model.pth")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                   "spiece.model", "sentencepiece.bpe.model", "vocab.txt", "vocab.json", "merges.txt",
                   "added_tokens.json")


@dataclass(frozen=True)
class ClipSource:
    """What open_clip is given: ``name`` (``local-dir:...`` or an architecture name), ``pretrained``
    (a tag or file, only without a schema) and the weights file, when there is one."""

    name: str
    pretrained: str | None
    weights: Path | None


def split_spec(spec: str) -> tuple[str, str | None]:
    """``"ViT-L-14/openai"`` -> ``("ViT-L-14", "openai")``; hub and local specs have no tag."""
    spec = spec.strip()
    if not spec:
        raise ModelError("empty CLIP model spec; use e.g. ViT-B-16-SigLIP2/webli, hf-hub:org/repo or local-dir:/path")
    if spec.startswith(("hf-hub:", "local-dir:")):
        return spec, None
    name, sep, tag = spec.partition("/")
    return name, (tag if sep else None)


def source_spec(spec: str) -> str | None:
    """For a ``local-dir:`` folder written by :func:`gather`, the spec it was made from."""
    if not spec.strip().startswith("local-dir:"):
        return None
    try:
        config = json.loads((Path(spec.strip()[len("local-dir:"):]).expanduser() / CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    source = config.get("source") if isinstance(config, dict) else None
    return str(source) if source else None


def local_weights(folder: Path) -> Path | None:
    """The checkpoint open_clip would pick in a local-dir folder (its preferred names first)."""
    for name in LOCAL_WEIGHT_NAMES:
        if (folder / name).is_file():
            return folder / name
    found = sorted([*folder.glob("*.safetensors"), *folder.glob("*.bin"), *folder.glob("*.pth")])
    return found[0] if found else None


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "buscaescenas" / "clip"


def resolve_source(spec: str, models_dir: str | Path | None = None, cache_dir: Path | None = None) -> ClipSource:
    """Where open_clip loads ``spec`` from, gathering its files first when they come from the hub."""
    name, tag = split_spec(spec)
    if name.startswith("local-dir:"):
        folder = Path(name[len("local-dir:"):]).expanduser()
        if not (folder / CONFIG).is_file():
            raise ModelError(f"{folder} is not an open_clip model folder: {CONFIG} is missing "
                             "(make one with `python -m app models download SPEC --to DIR`)")
        return ClipSource(f"local-dir:{folder}", None, local_weights(folder))
    folder = in_models_dir(models_dir, "clip", spec, marker=CONFIG)
    if folder is not None:
        return ClipSource(f"local-dir:{folder}", None, local_weights(folder))
    if tag is None and not name.startswith("hf-hub:"):
        log.warning("CLIP model %r has no pretrained tag: its weights are RANDOM (timing tests only)", spec)
        return ClipSource(name, None, None)
    if tag is not None and os.path.isfile(tag):
        return ClipSource(name, tag, Path(tag))
    target = (cache_dir or default_cache_dir()) / folder_name(spec)
    if not _complete(target):
        gather(spec, target, HubFiles(spec), copy=False)
    return ClipSource(f"local-dir:{target}", None, local_weights(target))


def _complete(folder: Path) -> bool:
    """A gathered folder whose files (or the cache files its links point to) all still exist."""
    if not (folder / CONFIG).is_file() or local_weights(folder) is None:
        return False
    return all(path.exists() for path in folder.iterdir())


def describe(spec: str, files: HubFiles) -> tuple[dict, dict, str, tuple[str, ...], str | None]:
    """``(model_cfg, preprocess_cfg, weights_repo, weight_names, tokenizer_repo)`` of a hub spec."""
    open_clip = require("open_clip", "pip install open_clip_torch")
    name, tag = split_spec(spec)
    if name.startswith("hf-hub:"):
        repo = name[len("hf-hub:"):]
        config = json.loads(files.fetch(repo, CONFIG).read_text(encoding="utf-8"))
        model_cfg = config.get("model_cfg", config)
        tokenizer = model_cfg.get("text_cfg", {}).get("hf_tokenizer_name") and repo
        return model_cfg, config.get("preprocess_cfg", {}), repo, WEIGHT_NAMES, tokenizer or None
    model_cfg = open_clip.get_model_config(name)
    if model_cfg is None:
        raise ModelError(f"unknown open_clip architecture {name!r} in {spec!r}; `python -m app models` lists "
                         "known encoders, open_clip.list_models() every architecture")
    pretrained = open_clip.get_pretrained_cfg(name, tag)
    if not pretrained:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(name)) or "none"
        raise ModelError(f"{name!r} has no pretrained tag {tag!r} (known tags: {tags})")
    if pretrained.get("quick_gelu") and not model_cfg.get("quick_gelu"):
        model_cfg["quick_gelu"] = True
    preprocess = {key: pretrained[key] for key in ("mean", "std", "interpolation", "resize_mode", "fill_color")
                  if key in pretrained}
    hub = pretrained.get("hf_hub", "")
    if not hub:
        raise unavailable(spec, "open_clip knows no Hugging Face copy of these weights (URL only)")
    repo, filename = os.path.split(hub)  # "org/repo/" -> no file name: open_clip's defaults
    names = (filename,) if filename else WEIGHT_NAMES
    tokenizer = model_cfg.get("text_cfg", {}).get("hf_tokenizer_name") or None
    return model_cfg, preprocess, repo, names, tokenizer


def tokenizer_files(repo: str, files: HubFiles, online_listing: bool) -> list[Path]:
    """The tokenizer files of a hub repository (every known name it has)."""
    if online_listing:
        present = set(files.list_files(repo))
        wanted = [name for name in TOKENIZER_FILES if name in present]
        found = [files.fetch(repo, name) for name in wanted]
    else:
        found = [path for name in TOKENIZER_FILES if (path := files.cached(repo, name)) is not None]
    if not any(p.name in ("tokenizer.json", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model",
                          "vocab.txt", "vocab.json") for p in found):
        raise unavailable(files.model, f"the tokenizer of {repo} has no vocabulary file")
    return found


def gather(spec: str, dest: Path, files: HubFiles, copy: bool) -> Path:
    """Write ``dest`` as a complete open_clip local-dir folder for ``spec`` (links or copies)."""
    model_cfg, preprocess, repo, names, tokenizer_repo = describe(spec, files)
    weights = files.first(repo, list(names))
    paths = [weights]
    if tokenizer_repo:
        online = files.cached(tokenizer_repo, "tokenizer_config.json") is None
        paths += tokenizer_files(tokenizer_repo, files, online_listing=online)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
    staging.mkdir()
    try:
        for path in paths:
            target = staging / path.name
            if copy:
                shutil.copyfile(path, target)
            else:
                target.symlink_to(path.resolve())
        (staging / CONFIG).write_text(json.dumps({"model_cfg": model_cfg, "preprocess_cfg": preprocess,
                                                  "source": spec}, indent=2), encoding="utf-8")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("open_clip files of %s gathered in %s", spec, dest)
    return dest
