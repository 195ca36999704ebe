"""Re-index: add another encoder's named vector to every shot of an existing database.

Each video's kept media is decoded again at the same sampling (the decode options its first
encoder recorded), every sampled frame is embedded with the new encoder, and each shot's new
vector is the normalised mean of its frames' new embeddings, over the *same* shots: shot ids,
segmentation, payloads and thumbnails stay as they are, so two encoders sit side by side in one
collection and either can be searched.

Order of writes, so that a kill at any point is harmless and a re-run finishes the work:

1. the new encoder's artifacts (``videos/<id>/<vector>--from-<source vector>/``: timestamps, frame
   embeddings, shot embeddings, segmentation, then ``meta.json`` last) are written atomically; a
   re-run reuses them when ``meta.json`` says they were made with the same model and weights.
   They sit apart from ``videos/<id>/<vector>/``, which belongs to an ingest with that encoder
   (in another database, with its own shots);
2. the video's points are re-written with *all* the vectors they had plus the new one (same ids:
   no duplicate can appear), and the store is flushed.

Whether a video is done is read from the store itself (do all its shots have the vector?), so a
re-ingest that replaced a video's points is noticed and redone.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from pipeline.core import atomic, check_db_name
from pipeline.errors import BuscaError, MediaError, StoreError, UnknownDatabaseError
from pipeline.index.catalog import Catalog, catalog_for
from pipeline.index.encoders import identity_of, record_encoder
from pipeline.index.layout import DataLayout
from pipeline.media import DecodeOptions, iter_frames
from pipeline.protocols import ImageTextEncoder
from pipeline.records import IndexedVideo, Segmentation
from pipeline.segment import shot_vectors
from pipeline.store import StoredPoint, VectorStore, point_id

log = logging.getLogger(__name__)

#: Sampled frames whose times differ from the first encoder's by more than this are an error.
TIME_TOLERANCE_S = 0.05


@dataclass(frozen=True)
class ReindexResult:
    """One video: ``added`` (the vector was written), ``present`` (it already had it) or ``failed``."""

    video_id: str
    source: str
    status: str
    n_shots: int = 0
    seconds: float = 0.0
    reused: bool = False
    error: str | None = None


def _source_vector(entry: IndexedVideo, points: Sequence[StoredPoint], new: str) -> str:
    """The vector whose artifacts hold the video's segmentation: the catalog's, else the thumbnails'."""
    if entry.encoder and entry.encoder != new:
        return entry.encoder
    for point in points:
        parts = Path(str(point.payload.get("thumbnail", ""))).parts
        if len(parts) >= 3 and parts[2] != new:
            return parts[2]
    raise StoreError(f"{entry.source}: no other encoder's artifacts to take the shots from")


def _decode_options(decode: dict | None, short_side: int) -> DecodeOptions:
    known = {f.name for f in fields(DecodeOptions)}
    options = DecodeOptions(**{k: v for k, v in (decode or {}).items() if k in known})
    return replace(options, short_side=max(options.short_side, short_side))


def _embed_frames(path: Path, options: DecodeOptions, encoder: ImageTextEncoder, expected: np.ndarray,
                  progress: bool, label: str) -> np.ndarray:
    """Embeddings of the frames sampled at ``expected`` times (the first encoder's samples)."""
    times, chunks = [], []
    with tqdm(total=len(expected), desc=label[:30], unit="frame", leave=False, disable=not progress) as bar:
        for batch in iter_frames(path, options):
            chunks.append(encoder.encode_images(batch.images))
            times.append(batch.timestamps)
            bar.update(len(batch.images))
    got = np.concatenate(times) if times else np.zeros(0)
    if len(got) != len(expected) or (len(got) and np.max(np.abs(got - expected)) > TIME_TOLERANCE_S):
        raise MediaError(path, f"decoding it again gives {len(got)} sampled frames where the index has "
                               f"{len(expected)}: the media changed since it was indexed; re-ingest it")
    return np.concatenate(chunks).astype(np.float32)


def artifacts_name(target: str, source: str) -> str:
    """The folder of ``target``'s artifacts made over ``source``'s shots. Apart from ``target``'s
    own folder: a video indexed with ``target`` in another database keeps its own segmentation."""
    name = f"{target}--from-{source}"
    if len(name) > 100:
        name = f"{target[:60]}--from-{hashlib.blake2b(source.encode(), digest_size=8).hexdigest()}"
    return name


