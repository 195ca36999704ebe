"""Ingest: video file -> sampled frames -> CLIP embeddings -> semantic shots -> Qdrant.

Decoding and the per-frame CPU work run in a background thread beside the encoder
(:mod:`pipeline.index.embed`); sampled frames are spooled as JPEGs in one temporary file for
the thumbnails, not kept (unless ``keep_frames``); a file already seen unchanged is not
hashed again (:mod:`pipeline.index.fingerprint`). Each stage's time is returned with the
result (``IngestResult.timings``).

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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tqdm.auto import tqdm

from pipeline.core import atomic, check_db_name
from pipeline.errors import BuscaError, ConfigError, MediaError
from pipeline.index.catalog import VideoCatalog
from pipeline.index.embed import Decoder, FrameFolder, FrameSpool, Prefetch, StageTimes, decoded_frames, embed_frames
from pipeline.index.fingerprint import ContentIds
from pipeline.index.layout import DataLayout
from pipeline.media import DecodeOptions, iter_frames, probe
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
    path to be served by other means). ``skip_similar``: a sampled frame whose every
    16x16 grey cell is within this many levels of the last frame encoded takes that frame's
    embedding instead of being encoded (:mod:`pipeline.media.similar`); 0 encodes every frame."""

    decode: DecodeOptions = field(default_factory=DecodeOptions)
    segment: SegmentOptions = field(default_factory=SegmentOptions)
    keep_frames: bool = False
    force: bool = False
    progress: bool = True
    media: str = "link"
    skip_similar: float = 3.0

    def __post_init__(self) -> None:
        if self.media not in ("link", "copy", "none"):
            raise ConfigError(f"media must be link, copy or none, got {self.media!r}")
        if not 0 <= self.skip_similar <= 64:
            raise ConfigError(f"skip_similar must be in [0, 64] grey levels, got {self.skip_similar}")


@dataclass(frozen=True)
class PreparedVideo:
    """Everything computed for one video, before it touches a database."""

    video_id: str
    info: VideoInfo
    frames: FrameEmbeddings
    segmentation: Segmentation
    vector_name: str
    reused: bool
    timings: StageTimes = field(default_factory=StageTimes, compare=False)


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


def embed_video(path: Path, video_id: str, info: VideoInfo, encoder: ImageTextEncoder, options: IngestOptions,
                layout: DataLayout, times: StageTimes, decoder: Decoder = iter_frames) -> tuple[FrameEmbeddings, Segmentation]:
    """Decode (in a background thread), embed and segment; write the thumbnails of the shots
    from the spooled frames (or the kept ones, with ``keep_frames``)."""
    sink = FrameFolder(layout, video_id) if options.keep_frames else FrameSpool(layout.video_dir(video_id) / SPOOL_NAME)
    try:
        expected = max(1, int(info.duration_s * options.decode.fps) + 1)
        with tqdm(total=expected, desc=f"{path.name[:30]}", unit="frame", leave=False,
                  disable=not options.progress) as bar:
            decoded = decoded_frames(path, options.decode, decoder, sink, times, options.skip_similar > 0)
            with Prefetch(decoded) as batches:
                stamps, vectors = embed_frames(path, iter(batches), encoder, options.skip_similar, times, bar)
        frames = FrameEmbeddings(video_id, stamps, vectors)
        layout.save_frames(frames, encoder.vector_name)
        started = time.perf_counter()
        seg = segment(frames, options.segment)
        times.segment_s += time.perf_counter() - started
        layout.save_segmentation(seg, encoder.vector_name)
        started = time.perf_counter()
        for shot in seg.shots:
            atomic.write_bytes(layout.thumb_path(video_id, encoder.vector_name, shot.index), sink.read(shot.keyframe))
        times.thumbnails_s += time.perf_counter() - started
    finally:
        sink.close()
    return frames, seg


SPOOL_NAME = ".frames.spool"


