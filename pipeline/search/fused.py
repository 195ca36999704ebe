"""One query against every channel a database holds, fused by Qdrant.

The plan (:func:`plan_query`) is the list of rankings that :meth:`VectorStore.fused_query` fuses
in one weighted RRF (``k`` = :data:`RRF_K`), each weighted by its channel's weight:

- ``visual``: the CLIP text vector of the query; with an example image too, either two rankings
  (``text`` and ``image``, weighted ``1 - image_weight`` and ``image_weight``: the middle of the
  slider is balanced) or, with ``image_fusion="vector"``, one averaged vector;
- each text channel (``speech``, ``ocr``, ``description``): its BM25 ranking (``words``) and, when
  the database has the dense vector of this text model, its dense ranking (``meaning``).

The rankings are fused flat, not channel by channel first: a shot that a channel finds both by
its words and by their meaning then outranks the first places of channels that merely return
their nearest neighbours. On the benchmark archive this took fused R@1 from 0.17 (channels fused
first) to 0.78, R@5 staying 1.0 (``bench/channels_archive.py``).

A plan of a single ranking (a text query on a visual-only database) runs as a plain nearest-
neighbour query, as before channels existed, with cosine scores. Otherwise a hit's score is its
RRF score divided by the best one possible (:func:`rrf_best`: first in every ranking searched),
so it lies in (0, 1]: 1.0 is a shot every ranking put first; a shot put first by one of five
equally weighted rankings and found by no other scores 0.2. A minimum score (and a temporal pair's
geometric mean) then reads the same whatever the weights and the number of rankings.
Channels the query asks for that the database lacks are reported as missing, not an error,
unless nothing is left to search.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from pipeline.channels import TEXT_CHANNELS, VISUAL, dense_name, sparse_name
from pipeline.errors import ModelError, QueryError
from pipeline.index import check_encoder
from pipeline.protocols import ImageTextEncoder, TextEmbedder, TextEncoder
from pipeline.records import SearchHit
from pipeline.search.engine import check_encoders, to_hits
from pipeline.search.explain import explain
from pipeline.search.query import Query, encode_query
from pipeline.store import Bm25Encoder, Prefetch, VectorStore

log = logging.getLogger(__name__)

#: RRF's rank constant: Qdrant's own default. On the benchmark archive (``bench/channels_archive.py``)
#: k = 2 ranked far better than 10 or 60: a channel's first places must outweigh the noise of the
#: channels that did not find the shot (a dense ranking always returns neighbours).
RRF_K = 2
#: How deep each ranking is fetched before fusion.
DEPTH = 100
BM25 = Bm25Encoder()


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits, the channels searched, the channels asked for that the database lacks, the
    text channels searched by their words only (no dense vectors of this text model, or the text
    model could not load: ``meaning_error``), and notes in English for logs and the CLI."""

    hits: list[SearchHit]
    channels: tuple[str, ...]
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    words_only: tuple[str, ...] = ()
    meaning_error: str | None = None


@dataclass(frozen=True)
class Plan:
    """What :func:`plan_query` decided: the rankings to fuse and what the result reports."""

    prefetches: list[Prefetch]
    channels: tuple[str, ...]
    missing: tuple[str, ...]
    words_only: tuple[str, ...]
    notes: list[str]
    meaning_error: str | None = None


@dataclass(frozen=True)
class DatabaseChannels:
    """What a database holds: the visual vector of this encoder (or None), and per text channel
    its sparse vector name and the dense vector name of this text model (or None)."""

    visual: str | None
    text: dict[str, tuple[str, str | None]]

    @property
    def names(self) -> tuple[str, ...]:
        return ((VISUAL,) if self.visual else ()) + tuple(c for c in TEXT_CHANNELS if c in self.text)


