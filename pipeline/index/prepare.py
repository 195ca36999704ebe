"""One video, before it touches a database: probe, id, embed, segment, thumbnails.

The work is split at the decoder. :func:`start_video` runs in a background thread: it probes
the file, finds its id (without reading an unchanged file again, :mod:`pipeline.index.fingerprint`),
decides whether earlier artifacts can be reused, and if not decodes the frames, doing all the
per-frame CPU work there (:mod:`pipeline.index.embed`) and writing nothing but its anonymous
frame spool. :func:`prepare_video` consumes it on the calling thread: the encoder,
segmentation, thumbnails, and every artifact. A caller that
wants the next videos decoded while this one is encoded starts their threads early
(:func:`pipeline.index.ingest.ingest_paths` with ``decode_ahead``).

Order of writes (a crash at any point is harmless): ``meta.json``, which says "the artifacts
match these options", is removed before any artifact changes and written last; every artifact
is written atomically; the frame spool is in memory or an anonymous file that nothing can find.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from pipeline.core import DiskMargin, atomic
from pipeline.errors import ConfigError
from pipeline.index.embed import Decoder, FrameSpool, Prefetch, StageTimes, decoded_frames, embed_frames
from pipeline.index.fingerprint import ContentIds
from pipeline.index.layout import DataLayout
from pipeline.index.shots import (
    POINT_IDS_FILE,
    carry_ids,
    hard_cuts,
    old_thumbnails,
    previous_ids,
    prune_thumbnails,
    write_point_ids,
    write_thumbnails,
)
from pipeline.media import DecodeOptions, iter_frames, probe
from pipeline.protocols import CutDetector, ImageTextEncoder
from pipeline.records import FrameEmbeddings, Segmentation, VideoInfo
from pipeline.segment import SegmentOptions, segment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestOptions:
    """``keep_frames`` keeps every sampled frame as a JPEG under ``videos/<id>/frames``;
    otherwise they pass through a temporary spool and only one thumbnail per shot is kept
    (the analysis mode decodes its own, bigger frames).
    ``force`` recomputes artifacts even when ones made with the same options exist.
    ``media`` puts the video itself under ``<data>/media`` so the web app can play it
    without serving anything outside the data directory: ``"link"`` (a hard link, or a
    copy across file systems), ``"copy"``, or ``"none"`` (playback then needs the original
    path to be served by other means). ``margin``: free space that must remain on the data
    directory's disk; each video is refused (:class:`pipeline.errors.DiskFullError`) before it is
    processed when there is less. ``skip_similar``: a sampled frame whose every
    16x16 grey cell is within this many levels of the last frame encoded takes that frame's
    embedding instead of being encoded (:mod:`pipeline.media.similar`); 0 encodes every frame.
    ``decode_ahead``: how many of the next videos decode (in their own threads) while one is
    encoded; worth it when the encoder is faster than decoding one video (a GPU).
    ``prefetch_batches``: batches a decode thread may hold ready."""

    decode: DecodeOptions = field(default_factory=DecodeOptions)
    segment: SegmentOptions = field(default_factory=SegmentOptions)
    keep_frames: bool = False
    force: bool = False
    progress: bool = True
    media: str = "link"
    margin: DiskMargin = field(default_factory=DiskMargin)
    skip_similar: float = 3.0
    decode_ahead: int = 0
    prefetch_batches: int = 3

    def __post_init__(self) -> None:
        if self.media not in ("link", "copy", "none"):
            raise ConfigError(f"media must be link, copy or none, got {self.media!r}")
        if not 0 <= self.skip_similar <= 64:
            raise ConfigError(f"skip_similar must be in [0, 64] grey levels, got {self.skip_similar}")
        if not 0 <= self.decode_ahead <= 64 or self.prefetch_batches < 1:
            raise ConfigError(f"decode_ahead must be in [0, 64] and prefetch_batches >= 1, got "
                              f"{self.decode_ahead} and {self.prefetch_batches}")


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
class _Plan:
    """What :func:`start_video` found before decoding: the first item it hands over."""

    info: VideoInfo
    video_id: str
    reused: bool  # every artifact matches: nothing to do
    frames_only: bool  # the frame embeddings match: only the segmentation is made again, nothing decoded
    times: StageTimes
    spool: FrameSpool | None


def _decoder_name(decoder: Decoder) -> str:
    return getattr(decoder, "name", None) or getattr(decoder, "__qualname__", type(decoder).__name__)


#: What the frame embeddings depend on (the rest of the options only change the segmentation).
FRAME_KEYS = ("encoder", "decode", "skip_similar", "decoder")
#: What a ``meta.json`` written before these keys existed was made with: every frame encoded, PyAV.
LEGACY_META = {"skip_similar": 0.0, "decoder": "iter_frames"}


def _options_meta(encoder: ImageTextEncoder, options: IngestOptions, decoder: Decoder,
                  cuts: CutDetector | None = None) -> dict:
    """What the artifacts depend on (not the batch size, which changes nothing in them)."""
    decode = {k: v for k, v in asdict(options.decode).items() if k != "batch_size"}
    return {"encoder": encoder.name, "decode": decode, "segment": asdict(options.segment),
            "skip_similar": options.skip_similar, "decoder": _decoder_name(decoder),
            "cuts": cuts.name if cuts else None}


def _stored_meta(layout: DataLayout, video_id: str, vector_name: str) -> dict | None:
    meta = layout.read_meta(video_id, vector_name)
    return None if meta is None else {**LEGACY_META, **meta}


def _reusable(layout: DataLayout, video_id: str, encoder: ImageTextEncoder, options: IngestOptions,
              decoder: Decoder, cuts: CutDetector | None = None, part: str = "all") -> bool:
    """Whether stored artifacts match: all of them (``part="all"``), or the frame embeddings only
    (``"frames"``: same encoder, sampling and decoder; then only the segmentation is made again)."""
    meta = _stored_meta(layout, video_id, encoder.vector_name)
    if options.force or meta is None:
        return False
    wanted = _options_meta(encoder, options, decoder, cuts)
    if meta["skip_similar"] == 0:
        wanted["skip_similar"] = 0  # every frame was encoded: as good as any skipping
    keys = FRAME_KEYS if part == "frames" else tuple(wanted)
    if any(meta.get(k) != wanted[k] for k in keys):
        return False
    return not options.keep_frames or (layout.video_dir(video_id) / "frames").is_dir()


def _remove_temp_files(layout: DataLayout, video_id: str, vector_name: str) -> None:
    """Temporary files that a killed run of this stage left behind (atomic.write_bytes names them
    ``.<name>.<random>.tmp``; nothing reads them): ``info.json``'s and the encoder folder's."""
    video_dir, encoder_dir = layout.video_dir(video_id), layout.encoder_dir(video_id, vector_name)
    for tmp in [*video_dir.glob(".info.json.*.tmp"), *encoder_dir.rglob(".*.tmp")]:
        tmp.unlink(missing_ok=True)


def start_video(path: Path, encoder: ImageTextEncoder, layout: DataLayout, options: IngestOptions,
                decoder: Decoder, video_id: str | None = None, cuts: CutDetector | None = None) -> Iterator:
    """Runs in a decode thread: yields a :class:`_Plan`, then (unless the artifacts are reused)
    the decoded batches with their signatures. ``video_id``: the file's id, if the caller has it.
    It reads the video and writes nothing but its anonymous spool: every artifact is written by
    the consumer, in order, so videos decoding ahead never race (two copies of one file included)."""
    times = StageTimes()
    started = time.perf_counter()
    info = probe(path, options.decode.max_pixels)
    times.probe_s = time.perf_counter() - started
    started = time.perf_counter()
    video_id = video_id or ContentIds(layout.root).video_id(path)
    times.hash_s = time.perf_counter() - started
    if _reusable(layout, video_id, encoder, options, decoder, cuts):
        yield _Plan(info, video_id, True, False, times, None)
        return
    if _reusable(layout, video_id, encoder, options, decoder, cuts, part="frames"):
        yield _Plan(info, video_id, False, True, times, None)
        return
    spool = FrameSpool(layout.root / "videos")
    yield _Plan(info, video_id, False, False, times, spool)
    yield from decoded_frames(path, options.decode, decoder, spool, times, options.skip_similar > 0)


def start_prefetch(path: Path, encoder: ImageTextEncoder, layout: DataLayout, options: IngestOptions,
                   decoder: Decoder, video_id: str | None = None, cuts: CutDetector | None = None) -> Prefetch:
    """:func:`start_video` running in its own thread, for :func:`prepare_video`'s ``started``."""
    return Prefetch(start_video(Path(path), encoder, layout, options, decoder, video_id, cuts),
                    depth=options.prefetch_batches)