def _options_meta(encoder: ImageTextEncoder, options: IngestOptions, decoder: Decoder) -> dict:
    return {"encoder": encoder.name, "decode": asdict(options.decode), "segment": asdict(options.segment),
            "skip_similar": options.skip_similar, "decoder": getattr(decoder, "__qualname__", type(decoder).__name__)}


def _reusable(layout: DataLayout, video_id: str, encoder: ImageTextEncoder, options: IngestOptions,
              decoder: Decoder) -> bool:
    if options.force or layout.read_meta(video_id, encoder.vector_name) != _options_meta(encoder, options, decoder):
        return False
    return not options.keep_frames or (layout.video_dir(video_id) / "frames").is_dir()


def _remove_temp_files(layout: DataLayout, video_id: str, vector_name: str) -> None:
    """Temporary files that a killed run of this stage left behind (atomic.write_bytes names them
    ``.<name>.<random>.tmp``; nothing reads them): ``info.json``'s, the encoder folder's, and
    the frame spool."""
    video_dir, encoder_dir = layout.video_dir(video_id), layout.encoder_dir(video_id, vector_name)
    for tmp in [*video_dir.glob(".info.json.*.tmp"), *encoder_dir.rglob(".*.tmp"), video_dir / SPOOL_NAME]:
        tmp.unlink(missing_ok=True)


def prepare_video(path: str | Path, encoder: ImageTextEncoder, layout: DataLayout,
                  options: IngestOptions = IngestOptions(), decoder: Decoder = iter_frames) -> PreparedVideo:
    """Probe, embed and segment one video, reusing artifacts made with the same options.
    ``decoder``: where frames come from (PyAV by default; a GPU decoder from ``models``)."""
    path = Path(path)
    times = StageTimes()
    started = time.perf_counter()
    info = probe(path, options.decode.max_pixels)
    times.probe_s = time.perf_counter() - started
    started = time.perf_counter()
    video_id = ContentIds(layout.root).video_id(path)
    times.hash_s = time.perf_counter() - started
    vector_name = encoder.vector_name
    if _reusable(layout, video_id, encoder, options, decoder):
        frames = layout.load_frames(video_id, vector_name)
        seg = layout.load_segmentation(video_id, vector_name)
        return PreparedVideo(video_id, info, frames, seg, vector_name, reused=True, timings=times)
    # meta.json says "the artifacts match these options": drop it before any artifact changes, so
    # that a run killed half-way is never mistaken for a finished one (it is written last).
    (layout.encoder_dir(video_id, vector_name) / "meta.json").unlink(missing_ok=True)
    _remove_temp_files(layout, video_id, vector_name)
    shutil.rmtree(layout.video_dir(video_id) / "frames", ignore_errors=True)
    frames, seg = embed_video(path, video_id, info, encoder, options, layout, times, decoder)
    atomic.write_json(layout.video_dir(video_id) / "info.json", {**asdict(info), "video_id": video_id})
    layout.write_meta(video_id, vector_name, _options_meta(encoder, options, decoder))
    return PreparedVideo(video_id, info, frames, seg, vector_name, reused=False, timings=times)


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
               options: IngestOptions = IngestOptions(), decoder: Decoder = iter_frames) -> IngestResult:
    """Ingest one file; a failure comes back as a ``failed`` result naming the file and the cause."""
    started = time.perf_counter()
    try:
        prepared = prepare_video(path, encoder, layout, options, decoder)
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
                 layout: DataLayout, db: str, options: IngestOptions = IngestOptions(),
                 decoder: Decoder = iter_frames) -> list[IngestResult]:
    """Ingest files and folders into database ``db``; one bad file never stops the others."""
    check_db_name(db)
    paths = [Path(source) for source in expand_sources(inputs)]
    results = []
    for path in tqdm(paths, desc="videos", unit="video", disable=not options.progress or len(paths) < 2):
        results.append(ingest_one(path, encoder, store, layout, db, options, decoder))
    return results
