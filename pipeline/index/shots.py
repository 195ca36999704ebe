"""What a video's shots carry besides the segmentation: the hard cuts that bound them, the point
ids that survive a re-segmentation, and thumbnails taken from the media when the sampled frames
are gone.

Artifacts (beside those of :mod:`pipeline.index.layout`, written atomically)::

    <data>/videos/<video_id>/cuts.json                      {"detector": "transnetv2", "cuts": [s, ...]}
    <data>/videos/<video_id>/<vector_name>/point_ids.json   [{"first_frame", "end_frame", "id"}, ...]

Cuts depend on the video only, not on the encoder, so they sit at the video's level. A video
whose shots were never re-segmented has no ``point_ids.json``: its point ids are
:func:`pipeline.store.point_id` of the shot index, as ingest makes them.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from pipeline.core import atomic
from pipeline.errors import MediaError
from pipeline.index.layout import DataLayout
from pipeline.media import iter_frames_at
from pipeline.protocols import CutDetector
from pipeline.records import Segmentation
from pipeline.store import point_id, span_point_id

log = logging.getLogger(__name__)

CUTS_FILE = "cuts.json"
POINT_IDS_FILE = "point_ids.json"


def cuts_path(layout: DataLayout, video_id: str) -> Path:
    return layout.video_dir(video_id) / CUTS_FILE


def read_cuts(layout: DataLayout, video_id: str, detector: str) -> list[float] | None:
    """The cuts ``detector`` found in the video earlier, or None."""
    path = cuts_path(layout, video_id)
    if not path.is_file():
        return None
    data = atomic.read_json(path)
    return [float(t) for t in data["cuts"]] if data.get("detector") == detector else None


def hard_cuts(media: Path, video_id: str, detector: CutDetector, layout: DataLayout) -> list[float]:
    """The detector's cuts in the video, computed once and kept in ``cuts.json``."""
    cuts = read_cuts(layout, video_id, detector.name)
    if cuts is None:
        cuts = sorted(float(t) for t in detector.detect_cuts(media))
        atomic.write_json(cuts_path(layout, video_id), {"detector": detector.name, "cuts": cuts})
    return cuts


def read_point_ids(folder: Path) -> dict[tuple[int, int], str] | None:
    """``{(first_frame, end_frame): point id}`` from a ``point_ids.json`` in ``folder``, or None."""
    path = folder / POINT_IDS_FILE
    if not path.is_file():
        return None
    return {(int(r["first_frame"]), int(r["end_frame"])): str(r["id"]) for r in atomic.read_json(path)}


def write_point_ids(folder: Path, seg: Segmentation, ids: Sequence[str]) -> None:
    rows = [{"first_frame": s.first_frame, "end_frame": s.end_frame, "id": i} for s, i in zip(seg.shots, ids, strict=True)]
    atomic.write_json(folder / POINT_IDS_FILE, rows)


def carry_ids(seg: Segmentation, previous: dict[tuple[int, int], str] | None) -> list[str]:
    """Point ids of ``seg``'s shots: the earlier id of a shot spanning the same frames as before,
    :func:`span_point_id` for a shot that is new. Without ``previous`` ids (never re-segmented):
    ingest's ids, by shot index. The two kinds of id never collide, so no two shots share one."""
    if previous is None:
        return [point_id(seg.video_id, s.index) for s in seg.shots]
    return [previous.get((s.first_frame, s.end_frame)) or span_point_id(seg.video_id, s.first_frame, s.end_frame)
            for s in seg.shots]


def stored_point_ids(layout: DataLayout, seg: Segmentation, vector_name: str) -> list[str]:
    """The point ids of a stored segmentation (see :func:`carry_ids`)."""
    return carry_ids(seg, read_point_ids(layout.encoder_dir(seg.video_id, vector_name)))


def shot_point_id(layout: DataLayout, vector_name: str | None, video_id: str, shot_index: int) -> str:
    """The point id of shot number ``shot_index`` (0-based, as in payloads) of a video as it is stored
    now, without reading the store: after a re-segmentation, from ``point_ids.json`` (ids no longer
    follow the index there); otherwise ingest's :func:`pipeline.store.point_id`. ``vector_name``:
    the database's encoder (its catalog entry's ``encoder``); None when the video is not listed."""
    if vector_name is not None:
        path = layout.encoder_dir(video_id, vector_name) / POINT_IDS_FILE
        if path.is_file():
            rows = atomic.read_json(path)
            if 0 <= shot_index < len(rows):
                return str(rows[shot_index]["id"])
    return point_id(video_id, shot_index)


def previous_ids(seg: Segmentation, folder: Path) -> dict[tuple[int, int], str]:
    """``{span: id}`` of a segmentation as it is stored now (its ``point_ids.json``, else ingest's ids)."""
    stored = read_point_ids(folder)
    return {(s.first_frame, s.end_frame): i for s, i in zip(seg.shots, carry_ids(seg, stored), strict=True)}


def shot_payloads(seg: Segmentation, vector_name: str, layout: DataLayout, source: str) -> list[dict]:
    """The Qdrant payload of each shot (schema in :mod:`pipeline.store.base`)."""
    return [
        {
            "video_id": seg.video_id,
            "source": source,
            "shot_index": shot.index,
            "scene": shot.scene,
            "class_id": shot.class_id,
            "start_s": round(shot.start_s, 3),
            "end_s": round(shot.end_s, 3),
            "thumbnail": layout.relative(layout.thumb_path(seg.video_id, vector_name, shot.index)),
        }
        for shot in seg.shots
    ]


def write_thumbnails(seg: Segmentation, timestamps: Sequence[float], folder: Path, media: Path | None,
                     reuse: dict[int, Path], short_side: int) -> None:
    """``folder/shot_0000.jpg``...: one JPEG per shot of its keyframe. A keyframe that had a
    thumbnail before (``reuse``: keyframe index -> file) is copied (read first, so ``folder`` may be
    the one the old files are in); the others are decoded from ``media`` in one pass.
    Raises :class:`pipeline.errors.MediaError` when media is needed and unreadable."""
    kept = {s.index: reuse[s.keyframe].read_bytes() for s in seg.shots if s.keyframe in reuse}
    missing = [s for s in seg.shots if s.index not in kept]
    for index, data in kept.items():
        atomic.write_bytes(folder / f"shot_{index:04d}.jpg", data)
    if not missing:
        return
    if media is None:
        raise MediaError(f"video {seg.video_id}", "its media file is not known, and new thumbnails need it")
    times = [float(timestamps[s.keyframe]) for s in missing]
    for picked in iter_frames_at(media, times, short_side):
        shot = missing[picked.request]
        atomic.write_bytes(folder / f"shot_{shot.index:04d}.jpg", _jpeg(picked.image))


def prune_thumbnails(folder: Path, n_shots: int) -> None:
    """Remove ``folder``'s thumbnails of shots ``n_shots`` and beyond (left by a segmentation with more shots)."""
    for path in folder.glob("shot_*.jpg"):
        if int(path.stem.removeprefix("shot_")) >= n_shots:
            path.unlink(missing_ok=True)


def _jpeg(image) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def old_thumbnails(layout: DataLayout, seg: Segmentation, vector_name: str) -> dict[int, Path]:
    """Keyframe index -> thumbnail file of a stored segmentation (files that exist)."""
    paths = {s.keyframe: layout.thumb_path(seg.video_id, vector_name, s.index) for s in seg.shots}
    return {k: p for k, p in paths.items() if p.is_file()}
