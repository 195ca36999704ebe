"""open_clip image and text encoder: the ``ImageTextEncoder`` the pipeline embeds with.

The model spec follows open_clip's own conventions:

- ``ViT-B-16-SigLIP2/webli``: an open_clip architecture name and a pretrained tag (the default:
  multilingual, 768-d; ``ViT-L-14/openai`` is the original system's English model);
- ``hf-hub:org/repo``: an open_clip checkpoint on the Hugging Face hub;
- ``local-dir:/path``: a folder with ``open_clip_config.json`` and the weights (and, for
  SigLIP-family models, the tokenizer files), e.g. one made by ``python -m app models download``.

Files are gathered before open_clip sees them (:mod:`models.clip_files`): from the models folder
when one is given (no network at all), else from the Hugging Face cache or one try at the hub,
so an unavailable model fails once, at load time, with one line.

SigLIP-family models work like CLIP ones here: the tokenizer and its context length (64) come
from the model's config (``hf_tokenizer_name``), the image size and preprocessing (mean, std,
resize mode) from its preprocess config. ``logit_scale`` and ``logit_bias`` are read and shown
(``info()``) but never applied: every score the project shows is a cosine similarity.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.catalogue import DEFAULT_ENCODER
from models.clip_files import ClipSource, default_cache_dir, resolve_source, source_spec
from models.clip_text import OnnxTextTower, causal_tower, encode_truncated, text_tower
from models.device import require, resolve_device, resolve_dtype
from models.hub import weights_fingerprint
from pipeline.core import vector_name_for
from pipeline.errors import BuscaError, ModelError

log = logging.getLogger(__name__)

DEFAULT_CLIP_MODEL = DEFAULT_ENCODER
TEXT_RUNTIMES = ("auto", "torch", "onnx")
#: Texts per forward pass of the text tower (bounds its memory whatever the number of texts).
TEXT_BATCH = 64

__all__ = ["DEFAULT_CLIP_MODEL", "ClipOptions", "OpenClipEncoder"]


@dataclass(frozen=True)
class ClipOptions:
    """``device``/``precision`` default to ``"auto"``: cuda, mps, then cpu; fp16 on GPU,
    fp32 on CPU. ``batch_size`` ``0`` means 64 on GPU and 8 on CPU. ``models_dir``: load from
    this folder only (see :mod:`models.hub`). ``text_runtime``: how text queries run on CPU:
    ``torch``, ``onnx`` (ONNX Runtime, the tower exported once into ``cache_dir``) or ``auto``
    (ONNX Runtime when onnx and onnxruntime are installed; README, "Performance", text queries)."""

    model: str = DEFAULT_CLIP_MODEL
    device: str = "auto"
    precision: str = "auto"
    batch_size: int = 0
    models_dir: str | None = None
    text_runtime: str = "auto"
    cache_dir: str | None = None
    #: A tokenizer folder to use instead of the one the model names (``hf_tokenizer_name``), e.g.
    #: to time a SigLIP architecture with random weights when its hub tokenizer cannot be had.
    tokenizer_dir: str | None = None

    def __post_init__(self) -> None:
        if self.text_runtime not in TEXT_RUNTIMES:
            raise ModelError(f"unknown text runtime {self.text_runtime!r}: use {', '.join(TEXT_RUNTIMES)}")


class OpenClipEncoder:
    """Owns one loaded open_clip model: load once (lazily, thread-safe), reuse, ``unload()``."""

    def __init__(self, options: ClipOptions = ClipOptions()):
        self.options = options
        self.name = options.model
        #: The model the vectors belong to: the spec, or for a folder made by ``models download``
        #: the spec it was made from (so that a database indexed from the hub can be searched
        #: offline with the copy, and the other way round).
        self.model_id = source_spec(options.model) or options.model
        self.vector_name = vector_name_for(self.model_id)
        self._lock = threading.Lock()
        self._model = None
        self._preprocess = None
        self._tokenizer = None
        self._device = None
        self._dim: int | None = None
        self._source: ClipSource | None = None
        self._weights: str | None = None
        self._causal = None
        self._onnx: OnnxTextTower | None = None

    @property
    def dim(self) -> int:
        self._ensure_loaded()
        return self._dim

    @property
    def device(self) -> str:
        self._ensure_loaded()
        return self._device

    @property
    def weights(self) -> str:
        """Which weights: ``blake2b:<fingerprint>`` of the checkpoint file, or ``random``."""
        self._ensure_loaded()
        return self._weights

    def load(self) -> OpenClipEncoder:
        """Load now (a model that cannot be had raises :class:`ModelError` here, once)."""
        self._ensure_loaded()
        return self

    def _ensure_loaded(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._load()

    def _load(self) -> None:
        open_clip = require("open_clip", "pip install open_clip_torch")
        torch = require("torch", "pip install -r requirements.txt")
        device = resolve_device(self.options.device)
        dtype = resolve_dtype(self.options.precision, device)
        precision = {torch.float16: "fp16", torch.bfloat16: "bf16"}.get(dtype, "fp32")
        source = resolve_source(self.options.model, self.options.models_dir,
                                Path(self.options.cache_dir) / "clip" if self.options.cache_dir else None)
        log.info("loading CLIP %s from %s on %s (%s)", self.options.model, source.name, device, precision)
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                source.name, pretrained=source.pretrained, device=device, precision=precision
            )
            tokenizer = self._tokenizer_for(open_clip, source)
        except BuscaError:
            raise
        except Exception as err:  # open_clip raises RuntimeError/OSError/ValueError/HF errors: one clear line
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
            raise ModelError(
                f"cannot load CLIP model {self.options.model!r} from {source.name}: {first}. Use an open_clip name "
                "with a pretrained tag (ViT-B-16-SigLIP2/webli), hf-hub:org/repo or local-dir:/path"
            ) from err
        model.eval()
        self._source, self._device, self._dtype = source, device, dtype
        self._weights = f"blake2b:{weights_fingerprint(source.weights)}" if source.weights else "random"
        self._causal = causal_tower(model)
        self._onnx = self._onnx_tower(model, device)
        self._preprocess, self._tokenizer = preprocess, tokenizer
        self._model = model
        projection = getattr(model, "text_projection", None)
        if projection is not None and hasattr(projection, "shape"):
            self._dim = int(projection.shape[1])
        else:
            self._dim = int(getattr(getattr(model, "visual", None), "output_dim", 0) or 0) or None
        if self._dim is None:
            self._dim = int(self.encode_texts(["probe"]).shape[1])

    def _tokenizer_for(self, open_clip, source: ClipSource):
        if not self.options.tokenizer_dir:
            return open_clip.get_tokenizer(source.name)
        text_cfg = (open_clip.get_model_config(source.name) or {}).get("text_cfg", {})
        return open_clip.tokenizer.HFTokenizer(self.options.tokenizer_dir,
                                               context_length=text_cfg.get("context_length", 77),
                                               **text_cfg.get("tokenizer_kwargs", {}))

    def _onnx_tower(self, model, device: str) -> OnnxTextTower | None:
        """ONNX Runtime for text queries on CPU (``auto``: when onnx and onnxruntime are installed)."""
        if self.options.text_runtime == "torch" or device != "cpu":
            return None
        tower = text_tower(model)
        if tower is None or tower.pool_type not in ("last", "first", "argmax", "eos") or not OnnxTextTower.available():
            if self.options.text_runtime == "onnx":
                log.warning("text runtime onnx is not available for %s; using torch", self.options.model)
            return None
        cache = Path(self.options.cache_dir) if self.options.cache_dir else default_cache_dir().parent
        context = int(tower.positional_embedding.shape[0])
        if self._weights == "random":  # random weights differ per run: never reuse an exported graph
            return OnnxTextTower(tower, context, "random", Path(tempfile.mkdtemp(prefix="buscaescenas-onnx-")))
        return OnnxTextTower(tower, context, self._weights.split(":")[-1], cache / "onnx")

    # --- what the model is -----------------------------------------------------------------------

    @property
    def image_size(self) -> int:
        """The square input size the image tower expects (224, 256, 384...)."""
        self._ensure_loaded()
        size = getattr(self._model.visual, "image_size", 224)
        return int(size[0] if isinstance(size, tuple | list) else size)

    @property
    def text_path(self) -> str:
        """How queries run: over the real tokens only (causal towers) or the full context, with
        torch or ONNX Runtime: ``truncated``, ``truncated+onnx``, ``full-context``, ``full-context+onnx``."""
        self._ensure_loaded()
        path = "truncated" if self._causal is not None else "full-context"
        return path + ("+onnx" if self._onnx is not None else "")

    def info(self) -> dict:
        """What was loaded: spec, weights, sizes, preprocessing, logit scale/bias (shown, never applied)."""
        self._ensure_loaded()
        scale = getattr(self._model, "logit_scale", None)
        bias = getattr(self._model, "logit_bias", None)
        cfg = getattr(self._model.visual, "preprocess_cfg", {}) or {}
        return {
            "model": self.name, "vector_name": self.vector_name, "weights": self._weights, "dim": self._dim,
            "loaded_from": self._source.name if self._source else None, "device": self._device,
            "image_size": self.image_size, "context_length": self.context_length, "text_path": self.text_path,
            "preprocess": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()},
            "logit_scale": float(scale.exp().item()) if scale is not None else None,
            "logit_bias": float(bias.item()) if bias is not None else None,
        }

    def identity(self) -> dict:
        """What a database records about the vectors this encoder makes."""
        return {"model": self.model_id, "weights": self.weights, "dim": self.dim, "library": "open_clip"}

    # --- encoding ----------------------------------------------------------------------------------

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
        """L2-normalised text embeddings, ``TEXT_BATCH`` texts per forward pass: the text tower's
        activations (~2.7 MB per text for ViT-L-14) never grow with the number of texts."""
        self._ensure_loaded()
        torch = require("torch", "pip install -r requirements.txt")
        texts = list(texts)
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), TEXT_BATCH):
                tokens = self._tokenizer(texts[start:start + TEXT_BATCH]).to(self._device)
                out.append(_normalise(self._encode_tokens(tokens)))
        return np.concatenate(out) if out else np.zeros((0, self._dim or 0), np.float32)

    def _encode_tokens(self, tokens):
        if self._onnx is not None:
            try:
                return self._onnx(tokens)
            except Exception as err:  # export or runtime failure: with "auto", torch serves instead (logged)
                if self.options.text_runtime != "auto":
                    raise ModelError(f"ONNX Runtime could not run the text tower of {self.name}: {err}") from err
                log.warning("ONNX Runtime text tower unavailable for %s (%s); using torch", self.name, err)
                self._onnx = None
        if self._causal is not None:
            return encode_truncated(self._causal, tokens)
        return self._model.encode_text(tokens)

    def encode_texts_full_context(self, texts: Sequence[str]) -> np.ndarray:
        """The reference path: open_clip's own ``encode_text`` over the whole context (tests, bench)."""
        self._ensure_loaded()
        torch = require("torch", "pip install -r requirements.txt")
        with torch.inference_mode():
            return _normalise(self._model.encode_text(self._tokenizer(list(texts)).to(self._device)))

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
        with self._lock:
            self._model = self._preprocess = self._tokenizer = self._onnx = self._causal = None
        torch = require("torch", "pip install -r requirements.txt")
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _normalise(features) -> np.ndarray:
    array = features if isinstance(features, np.ndarray) else features.float().cpu().numpy()
    array = array.astype(np.float32, copy=False)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return (array / np.maximum(norms, 1e-12)).astype(np.float32)
