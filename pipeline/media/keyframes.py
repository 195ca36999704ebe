"""Frames at chosen times, at a chosen size, in one sequential decoding pass.

Ingest samples every video at a fixed rate and keeps 224-px frames for CLIP. A
vision-language model wants fewer, bigger frames at times that depend on the shots:
:func:`extract_frames` decodes the file once, from the start, with FFmpeg's frame+slice
threading (no per-frame seeks: a seek lands on a keyframe and decodes forward anyway,
and sequential decoding is what :mod:`pipeline.decode` measured at 10-18x real time), and
for each requested time keeps the decoded frame nearest to it. It stops decoding once the
last requested time is passed.

Times are seconds from the start of the video stream, as in :func:`pipeline.decode.iter_frames`
(same origin), so the times of ingest's shots can be asked for directly. Frames are rotated
as the display matrix says and resized with swscale (the helpers of :mod:`pipeline.decode`);
they are never upscaled: the shorter side is ``min(short_side, the video's shorter side)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import ConfigError, MediaError
from pipeline.media.decode import DecodeOptions, _decode, _open, _to_rgb, _video_stream


@dataclass(frozen=True)
class PickedFrame:
    """The frame chosen for request number ``request``; ``time_s`` is the frame's own time."""

    request: int
    time_s: float
    image: np.ndarray


def _check(times: Sequence[float], short_side: int) -> list[float]:
    if not 32 <= short_side <= 2048:
        raise ConfigError(f"short_side must be in [32, 2048] pixels, got {short_side}")
    values = [float(t) for t in times]
    if not all(math.isfinite(t) for t in values):
        raise ConfigError("frame times must be finite numbers of seconds")
    return [max(t, 0.0) for t in values]


def iter_frames_at(path: str | Path, times: Sequence[float], short_side: int = 448, *,
                   max_pixels: int = DecodeOptions.max_pixels) -> Iterator[PickedFrame]:
    """One :class:`PickedFrame` per requested time, yielded in order of time (ties and
    duplicates included), so a caller can write each frame as it comes and keep memory flat.

    The nearest decoded frame wins; when two are equally near, the earlier one. Times past
    the end get the last frame. Raises :class:`MediaError` when no frame can be decoded.
    """
    path = Path(path)
    targets = _check(times, short_side)
    if not targets:
        return
    order = sorted(range(len(targets)), key=targets.__getitem__)
    with _open(path) as container:
        stream = _video_stream(container, path)
        width, height = stream.codec_context.width, stream.codec_context.height
        if width and height and width * height > max_pixels:
            raise MediaError(path, code="media.too_many_pixels", width=width, height=height, limit=max_pixels)
        stream.thread_type = "AUTO"
        origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else None
        pos = 0
        previous = None  # (time, frame) of the last decoded frame before the current one
        converted: tuple[float, np.ndarray] | None = None  # the last frame converted to RGB

        def pick(t: float, frame) -> np.ndarray:
            nonlocal converted
            if converted is None or converted[0] != t:
                converted = (t, _to_rgb(frame, min(short_side, frame.width, frame.height)))
            return converted[1]

        for frame in _decode(container, stream, path):
            if frame.time is None:
                continue
            if origin is None:
                origin = float(frame.time)
            t = max(float(frame.time) - origin, 0.0)
            while pos < len(order) and targets[order[pos]] <= t:
                target = targets[order[pos]]
                if previous is not None and target - previous[0] <= t - target:
                    yield PickedFrame(order[pos], previous[0], pick(*previous))
                else:
                    yield PickedFrame(order[pos], t, pick(t, frame))
                pos += 1
            if pos == len(order):
                return
            previous = (t, frame)
        if previous is None:
            raise MediaError(path, code="media.no_frames", reason="")
        for request in order[pos:]:
            yield PickedFrame(request, previous[0], pick(*previous))


def extract_frames(path: str | Path, times: Sequence[float], short_side: int = 448) -> list[np.ndarray]:
    """RGB ``uint8 (H, W, 3)`` frames nearest to ``times``, in the order the times were given
    (see :func:`iter_frames_at`). Holds every frame in memory: for many frames, iterate
    :func:`iter_frames_at` instead."""
    images: list[np.ndarray | None] = [None] * len(times)
    for picked in iter_frames_at(path, times, short_side):
        images[picked.request] = picked.image
    return images  # type: ignore[return-value]  # every request is filled
