"""Add text channels to videos already indexed, without touching their frames or visual vectors.

For each channel, then each video (one model at a time across the batch, as the analysis does):

1. the channel's text per shot: speech from the video's transcript (made once per video and
   model, kept in ``videos/<id>/channels/speech.json``); on-screen text from OCR of frames decoded
   again from the kept media (``videos/<id>/channels/ocr.json``);
2. the video's old vectors and payload of that channel are cleared, then the shots with text get
   the payload text, a BM25 sparse vector and a dense text vector (:func:`write_channel`);
3. the store is flushed, then :class:`~pipeline.channels.registry.ChannelRegistry` records it.

A video whose channel is recorded with the same source and whose points still carry it is
skipped, so an interrupted run resumes where it stopped. A failure is reported for that video
and channel; the others go on. A video without audio gets an empty speech channel and a note.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from pipeline.channels.registry import ChannelDone, ChannelRegistry
from pipeline.channels.shot_text import ShotText, ocr_per_shot, ocr_times, speech_per_shot
from pipeline.channels.spec import OCR, SPEECH, dense_name, payload_fields, sparse_name, text_field
from pipeline.core import atomic
from pipeline.errors import BuscaError, ConfigError, MediaError
from pipeline.index import Catalog, DataLayout, stored_point_ids
from pipeline.media import iter_frames_at
from pipeline.protocols import TextEmbedder, TextReader, Transcriber
from pipeline.records import IndexedVideo, OcrLine, TranscriptSegment
from pipeline.store import Bm25Encoder, VectorStore, point_id

log = logging.getLogger(__name__)

#: ``progress(done, total, message)`` after each video and channel.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ChannelOptions:
    """``ocr_interval_s``: a shot longer than this is also read every ``ocr_interval_s`` seconds
    (besides its keyframe). ``ocr_short_side``: pixels of the frames given to OCR (never
    upscaled). ``force`` recomputes texts and vectors even when recorded."""

    ocr_interval_s: float = 4.0
    ocr_short_side: int = 720
    force: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if not 0.5 <= self.ocr_interval_s <= 600:
            raise ConfigError(f"OCR interval must be between 0.5 and 600 seconds, got {self.ocr_interval_s}")
        if not 64 <= self.ocr_short_side <= 2160:
            raise ConfigError(f"OCR frame size must be between 64 and 2160 pixels, got {self.ocr_short_side}")


@dataclass
class ChannelModels:
    """The models the channels need: a text embedder always; a transcriber for speech; an OCR
    reader for on-screen text. Each is loaded on first use."""

    embedder: TextEmbedder
    transcriber: Transcriber | None = None
    reader: TextReader | None = None
    bm25: Bm25Encoder = field(default_factory=Bm25Encoder)

    def source(self, channel: str) -> str:
        model = {SPEECH: self.transcriber, OCR: self.reader}.get(channel)
        if model is None:
            raise ConfigError(f"the {channel} channel needs its model ({'speech recognition' if channel == SPEECH else 'OCR'})")
        return model.name

    def config(self, channel: str, source: str) -> dict:
        """How a channel is made, as the registry records it."""
        return {"dense": dense_name(channel, self.embedder.vector_name), "sparse": sparse_name(channel),
                "text_model": self.embedder.name, "bm25": self.bm25.options.to_json(), "source": source,
                "language": getattr(self.transcriber, "language", None) if channel == SPEECH else None}


@dataclass(frozen=True)
class ChannelResult:
    """One channel of one video: ``indexed``, ``skipped`` (already there) or ``failed``."""

    video_id: str
    source: str
    channel: str
    status: str
    shots: int = 0
    note: str | None = None
    error: str | None = None
    seconds: float = 0.0


# -- texts per shot ----------------------------------------------------------------------------


def _channel_dir(layout: DataLayout, video_id: str) -> Path:
    return layout.video_dir(video_id) / "channels"


def speech_file(layout: DataLayout, video_id: str) -> Path:
    """Where the speech channel keeps a video's transcript (with word times, and the model that made it)."""
    return _channel_dir(layout, video_id) / "speech.json"