def database_channels(store: VectorStore, db: str, encoder_vector: str | None,
                      embedder: TextEmbedder | None = None) -> DatabaseChannels:
    vectors, sparse = store.vector_names(db), set(store.sparse_names(db))
    text = {}
    for channel in TEXT_CHANNELS:
        if sparse_name(channel) in sparse:
            dense = dense_name(channel, embedder.vector_name) if embedder is not None else None
            text[channel] = (sparse_name(channel), dense if dense in vectors else None)
    return DatabaseChannels(encoder_vector if encoder_vector in vectors else None, text)


def rrf_best(weights: Sequence[float], rrf_k: int = RRF_K) -> float:
    """The score Qdrant's weighted RRF gives a shot that every ranking put first. A ranking of weight
    ``w`` adds ``1 / ((rank + 1) / w + k - 1)`` for the shot at 0-based ``rank`` (``1 / (rank + k)``
    unweighted), as Qdrant Edge 0.9 and qdrant-client 1.20 compute it; the store contract tests
    check this on both, so that a change in Qdrant shows."""
    return sum(1.0 / (1.0 / w + rrf_k - 1) for w in weights if w > 0)


def _visual(query: Query, encoder: ImageTextEncoder, vector_name: str, override: np.ndarray | None,
            text_encoder: TextEncoder | None) -> list[Prefetch]:
    """The visual channel's rankings. The text goes through ``text_encoder`` when given (a query
    encoder into the encoder's space: M-CLIP, translation), the image through the encoder."""
    weight = query.weight(VISUAL)
    if override is not None:  # relevance feedback's vector
        return [Prefetch("visual:feedback", vector_name, override, weight)]
    text = bool(query.text and query.text.strip())
    if query.image is None or not text or query.image_fusion == "vector":
        label = "text+image" if text and query.image is not None else "text" if text else "image"
        return [Prefetch(f"visual:{label}", vector_name, encode_query(encoder, query, text_encoder), weight)]
    by_text = encode_query(encoder, replace(query, image=None), text_encoder)
    by_image = encode_query(encoder, replace(query, text=None))
    return [Prefetch("visual:text", vector_name, by_text, (1.0 - query.image_weight) * weight),
            Prefetch("visual:image", vector_name, by_image, query.image_weight * weight)]


def plan_query(query: Query, have: DatabaseChannels, encoder: ImageTextEncoder | None,
               embedder: TextEmbedder | None, bm25: Bm25Encoder = BM25,
               visual_vector: np.ndarray | None = None, text_encoder: TextEncoder | None = None) -> Plan:
    """The rankings for ``query`` on a database holding ``have`` (see the module docstring)."""
    wanted = query.channels if query.channels is not None else have.names
    missing = tuple(c for c in wanted if c not in have.names)
    notes, plan, used, words_only = [], [], [], []
    text = query.text.strip() if query.text else ""
    meaning, meaning_error = None, None
    if text and embedder is not None and any(have.text.get(c, (None, None))[1] for c in wanted):
        try:
            meaning = embedder.embed_query(text)
        except ModelError as err:
            meaning_error = str(err)
            notes.append(f"search by meaning unavailable, text channels searched by their words only: {err}")
    for channel in wanted:
        if channel in missing or query.weight(channel) == 0:
            continue
        if channel == VISUAL:
            if encoder is None:
                notes.append("visual channel skipped: no image-text encoder")
                continue
            plan += _visual(query, encoder, have.visual, visual_vector, text_encoder)
        elif not text:
            notes.append(f"{channel} channel skipped: it is searched with words, and the query has none")
            continue
        else:
            sparse, dense = have.text[channel]
            plan.append(Prefetch(f"{channel}:words", sparse, bm25.query(text), query.weight(channel)))
            if dense is not None and meaning is not None:
                plan.append(Prefetch(f"{channel}:meaning", dense, meaning, query.weight(channel)))
            else:
                words_only.append(channel)
                if meaning_error is None:
                    notes.append(f"{channel} channel searched by its words only: no dense vectors of this text model")
        used.append(channel)
    return Plan(plan, tuple(used), missing, tuple(words_only), notes, meaning_error)


