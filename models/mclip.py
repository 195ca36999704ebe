"""M-CLIP's multilingual text tower for ``ViT-L-14/openai`` databases, with plain transformers.

``M-CLIP/XLM-Roberta-Large-Vit-L-14`` is XLM-RoBERTa Large trained (48 languages) to map text
into the *same* 768-d space as OpenAI's ViT-L-14 image tower: Spanish queries search an English
CLIP index directly. Its checkpoint holds ``transformer.*`` (the XLM-R encoder) and
``LinearTransformation.*`` (1024 -> 768) tensors; its ``config.json`` names the base model
(``modelBase``) and the two sizes. The ``multilingual_clip`` package is not used: its constructor
downloads ``xlm-roberta-large`` first and fails offline. Here:

1. build ``XLMRobertaModel`` from XLM-R Large's configuration, with the sizes read off the
   checkpoint's own tensors (so a smaller model laid out the same way loads the same way);
2. load the ``transformer.*`` and ``LinearTransformation.*`` tensors (safetensors or a
   ``weights_only`` torch file);
3. tokenise with the repository's own tokenizer (``AutoTokenizer.from_pretrained``), mean-pool the
   last hidden states over the attention mask, project 1024 -> 768, L2-normalise.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.catalogue import MCLIP_MODEL, ORIGINAL_ENCODER
from models.device import require, resolve_device
from models.hub import HubFiles, folder_name, in_models_dir, unavailable, weights_fingerprint
from pipeline.core import vector_name_for
from pipeline.errors import BuscaError, ModelError

log = logging.getLogger(__name__)

#: XLM-RoBERTa Large (``xlm-roberta-large``'s config.json); sizes are checked against the tensors.
XLMR_LARGE = dict(vocab_size=250002, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                  intermediate_size=4096, hidden_act="gelu", max_position_embeddings=514, type_vocab_size=1,
                  layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2)
WEIGHT_NAMES = ("model.safetensors", "pytorch_model.bin")
SMALL_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
               "sentencepiece.bpe.model")
MAX_TOKENS = 512
#: Texts per forward pass (memory stays bounded whatever the number of texts).
TEXT_BATCH = 32


def mclip_folder(model: str, models_dir: str | Path | None, cache_dir: Path | None = None,
                 fetch: bool = True) -> Path | None:
    """The folder holding M-CLIP's files: ``model`` itself when it is a folder, the models folder's
    copy, or a copy gathered from the hub (``fetch=False``: only if already gathered)."""
    if Path(model).expanduser().is_dir():
        return Path(model).expanduser()
    folder = in_models_dir(models_dir, "mclip", model, marker="config.json")
    if folder is not None:
        return folder
    target = (cache_dir or _cache_dir()) / folder_name(model)
    if (target / "config.json").is_file() and any((target / n).is_file() for n in WEIGHT_NAMES):
        return target
    if not fetch:
        return None
    return gather_mclip(model, target, HubFiles(model, kind="mclip"))


def _cache_dir() -> Path:
    from models.clip_files import default_cache_dir

    return default_cache_dir().parent / "mclip"


def gather_mclip(model: str, dest: Path, files: HubFiles) -> Path:
    """Download M-CLIP's config, tokenizer and weights into ``dest``."""
    import shutil

    present = set(files.list_files(model))
    wanted = [n for n in SMALL_FILES if n in present]
    weights = next((n for n in WEIGHT_NAMES if n in present), None)
    if "config.json" not in present or weights is None:
        raise unavailable(model, f"the repository lacks config.json or weights ({', '.join(WEIGHT_NAMES)})", "mclip")
    dest.mkdir(parents=True, exist_ok=True)
    for name in [*wanted, weights]:
        shutil.copyfile(files.fetch(model, name), dest / f".{name}.tmp")
        (dest / f".{name}.tmp").replace(dest / name)
    return dest


def _load_tensors(folder: Path) -> dict:
    torch = require("torch", "pip install -r requirements.txt")
    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        return load_file(str(folder / "model.safetensors"))
    if (folder / "pytorch_model.bin").is_file():
        return torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    raise ModelError(f"{folder}: no M-CLIP weights ({' or '.join(WEIGHT_NAMES)})")


