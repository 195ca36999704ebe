"""Ingest: video file -> sampled frames -> CLIP embeddings -> semantic shots -> Qdrant.

Stages write their artifacts before the next one starts (see :mod:`pipeline.artifacts`),
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
import queue
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from pipeline.core import DiskMargin, atomic, check_db_name, check_free_space
from pipeline.errors import BuscaError, ConfigError, DiskFullError, MediaError
from pipeline.index.catalog import Catalog, catalog_for
from pipeline.index.layout import DataLayout, content_id
from pipeline.index.shots import (
    POINT_IDS_FILE,
    carry_ids,
    hard_cuts,
    old_thumbnails,
    previous_ids,
    prune_thumbnails,
    stored_point_ids,
    write_point_ids,
    write_thumbnails,
)
from pipeline.index.shots import shot_payloads as _payloads
from pipeline.media import DecodeOptions, FrameBatch, iter_frames, probe
from pipeline.protocols import CutDetector, ImageTextEncoder
from pipeline.records import FrameEmbeddings, IndexedVideo, Segmentation, VideoInfo
from pipeline.segment import SegmentOptions, segment
from pipeline.sources import SourceOptions, expand_sources, looks_like_url, resolve_source
from pipeline.store import VectorStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestOptions:
    """``keep_frames`` keeps every sampled frame as a JPEG under ``videos/<id>/frames``
    (the analysis mode needs them); otherwise only one thumbnail per shot is kept.
    ``force`` recomputes artifacts even when ones made with the same options exist.
    ``media`` puts the video itself under ``<data>/media`` so the web app can play it
    without serving anything outside the data directory: ``"link"`` (a hard link, or a
    copy across file systems), ``"copy"``, or ``"none"`` (playback then needs the original
    path to be served by other means). ``margin``: free space that must remain on the data
    directory's disk; each video is refused (:class:`DiskFullError`) before it is processed
    when there is less."""

    decode: DecodeOptions = field(default_factory=DecodeOptions)
    segment: SegmentOptions = field(default_factory=SegmentOptions)
    keep_frames: bool = False
    force: bool = False
    progress: bool = True
    media: str = "link"
    margin: DiskMargin = field(default_factory=DiskMargin)

    def __post_init__(self) -> None:
        if self.media not in ("link", "copy", "none"):
            raise ConfigError(f"media must be link, copy or none, got {self.media!r}")


@dataclass(frozen=True)
class PreparedVideo:
    """Everything computed for one video, before it touches a database."""

    video_id: str
    info: VideoInfo
    frames: FrameEmbeddings
    segmentation: Segmentation
    vector_name: str
    reused: bool


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
    #: The failure's code and parameters (:mod:`pipeline.errors`), for front ends that translate it.
    error_code: str | None = None
    error_params: dict = field(default_factory=dict)


def _prefetch(iterator: Iterator[FrameBatch], depth: int = 3) -> Iterator[FrameBatch]:
    """Decode in a background thread while the encoder works (PyAV releases the GIL)."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def worker() -> None:
        try:
            for item in iterator:
                items.put(item)
        except BaseException as err:  # handed to the consumer, which re-raises it
            items.put(err)
        items.put(done)

    threading.Thread(target=worker, daemon=True, name="decode").start()
    while (item := items.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item


def embed_video(
    path: Path, video_id: str, info: VideoInfo, encoder: ImageTextEncoder, options: DecodeOptions,
    layout: DataLayout, progress: bool = True,
) -> FrameEmbeddings:
    """Decode, save each sampled frame as a JPEG (``layout.frame_path``), and embed every frame."""
    layout.frame_path(video_id, 0).parent.mkdir(parents=True, exist_ok=True)
    expected = max(1, int(info.duration_s * options.fps) + 1)
    times, chunks = [], []
    with tqdm(total=expected, desc=f"{path.name[:30]}", unit="frame", leave=False, disable=not progress) as bar:
        for batch in _prefetch(iter_frames(path, options)):
            for offset, image in enumerate(batch.images):
                Image.fromarray(image).save(layout.frame_path(video_id, batch.first_index + offset), quality=85)
            chunks.append(encoder.encode_images(batch.images))
            times.append(batch.timestamps)
            bar.update(len(batch.images))
    return FrameEmbeddings(video_id, np.concatenate(times), np.concatenate(chunks).astype(np.float32))


def _write_thumbnails(layout: DataLayout, seg: Segmentation, vector_name: str) -> None:
    for shot in seg.shots:
        source = layout.frame_path(seg.video_id, shot.keyframe)
        atomic.write_bytes(layout.thumb_path(seg.video_id, vector_name, shot.index), source.read_bytes())


def _options_meta(encoder: ImageTextEncoder, options: IngestOptions, cuts: CutDetector | None = None) -> dict:
    return {"encoder": encoder.name, "decode": asdict(options.decode), "segment": asdict(options.segment),
            "cuts": cuts.name if cuts else None}


def _reusable(layout: DataLayout, video_id: str, encoder: ImageTextEncoder, options: IngestOptions,
              cuts: CutDetector | None = None, part: str = "all") -> bool:
    """Whether stored artifacts match: all of them (``part="all"``), or the frame embeddings only
    (``"frames"``: same encoder and sampling; then only the segmentation is made again)."""
    meta = layout.read_meta(video_id, encoder.vector_name)
    wanted = _options_meta(encoder, options, cuts)
    keys = ("encoder", "decode") if part == "frames" else tuple(wanted)
    if options.force or meta is None or any(meta.get(k) != wanted[k] for k in keys):
        return False
    return not options.keep_frames or (layout.video_dir(video_id) / "frames").is_dir()


def _remove_temp_files(layout: DataLayout, video_id: str, vector_name: str) -> None:
    """Temporary files that a killed run of this stage left behind (atomic.write_bytes names them
    ``.<name>.<random>.tmp``; nothing reads them): ``info.json``'s and the encoder folder's."""
    video_dir, encoder_dir = layout.video_dir(video_id), layout.encoder_dir(video_id, vector_name)
    for tmp in [*video_dir.glob(".info.json.*.tmp"), *encoder_dir.rglob(".*.tmp")]:
        tmp.unlink(missing_ok=True)


def prepare_video(path: str | Path, encoder: ImageTextEncoder, layout: DataLayout,
                  options: IngestOptions = IngestOptions(), video_id: str | None = None,
                  cut_detector: CutDetector | None = None) -> PreparedVideo:
    """Probe, embed and segment one video, reusing artifacts made with the same options (frame
    embeddings made with the same encoder and sampling are reused when only the segmentation
    options or the hard cuts changed). ``video_id``: its content id when the caller has it
    already; ``cut_detector``: hard cuts that bound the shots."""
    path = Path(path)
    info = probe(path, options.decode.max_pixels)
    video_id = video_id or content_id(path)
    vector_name = encoder.vector_name
    if _reusable(layout, video_id, encoder, options, cut_detector):
        frames = layout.load_frames(video_id, vector_name)
        seg = layout.load_segmentation(video_id, vector_name)
        return PreparedVideo(video_id, info, frames, seg, vector_name, reused=True)
    folder = layout.encoder_dir(video_id, vector_name)
    frames_only = _reusable(layout, video_id, encoder, options, cut_detector, part="frames")
    # meta.json says "the artifacts match these options": drop it before any artifact changes, so
    # that a run killed half-way is never mistaken for a finished one (it is written last).
    (folder / "meta.json").unlink(missing_ok=True)
    _remove_temp_files(layout, video_id, vector_name)
    cuts = hard_cuts(path, video_id, cut_detector, layout) if cut_detector else None
    if frames_only:  # new segmentation of the stored frames: unchanged shots keep their point ids
        frames = layout.load_frames(video_id, vector_name)
        old = layout.load_segmentation(video_id, vector_name)
        seg = segment(frames, options.segment, cuts)
        write_point_ids(folder, seg, carry_ids(seg, previous_ids(old, folder)))
        layout.save_segmentation(seg, vector_name)
        write_thumbnails(seg, frames.timestamps, folder / "thumbs", path, old_thumbnails(layout, old, vector_name),
                         options.decode.short_side)
        prune_thumbnails(folder / "thumbs", len(seg.shots))
        layout.write_meta(video_id, vector_name, _options_meta(encoder, options, cut_detector))
        return PreparedVideo(video_id, info, frames, seg, vector_name, reused=False)
    (folder / POINT_IDS_FILE).unlink(missing_ok=True)  # new frames: earlier frame spans mean nothing
    frames_dir = layout.video_dir(video_id) / "frames"
    shutil.rmtree(frames_dir, ignore_errors=True)
    frames = embed_video(path, video_id, info, encoder, options.decode, layout, options.progress)
    layout.save_frames(frames, vector_name)
    seg = segment(frames, options.segment, cuts)
    layout.save_segmentation(seg, vector_name)
    _write_thumbnails(layout, seg, vector_name)
    if not options.keep_frames:
        shutil.rmtree(frames_dir, ignore_errors=True)
    atomic.write_json(layout.video_dir(video_id) / "info.json", {**asdict(info), "video_id": video_id})
    layout.write_meta(video_id, vector_name, _options_meta(encoder, options, cut_detector))
    return PreparedVideo(video_id, info, frames, seg, vector_name, reused=False)


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
               options: IngestOptions = IngestOptions(), catalog: Catalog | None = None,
               source: str | None = None, cut_detector: CutDetector | None = None) -> IngestResult:
    """Ingest one file; a failure comes back as a ``failed`` result naming the file and the cause,
    except a full disk (:class:`DiskFullError`), which is raised: the next file would fail alike.
    ``source``: the name users see (default: the file name)."""
    started = time.perf_counter()
    try:
        size = Path(path).stat().st_size if options.media == "copy" and Path(path).is_file() else 0
        check_free_space(layout.root, options.margin, f"ingest {Path(path).name}", size)
        prepared = prepare_video(path, encoder, layout, options, cut_detector=cut_detector)
    except DiskFullError:
        raise  # the next video would fail the same way: stop the batch with the one message
    except Exception as err:
        return failed_result(path, err, started)
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
        entry = index_video(prepared, store, layout, db, source=source, media_path=media, catalog=catalog)
    except DiskFullError:
        raise
    except Exception as err:
        return failed_result(path, err, started)
    return IngestResult(str(path), "indexed", entry.video_id, entry.n_shots, entry.n_scenes,
                        time.perf_counter() - started, prepared.reused)


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
                 layout: DataLayout, db: str, options: IngestOptions = IngestOptions(),
                 catalog: Catalog | None = None, fetch: SourceOptions | None = None,
                 cut_detector: CutDetector | None = None) -> list[IngestResult]:
    """Ingest files, folders and (with ``fetch``) URLs into database ``db``; one bad input never
    stops the others. ``cut_detector``: hard cuts (e.g. TransNetV2) that bound the semantic shots."""
    check_db_name(db)
    catalog = catalog or catalog_for(store, layout.root)
    sources = expand_sources(inputs)
    results = []
    for source in tqdm(sources, desc="videos", unit="video", disable=not options.progress or len(sources) < 2):
        try:
            path, name = fetch_source(source, fetch)
        except Exception as err:
            results.append(failed_result(source, err, time.perf_counter()))
            continue
        results.append(ingest_one(path, encoder, store, layout, db, options, catalog, name, cut_detector))
    return results