def search_channels(store: VectorStore, encoder: ImageTextEncoder | None, db: str, query: Query,
                    embedder: TextEmbedder | None = None, *, text_encoder: TextEncoder | None = None,
                    visual_vector: np.ndarray | None = None, exclude_ids: Sequence[str] = (), depth: int = DEPTH,
                    rrf_k: int = RRF_K, bm25: Bm25Encoder = BM25, explain_hits: bool = True) -> SearchResult:
    """Search ``db`` with every channel ``query`` asks for that the database holds, fused in Qdrant;
    with ``explain_hits`` every hit explains itself (channels and ranks, highlighted snippets, the
    spoken moment), which runs each ranking a second time; without it (evaluation) the fused query
    is Qdrant's prefetch + fusion query alone.
    ``text_encoder`` encodes the visual channel's text (a query encoder into the encoder's space),
    checked with the encoder against the vectors the database records (a mismatch is refused);
    ``visual_vector`` replaces the visual query (relevance feedback); ``exclude_ids`` drops shots."""
    have = database_channels(store, db, encoder.vector_name if encoder is not None else None, embedder)
    visual_asked = query.channels is None or VISUAL in query.channels
    if have.visual and visual_asked and query.weight(VISUAL) > 0 and visual_vector is None:
        check_encoders(store, db, encoder, text_encoder, query)
    planned = plan_query(query, have, encoder, embedder, bm25, visual_vector, text_encoder)
    plan, used, missing, notes = planned.prefetches, planned.channels, planned.missing, planned.notes
    if missing:
        notes.insert(0, f"database {db!r} has no {', '.join(missing)} channel: searched {', '.join(used) or 'nothing'}")
    if VISUAL in missing and encoder is not None:
        if not plan:
            check_encoder(store, db, encoder)  # raises: what the database holds, and what to do
        other = sorted(v for v in store.vector_names(db) if not v.startswith(tuple(f"{c}-" for c in TEXT_CHANNELS)))
        if other:
            notes.insert(1, f"its visual vectors were made by another encoder ({', '.join(other)}, not "
                            f"{encoder.vector_name}): search it with that encoder to use them")
    if not plan:
        raise QueryError(f"nothing to search in database {db!r}: it holds the channels "
                         f"{', '.join(have.names) or 'none'}; the query asked for {', '.join(query.channels or ())} "
                         + ("and has no text" if not query.text else ""))
    if len(plan) == 1 and not exclude_ids and isinstance(plan[0].query, np.ndarray):
        leaf = plan[0]  # one dense ranking: a plain nearest-neighbour query, cosine scores
        points = store.query(db, leaf.using, leaf.query, query.k, video_ids=query.video_ids,
                             one_per_video=query.one_per_video)
        rankings = {leaf.label: [p.id for p in points]}
    else:
        result = store.fused_query(db, plan, k=query.k, depth=max(depth, query.k), video_ids=query.video_ids,
                                   exclude_ids=exclude_ids, one_per_video=query.one_per_video, rrf_k=rrf_k,
                                   ranks=explain_hits)
        best = rrf_best([p.weight for p in plan], rrf_k) or 1.0
        points = [replace(p, score=p.score / best) for p in result.points]
        rankings = result.rankings
    for note in notes:
        log.info("%s", note)
    hits = to_hits(points)
    if explain_hits and rankings is not None:
        hits = explain(hits, points, rankings, query.text or "", used, bm25)
    return SearchResult(hits, used, missing, tuple(notes), planned.words_only, planned.meaning_error)


def search(store: VectorStore, encoder: ImageTextEncoder, db: str, query: Query, text_encoder: TextEncoder | None = None,
           embedder: TextEmbedder | None = None) -> list[SearchHit]:
    """Text, image, or text+image -> ranked shots, over every channel the database holds (the text
    channels by their words only without an ``embedder``); ``text_encoder`` as in
    :func:`search_channels`. Notes are logged; see :func:`search_channels` for them."""
    return search_channels(store, encoder, db, query, embedder, text_encoder=text_encoder).hits