def stored_speech(layout: DataLayout, video_id: str) -> list[TranscriptSegment] | None:
    """The speech channel's transcript of a video, as made by ``enrich``/``ingest``; None when none was."""
    path = speech_file(layout, video_id)
    if not path.is_file():
        return None
    try:
        return [TranscriptSegment.from_json(s) for s in atomic.read_json(path)["segments"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise MediaError(path, f"is not a readable transcript ({err})") from err


def _has_audio(layout: DataLayout, video_id: str) -> bool | None:
    path = layout.video_dir(video_id) / "info.json"
    try:
        return bool(atomic.read_json(path)["has_audio"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def transcript(layout: DataLayout, entry: IndexedVideo, media: Path, transcriber: Transcriber,
               force: bool = False) -> tuple[list[TranscriptSegment], str | None]:
    """The video's speech with word times (made once per transcriber), and a note when empty."""
    path = speech_file(layout, entry.video_id)
    if path.is_file() and not force:
        data = atomic.read_json(path)
        if data.get("source") == transcriber.name:
            return [TranscriptSegment.from_json(s) for s in data["segments"]], data.get("note")
    if _has_audio(layout, entry.video_id) is False:
        segments, note = [], "no audio stream: the speech channel is empty"
    else:
        segments = transcriber.transcribe(media, video_id=entry.video_id)
        note = None if segments else "no speech recognised"
    atomic.write_json(path, {"source": transcriber.name, "note": note, "segments": [s.to_json() for s in segments]})
    return segments, note


def ocr_reads(layout: DataLayout, entry: IndexedVideo, media: Path, reader: TextReader,
              options: ChannelOptions) -> list[tuple[int, float, list[OcrLine]]]:
    """OCR of the shots' frames (keyframe, and every ``ocr_interval_s`` in long shots), made once
    per reader and set of frame times."""
    seg = layout.load_segmentation(entry.video_id, entry.encoder)
    frames = layout.load_frames(entry.video_id, entry.encoder)
    picks = ocr_times(seg.shots, frames.timestamps, options.ocr_interval_s)
    path = _channel_dir(layout, entry.video_id) / "ocr.json"
    wanted = {"source": reader.name, "short_side": options.ocr_short_side, "times": [[i, t] for i, t in picks]}
    if path.is_file() and not options.force:
        data = atomic.read_json(path)
        if {k: data.get(k) for k in wanted} == wanted:
            return [(i, t, [OcrLine(x[0], x[1]) for x in lines]) for i, t, lines in data["reads"]]
    reads: list[tuple[int, float, list[OcrLine]]] = []
    for picked in iter_frames_at(media, [t for _, t in picks], options.ocr_short_side):
        index, t = picks[picked.request]
        reads.append((index, t, reader.read(picked.image)))
    reads.sort(key=lambda r: (r[1], r[0]))
    atomic.write_json(path, {**wanted, "reads": [[i, t, [[x.text, round(x.score, 4)] for x in lines]]
                                                 for i, t, lines in reads]})
    return reads


def channel_texts(channel: str, layout: DataLayout, entry: IndexedVideo, models: ChannelModels,
                  options: ChannelOptions) -> tuple[list[ShotText], str | None]:
    media = layout.media_file(entry.path, entry.video_id)
    if media is None:
        raise MediaError(entry.path or entry.source, f"the media of {entry.source} is missing: place it again "
                         "(`python -m app check --repair`) or ingest the video again to add channels")
    if channel == SPEECH:
        segments, note = transcript(layout, entry, media, models.transcriber, options.force)
        return speech_per_shot(segments, layout.load_segmentation(entry.video_id, entry.encoder).shots), note
    if channel == OCR:
        texts = ocr_per_shot(ocr_reads(layout, entry, media, models.reader, options))
        return texts, None if texts else "no text on screen"
    raise ConfigError(f"the {channel} channel is not computed from the media")


# -- the store -----------------------------------------------------------------------------------


def write_channel(store: VectorStore, db: str, video_id: str, channel: str, texts: Sequence[ShotText],
                  embedder: TextEmbedder, bm25: Bm25Encoder, ids: Sequence[str] | None = None) -> None:
    """Replace a video's vectors and payload of one channel with ``texts`` (confirmed, not flushed).
    ``ids``: the point id of each shot, by shot index (:func:`shot_ids`; ingest's ids when None)."""
    dense, sparse = dense_name(channel, embedder.vector_name), sparse_name(channel)
    store.ensure_collection(db, {dense: embedder.dim})
    store.ensure_sparse(db, [sparse])
    store.clear_fields(db, video_id, [dense, sparse], payload_fields(channel))
    texts = [t for t in texts if t.text.strip()]
    if not texts:
        return
    points = [ids[t.shot_index] if ids is not None else point_id(video_id, t.shot_index) for t in texts]
    store.update_vectors(db, points, dense={dense: embedder.embed_passages([t.text for t in texts])},
                         sparse={sparse: [bm25.document(t.text) for t in texts]})
    store.set_payload(db, points, [t.payload(channel) for t in texts])


def shot_ids(layout: DataLayout, entry: IndexedVideo) -> list[str]:
    """The point id of each of the video's shots as stored now (a re-segmented video's ids no longer
    follow the shot numbers: :func:`pipeline.index.stored_point_ids`)."""
    return stored_point_ids(layout, layout.load_segmentation(entry.video_id, entry.encoder), entry.encoder)


def _still_stored(store: VectorStore, layout: DataLayout, db: str, entry: IndexedVideo, channel: str,
                  done: ChannelDone) -> bool:
    """The registry's word, checked against the points (a re-ingest replaces them whole; a
    re-segmentation gives re-cut shots new points, without text)."""
    if done.n_shots != entry.n_shots:
        return False
    points = store.retrieve(db, shot_ids(layout, entry))
    return len(points) == entry.n_shots and sum(text_field(channel) in p.payload for p in points) == done.shots


@contextmanager
def _registry(store: VectorStore, layout: DataLayout, given: ChannelRegistry | None) -> Iterator[ChannelRegistry]:
    """``given``, or the store's own registry for the time of one call."""
    if given is not None:
        yield given
        return
    with ChannelRegistry(store, layout.root) as registry:
        yield registry


def record_channel(store: VectorStore, layout: DataLayout, db: str, entry: IndexedVideo, channel: str,
                   texts: Sequence[ShotText], models: ChannelModels, source: str, note: str | None,
                   registry: ChannelRegistry | None = None) -> int:
    """Write, flush, then record one channel of one video; returns the shots with text.
    ``registry``: the store's own by default."""
    write_channel(store, db, entry.video_id, channel, texts, models.embedder, models.bm25, shot_ids(layout, entry))
    store.flush()
    shots = sum(1 for t in texts if t.text.strip())
    with _registry(store, layout, registry) as reg:
        reg.record(db, entry.video_id, channel, models.config(channel, source),
                   ChannelDone(source, shots, note, n_shots=entry.n_shots))
    return shots


def enrich_video(store: VectorStore, layout: DataLayout, db: str, entry: IndexedVideo, channel: str,
                 models: ChannelModels, options: ChannelOptions = ChannelOptions(),
                 registry: ChannelRegistry | None = None) -> ChannelResult:
    """One channel of one video; a failure comes back as a ``failed`` result naming the cause."""
    started = time.perf_counter()
    try:
        source = models.source(channel)
        with _registry(store, layout, registry) as reg:
            done = reg.done(db, entry.video_id).get(channel)
            if done is not None and not options.force and done.source == source and _still_stored(store, layout, db, entry, channel, done):
                return ChannelResult(entry.video_id, entry.source, channel, "skipped", done.shots, done.note)
            texts, note = channel_texts(channel, layout, entry, models, options)
            shots = record_channel(store, layout, db, entry, channel, texts, models, source, note, reg)
    except BuscaError as err:
        log.warning("%s, %s channel: %s", entry.source, channel, err)
        return ChannelResult(entry.video_id, entry.source, channel, "failed", error=str(err),
                             seconds=time.perf_counter() - started)
    except Exception as err:  # a bug or an unforeseen library error: report it, keep the batch going
        log.exception("unexpected error in the %s channel of %s", channel, entry.source)
        return ChannelResult(entry.video_id, entry.source, channel, "failed", seconds=time.perf_counter() - started,
                             error=f"{entry.source}: unexpected {type(err).__name__}: {err}")
    if note:
        log.info("%s: %s", entry.source, note)
    return ChannelResult(entry.video_id, entry.source, channel, "indexed", shots, note,
                         seconds=time.perf_counter() - started)


def enrich(store: VectorStore, layout: DataLayout, db: str, channels: Sequence[str], models: ChannelModels,
           options: ChannelOptions = ChannelOptions(), video_ids: Sequence[str] | None = None,
           progress: Progress | None = None, catalog: Catalog | None = None) -> list[ChannelResult]:
    """Add ``channels`` (speech, ocr) to the videos of ``db`` (or only ``video_ids``), channel by
    channel, freeing each channel's model before the next. Resumable (see the module docstring).
    ``catalog``: the store's own by default (:func:`pipeline.index.catalog_for`)."""
    for channel in channels:
        if channel not in (SPEECH, OCR):
            raise ConfigError(f"enrich adds speech and ocr; {channel!r} comes from elsewhere "
                              "(visual: ingest; description: python -m app index-analysis)")
        models.source(channel)
    with ChannelRegistry(store, layout.root, catalog) as registry:
        videos = registry.catalog.videos(db)
        return _enrich_videos(store, layout, db, channels, models, options, videos, video_ids, progress, registry)


def _enrich_videos(store: VectorStore, layout: DataLayout, db: str, channels: Sequence[str], models: ChannelModels,
                   options: ChannelOptions, catalog: dict[str, IndexedVideo], video_ids: Sequence[str] | None,
                   progress: Progress | None, registry: ChannelRegistry) -> list[ChannelResult]:
    if video_ids is not None:
        unknown = [v for v in video_ids if v not in catalog]
        if unknown:
            raise ConfigError(f"videos not indexed in database {db!r}: {', '.join(unknown[:5])}")
    entries = [catalog[v] for v in (video_ids if video_ids is not None else catalog)]
    results, total = [], len(entries) * len(channels)
    with tqdm(total=total, desc="channels", unit="video", disable=not options.progress or total < 2) as bar:
        for channel in channels:
            for entry in entries:
                results.append(enrich_video(store, layout, db, entry, channel, models, options, registry))
                bar.update(1)
                if progress is not None:
                    progress(len(results), total, f"{channel} · {entry.source}")
            model = models.transcriber if channel == SPEECH else models.reader
            unload = getattr(model, "unload", None)
            if callable(unload):
                unload()
    return results
