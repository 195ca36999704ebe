"""Probe and decode videos with PyAV.

Frames are sampled by presentation timestamp (so variable-frame-rate files come out
right), rotated as the display matrix says, resized with swscale to a small working
size, and streamed in batches: memory stays flat whatever the video's length.

Decoding is strictly sequential (no per-frame seeks) with FFmpeg's frame+slice
threading, which PERFORMANCE.md measured at 10-18x real time for 720p-1080p H.264.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from pipeline.errors import ConfigError, MediaError
from pipeline.records import VideoInfo

log = logging.getLogger(__name__)

#: JPEG quality of the sampled frames kept for thumbnails (and with ``keep_frames``).
FRAME_JPEG_QUALITY = 85

#: Extensions picked up when a folder is ingested. Any file PyAV opens can be given by path.
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".mxf", ".flv", ".wmv"})


@dataclass(frozen=True)
class DecodeOptions:
    """How frames are sampled.

    ``fps`` defaults to 2: the middle of the original system's 1-3 fps, half-second
    resolution for shot boundaries, and a third less CLIP work than 3 fps.
    ``short_side`` is the size (pixels) of the shorter side after resizing: 224 is what
    CLIP ViT-L-14 sees, and it doubles as the thumbnail size.
    ``max_pixels`` refuses absurd resolutions (default 8K UHD) before decoding.
    ``skip_nonref`` (off by default): when sampling at most a quarter of the video's frame
    rate, the decoder skips the frames that no other frame is predicted from (most B-frames):
    decoding gets up to twice as fast on footage that has them (``bench/ingest.py``), which
    matters where decoding is the limit (a GPU encoder). A sample then falls on the next
    decoded frame (its recorded time is that frame's own), and on a *damaged* file FFmpeg can
    stop at the first error much earlier than it would otherwise, so it stays opt-in.
    """

    fps: float = 2.0
    short_side: int = 224
    batch_size: int = 32
    max_pixels: int = 7680 * 4320
    skip_nonref: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.fps <= 30:
            raise ConfigError(f"sampling fps must be in (0, 30], got {self.fps}")
        if not 32 <= self.short_side <= 2048:
            raise ConfigError(f"short_side must be in [32, 2048] pixels, got {self.short_side}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}")


#: Frames in a video's first batch: a small one, so that the encoder starts while the rest of the
#: first ``batch_size`` frames decode (a 32-frame first batch kept it waiting for 16 s of video).
FIRST_BATCH = 4


def batch_limit(first_index: int, batch_size: int) -> int:
    """How many frames the batch that starts at ``first_index`` holds."""
    return batch_size if first_index else min(batch_size, FIRST_BATCH)


@dataclass(frozen=True)
class FrameBatch:
    """Consecutive sampled frames: indices, timestamps and RGB ``uint8 (H, W, 3)`` images.

    A GPU decoder keeps the frames on its device instead: ``pixels`` is then a ``uint8
    (N, 3, H, W)`` tensor that the encoder takes as is, ``jpegs`` the frames compressed there
    (for the thumbnails) and ``signatures`` their near-duplicate signatures
    (:func:`pipeline.media.similar.signature`, ``(N, 16, 16)``), and ``images`` may be empty.
    """

    first_index: int
    timestamps: np.ndarray
    images: list[np.ndarray]
    pixels: Any = None
    jpegs: list[bytes] | None = None
    signatures: np.ndarray | None = None


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise MediaError(path, code="media.not_found")
    if path.is_dir():
        raise MediaError(path, code="media.is_folder")
    if path.stat().st_size == 0:
        raise MediaError(path, code="media.empty")
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.InvalidDataError as err:
        raise MediaError(path, code="media.corrupt", reason=err.strerror or str(err)) from err
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as err:
        raise MediaError(path, code="media.unopenable", reason=str(err)) from err


def _is_still_image(container: av.container.InputContainer) -> bool:
    """FFmpeg opens a lone JPEG/PNG/WEBP... (whatever its extension) with an image demuxer."""
    name = container.format.name
    return name.endswith("_pipe") or name in ("image2", "image2pipe")


def _video_stream(container: av.container.InputContainer, path: Path,
                  max_pixels: int | None = None) -> av.video.stream.VideoStream:
    if _is_still_image(container):
        raise MediaError(path, code="media.still_image", format=container.format.name.removesuffix("_pipe"))
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["none"]
        raise MediaError(path, code="media.no_video_stream", streams=", ".join(kinds))
    stream = container.streams.video[0]
    if stream.codec_context is None or not stream.codec_context.name:
        raise MediaError(path, code="media.no_decoder")
    width, height = stream.codec_context.width, stream.codec_context.height
    if max_pixels is not None and width and height and width * height > max_pixels:
        raise MediaError(path, code="media.too_many_pixels", width=width, height=height, limit=max_pixels)
    return stream


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def probe(path: str | Path, max_pixels: int | None = None) -> VideoInfo:
    """Read duration, frame rate, size, rotation and audio presence; decodes one frame only
    (none when the resolution is above ``max_pixels``)."""
    path = Path(path)
    with _open(path) as container:
        stream = _video_stream(container, path, max_pixels)
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        errors: list[av.error.FFmpegError] = []
        first = next(_decode(container, stream, errors), None)
        if first is None:
            raise _no_frames(path, errors)
        return VideoInfo(
            path=str(path),
            duration_s=_duration(container, stream),
            fps=fps,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            rotation=_frame_rotation(first),
            has_audio=bool(container.streams.audio),
            codec=stream.codec_context.name,
            size_bytes=path.stat().st_size,
        )


def _target_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    scale = short_side / min(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def _frame_rotation(frame: av.VideoFrame) -> int:
    """Counter-clockwise display rotation (0, 90, 180, 270) from the frame's display matrix."""
    return int(round((frame.rotation or 0) / 90)) * 90 % 360


def _to_rgb(frame: av.VideoFrame, short_side: int) -> np.ndarray:
    width, height = _target_size(frame.width, frame.height, short_side)
    image = frame.reformat(width=width, height=height, format="rgb24", interpolation="BILINEAR").to_ndarray()
    rotation = _frame_rotation(frame)
    if rotation:
        image = np.ascontiguousarray(np.rot90(image, k=rotation // 90))
    return image


def iter_frames(path: str | Path, options: DecodeOptions = DecodeOptions()) -> Iterator[FrameBatch]:
    """Sample frames at ``options.fps`` by presentation time, in batches.

    Timestamps are seconds from the start of the video stream. A frame is kept when its
    time reaches the next sampling instant; instants advance on a fixed grid, so a
    variable-frame-rate file is sampled evenly in time. Raises :class:`MediaError` when
    no frame can be decoded; a file that breaks off mid-way (a decoding error, or frames
    that end well before the duration the file declares, as in a truncated file whose index
    is at the start) keeps what was decoded and logs a warning naming the file and the time.
    """
    path = Path(path)
    step = 1.0 / options.fps
    with _open(path) as container:
        stream = _video_stream(container, path, options.max_pixels)
        stream.thread_type = "AUTO"
        if options.skip_nonref and stream.average_rate and float(stream.average_rate) >= 4 * options.fps:
            stream.codec_context.skip_frame = "NONREF"
        origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else None
        next_time, index, last = 0.0, 0, None
        times: list[float] = []
        images: list[np.ndarray] = []
        errors: list[av.error.FFmpegError] = []
        for frame in _decode(container, stream, errors):
            if frame.time is None:
                continue
            if origin is None:
                origin = float(frame.time)
            t = float(frame.time) - origin
            last = t if last is None else max(last, t)
            if t + 1e-6 < next_time:
                continue
            times.append(max(t, 0.0))
            images.append(_to_rgb(frame, options.short_side))
            while next_time <= t + 1e-6:
                next_time += step
            if len(images) == batch_limit(index, options.batch_size):
                yield FrameBatch(index, np.asarray(times), images)
                index += len(images)
                times, images = [], []
        if images:
            yield FrameBatch(index, np.asarray(times), images)
            index += len(images)
        if index == 0:
            raise _no_frames(path, errors)
        frame_s = 1.0 / float(stream.average_rate) if stream.average_rate else step
        _warn_if_cut_short(path, errors, last or 0.0, _duration(container, stream), max(1.0, 2 * step, 2 * frame_s))


def _no_frames(path: Path, errors: list[av.error.FFmpegError]) -> MediaError:
    return MediaError(path, code="media.no_frames", reason=f" (FFmpeg: {errors[0]})" if errors else "")


def _warn_if_cut_short(path: Path, errors: list, last_s: float, declared_s: float, slack_s: float) -> None:
    """One warning when decoding stopped on an error, or ended more than ``slack_s`` before the
    declared duration (a truncated file whose index, at the start, promises more)."""
    if errors:
        log.warning("%s: decoding stopped at %.1f s (%s); indexing the frames decoded so far", path, last_s, errors[0])
    elif declared_s - last_s > slack_s:
        log.warning("%s: decoding ended at %.1f s but the file declares %.1f s: it looks truncated or damaged; "
                    "only the first %.1f s are indexed", path, last_s, declared_s, last_s)


def _decode(container: av.container.InputContainer, stream, errors: list) -> Iterator[av.VideoFrame]:
    """Frames until the end or the first FFmpeg error (appended to ``errors``, not raised)."""
    try:
        yield from container.decode(stream)
    except av.error.FFmpegError as err:
        errors.append(err)