def _artifacts(layout: DataLayout, entry: IndexedVideo, source: str, encoder: ImageTextEncoder,
               identity: dict, short_side: int, progress: bool) -> tuple[np.ndarray, bool]:
    """The new encoder's shot embeddings for the source segmentation (reused when already made)."""
    video_id, target = entry.video_id, artifacts_name(encoder.vector_name, source)
    decode = (layout.read_meta(video_id, source) or {}).get("decode")
    seg = layout.load_segmentation(video_id, source)
    bounds = np.asarray([s.first_frame for s in seg.shots] + [seg.shots[-1].end_frame if seg.shots else 0])
    shots = hashlib.blake2b(bounds.astype(np.int64).tobytes(), digest_size=8).hexdigest()  # a re-segmentation changes it
    meta = {"encoder": identity.get("model", encoder.name), "weights": identity.get("weights"),
            "reindexed_from": source, "decode": decode, "shots": shots}
    if layout.read_meta(video_id, target) == meta:
        return layout.load_segmentation(video_id, target).shot_embeddings, True
    (layout.encoder_dir(video_id, target) / "meta.json").unlink(missing_ok=True)
    timestamps = atomic.read_npy(layout.encoder_dir(video_id, source) / "timestamps.npy")
    media = layout.media_file(entry.path, video_id)
    if media is None:
        raise MediaError(entry.path or entry.source, "the kept media file is missing: re-ingest the video from its "
                                                     "original file")
    options = _decode_options(decode, short_side)
    frames = _embed_frames(media, options, encoder, timestamps, progress, entry.source)
    shot_embeddings, _ = shot_vectors(frames, bounds)
    folder = layout.encoder_dir(video_id, target)
    atomic.write_npy(folder / "timestamps.npy", timestamps.astype(np.float64))
    atomic.write_npy(folder / "embeddings.npy", frames)
    layout.save_segmentation(Segmentation(video_id, seg.frame_classes, seg.raw_labels, seg.scenes, seg.shots,
                                          shot_embeddings), target)
    layout.write_meta(video_id, target, meta)  # last: it says the artifacts above are complete
    return shot_embeddings, False


def _write_points(store: VectorStore, db: str, points: Sequence[StoredPoint], target: str,
                  vectors: np.ndarray) -> None:
    """Re-write the points with every vector they had plus ``target``; grouped by the vectors
    they hold, since one upsert gives every point the same named vectors."""
    groups: dict[tuple[str, ...], list[StoredPoint]] = {}
    for point in points:
        groups.setdefault(tuple(sorted(set(point.vectors) - {target})), []).append(point)
    for names, group in groups.items():
        arrays = {name: np.stack([p.vectors[name] for p in group]) for name in names}
        arrays[target] = np.stack([vectors[int(p.payload["shot_index"])] for p in group])
        store.upsert(db, [p.id for p in group], arrays, [p.payload for p in group])


def reindex_video(entry: IndexedVideo, encoder: ImageTextEncoder, store: VectorStore, layout: DataLayout, db: str,
                  identity: dict, short_side: int = 224, progress: bool = True) -> ReindexResult:
    """Add ``encoder``'s vector to one video's shots; a failure comes back as a ``failed`` result."""
    started = time.perf_counter()
    target = encoder.vector_name
    try:
        ids = [point_id(entry.video_id, i) for i in range(entry.n_shots)]
        points = store.retrieve(db, ids, with_vectors=True)
        if len(points) != entry.n_shots or len(points) != store.count(db, entry.video_id):
            raise StoreError(f"{entry.source}: the catalog says {entry.n_shots} shots, the database holds "
                             f"{store.count(db, entry.video_id)}: re-ingest the video first")
        if points and all(target in p.vectors for p in points):
            return ReindexResult(entry.video_id, entry.source, "present", len(points), time.perf_counter() - started)
        source = _source_vector(entry, points, target)
        vectors, reused = _artifacts(layout, entry, source, encoder, identity, short_side, progress)
        if len(vectors) != len(points):
            raise StoreError(f"{entry.source}: {len(vectors)} shots in the artifacts of {source}, {len(points)} in "
                             "the database: re-ingest the video")
        _write_points(store, db, points, target, vectors)
        store.flush()
    except BuscaError as err:
        log.warning("%s", err)
        return ReindexResult(entry.video_id, entry.source, "failed", seconds=time.perf_counter() - started,
                             error=str(err))
    except Exception as err:  # an unforeseen library error: report it, keep the batch going
        log.exception("unexpected error while re-indexing %s", entry.source)
        return ReindexResult(entry.video_id, entry.source, "failed", seconds=time.perf_counter() - started,
                             error=f"{entry.source}: unexpected {type(err).__name__}: {err}")
    return ReindexResult(entry.video_id, entry.source, "added", len(points), time.perf_counter() - started, reused)


def reindex(encoder: ImageTextEncoder, store: VectorStore, layout: DataLayout, db: str,
            video_ids: Sequence[str] | None = None, short_side: int = 224, progress: bool = True,
            report: Callable[[ReindexResult], None] | None = None, catalog: Catalog | None = None
            ) -> list[ReindexResult]:
    """Add ``encoder``'s named vector to every shot of database ``db`` (or of ``video_ids``), whose
    videos ``catalog`` lists (default: the store's own catalog, :func:`catalog_for`).

    The encoder is loaded and recorded in the database first (a model that cannot be had fails
    here, once); then each video is done or reported failed, and the others go on."""
    check_db_name(db)
    if not store.has_collection(db):
        raise UnknownDatabaseError(db, store.list_collections())
    record_encoder(store, db, encoder)
    identity = identity_of(encoder)
    videos = (catalog or catalog_for(store, layout.root)).videos(db)
    wanted = list(videos.values()) if video_ids is None else [videos[v] for v in video_ids if v in videos]
    results = []
    for entry in tqdm(wanted, desc=f"reindex {encoder.vector_name}"[:40], unit="video", disable=not progress):
        result = reindex_video(entry, encoder, store, layout, db, identity, short_side, progress)
        results.append(result)
        if report is not None:
            report(result)
    return results

