"""Evaluate a database against documentalists' time-coded logs, as the original system was judged.

Each log entry's description is a text query; the logged video (matched to the catalog by
file name) and span are the right answer. For every configuration (see
:mod:`pipeline.evaluate_config`) each query fetches the top ``depth`` shots twice, as a
plain shot ranking and one per video, and three ranks are kept (see
:data:`pipeline.evaluate_report.DEFINITIONS`):

- **video-level**: the logged video's place in the one-per-video ranking;
- **shot-level**: the first shot that comes from the logged video and overlaps the span;
- **video among shots**: the first shot of the logged video in the plain shot ranking.

From the ranks come R@K, MRR and the median rank (:mod:`pipeline.evaluate_metrics`, pure
numpy). The search is injected (:data:`SearchFn`) so the ranking logic is testable without
a model or a store. A configuration with ``channels`` (or an example image) searches through the
fused channel search (:func:`pipeline.search.search_channels`) instead of one visual vector;
its queries are :class:`~pipeline.search.Query` objects, ranked and paired the same way.

Memory stays bounded whatever the log's length: entries are encoded and searched
``QUERY_BATCH`` at a time (each batch's distinct texts in one ``encode_texts`` call, which
batches again inside the encoder), so only one batch of query vectors exists at once; the log
itself is capped (:class:`~pipeline.evaluation.logs.LogOptions` ``max_lines``/``max_bytes``).

Log entries are matched to indexed videos by file name: the exact name of the catalog's
``source`` first, then case-insensitively, then by name without extension. An entry whose
video is not indexed, or that lacks a query part a configuration needs, is *excluded* and
listed in the report, never silently dropped.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from pipeline.core import atomic
from pipeline.errors import ConfigError, UnknownDatabaseError
from pipeline.evaluation.config import EvalConfig, EvaluateOptions, parse_config
from pipeline.evaluation.logs import LogEntry, LogFormatError, LogOptions, LogProblem, LogTooLargeError, parse_log
from pipeline.evaluation.metrics import (
    OverlapOptions,
    dedupe_videos,
    first_hit_rank,
    shot_matches,
    summarize,
)
from pipeline.evaluation.report import ConfigResult, CorpusStats, EvaluationReport, Excluded, QueryRanks
from pipeline.evaluation.temporal import entry_parts, has_translation
from pipeline.index import DataLayout, catalog_for, check_encoder
from pipeline.protocols import ImageTextEncoder, TextEmbedder, TextEncoder
from pipeline.records import IndexedVideo, SearchHit
from pipeline.search import Query, database_channels, fuse_vectors, pair_hits, search_channels, to_hits
from pipeline.sources import load_image
from pipeline.store import VectorStore

__all__ = ["EvalConfig", "EvaluateOptions", "EvaluationReport", "LogEntry", "LogFormatError", "LogOptions",
           "NothingToEvaluate", "QueriesFn", "SearchFn", "Target", "channel_queries", "channel_search", "evaluate",
           "evaluate_config", "match_entries", "parse_config", "query_ranks", "rank_queries"]

log = logging.getLogger(__name__)

#: ``search(query, k, one_per_video) -> hits, best first``: ``query`` is a vector (one visual vector)
#: or a :class:`~pipeline.search.Query` (a configuration with channels).
SearchFn = Callable[[Any, int, bool], Sequence[SearchHit]]
#: ``to_queries(entries) -> one query per entry``, for a :data:`SearchFn`.
QueriesFn = Callable[[Sequence[LogEntry]], Sequence[Any]]
#: ``on_query(done, total)``, after each query of each configuration (it may raise to stop).
OnQuery = Callable[[int, int], None]
#: The frame rate assumed for a frame timecode when the video's own is unknown.
DEFAULT_FPS = 25.0


class NothingToEvaluate(ConfigError):
    """No log entry matches an indexed video. ``code`` (``log_nothing_matched``) and ``params``
    name the cause for front ends."""

    def __init__(self, message: str, **params: object):
        super().__init__(message)
        self.code, self.params = "log_nothing_matched", params


ANY_OVERLAP = OverlapOptions()
DEFAULT_OPTIONS = EvaluateOptions()
#: Log entries encoded and searched at a time.
QUERY_BATCH = 256


@dataclass(frozen=True)
class Target:
    """The right answer of one query: any of ``video_ids`` (several when one file name was
    indexed more than once), during ``[start_s, end_s]``."""

    video_ids: frozenset[str]
    start_s: float
    end_s: float


def query_ranks(target: Target, shots: Sequence[SearchHit], videos: Sequence[SearchHit],
                overlap: OverlapOptions = ANY_OVERLAP) -> QueryRanks:
    """Ranks of one query from its plain shot ranking and its one-per-video ranking."""
    ranked_videos = dedupe_videos([h.video_id for h in videos])
    return QueryRanks(
        video_rank=first_hit_rank(v in target.video_ids for v in ranked_videos),
        shot_rank=first_hit_rank(h.video_id in target.video_ids
                                 and shot_matches(h.start_s, h.end_s, target.start_s, target.end_s, overlap)
                                 for h in shots),
        video_in_shots_rank=first_hit_rank(h.video_id in target.video_ids for h in shots),
        top_video=videos[0].source if videos else None,
    )


def rank_queries(targets: Sequence[Target], queries: Sequence[Any], search: SearchFn, depth: int,
                 overlap: OverlapOptions = ANY_OVERLAP, progress: bool = False,
                 on_query: Callable[[], None] | None = None) -> list[QueryRanks]:
    """Search every query (top ``depth`` shots, and top ``depth`` videos) and rank it."""
    ranks = []
    for target, query in tqdm(list(zip(targets, queries, strict=True)), desc="queries", unit="query",
                              leave=False, disable=not progress):
        ranks.append(query_ranks(target, search(query, depth, False), search(query, depth, True), overlap))
        if on_query is not None:
            on_query()
    return ranks


def _name_keys(name: str) -> tuple[str, str, str]:
    base = re.split(r"[\\/]", name.strip())[-1]
    return base, base.casefold(), base.rsplit(".", 1)[0].casefold() if "." in base else base.casefold()


def match_entries(entries: Sequence[LogEntry], catalog: Mapping[str, IndexedVideo]
                  ) -> tuple[list[tuple[LogEntry, frozenset[str]]], list[Excluded]]:
    """Pair each entry with the catalog videos of its file name; the rest are excluded."""
    indexes: tuple[dict[str, set[str]], ...] = ({}, {}, {})
    for video in catalog.values():
        for index, key in zip(indexes, _name_keys(video.source), strict=True):
            index.setdefault(key, set()).add(video.video_id)
    matched, excluded = [], []
    for entry in entries:
        found = next((index[key] for index, key in zip(indexes, _name_keys(entry.video), strict=True)
                      if key in index), None)
        if found:
            matched.append((entry, frozenset(found)))
        else:
            excluded.append(Excluded(entry.line, entry.video, "video not indexed in this database", "not_indexed"))
    return matched, excluded


def _video_fps(layout: DataLayout, video_id: str) -> float:
    try:
        fps = float(atomic.read_json(layout.video_dir(video_id) / "info.json")["fps"])
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_FPS
    return fps if fps > 0 else DEFAULT_FPS


def resolve_frames(matched: list[tuple[LogEntry, frozenset[str]]], layout: DataLayout
                   ) -> tuple[list[tuple[LogEntry, frozenset[str]]], list[Excluded]]:
    """Frame timecodes (``HH:MM:SS:FF``) in seconds, at the frame rate of the matched video."""
    kept, excluded = [], []
    for entry, ids in matched:
        try:
            kept.append((entry.at_fps(_video_fps(layout, min(ids))), ids))
        except ValueError as err:
            excluded.append(Excluded(entry.line, entry.video, str(err), getattr(err, "code", ""),
                                     dict(getattr(err, "params", {}))))
    return kept, excluded


def _require_parts(matched: list[tuple[LogEntry, frozenset[str]]], configs: Sequence[EvalConfig]
                   ) -> tuple[list[tuple[LogEntry, frozenset[str]]], list[Excluded]]:
    """Entries that every configuration can query; the same entries are compared across configurations."""
    needs = [c for c in configs if "translation" in c.query]
    kept, excluded = [], []
    for entry, ids in matched:
        if needs and not has_translation(entry):
            excluded.append(Excluded(entry.line, entry.video, f"no translation, needed by configuration "
                                                              f"{needs[0].name!r}", "no_translation",
                                     {"config": needs[0].name}))
        else:
            kept.append((entry, ids))
    return kept, excluded


def query_vectors(entries: Sequence[LogEntry], config: EvalConfig, encoder: TextEncoder) -> np.ndarray:
    """One L2-normalised query vector per entry (texts encoded once each, then fused)."""
    columns = {"text": [e.text for e in entries], "translation": [e.translation or "" for e in entries]}
    unique = sorted({t for part in config.query for t in columns[part]})
    table = dict(zip(unique, encoder.encode_texts(unique), strict=True))
    weights = {"text": 1.0 - config.weight, "translation": config.weight} if len(config.query) > 1 else None
    rows = []
    for i in range(len(entries)):
        parts = [table[columns[part][i]] for part in config.query]
        rows.append(fuse_vectors(parts, [weights[p] for p in config.query] if weights else [1.0]))
    return np.asarray(rows, dtype=np.float32).reshape(len(entries), -1)


def store_search(store: VectorStore, db: str, vector_name: str) -> SearchFn:
    def search(vector: np.ndarray, k: int, one_per_video: bool) -> list[SearchHit]:
        return to_hits(store.query(db, vector_name, vector, k, one_per_video=one_per_video))

    return search


def channel_queries(config: EvalConfig) -> QueriesFn:
    """One channel query per entry: the configuration's text parts joined, its channels, weights and
    example image (``k`` is set by the search)."""
    image = load_image(config.image) if config.image else None

    def queries(entries: Sequence[LogEntry]) -> list[Query]:
        columns = {"text": lambda e: e.text, "translation": lambda e: e.translation or ""}
        return [Query(text=" ".join(t for t in (columns[p](e) for p in config.query) if t), image=image,
                      image_weight=config.image_weight, channels=config.channels, weights=config.weights,
                      image_fusion=config.image_fusion) for e in entries]

    return queries


def channel_search(store: VectorStore, db: str, encoder: ImageTextEncoder, embedder: TextEmbedder | None,
                   text_encoder: TextEncoder | None = None, **options: Any) -> SearchFn:
    """The fused channel search as a :data:`SearchFn` over :class:`~pipeline.search.Query` objects
    (``options``: ``depth``, ``rrf_k``... of :func:`~pipeline.search.search_channels`)."""
    def search(query: Query, k: int, one_per_video: bool) -> list[SearchHit]:
        request = replace(query, k=k, one_per_video=one_per_video)
        return search_channels(store, encoder, db, request, embedder,  # ranks only: no reasons to show
                               text_encoder=text_encoder if request.text else None, explain_hits=False,
                               **options).hits

    return search


def rank_entries(entries: Sequence[LogEntry], targets: Sequence[Target], to_queries: QueriesFn, search: SearchFn,
                 options: EvaluateOptions, on_query: Callable[[], None] | None = None) -> list[QueryRanks]:
    """Ranks of every entry, in order: one query each, or a pair of queries for "A >> B" entries
    (:mod:`pipeline.evaluation.temporal`), whose ranked pairs span from A's start to B's end."""
    parts = [entry_parts(e) for e in entries]
    single = [i for i, p in enumerate(parts) if p is None]
    ranks: list[QueryRanks | None] = [None] * len(entries)
    if single:
        queries = to_queries([entries[i] for i in single])
        found = rank_queries([targets[i] for i in single], queries, search, options.depth, options.overlap,
                             options.progress, on_query)
        ranks = _place(ranks, single, found)
    two = [i for i, p in enumerate(parts) if p is not None]
    if two:
        firsts = to_queries([parts[i][0] for i in two])
        thens = to_queries([parts[i][1] for i in two])
        found = []
        for i, first, then in zip(two, firsts, thens, strict=True):
            pairs = pair_hits(search(first, options.depth, False), search(then, options.depth, False),
                              options.within_s, options.depth)
            found.append(query_ranks(targets[i], pairs, pairs, options.overlap))
            if on_query is not None:
                on_query()
        ranks = _place(ranks, two, found)
    return ranks


def _place(ranks: list, where: Sequence[int], found: Sequence[QueryRanks]) -> list:
    for i, r in zip(where, found, strict=True):
        ranks[i] = r
    return ranks


def evaluate_config(matched: Sequence[tuple[LogEntry, frozenset[str]]], config: EvalConfig, to_queries: QueriesFn,
                    search: SearchFn, options: EvaluateOptions, *, label: str, query_encoder: str = "",
                    on_query: Callable[[], None] | None = None) -> ConfigResult:
    """Ranks of every matched entry under one configuration, ``QUERY_BATCH`` entries at a time
    (``to_queries`` makes a batch's queries, ``search`` runs them); ``label`` names what was
    searched in the report (a vector name, or the channels), ``query_encoder`` what encoded the text."""
    started = time.perf_counter()
    ranks: list[QueryRanks] = []
    inner = replace(options, progress=False)  # one bar, over every batch
    with tqdm(total=len(matched), desc="queries", unit="query", leave=False, disable=not options.progress) as bar:
        for start in range(0, len(matched), QUERY_BATCH):
            batch = matched[start:start + QUERY_BATCH]
            entries = [entry for entry, _ in batch]
            targets = [Target(ids, entry.start_s, entry.end_s) for entry, ids in batch]
            ranks += rank_entries(entries, targets, to_queries, search, inner, on_query)
            bar.update(len(batch))
    return ConfigResult(
        config=config, vector_name=label, seconds=time.perf_counter() - started, ranks=tuple(ranks),
        video=summarize([r.video_rank for r in ranks], options.ks),
        shot=summarize([r.shot_rank for r in ranks], options.ks),
        video_in_shots=summarize([r.video_in_shots_rank for r in ranks], options.ks),
        query_encoder=query_encoder,
    )


def _visual_needed(config: EvalConfig) -> bool:
    return not config.uses_channels or config.channels is None or "visual" in config.channels


def _encoder_for(config: EvalConfig, encoder: ImageTextEncoder, encoders: Mapping[str, ImageTextEncoder] | None,
                 store: VectorStore, db: str) -> ImageTextEncoder:
    chosen = encoder if config.model is None else (encoders or {}).get(config.model)
    if chosen is None:
        raise ConfigError(f"configuration {config.name!r} names model {config.model!r}, but no encoder was "
                          "given for it")
    available = store.vector_names(db)
    if _visual_needed(config) and chosen.vector_name not in available:
        raise ConfigError(f"configuration {config.name!r}: database {db!r} has no vectors of "
                          f"{chosen.name} ({chosen.vector_name}); it holds {', '.join(available) or 'none'}. "
                          f"Add them with: python -m app reindex --db {db} --model {chosen.name}, or pick another "
                          "--clip-model")
    return chosen


def evaluate(logs: str | Path | Sequence[LogEntry], store: VectorStore, encoder: ImageTextEncoder,
             layout: DataLayout, db: str, options: EvaluateOptions = DEFAULT_OPTIONS,
             encoders: Mapping[str, ImageTextEncoder] | None = None,
             on_query: OnQuery | None = None, text_encoders: Mapping[str, TextEncoder] | None = None,
             embedder: TextEmbedder | None = None) -> EvaluationReport:
    """Evaluate database ``db`` against a log file (or parsed entries).

    ``encoder`` serves configurations without a ``model``; ``encoders`` maps the model specs
    that configurations name to their encoders; ``text_encoders`` maps configuration names to
    the query encoder that encodes their texts (default: the encoder itself), each checked
    against the vectors the database records; ``embedder`` is the text channels' model
    (configurations with ``channels``). Malformed lines of the log are skipped and
    listed in the report. Raises ConfigError (LogFormatError for a log without one valid
    line, NothingToEvaluate when no entry matches an indexed video), QueryError (an encoder
    that does not match the database) or UnknownDatabaseError.
    """
    malformed: list[LogProblem] = []
    if isinstance(logs, str | Path):
        parsed = parse_log(logs, options.log)
        entries, malformed = parsed.entries, parsed.problems
    else:
        entries = list(logs)
    if len(entries) > options.log.max_lines:
        raise LogTooLargeError(logs if isinstance(logs, str | Path) else "(entries)", options.log.max_lines)
    if not store.has_collection(db):
        raise UnknownDatabaseError(db, store.list_collections())
    chosen = [_encoder_for(c, encoder, encoders, store, db) for c in options.configs]
    texts = [(text_encoders or {}).get(c.name) for c in options.configs]
    for config, image_encoder, text_encoder in zip(options.configs, chosen, texts, strict=True):
        if _visual_needed(config):
            check_encoder(store, db, text_encoder or image_encoder)
    catalog = catalog_for(store, layout.root).videos(db)  # the store's own: SQLite, or on the server
    matched, excluded = match_entries(entries, catalog)
    matched, bad_frames = resolve_frames(matched, layout)
    matched, lacking = _require_parts(matched, options.configs)
    excluded = sorted(excluded + bad_frames + lacking, key=lambda e: e.line)
    if not matched:
        first = excluded[0] if excluded else None
        example = f" (e.g. line {first.line}: {first.video}: {first.reason})" if first else ""
        raise NothingToEvaluate(f"none of the {len(entries)} log entries can be evaluated against database {db!r}"
                                f"{example}. Check that the logged file names match the indexed videos "
                                "(`python -m app videos`)", n=len(entries), db=db,
                                line=first.line if first else "", video=first.video if first else "")
    log.info("evaluating %d of %d log entries on %s", len(matched), len(entries), db)
    total, done = len(matched) * len(options.configs), [0]

    def step() -> None:
        done[0] += 1
        if on_query is not None:
            on_query(done[0], total)

    results = []
    for config, enc, text in zip(options.configs, chosen, texts, strict=True):
        if config.uses_channels:
            results.append(evaluate_config(
                matched, config, channel_queries(config), channel_search(store, db, enc, embedder, text), options,
                label=_channels_label(store, db, enc, embedder, config),
                query_encoder=(text or enc).name if _visual_needed(config) else "", on_query=step))
        else:
            results.append(evaluate_config(
                matched, config, lambda entries, c=config, e=text or enc: query_vectors(entries, c, e),
                store_search(store, db, enc.vector_name), options, label=enc.vector_name,
                query_encoder=(text or enc).name, on_query=step))
    corpus = CorpusStats(videos=len(catalog), shots=store.count(db),
                         duration_s=float(sum(v.duration_s for v in catalog.values())))
    return EvaluationReport(
        logs=str(logs) if isinstance(logs, str | Path) else "(entries)", db=db,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"), corpus=corpus, total_entries=len(entries),
        entries=tuple(entry for entry, _ in matched), excluded=tuple(excluded), options=options,
        results=tuple(results), malformed=tuple(malformed),
    )


def _channels_label(store: VectorStore, db: str, encoder: ImageTextEncoder, embedder: TextEmbedder | None,
                    config: EvalConfig) -> str:
    """``channels visual+speech`` (and what the database lacks), for the report."""
    have = database_channels(store, db, encoder.vector_name, embedder).names
    wanted = config.channels if config.channels is not None else have
    used = [c for c in wanted if c in have]
    missing = [c for c in wanted if c not in have]
    return f"channels {'+'.join(used) or 'none'}" + (f" (missing: {'+'.join(missing)})" if missing else "")
