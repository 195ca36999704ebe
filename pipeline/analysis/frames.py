"""The frames a vision-language model sees for each shot: which times, at what size, cached.

Which times: a shot of ``d`` seconds gets ``n = min(frames_per_shot, d // MIN_FRAME_GAP_S)``
frames (at least one) at the centres of ``n`` equal parts of the shot, so none falls on a cut
(the first and last sampled frames of a shot can be mid-transition). A shot that gets a single
frame gets its keyframe, the sampled frame most like the shot's mean embedding.

What size: ``frame_short_side`` (default 448) pixels on the shorter side, never upscaled. The
reasoning, for Qwen2.5-VL: it cuts images into 14-px patches and merges 2x2 of them into one
visual token, so a frame is priced in 28-px cells, and the describer caps each frame at
``max_pixels = 256 * 28 * 28`` (256 tokens; ``QwenVLOptions``). Under that cap a square frame
becomes 448x448 (16x16 tokens), a 4:3 one 364x504 and a 16:9 one 336x588: 448 is the smallest
short side that the model never has to *upscale*, whatever the aspect ratio, while four frames
of a 16:9 shot still fit the 1280-token request budget (4 x 252). The 224-px frames kept by
ingest for CLIP would be upscaled 1.5-2x, i.e. blurred, and on-screen text would be lost.
An OpenAI-compatible server gets the same frames, shrunk to ``image_max_side`` (768) if larger.

Cache: ``<analysis dir>/frames/shot_0000_0.jpg`` and ``frames.json`` (the size and the times
they were made for). Frames are extracted again only when the shots, the number of frames or
the size change.
"""

from __future__ import annotations

import io
import logging
import math
import shutil
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from pipeline.analysis.run import ShotInput
from pipeline.core import atomic
from pipeline.media import iter_frames_at
from pipeline.records import Shot

log = logging.getLogger(__name__)

#: Frames of one shot are at least this far apart (the sampling step of ingest at 2 fps).
MIN_FRAME_GAP_S = 0.5
MANIFEST = "frames.json"
JPEG_QUALITY = 90


def shot_times(start_s: float, end_s: float, frames_per_shot: int, keyframe_s: float) -> list[float]:
    """The times (seconds) of the frames to show for one shot, in order."""
    duration = max(end_s - start_s, 0.0)
    n = max(1, min(frames_per_shot, math.floor(duration / MIN_FRAME_GAP_S + 1e-9)))
    if n == 1:
        return [round(float(keyframe_s), 3)]
    return [round(start_s + (k + 0.5) * duration / n, 3) for k in range(n)]


def plan_times(shots: Sequence[Shot], timestamps: Sequence[float], frames_per_shot: int) -> list[list[float]]:
    """:func:`shot_times` for every shot; ``timestamps`` are the sampled frames' times (for keyframes)."""
    return [shot_times(s.start_s, s.end_s, frames_per_shot, float(timestamps[s.keyframe])) for s in shots]


def _cached(folder: Path, times: list[list[float]], short_side: int) -> list[list[Path]] | None:
    try:
        data = atomic.read_json(folder / MANIFEST)
        if data["short_side"] != short_side or data["times"] != times:
            return None
        files = [[folder / name for name in names] for names in data["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if len(files) != len(times) or not all(p.is_file() for paths in files for p in paths):
        return None
    return files


def _jpeg(image) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def write_shot_frames(video: Path, folder: Path, times: list[list[float]], short_side: int) -> list[list[Path]]:
    """Extract and save the frames of every shot (one decoding pass), or reuse the cached ones.
    A request that lands on the same decoded frame as the previous one of its shot is dropped."""
    cached = _cached(folder, times, short_side)
    if cached is not None:
        return cached
    shutil.rmtree(folder, ignore_errors=True)
    flat = [(shot, k) for shot, shot_t in enumerate(times) for k in range(len(shot_t))]
    names: list[dict[int, str]] = [{} for _ in times]
    last_time: dict[int, float] = {}
    for picked in iter_frames_at(video, [t for shot_t in times for t in shot_t], short_side):
        shot, k = flat[picked.request]
        if last_time.get(shot) == picked.time_s:
            continue
        last_time[shot] = picked.time_s
        names[shot][k] = f"shot_{shot:04d}_{k}.jpg"
        atomic.write_bytes(folder / names[shot][k], _jpeg(picked.image))
    files = [[names[s][k] for k in sorted(names[s])] for s in range(len(times))]
    atomic.write_json(folder / MANIFEST, {"short_side": short_side, "times": times, "files": files})
    log.info("%s: %d frames for %d shots at short side %d", video, sum(map(len, files)), len(times), short_side)
    return [[folder / name for name in shot_files] for shot_files in files]


def shot_inputs(shots: Sequence[Shot], timestamps: Sequence[float], video: Path, folder: Path,
                frames_per_shot: int, short_side: int) -> list[ShotInput]:
    """Each shot's span and frame files, ready for :func:`pipeline.analysis.run.analyze_shots`."""
    files = write_shot_frames(video, folder, plan_times(shots, timestamps, frames_per_shot), short_side)
    return [ShotInput(s.index, s.start_s, s.end_s, tuple(paths)) for s, paths in zip(shots, files, strict=True)]
