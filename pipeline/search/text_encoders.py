"""Query encoders: how a text query becomes a vector in a database's space.

- ``native``: the image encoder's own text tower (the right choice for multilingual encoders);
- ``mclip``: M-CLIP's multilingual text tower, trained to map 48 languages into OpenAI
  ViT-L-14's image space (for ``ViT-L-14/openai`` databases only);
- ``translate``: the query translated to English (Apertium) in front of the native tower, for any
  English-only encoder;
- ``auto``: chosen per database by :func:`choose_query_encoder`.

Recent query vectors are cached (:class:`CachedTextEncoder`): a repeated or refined query does not
run the model again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.errors import QueryError
from pipeline.index import identity_of
from pipeline.protocols import TextEncoder, Translator

QUERY_ENCODERS = ("auto", "native", "mclip", "translate")


@dataclass(frozen=True)
class QueryEncoderChoice:
    """Which query encoder runs for a database, and why (shown with the results). ``code`` names
    the reason for front ends that translate it: asked, multilingual, uncatalogued, mclip,
    translate, english_only."""

    kind: str
    reason: str
    code: str = "asked"


def choose_query_encoder(requested: str, multilingual: bool | None, space: str | None, mclip_space: str,
                         mclip_available: bool, translator_available: bool) -> QueryEncoderChoice:
    """Pick the query encoder for an image encoder.

    ``multilingual``: whether the image encoder's text tower reads Spanish (``None``: unknown);
    ``space``: the spec of the model that made the database's vectors; ``mclip_space``: the one
    space M-CLIP maps into. ``auto`` picks native for a multilingual (or unknown) encoder; for an
    English-only one, M-CLIP where it fits and its files are at hand, else translation where
    Apertium is installed, else native (English queries only)."""
    if requested not in QUERY_ENCODERS:
        raise QueryError(code="query.query_encoder", name=requested, choices=", ".join(QUERY_ENCODERS))
    mclip_fits = space == mclip_space
    if requested == "mclip" and not mclip_fits:
        raise QueryError(code="query.mclip_space", space=mclip_space, made_by=space or "an unrecorded model")
    if requested == "translate" and not translator_available:
        raise QueryError(code="query.no_translator")
    if requested != "auto":
        return QueryEncoderChoice(requested, "asked for", "asked")
    if multilingual:
        return QueryEncoderChoice("native", "multilingual encoder", "multilingual")
    if multilingual is None:
        return QueryEncoderChoice("native", "encoder not in the catalogue: its own text tower", "uncatalogued")
    if mclip_fits and mclip_available:
        return QueryEncoderChoice("mclip", "English-only encoder; M-CLIP maps Spanish queries into its space", "mclip")
    if translator_available:
        return QueryEncoderChoice("translate", "English-only encoder; queries translated to English by Apertium",
                                  "translate")
    return QueryEncoderChoice("native", "English-only encoder and neither M-CLIP nor Apertium is available: "
                                        "write queries in English", "english_only")


class TranslatingEncoder:
    """A translator in front of a text encoder; non-translatable text passes through unchanged."""

    kind = "translate"

    def __init__(self, translator: Translator, encoder: TextEncoder):
        self.translator, self.encoder = translator, encoder
        self.name = f"{translator.name} + {encoder.name}"
        self.vector_name = encoder.vector_name
        self.last_translations: dict[str, str] = {}

    def identity(self) -> dict:
        return identity_of(self.encoder)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        translated = self.translator.translate(list(texts))
        self.last_translations = dict(zip(texts, translated, strict=True))
        return self.encoder.encode_texts(translated)


class CachedTextEncoder:
    """Keeps the vectors of the last ``size`` texts; encodes only the texts it has not seen."""

    def __init__(self, encoder: TextEncoder, size: int = 256):
        self.encoder, self.size = encoder, size
        self.name, self.vector_name = encoder.name, encoder.vector_name
        self.kind = getattr(encoder, "kind", "native")
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def identity(self) -> dict:
        return identity_of(self.encoder)

    def __getattr__(self, name: str):  # dim, device, last_translations... of the wrapped encoder
        if name in ("encoder", "_items", "_lock"):
            raise AttributeError(name)
        return getattr(self.encoder, name)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                if text in self._items:
                    self._items.move_to_end(text)
                    found[text] = self._items[text]
            missing = [t for t in dict.fromkeys(texts) if t not in found]
            self.hits += len(texts) - sum(texts.count(t) for t in missing)
            self.misses += len(missing)
        if missing:
            fresh = {t: np.asarray(v, dtype=np.float32)
                     for t, v in zip(missing, self.encoder.encode_texts(missing), strict=True)}
            with self._lock:
                self._items.update(fresh)
                for text in fresh:
                    self._items.move_to_end(text)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            found.update(fresh)
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)