def prepare_video(path: str | Path, encoder: ImageTextEncoder, layout: DataLayout,
                  options: IngestOptions = IngestOptions(), video_id: str | None = None,
                  cut_detector: CutDetector | None = None, decoder: Decoder = iter_frames,
                  started: Prefetch | None = None) -> PreparedVideo:
    """Probe, embed and segment one video, reusing artifacts made with the same options (frame
    embeddings made with the same encoder, sampling and decoder are reused when only the
    segmentation options or the hard cuts changed). ``video_id``: its content id when the caller
    has it already; ``cut_detector``: hard cuts that bound the shots. ``decoder``: where frames
    come from (PyAV by default; a GPU decoder from ``models``). ``started``: this video's
    :func:`start_prefetch`, if the caller began it early."""
    path = Path(path)
    plan: _Plan | None = None
    vector_name = encoder.vector_name
    try:
        with started or start_prefetch(path, encoder, layout, options, decoder, video_id, cut_detector) as items:
            stream = iter(items)
            plan = next(stream)
            # checked again here: a copy of the same file may have been finished meanwhile
            if plan.reused or _reusable(layout, plan.video_id, encoder, options, decoder, cut_detector):
                return PreparedVideo(plan.video_id, plan.info, layout.load_frames(plan.video_id, vector_name),
                                     layout.load_segmentation(plan.video_id, vector_name),
                                     vector_name, reused=True, timings=plan.times)
            frames_only = plan.frames_only or _reusable(layout, plan.video_id, encoder, options, decoder,
                                                        cut_detector, part="frames")
            stored = _stored_meta(layout, plan.video_id, vector_name) if frames_only else None
            _clear(layout, plan.video_id, vector_name, new_frames=not frames_only)
            cuts = hard_cuts(path, plan.video_id, cut_detector, layout) if cut_detector else None
            if frames_only:
                skipped = stored["skip_similar"] if stored else options.skip_similar
                return _resegment(path, plan, encoder, layout, options, decoder, cut_detector, cuts, skipped)
            expected = max(1, int(plan.info.duration_s * options.decode.fps) + 1)
            with tqdm(total=expected, desc=f"{path.name[:30]}", unit="frame", leave=False,
                      disable=not options.progress) as bar:
                stamps, vectors = embed_frames(path, stream, encoder, options.skip_similar, plan.times, bar)
        frames, seg = _finish(plan, stamps, vectors, vector_name, layout, options, cuts)
    finally:
        if plan is not None and plan.spool is not None:
            plan.spool.close()  # after the decode thread has ended (the with block joined it)
    atomic.write_json(layout.video_dir(plan.video_id) / "info.json", {**asdict(plan.info), "video_id": plan.video_id})
    layout.write_meta(plan.video_id, vector_name, _options_meta(encoder, options, decoder, cut_detector))
    return PreparedVideo(plan.video_id, plan.info, frames, seg, vector_name, reused=False, timings=plan.times)


