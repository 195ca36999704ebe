"""Fast text queries for open_clip text towers.

**Causal towers** (OpenAI CLIP and most open_clip CLIP models: a causal attention mask, the
feature taken at the end-of-text token): the output at the EOT position depends only on the
positions before it, so running the tower over the query's real tokens, ``[:max EOT + 1]``,
gives the same vector as the full context (77 positions) at a fraction of the cost.
:func:`causal_tower` finds the pieces, :func:`encode_truncated` runs them.

**SigLIP-family towers** attend to every position (``no_causal_mask``) and pool the *last*
position of the padded sequence, so every padding position changes the result and truncation
would be wrong. What helps honestly there is a better runtime for the same graph:
:class:`OnnxTextTower` exports the tower after the embedding lookup to ONNX once (cached by the
weights' fingerprint) and runs it with ONNX Runtime, thread count set and spinning off (a causal
tower is exported with a dynamic length and still runs over the real tokens only). It is fp32:
no quantisation, since whether int8 loses recall can only be shown with real weights.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.device import require

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextTower:
    """The parts of an open_clip text tower, wherever the model keeps them."""

    token_embedding: Any
    positional_embedding: Any
    transformer: Any
    attn_mask: Any
    ln_final: Any
    text_projection: Any
    pool_type: str
    eos_id: int | None


def text_tower(model) -> TextTower | None:
    """The text tower of an open_clip ``CLIP`` or a ``CustomTextCLIP`` with an open_clip
    ``TextTransformer``; ``None`` for other towers (Hugging Face text models, CoCa)."""
    if hasattr(model, "token_embedding") and hasattr(model, "transformer"):  # CLIP keeps the parts itself
        return TextTower(model.token_embedding, model.positional_embedding, model.transformer, model.attn_mask,
                         model.ln_final, model.text_projection, model.text_pool_type,
                         getattr(model, "text_eos_id", None))
    text = getattr(model, "text", None)
    if text is None or not hasattr(text, "token_embedding") or getattr(text, "cls_emb", None) is not None:
        return None
    if getattr(text, "use_pad_mask", False):
        return None
    return TextTower(text.token_embedding, text.positional_embedding, text.transformer, text.attn_mask,
                     text.ln_final, text.text_projection, text.pool_type, getattr(text, "eos_id", None))


def causal_tower(model) -> TextTower | None:
    """The tower when truncating to the real tokens leaves its output unchanged, else ``None``."""
    tower = text_tower(model)
    if tower is None or tower.attn_mask is None or tower.pool_type not in ("argmax", "eos"):
        return None
    return tower


def _pool_index(tower: TextTower, tokens):
    if tower.pool_type == "argmax":
        return tokens.argmax(dim=-1)
    return (tokens == tower.eos_id).int().argmax(dim=-1)


def _project(tower: TextTower, pooled):
    torch = require("torch", "pip install -r requirements.txt")
    projection = tower.text_projection
    if projection is None:
        return pooled
    return projection(pooled) if isinstance(projection, torch.nn.Module) else pooled @ projection


def encode_truncated(tower: TextTower, tokens):
    """Text features of ``tokens`` ``(B, context)`` from a causal tower run over ``[:max EOT + 1]``."""
    torch = require("torch", "pip install -r requirements.txt")
    index = _pool_index(tower, tokens)
    length = int(index.max()) + 1
    tokens = tokens[:, :length]
    cast = tower.transformer.get_cast_dtype()
    x = tower.token_embedding(tokens).to(cast) + tower.positional_embedding[:length].to(cast)
    x = tower.transformer(x, attn_mask=tower.attn_mask[:length, :length])
    x = tower.ln_final(x)
    pooled = x[torch.arange(x.shape[0], device=x.device), index]
    return _project(tower, pooled)


def _body_module(tower: TextTower):
    """The tower after the embedding lookup, as a module: ``(embedded tokens (B, L, D), pooled
    position (B,))`` -> text features. ``L`` may be shorter than the context for a causal tower."""
    torch = require("torch", "pip install -r requirements.txt")

    class Body(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer, self.ln_final = tower.transformer, tower.ln_final
            self.projection = tower.text_projection

        def forward(self, x, index):
            length = x.shape[1]
            mask = None if tower.attn_mask is None else tower.attn_mask[:length, :length]
            x = self.ln_final(self.transformer(x, attn_mask=mask))
            pooled = x[torch.arange(x.shape[0]), index]
            return _project(tower, pooled)

    return Body().eval()


class OnnxTextTower:
    """An open_clip text tower run by ONNX Runtime after a torch embedding lookup.

    A non-causal tower runs over the whole context with its pooled position. A causal one runs
    over its real tokens padded up to the next of a few fixed lengths (16, 32, the context):
    positions after the end-of-text token cannot change the feature there, and fixed lengths
    keep the exported attention reshapes static. Each graph is exported once per weights
    fingerprint under ``cache_dir`` (a corrupt file is exported again) and run with ``threads``
    intra-op threads and spinning off (spinning threads steal the CPU from everything else on a
    shared machine)."""

    BUCKETS = (16, 32)

    def __init__(self, tower: TextTower, context: int, fingerprint: str, cache_dir: Path, threads: int = 0):
        self.tower, self.context = tower, context
        self.causal = tower.attn_mask is not None and tower.pool_type in ("argmax", "eos")
        self.lengths = tuple(b for b in self.BUCKETS if b < context) + (context,) if self.causal else (context,)
        self.folder, self.fingerprint = Path(cache_dir), fingerprint
        self.threads = threads or (os.cpu_count() or 1)
        self._sessions: dict[int, Any] = {}

    @staticmethod
    def available() -> bool:
        try:
            import onnx  # noqa: F401  (the exporter writes through it)
            import onnxruntime  # noqa: F401
        except ImportError:
            return False
        return True

    def path(self, length: int) -> Path:
        return self.folder / f"text-{self.fingerprint}-{length}.onnx"

    def _export(self, length: int) -> None:
        torch = require("torch", "pip install -r requirements.txt")
        path = self.path(length)
        path.parent.mkdir(parents=True, exist_ok=True)
        width = self.tower.positional_embedding.shape[-1]
        example = (torch.zeros(1, length, width), torch.full((1,), length - 1, dtype=torch.long))
        axes = {"x": {0: "batch"}, "index": {0: "batch"}, "features": {0: "batch"}}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        # Traced with autograd on: under inference mode nn.MultiheadAttention takes its fused fast
        # path (aten::_native_multi_head_attention), which has no ONNX export.
        with torch.enable_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shapes the fixed length makes constant
            torch.onnx.export(_body_module(self.tower), example, str(tmp), input_names=["x", "index"],
                              output_names=["features"], dynamic_axes=axes, opset_version=17, dynamo=False)
        os.replace(tmp, path)
        log.info("exported the text tower to %s", path)

    def _load(self, length: int):
        ort = require("onnxruntime", "pip install onnxruntime")
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        return ort.InferenceSession(str(self.path(length)), options, providers=["CPUExecutionProvider"])

    def session(self, length: int | None = None):
        length = length or self.lengths[-1]
        if length not in self._sessions:
            if not self.path(length).is_file():
                self._export(length)
            try:
                self._sessions[length] = self._load(length)
            except Exception as err:  # a partial or stale file: export again once
                log.warning("re-exporting the ONNX text tower (%s)", err)
                self._export(length)
                self._sessions[length] = self._load(length)
        return self._sessions[length]

    def __call__(self, tokens):
        """Features of ``tokens`` ``(B, context)``, as a float32 numpy array."""
        torch = require("torch", "pip install -r requirements.txt")
        if self.causal:
            index = _pool_index(self.tower, tokens)
            length = next(b for b in self.lengths if b >= int(index.max()) + 1)
            tokens = tokens[:, :length]
        else:
            length = tokens.shape[1]
            last = length - 1 if self.tower.pool_type == "last" else 0
            index = torch.full((tokens.shape[0],), last, dtype=torch.long)
        with torch.inference_mode():
            cast = self.tower.transformer.get_cast_dtype()
            x = self.tower.token_embedding(tokens).to(cast) + self.tower.positional_embedding[:length].to(cast)
        feeds = {"x": x.float().cpu().numpy(), "index": index.cpu().numpy().astype(np.int64)}
        return self.session(length).run(["features"], feeds)[0]
