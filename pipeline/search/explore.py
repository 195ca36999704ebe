"""Data for the explore view of one indexed video: its 2-D semantic map and its timeline.

Pure data preparation over the per-video artifacts (:mod:`pipeline.artifacts`); the
front end draws it. The map is the frame embeddings projected to 2-D with
:func:`pipeline.segment.project_2d` (UMAP, or PCA), each frame coloured by its
semantic class, as in the original system's "UMAP semantic representation".
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import ConfigError
from pipeline.index import DataLayout
from pipeline.records import IndexedVideo, Segmentation, Shot
from pipeline.search.projection import PROJECTIONS, project_2d

log = logging.getLogger(__name__)

#: Above this many frames the map shows an even subsample (UMAP cost grows with N).
MAP_MAX_POINTS = 4000


@dataclass(frozen=True)
class FrameMap:
    """The 2-D map of a video's sampled frames (columnar: one row per shown frame)."""

    video_id: str
    method: str
    xy: np.ndarray  # (M, 2) float32
    timestamps: np.ndarray  # (M,) float64 seconds
    classes: np.ndarray  # (M,) int
    frame_index: np.ndarray  # (M,) int, index into the sampled frames
    n_frames: int  # frames of the video (M < n_frames when subsampled)


@dataclass(frozen=True)
class ShotThumb:
    """One shot of a video with its thumbnail file."""

    shot: Shot
    path: Path


@dataclass(frozen=True)
class VideoOverview:
    """Everything the explore view shows about one video, except the map."""

    entry: IndexedVideo
    segmentation: Segmentation
    thumbs: tuple[ShotThumb, ...]

    @property
    def title_counts(self) -> tuple[int, int]:
        return len(self.segmentation.scenes), len(self.segmentation.shots)


def subsample_indices(n: int, limit: int = MAP_MAX_POINTS) -> np.ndarray:
    """Evenly spread indices, at most ``limit`` of them, always including the first frame."""
    if limit < 1:
        raise ConfigError(f"limit must be >= 1, got {limit}")
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def frame_map(layout: DataLayout, entry: IndexedVideo, method: str = "umap",
              limit: int = MAP_MAX_POINTS) -> FrameMap:
    """Project the video's frame embeddings to 2-D (subsampled above ``limit`` frames)."""
    if method not in PROJECTIONS:
        raise ConfigError(f"map method must be one of {', '.join(PROJECTIONS)}; got {method!r}")
    frames = layout.load_frames(entry.video_id, entry.encoder)
    seg = layout.load_segmentation(entry.video_id, entry.encoder)
    keep = subsample_indices(len(frames.timestamps), limit)
    xy = project_2d(frames.embeddings[keep], method=method)
    return FrameMap(entry.video_id, method, xy.astype(np.float32), frames.timestamps[keep],
                    np.asarray(seg.frame_classes)[keep], keep, len(frames.timestamps))


def video_overview(layout: DataLayout, entry: IndexedVideo) -> VideoOverview:
    """The video's segmentation and the thumbnail of each shot (missing files are skipped)."""
    seg = layout.load_segmentation(entry.video_id, entry.encoder)
    thumbs = []
    for shot in seg.shots:
        path = layout.thumb_path(entry.video_id, entry.encoder, shot.index)
        if path.is_file():
            thumbs.append(ShotThumb(shot, path))
        else:
            log.warning("thumbnail missing for shot %d of %s: %s", shot.index, entry.video_id, path)
    return VideoOverview(entry, seg, tuple(thumbs))


class MapCache:
    """A small thread-safe LRU of computed maps, keyed by video, encoder, method and
    the artifacts' modification time (a re-ingest gives a new map)."""

    def __init__(self, size: int = 8):
        self._size = size
        self._items: OrderedDict[tuple, FrameMap] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, layout: DataLayout, entry: IndexedVideo, method: str) -> FrameMap:
        stamp = (layout.encoder_dir(entry.video_id, entry.encoder) / "embeddings.npy").stat().st_mtime_ns
        key = (str(layout.root), entry.video_id, entry.encoder, method, stamp)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        computed = frame_map(layout, entry, method)
        with self._lock:
            self._items[key] = computed
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return computed