def xlmr_config(transformer: dict):
    """XLM-R Large's configuration with the sizes the checkpoint's tensors actually have."""
    transformers = require("transformers", "pip install transformers")
    values = dict(XLMR_LARGE)
    words = transformer["embeddings.word_embeddings.weight"]
    values["vocab_size"], values["hidden_size"] = int(words.shape[0]), int(words.shape[1])
    values["num_hidden_layers"] = 1 + max(int(k.split(".")[2]) for k in transformer if k.startswith("encoder.layer."))
    values["intermediate_size"] = int(transformer["encoder.layer.0.intermediate.dense.weight"].shape[0])
    values["max_position_embeddings"] = int(transformer["embeddings.position_embeddings.weight"].shape[0])
    values["type_vocab_size"] = int(transformer["embeddings.token_type_embeddings.weight"].shape[0])
    if values["hidden_size"] != XLMR_LARGE["hidden_size"]:
        values["num_attention_heads"] = max(1, values["hidden_size"] // 64)  # XLM-R's 64-wide heads
    return transformers.XLMRobertaConfig(**values)


class MClipTextEncoder:
    """M-CLIP text tower: Spanish (and 47 other languages) into ViT-L-14/openai's space.

    ``name`` is the hub id (or a local folder); ``space`` the image encoder it maps into."""

    kind = "mclip"

    def __init__(self, model: str = MCLIP_MODEL, device: str = "auto", models_dir: str | None = None,
                 space: str = ORIGINAL_ENCODER, cache_dir: str | None = None):
        self.name, self.space = model, space
        self.vector_name = vector_name_for(space)
        self.options = {"device": device, "models_dir": models_dir,
                        "cache_dir": Path(cache_dir) / "mclip" if cache_dir else None}
        self._lock = threading.Lock()
        self._model = self._projection = self._tokenizer = None
        self._weights = "unloaded"
        self.dim = 768

    @staticmethod
    def present(model: str = MCLIP_MODEL, models_dir: str | None = None, cache_dir: str | None = None) -> bool:
        """Whether its files are at hand without any download."""
        try:
            return mclip_folder(model, models_dir, Path(cache_dir) / "mclip" if cache_dir else None,
                                fetch=False) is not None
        except ModelError:
            return False

    def identity(self) -> dict:
        return {"model": self.space, "weights": "any", "query_model": self.name}

    def load(self) -> MClipTextEncoder:
        with self._lock:
            if self._model is None:
                self._load()
        return self

    def _load(self) -> None:
        torch = require("torch", "pip install -r requirements.txt")
        transformers = require("transformers", "pip install transformers")
        folder = mclip_folder(self.name, self.options["models_dir"], self.options["cache_dir"])
        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            tensors = _load_tensors(folder)
            body = {k[len("transformer."):]: v for k, v in tensors.items() if k.startswith("transformer.")}
            head = {k[len("LinearTransformation."):]: v for k, v in tensors.items()
                    if k.startswith("LinearTransformation.")}
            if not body or set(head) != {"weight", "bias"}:
                raise ModelError(f"{folder}: not an M-CLIP checkpoint (no transformer.* and LinearTransformation.* "
                                 "tensors)")
            xlmr = transformers.XLMRobertaModel(xlmr_config(body), add_pooling_layer="pooler.dense.weight" in body)
            missing, unexpected = xlmr.load_state_dict(body, strict=False)
            unexpected = [k for k in unexpected if not k.endswith("position_ids")]
            if missing or unexpected:
                raise ModelError(f"{folder}: the checkpoint does not fit XLM-R (missing {missing[:3]}, unexpected "
                                 f"{unexpected[:3]})")
            projection = torch.nn.Linear(head["weight"].shape[1], head["weight"].shape[0])
            projection.load_state_dict(head)
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder), config=xlmr.config)
        except BuscaError:
            raise
        except Exception as err:
            raise ModelError(f"cannot load M-CLIP from {folder}: {type(err).__name__}: "
                             f"{(str(err).splitlines() or [''])[0][:300]}") from err
        dims = (config.get("transformerDimensions"), config.get("numDims"))
        if dims[0] and (int(dims[0]), int(dims[1] or 0)) != (projection.in_features, projection.out_features):
            log.warning("M-CLIP config says %s, the tensors %s", dims, (projection.in_features, projection.out_features))
        device = resolve_device(self.options["device"])
        self._device = device
        self._model, self._projection = xlmr.eval().to(device), projection.eval().to(device)
        self._tokenizer, self.dim = tokenizer, int(projection.out_features)
        weights = next((folder / n for n in WEIGHT_NAMES if (folder / n).is_file()), None)
        self._weights = f"blake2b:{weights_fingerprint(weights)}" if weights else "unknown"
        log.info("M-CLIP text tower loaded from %s (%d layers)", folder, xlmr.config.num_hidden_layers)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """``TEXT_BATCH`` texts per forward pass, so memory does not grow with the number of texts."""
        self.load()
        torch = require("torch", "pip install -r requirements.txt")
        texts, chunks = list(texts), []
        with torch.inference_mode():
            for start in range(0, len(texts), TEXT_BATCH):
                batch = self._tokenizer(texts[start:start + TEXT_BATCH], padding=True, truncation=True,
                                        max_length=MAX_TOKENS, return_tensors="pt").to(self._device)
                hidden = self._model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])[0]
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
                chunks.append(self._projection(pooled).float().cpu().numpy())
        features = np.concatenate(chunks) if chunks else np.zeros((0, self.dim), np.float32)
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        return (features / np.maximum(norms, 1e-12)).astype(np.float32)

    def unload(self) -> None:
        with self._lock:
            self._model = self._projection = self._tokenizer = None
