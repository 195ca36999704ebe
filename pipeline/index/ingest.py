"""Ingest: video file -> sampled frames -> CLIP embeddings -> semantic shots -> Qdrant.

Stages write their artifacts before the next one starts (see :mod:`pipeline.artifacts`),
and the order of writes makes a crash at any point harmless:

1. frame embeddings, segmentation and thumbnails are written atomically;
2. the shots are upserted (deterministic ids, so a re-run overwrites) and stale shots
   of an earlier segmentation are deleted; the store is flushed;
3. only then does the catalog record the video as indexed.
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
from pipeline.index.catalog import VideoCatalog
from pipeline.index.layout import DataLayout, content_id
from pipeline.media import DecodeOptions, FrameBatch, iter_frames, probe
from pipeline.protocols import ImageTextEncoder
from pipeline.records import FrameEmbeddings, IndexedVideo, Segmentation, VideoInfo
from pipeline.segment import SegmentOptions, segment
from pipeline.sources import expand_sources
from pipeline.store import VectorStore, point_id

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


def _options_meta(encoder: ImageTextEncoder, options: IngestOptions) -> dict:
    return {"encoder": encoder.name, "decode": asdict(options.decode), "segment": asdict(options.segment)}


def _reusable(layout: DataLayout, video_id: str, encoder: ImageTextEncoder, options: IngestOptions) -> bool:
    if options.force or layout.read_meta(video_id, encoder.vector_name) != _options_meta(encoder, options):
        return False
    return not options.keep_frames or (layout.video_dir(video_id) / "frames").is_dir()


def _remove_temp_files(layout: DataLayout, video_id: str, vector_name: str) -> None:
    """Temporary files that a killed run of this stage left behind (atomic.write_bytes names them
    ``.<name>.<random>.tmp``; nothing reads them): ``info.json``'s and the encoder folder's."""
    video_dir, encoder_dir = layout.video_dir(video_id), layout.encoder_dir(video_id, vector_name)
    for tmp in [*video_dir.glob(".info.json.*.tmp"), *encoder_dir.rglob(".*.tmp")]:
        tmp.unlink(missing_ok=True)


def prepare_video(path: str | Path, encoder: ImageTextEncoder, layout: DataLayout,
                  options: IngestOptions = IngestOptions()) -> PreparedVideo:
    """Probe, embed and segment one video, reusing artifacts made with the same options."""
    path = Path(path)
    info = probe(path, options.decode.max_pixels)
    video_id = content_id(path)
    vector_name = encoder.vector_name
    if _reusable(layout, video_id, encoder, options):
        frames = layout.load_frames(video_id, vector_name)
        seg = layout.load_segmentation(video_id, vector_name)
        return PreparedVideo(video_id, info, frames, seg, vector_name, reused=True)
    # meta.json says "the artifacts match these options": drop it before any artifact changes, so
    # that a run killed half-way is never mistaken for a finished one (it is written last).
    (layout.encoder_dir(video_id, vector_name) / "meta.json").unlink(missing_ok=True)
    _remove_temp_files(layout, video_id, vector_name)
    frames_dir = layout.video_dir(video_id) / "frames"
    shutil.rmtree(frames_dir, ignore_errors=True)
    frames = embed_video(path, video_id, info, encoder, options.decode, layout, options.progress)
    layout.save_frames(frames, vector_name)
    seg = segment(frames, options.segment)
    layout.save_segmentation(seg, vector_name)
    _write_thumbnails(layout, seg, vector_name)
    if not options.keep_frames:
        shutil.rmtree(frames_dir, ignore_errors=True)
    atomic.write_json(layout.video_dir(video_id) / "info.json", {**asdict(info), "video_id": video_id})
    layout.write_meta(video_id, vector_name, _options_meta(encoder, options))
    return PreparedVideo(video_id, info, frames, seg, vector_name, reused=False)


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
               options: IngestOptions = IngestOptions()) -> IngestResult:
    """Ingest one file; a failure comes back as a ``failed`` result naming the file and the cause,
    except a full disk (:class:`DiskFullError`), which is raised: the next file would fail alike."""
    started = time.perf_counter()
    try:
        size = Path(path).stat().st_size if options.media == "copy" and Path(path).is_file() else 0
        check_free_space(layout.root, options.margin, f"ingest {Path(path).name}", size)
        prepared = prepare_video(path, encoder, layout, options)
        media = place_media(Path(path), prepared.video_id, layout, options.media)
        entry = index_video(prepared, store, layout, db, media_path=media)
    except DiskFullError:
        raise  # the next video would fail the same way: stop the batch with the one message
    except BuscaError as err:
        log.warning("%s", err)
        return IngestResult(str(path), "failed", error=str(err), seconds=time.perf_counter() - started)
    except Exception as err:  # a bug or an unforeseen library error: report it, keep the batch going
        log.exception("unexpected error while ingesting %s", path)
        error = MediaError(path, f"unexpected {type(err).__name__}: {err}")
        return IngestResult(str(path), "failed", error=str(error), seconds=time.perf_counter() - started)
    return IngestResult(str(path), "indexed", entry.video_id, entry.n_shots, entry.n_scenes,
                        time.perf_counter() - started, prepared.reused)


def ingest_paths(inputs: Sequence[str | Path], encoder: ImageTextEncoder, store: VectorStore,
                 layout: DataLayout, db: str, options: IngestOptions = IngestOptions()) -> list[IngestResult]:
    """Ingest files and folders into database ``db``; one bad file never stops the others."""
    check_db_name(db)
    paths = [Path(source) for source in expand_sources(inputs)]
    results = []
    for path in tqdm(paths, desc="videos", unit="video", disable=not options.progress or len(paths) < 2):
        results.append(ingest_one(path, encoder, store, layout, db, options))
    return results
