"""Video to sampled frames: probing and sequential decoding with PyAV, and keyframes at given times."""

from pipeline.media.decode import VIDEO_EXTENSIONS, DecodeOptions, FrameBatch, iter_frames, probe
from pipeline.media.keyframes import iter_frames_at

__all__ = ["VIDEO_EXTENSIONS", "DecodeOptions", "FrameBatch", "iter_frames", "iter_frames_at", "probe"]
