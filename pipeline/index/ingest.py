"""Ingest: video file -> sampled frames -> CLIP embeddings -> semantic shots -> Qdrant.

One video is prepared by :mod:`pipeline.index.prepare` (decoding and the per-frame CPU work in
a background thread beside the encoder; sampled frames spooled for the thumbnails, not kept
unless ``keep_frames``; an unchanged file not hashed again), then written to the store here.
Each stage's time comes back with the result (``IngestResult.timings``). With ``decode_ahead``
the next videos decode while one is encoded.

Stages write their artifacts before the next one starts (see :mod:`pipeline.index.layout`),
and the order of writes makes a crash at any point harmless:

1. frame embeddings, segmentation and thumbnails are written atomically;
2. the catalog notes the video as ``pending`` (so a catalog that cannot be written stops
   the ingest before any point is stored, and no point is ever without a catalog row);
3. the shots are upserted (deterministic ids, so a re-run overwrites) and stale shots
   of an earlier segmentation are deleted; the store is flushed;
4. only then does the catalog record the video as indexed.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tqdm.auto import tqdm

from pipeline.core import check_db_name, check_free_space
from pipeline.errors import BuscaError, ConfigError, DiskFullError, MediaError
from pipeline.index.catalog import Catalog, catalog_for
from pipeline.index.embed import Decoder, Prefetch
from pipeline.index.layout import DataLayout
from pipeline.index.prepare import IngestOptions, PreparedVideo, prepare_video, start_prefetch
from pipeline.index.shots import shot_payloads as _payloads
from pipeline.index.shots import stored_point_ids
from pipeline.media import iter_frames
from pipeline.protocols import CutDetector, ImageTextEncoder
from pipeline.records import IndexedVideo
from pipeline.sources import SourceOptions, expand_sources, looks_like_url, resolve_source
from pipeline.store import VectorStore

log = logging.getLogger(__name__)

DEFAULT_OPTIONS = IngestOptions()


@dataclass(frozen=True)
class IngestResult:
    path: str
    status: str  # "indexed" | "failed"
    video_id: str | None = None
    n_shots: int = 0
    n_scenes: int = 0
    seconds: float = 0.0
    reused: bool = False
    error: str | None = None
    timings: dict | None = None  # seconds per stage (StageTimes.as_dict)
    #: The failure's code and parameters (:mod:`pipeline.errors`), for front ends that translate it.
    error_code: str | None = None
    error_params: dict = field(default_factory=dict)


def shot_payloads(prepared: PreparedVideo, layout: DataLayout, source: str) -> list[dict]:
    """The Qdrant payload of each shot (schema in :mod:`pipeline.store.base`)."""
    return _payloads(prepared.segmentation, prepared.vector_name, layout, source)


def place_media(source: Path, video_id: str, layout: DataLayout, mode: str) -> Path:
    """The video under ``<data>/media/<video_id><ext>`` (hard link or copy); the original if ``none``."""
    if mode == "none":
        return source.resolve()
    target = layout.media_path(video_id, source.suffix)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        if mode == "link":
            try:
                os.link(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)
        else:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise MediaError(source, code="media.unplaceable", reason=err.strerror or str(err)) from err
    return target


def index_video(prepared: PreparedVideo, store: VectorStore, layout: DataLayout, db: str,
                source: str | None = None, media_path: Path | None = None,
                catalog: Catalog | None = None) -> IndexedVideo:
    """Note the video in the catalog, upsert the shots, drop stale ones, flush, then record the
    video as indexed (``catalog``: the store's own by default, :func:`pipeline.index.catalog.catalog_for`)."""
    seg = prepared.segmentation
    source = source or Path(prepared.info.path).name
    catalog = catalog or catalog_for(store, layout.root)
    catalog.begin(db, prepared.video_id, source)
    store.ensure_collection(db, {prepared.vector_name: int(seg.shot_embeddings.shape[1])})
    ids = stored_point_ids(layout, seg, prepared.vector_name)
    store.upsert(db, ids, {prepared.vector_name: seg.shot_embeddings}, shot_payloads(prepared, layout, source))
    store.delete_video(db, prepared.video_id, keep_ids=ids)  # whatever ids earlier shots had
    store.flush()
    entry = IndexedVideo(
        video_id=prepared.video_id, source=source, path=layout.stored_path(media_path or Path(prepared.info.path)),
        duration_s=prepared.info.duration_s, n_frames=len(prepared.frames.timestamps), n_shots=len(seg.shots),
        n_scenes=len(seg.scenes), n_classes=seg.n_classes, encoder=prepared.vector_name,
        indexed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    catalog.record(db, entry)
    return entry


def ingest_one(path: Path, encoder: ImageTextEncoder, store: VectorStore, layout: DataLayout, db: str,
               options: IngestOptions = DEFAULT_OPTIONS, catalog: Catalog | None = None,
               source: str | None = None, cut_detector: CutDetector | None = None,
               decoder: Decoder = iter_frames, prefetch: Prefetch | None = None) -> IngestResult:
    """Ingest one file; a failure comes back as a ``failed`` result naming the file and the cause,
    except a full disk (:class:`DiskFullError`), which is raised: the next file would fail alike.
    ``source``: the name users see (default: the file name). ``cut_detector``: hard cuts (e.g.
    TransNetV2) that bound the semantic shots. ``decoder``: where frames come from (PyAV; a GPU
    decoder from ``models``). ``prefetch``: this file's decoding, if the caller started it
    (:func:`pipeline.index.prepare.start_prefetch`)."""
    started = time.perf_counter()
    try:
        size = Path(path).stat().st_size if options.media == "copy" and Path(path).is_file() else 0
        check_free_space(layout.root, options.margin, f"ingest {Path(path).name}", size)
        prepared = prepare_video(path, encoder, layout, options, cut_detector=cut_detector, decoder=decoder,
                                 started=prefetch)
    except DiskFullError:
        raise  # the next video would fail the same way: stop the batch with the one message
    except Exception as err:
        return failed_result(path, err, started)
    finally:
        if prefetch is not None:
            prefetch.close()  # a decode started early ends even when the disk check refused the file
    return finish_ingest(path, prepared, store, layout, db, options, catalog, source, started)


def failed_result(path: str | Path, err: Exception, started: float) -> IngestResult:
    """A ``failed`` result naming the file and the cause (called inside an ``except``); a bug or an
    unforeseen library error is logged with its traceback, and the batch goes on."""
    if isinstance(err, BuscaError):
        log.warning("%s", err)
    else:
        log.exception("unexpected error while ingesting %s", path)
        err = MediaError(path, code="media.unexpected", kind=type(err).__name__, reason=str(err))
    return IngestResult(str(path), "failed", error=str(err), error_code=err.code, error_params=dict(err.params),
                        seconds=time.perf_counter() - started)


def finish_ingest(path: Path, prepared: PreparedVideo, store: VectorStore, layout: DataLayout, db: str,
                  options: IngestOptions, catalog: Catalog | None = None, source: str | None = None,
                  started: float | None = None) -> IngestResult:
    """The writer's half of an ingest: place the media, write the shots, record the video (a failure
    comes back as a ``failed`` result). Parallel ingest runs :func:`prepare_video` in worker
    processes and this in the one process that writes to the database."""
    started = time.perf_counter() if started is None else started
    try:
        media = place_media(Path(path), prepared.video_id, layout, options.media)
        stored = time.perf_counter()
        entry = index_video(prepared, store, layout, db, source=source, media_path=media, catalog=catalog)
        prepared.timings.store_s += time.perf_counter() - stored
    except DiskFullError:
        raise
    except Exception as err:
        return failed_result(path, err, started)
    return IngestResult(str(path), "indexed", entry.video_id, entry.n_shots, entry.n_scenes,
                        time.perf_counter() - started, prepared.reused, timings=prepared.timings.as_dict())


def fetch_source(source: str | Path, fetch: SourceOptions | None) -> tuple[Path, str | None]:
    """A local path as it is; a URL downloaded through the one URL validator (``fetch`` says where
    and under which limits; without it URLs are refused). Returns the file and the name users see
    (the URL itself for a download)."""
    if not looks_like_url(str(source)):
        return Path(source), None
    if fetch is None:
        raise ConfigError(f"{source}: URLs need download settings (the CLI and the app give them)")
    video = resolve_source(str(source), fetch)
    return video.path, video.url


def ingest_paths(inputs: Sequence[str | Path], encoder: ImageTextEncoder, store: VectorStore,
                 layout: DataLayout, db: str, options: IngestOptions = DEFAULT_OPTIONS,
                 catalog: Catalog | None = None, fetch: SourceOptions | None = None,
                 cut_detector: CutDetector | None = None, decoder: Decoder = iter_frames) -> list[IngestResult]:
    """Ingest files, folders and (with ``fetch``) URLs into database ``db``; one bad input never
    stops the others. ``cut_detector``: hard cuts (e.g. TransNetV2) that bound the semantic shots.
    With ``options.decode_ahead`` = N, the next N local files probe and decode in their own
    threads while one is encoded (each holds at most ``prefetch_batches`` ready)."""
    check_db_name(db)
    catalog = catalog or catalog_for(store, layout.root)
    sources = expand_sources(inputs)
    results = []
    ahead: dict[int, Prefetch] = {}
    launched = 0
    try:
        for i, source in enumerate(tqdm(sources, desc="videos", unit="video",
                                        disable=not options.progress or len(sources) < 2)):
            while options.decode_ahead and launched < len(sources) and launched <= i + options.decode_ahead:
                if launched > i and not looks_like_url(str(sources[launched])):  # a URL downloads when its turn comes
                    ahead[launched] = start_prefetch(Path(sources[launched]), encoder, layout, options, decoder)
                launched += 1
            try:
                path, name = fetch_source(source, fetch)
            except Exception as err:
                results.append(failed_result(source, err, time.perf_counter()))
                continue
            results.append(ingest_one(path, encoder, store, layout, db, options, catalog, name, cut_detector,
                                      decoder, ahead.pop(i, None)))
    finally:
        for pending in ahead.values():
            pending.close()
    return results
