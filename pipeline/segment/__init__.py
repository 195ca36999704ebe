"""Frames to semantic classes (HDBSCAN, time ignored), scenes (classes on the timeline) and shots."""

from pipeline.segment.classes import UMAP_MIN_POINTS
from pipeline.segment.options import SegmentOptions
from pipeline.segment.segmenter import segment
from pipeline.segment.shots import shot_vectors

__all__ = ["UMAP_MIN_POINTS", "SegmentOptions", "segment", "shot_vectors"]
