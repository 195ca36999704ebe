"""Video to sampled frames: probing and sequential decoding with PyAV, keyframes at given times,
and near-duplicate signatures of sampled frames."""

from pipeline.media.decode import (
    FRAME_JPEG_QUALITY,
    VIDEO_EXTENSIONS,
    DecodeOptions,
    FrameBatch,
    batch_limit,
    iter_frames,
    probe,
)
from pipeline.media.keyframes import iter_frames_at
from pipeline.media.similar import SIGNATURE_CELLS, plan_reuse, signature

__all__ = ["FRAME_JPEG_QUALITY", "SIGNATURE_CELLS", "VIDEO_EXTENSIONS", "DecodeOptions", "FrameBatch", "batch_limit",
           "iter_frames", "iter_frames_at", "plan_reuse", "probe", "signature"]
