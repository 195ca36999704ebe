"""BM25 sparse vectors made by Qdrant's own BM25 (``qdrant_edge.Bm25``, the Rust code the Qdrant
server runs for its BM25 inference), configured once here and used identically at ingest
(:meth:`Bm25Encoder.document`) and at query time (:meth:`Bm25Encoder.query`).

The one configuration: Spanish Snowball stemmer, Spanish and English stopwords, lower case,
ASCII folding ("bidón" = "bidon"), ``k = 1.2``, ``b = 0.75``, and an average document length of
20 tokens (a shot's speech or on-screen text is short; Qdrant's default of 256 assumes pages).
The collection's sparse vectors carry Qdrant's IDF modifier, so the stored weights are term
frequencies and Qdrant multiplies in the IDF at query time, over the whole collection.

:meth:`Bm25Encoder.matches` tells which words of a text the query's terms match, through the
same tokenizer and stemmer (one token id per stemmed term), so snippets highlight exactly what
BM25 matched.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from pipeline.errors import ConfigError
from pipeline.store.base import SparseVector

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Bm25Options:
    """The BM25 model; recorded in a database's channel metadata, and checked at query time."""

    language: str = "spanish"
    stopwords: tuple[str, ...] = ("spanish", "english")
    ascii_folding: bool = True
    k: float = 1.2
    b: float = 0.75
    avg_len: float = 20.0

    def to_json(self) -> dict:
        return {**asdict(self), "stopwords": list(self.stopwords)}


class Bm25Encoder:
    """Text to :class:`SparseVector` with Qdrant Edge's BM25 (see the module docstring)."""

    def __init__(self, options: Bm25Options = Bm25Options()):
        self.options = options

    @cached_property
    def _model(self) -> Any:
        try:
            import qdrant_edge as qe
        except ImportError as err:
            raise ConfigError("BM25 needs Qdrant Edge's tokenizer: pip install qdrant-edge-py==0.9.0") from err
        o = self.options
        try:
            languages = {getattr(qe.Language, name.capitalize()) for name in o.stopwords}
            config = qe.Bm25Config(k=o.k, b=o.b, avg_len=o.avg_len, language=o.language, lowercase=True,
                                   ascii_folding=o.ascii_folding, stopwords=qe.StopwordsSet(languages=languages))
            return qe.Bm25(config)
        except (AttributeError, ValueError) as err:
            raise ConfigError(f"unsupported BM25 options {o}: {err}") from err

    def document(self, text: str) -> SparseVector:
        """A stored text: term-frequency weights (empty for a text with no indexable word)."""
        v = self._model.embed_document(text or "")
        return SparseVector(tuple(v.indices), tuple(v.values))

    def query(self, text: str) -> SparseVector:
        """A query: weight 1 per distinct term."""
        v = self._model.embed_query(text or "")
        return SparseVector(tuple(v.indices), tuple(v.values))

    def terms(self, text: str) -> frozenset[int]:
        """The term ids of a text (after stopwords, folding and stemming)."""
        return frozenset(self._model.embed_query(text or "").indices)

    def matches(self, query: str, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` character spans of the words of ``text`` that match a query term."""
        wanted = self.terms(query)
        if not wanted:
            return []
        cache: dict[str, bool] = {}
        spans = []
        for word in _WORD.finditer(text or ""):
            token = word.group(0).lower()
            if token not in cache:
                cache[token] = bool(self.terms(token) & wanted)
            if cache[token]:
                spans.append(word.span())
        return spans
