"""Frames to semantic classes (HDBSCAN, time ignored), scenes (classes on the timeline) and shots,
with thresholds read on each video's own similarity scale (see ``SegmentOptions``), and the
similarity statistics that show whether the options fit a video (``video_stats``)."""

from pipeline.segment.calibrate import Fit, VideoStats, fit_report, summary, video_stats
from pipeline.segment.classes import UMAP_MIN_POINTS
from pipeline.segment.options import SegmentOptions
from pipeline.segment.segmenter import segment
from pipeline.segment.shots import shot_vectors

__all__ = ["UMAP_MIN_POINTS", "Fit", "SegmentOptions", "VideoStats", "fit_report", "segment", "shot_vectors", "summary",
           "video_stats"]
