"""Frames to semantic classes (HDBSCAN, time ignored), scenes (classes on the timeline) and shots,
with thresholds read on each video's own similarity scale."""

from pipeline.segment.classes import UMAP_MIN_POINTS
from pipeline.segment.options import ABSOLUTE_THRESHOLDS, SegmentOptions
from pipeline.segment.scale import VideoScale, adjacent_similarities, centre, measure_scale
from pipeline.segment.segmenter import cut_bounds, segment

__all__ = [
    "ABSOLUTE_THRESHOLDS",
    "UMAP_MIN_POINTS",
    "SegmentOptions",
    "VideoScale",
    "adjacent_similarities",
    "centre",
    "cut_bounds",
    "measure_scale",
    "segment",
]
