"""open_clip image and text encoder: the ``ImageTextEncoder`` the pipeline embeds with.

The model spec follows open_clip's own conventions:

- ``ViT-L-14/openai``: an open_clip architecture name and a pretrained tag (the default,
  768-d, as in the original system);
- ``hf-hub:org/repo``: a checkpoint on the Hugging Face hub;
- ``local-dir:/path``: a directory with ``open_clip_config.json`` and
  ``open_clip_pytorch_model.bin`` (or ``.safetensors``), e.g. an offline copy.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.device import require, resolve_device, resolve_dtype
from pipeline.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_CLIP_MODEL = "ViT-L-14/openai"


def split_spec(spec: str) -> tuple[str, str | None]:
    """``"ViT-L-14/openai"`` -> ``("ViT-L-14", "openai")``; hub and local specs have no tag."""
    spec = spec.strip()
    if not spec:
        raise ModelError("empty CLIP model spec; use e.g. ViT-L-14/openai, hf-hub:org/repo or local-dir:/path")
    if spec.startswith(("hf-hub:", "local-dir:")):
        return spec, None
    name, sep, tag = spec.partition("/")
    return name, (tag if sep else None)


def vector_name_for(spec: str) -> str:
    """Stable Qdrant named-vector name for a model spec, e.g. ``clip-vit-l-14-openai``."""
    name, tag = split_spec(spec)
    if name.startswith("local-dir:"):
        name = "local-" + name.rstrip("/").rsplit("/", 1)[-1]
    elif name.startswith("hf-hub:"):
        name = name[len("hf-hub:"):]
    slug = re.sub(r"[^a-z0-9]+", "-", f"{name}-{tag or ''}".lower()).strip("-")
    return f"clip-{slug}"


@dataclass(frozen=True)
class ClipOptions:
    """``device``/``precision`` default to ``"auto"``: cuda, mps, then cpu; fp16 on GPU,
    fp32 on CPU. ``batch_size`` ``0`` means 64 on GPU and 8 on CPU."""

    model: str = DEFAULT_CLIP_MODEL
    device: str = "auto"
    precision: str = "auto"
    batch_size: int = 0


class OpenClipEncoder:
    """Owns one loaded open_clip model: load once (lazily), reuse, ``unload()``."""

    def __init__(self, options: ClipOptions = ClipOptions()):
        self.options = options
        self.name = options.model
        self.vector_name = vector_name_for(options.model)
        self._model = None
        self._preprocess = None
        self._tokenizer = None
        self._device = None
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        self._ensure_loaded()
        return self._dim

    @property
    def device(self) -> str:
        self._ensure_loaded()
        return self._device

    def _ensure_loaded(self) -> None:
        if self._model is not None:
            return
        open_clip = require("open_clip", "pip install open_clip_torch")
        torch = require("torch", "pip install -r requirements.txt")
        device = resolve_device(self.options.device)
        dtype = resolve_dtype(self.options.precision, device)
        precision = {torch.float16: "fp16", torch.bfloat16: "bf16"}.get(dtype, "fp32")
        name, tag = split_spec(self.options.model)
        log.info("loading CLIP %s on %s (%s)", self.options.model, device, precision)
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                name, pretrained=tag, device=device, precision=precision
            )
            tokenizer = open_clip.get_tokenizer(name)
        except Exception as err:  # open_clip raises RuntimeError/OSError/HF errors: one clear message
            raise ModelError(
                f"cannot load CLIP model {self.options.model!r}: {err}. Use an open_clip name with a "
                "pretrained tag (ViT-L-14/openai), hf-hub:org/repo or local-dir:/path"
            ) from err
        model.eval()
        self._model, self._preprocess, self._tokenizer, self._device = model, preprocess, tokenizer, device
        self._dtype = dtype
        self._dim = int(model.text_projection.shape[1]) if hasattr(model, "text_projection") else None
        if self._dim is None:
            self._dim = int(self.encode_texts(["probe"]).shape[1])

    def _batch_size(self) -> int:
        if self.options.batch_size:
            return self.options.batch_size
        return 64 if self._device != "cpu" else 8

    def encode_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB ``uint8 (H, W, 3)`` frames (or a ``uint8 (N, 3, H, W)`` tensor already on the
        device, e.g. from the NVDEC decoder): preprocessed as batched tensors on the device
        (:mod:`models.preprocess`), no per-frame PIL."""
        self._ensure_loaded()
        torch = require("torch", "pip install -r requirements.txt")
        from models.preprocess import PixelSpec, to_pixels

        spec = PixelSpec.from_open_clip(self._model.visual.preprocess_cfg)
        out = []
        size = self._batch_size()
        with torch.inference_mode():
            for start in range(0, len(images), size):
                pixels = to_pixels(images[start:start + size], spec, self._device, self._dtype)
                out.append(_normalise(self._model.encode_image(pixels)))
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        self._ensure_loaded()
        torch = require("torch", "pip install -r requirements.txt")
        with torch.inference_mode():
            tokens = self._tokenizer(list(texts)).to(self._device)
            return _normalise(self._model.encode_text(tokens))

    @property
    def context_length(self) -> int | None:
        """Tokens the text tower reads (77 for CLIP); None until the model is loaded."""
        return getattr(self._tokenizer, "context_length", None) if self._tokenizer is not None else None

    def count_tokens(self, text: str) -> int | None:
        """Tokens of ``text`` with the model's own tokenizer, start and end tokens included (what
        :attr:`context_length` limits); None until the model is loaded (nothing is loaded for it)."""
        tokenizer = self._tokenizer
        if tokenizer is None:
            return None
        if hasattr(tokenizer, "encode"):  # open_clip's SimpleTokenizer (CLIP's BPE)
            return len(tokenizer.encode(text)) + 2
        inner = getattr(tokenizer, "tokenizer", None)  # open_clip's HFTokenizer wraps a transformers one
        return len(inner(text)["input_ids"]) if inner is not None else None

    def unload(self) -> None:
        """Free the model (and GPU memory). The next call loads it again."""
        self._model = self._preprocess = self._tokenizer = None
        torch = require("torch", "pip install -r requirements.txt")
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _normalise(features) -> np.ndarray:
    array = features.float().cpu().numpy()
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return (array / np.maximum(norms, 1e-12)).astype(np.float32)
