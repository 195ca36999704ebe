"""Ingest: video file -> sampled frames -> CLIP embeddings -> semantic shots -> Qdrant.

One video is prepared by :mod:`pipeline.index.prepare` (decoding and the per-frame CPU work in
a background thread beside the encoder; sampled frames spooled for the thumbnails, not kept
unless ``keep_frames``; an unchanged file not hashed again), then written to the store here.
Each stage's time comes back with the result (``IngestResult.timings``). With ``decode_ahead``
the next videos decode while one is encoded.

Stages write their artifacts before the next one starts (see :mod:`pipeline.index.layout`),
and the order of writes makes a crash at any point harmless:

1. frame embeddings, segmentation and thumbnails are written atomically;
2. the shots are upserted (deterministic ids, so a re-run overwrites) and stale shots
   of an earlier segmentation are deleted; the store is flushed;
3. only then does the catalog record the video as indexed.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tqdm.auto import tqdm

from pipeline.core import check_db_name
from pipeline.errors import BuscaError, MediaError
from pipeline.index.catalog import VideoCatalog
from pipeline.index.embed import Decoder, Prefetch
from pipeline.index.layout import DataLayout
from pipeline.index.prepare import IngestOptions, PreparedVideo, prepare_video, start_prefetch
from pipeline.media import iter_frames
from pipeline.protocols import ImageTextEncoder
from pipeline.records import IndexedVideo
from pipeline.sources import expand_sources
from pipeline.store import VectorStore, point_id

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


def shot_payloads(prepared: PreparedVideo, layout: DataLayout, source: str) -> list[dict]:
    """The Qdrant payload of each shot (schema in :mod:`pipeline.store.base`)."""
    return [
        {
            "video_id": prepared.video_id,
            "source": source,
            "shot_index": shot.index,
            "scene": shot.scene,
            "class_id": shot.class_id,
            "start_s": round(shot.start_s, 3),
            "end_s": round(shot.end_s, 3),
            "thumbnail": layout.relative(layout.thumb_path(prepared.video_id, prepared.vector_name, shot.index)),
        }
        for shot in prepared.segmentation.shots
    ]


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
        raise MediaError(source, f"cannot be placed in the data directory ({err})") from err
    return target


def index_video(prepared: PreparedVideo, store: VectorStore, layout: DataLayout, db: str,
                source: str | None = None, media_path: Path | None = None) -> IndexedVideo:
    """Upsert the shots, drop stale ones, flush, then record the video in the catalog."""
    seg = prepared.segmentation
    source = source or Path(prepared.info.path).name
    store.ensure_collection(db, {prepared.vector_name: int(seg.shot_embeddings.shape[1])})
    ids = [point_id(prepared.video_id, shot.index) for shot in seg.shots]
    store.upsert(db, ids, {prepared.vector_name: seg.shot_embeddings}, shot_payloads(prepared, layout, source))
    store.delete_video(db, prepared.video_id, min_shot_index=len(seg.shots))
    store.flush()
    entry = IndexedVideo(
        video_id=prepared.video_id, source=source, path=str(media_path or Path(prepared.info.path).resolve()),
        duration_s=prepared.info.duration_s, n_frames=len(prepared.frames.timestamps), n_shots=len(seg.shots),
        n_scenes=len(seg.scenes), n_classes=seg.n_classes, encoder=prepared.vector_name,
        indexed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    VideoCatalog(layout.root).record(db, entry)
    return entry


def ingest_one(path: Path, encoder: ImageTextEncoder, store: VectorStore, layout: DataLayout, db: str,
               options: IngestOptions = DEFAULT_OPTIONS, decoder: Decoder = iter_frames,
               prefetch: Prefetch | None = None) -> IngestResult:
    """Ingest one file; a failure comes back as a ``failed`` result naming the file and the cause.
    ``prefetch``: this file's decoding, if the caller started it (:func:`start_prefetch`)."""
    started = time.perf_counter()
    try:
        prepared = prepare_video(path, encoder, layout, options, decoder, started=prefetch)
        media = place_media(Path(path), prepared.video_id, layout, options.media)
        stored = time.perf_counter()
        entry = index_video(prepared, store, layout, db, media_path=media)
        prepared.timings.store_s += time.perf_counter() - stored
    except BuscaError as err:
        log.warning("%s", err)
        return IngestResult(str(path), "failed", error=str(err), seconds=time.perf_counter() - started)
    except Exception as err:  # a bug or an unforeseen library error: report it, keep the batch going
        log.exception("unexpected error while ingesting %s", path)
        error = MediaError(path, f"unexpected {type(err).__name__}: {err}")
        return IngestResult(str(path), "failed", error=str(error), seconds=time.perf_counter() - started)
    return IngestResult(str(path), "indexed", entry.video_id, entry.n_shots, entry.n_scenes,
                        time.perf_counter() - started, prepared.reused, timings=prepared.timings.as_dict())


def ingest_paths(inputs: Sequence[str | Path], encoder: ImageTextEncoder, store: VectorStore,
                 layout: DataLayout, db: str, options: IngestOptions = DEFAULT_OPTIONS,
                 decoder: Decoder = iter_frames) -> list[IngestResult]:
    """Ingest files and folders into database ``db``; one bad file never stops the others.
    With ``options.decode_ahead`` = N, the next N files probe and decode in their own threads
    while one is encoded (each holds at most ``prefetch_batches`` batches ready)."""
    check_db_name(db)
    paths = [Path(source) for source in expand_sources(inputs)]
    results = []
    ahead: deque[Prefetch] = deque()
    launched = 0
    try:
        for path in tqdm(paths, desc="videos", unit="video", disable=not options.progress or len(paths) < 2):
            while options.decode_ahead and launched < len(paths) and len(ahead) <= options.decode_ahead:
                ahead.append(start_prefetch(paths[launched], encoder, layout, options, decoder))
                launched += 1
            prefetch = ahead.popleft() if ahead else None
            results.append(ingest_one(path, encoder, store, layout, db, options, decoder, prefetch))
    finally:
        for pending in ahead:
            pending.close()
    return results