def _resegment(path: Path, plan: _Plan, encoder: ImageTextEncoder, layout: DataLayout, options: IngestOptions,
               decoder: Decoder, cut_detector: CutDetector | None, cuts: list[float] | None,
               skipped: float) -> PreparedVideo:
    """A new segmentation of the stored frames: unchanged shots keep their point ids, and
    thumbnails that existed are reused (the others are decoded from the media). ``skipped``: the
    ``skip_similar`` the stored frames were made with (0 when every frame was encoded)."""
    vector_name = encoder.vector_name
    folder = layout.encoder_dir(plan.video_id, vector_name)
    frames = layout.load_frames(plan.video_id, vector_name)
    old = layout.load_segmentation(plan.video_id, vector_name)
    started = time.perf_counter()
    seg = segment(frames, options.segment, cuts)
    plan.times.segment_s += time.perf_counter() - started
    write_point_ids(folder, seg, carry_ids(seg, previous_ids(old, folder)))
    layout.save_segmentation(seg, vector_name)
    started = time.perf_counter()
    write_thumbnails(seg, frames.timestamps, folder / "thumbs", path, old_thumbnails(layout, old, vector_name),
                     options.decode.short_side)
    prune_thumbnails(folder / "thumbs", len(seg.shots))
    plan.times.thumbnails_s += time.perf_counter() - started
    meta = _options_meta(encoder, options, decoder, cut_detector)
    layout.write_meta(plan.video_id, vector_name, {**meta, "skip_similar": skipped})  # what the kept frames had
    return PreparedVideo(plan.video_id, plan.info, frames, seg, vector_name, reused=False, timings=plan.times)


def _clear(layout: DataLayout, video_id: str, vector_name: str, new_frames: bool) -> None:
    """Before any artifact changes: drop ``meta.json`` (it says "the artifacts match these
    options", so a run killed half-way is never mistaken for a finished one; it is written last)
    and the temporary files of a killed write; before new frames, also the frames kept by an
    earlier run and the point ids of an earlier re-segmentation (its frame spans mean nothing now)."""
    folder = layout.encoder_dir(video_id, vector_name)
    (folder / "meta.json").unlink(missing_ok=True)
    _remove_temp_files(layout, video_id, vector_name)
    if new_frames:
        (folder / POINT_IDS_FILE).unlink(missing_ok=True)
        shutil.rmtree(layout.video_dir(video_id) / "frames", ignore_errors=True)


def _finish(plan: _Plan, stamps, vectors, vector_name: str, layout: DataLayout, options: IngestOptions,
            cuts: list[float] | None) -> tuple[FrameEmbeddings, Segmentation]:
    """Save the frame embeddings, segment them, write each shot's thumbnail from the spool (and,
    with ``keep_frames``, every frame)."""
    frames = FrameEmbeddings(plan.video_id, stamps, vectors)
    layout.save_frames(frames, vector_name)
    started = time.perf_counter()
    seg = segment(frames, options.segment, cuts)
    plan.times.segment_s += time.perf_counter() - started
    layout.save_segmentation(seg, vector_name)
    started = time.perf_counter()
    for shot in seg.shots:
        atomic.write_bytes(layout.thumb_path(plan.video_id, vector_name, shot.index), plan.spool.read(shot.keyframe))
    if options.keep_frames:
        layout.frame_path(plan.video_id, 0).parent.mkdir(parents=True, exist_ok=True)
        for index in range(len(stamps)):
            layout.frame_path(plan.video_id, index).write_bytes(plan.spool.read(index))
    plan.times.thumbnails_s += time.perf_counter() - started
    return frames, seg
