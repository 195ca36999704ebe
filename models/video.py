"""Decoding on the GPU (NVDEC) with torchcodec: an optional frame source for ingest.

On a GPU box the encoder outruns CPU decoding of full-rate video by far (PERFORMANCE.md: one
core decodes 720p H.264 at ~18x real time). :class:`TorchcodecDecoder` decodes with
torchcodec's CUDA decoder instead, where the full-size frames never leave the GPU: the
sampled frames are resized there to ingest's working size and handed to the encoder as one
``uint8 (N, 3, H, W)`` tensor per batch (``FrameBatch.pixels``). The per-frame work is done
there too, batched: the JPEGs for the thumbnails (torchcodec's ``JpegEncoder``: nvJPEG on CUDA)
and the near-duplicate signatures; only those bytes and 16x16 signatures reach the host.

It follows :func:`pipeline.media.iter_frames`'s contract: batches of frames sampled every
``1 / fps`` seconds, times measured from the start of the stream; torchcodec applies the
rotation metadata itself. A sample is the frame *shown* at the sampling instant (the last
one that starts at or before it), where PyAV's sampler takes the first frame at or after it:
at most one frame apart. On a CPU device the same code runs on torchcodec's CPU decoder (the
tests use that). torchcodec is optional: PyPI's wheel decodes on the CPU; NVDEC needs the
CUDA build (``pip install torchcodec --index-url https://download.pytorch.org/whl/cu130``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from models.device import require, resolve_device
from pipeline.errors import MediaError
from pipeline.media import FRAME_JPEG_QUALITY, SIGNATURE_CELLS, DecodeOptions, FrameBatch, batch_limit

log = logging.getLogger(__name__)

INSTALL_HINT = ("pip install torchcodec==0.17.0 (CPU); for NVDEC the CUDA build: "
                "pip install torchcodec --index-url https://download.pytorch.org/whl/cu130")


def _working_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """As :func:`pipeline.media.decode._target_size`: the shorter side to ``short_side``, even sizes."""
    scale = short_side / min(width, height)
    return max(2, round(height * scale / 2) * 2), max(2, round(width * scale / 2) * 2)


class TorchcodecDecoder:
    """A ``Decoder`` for ingest (``(path, DecodeOptions) -> Iterator[FrameBatch]``)."""

    def __init__(self, device: str = "auto", threads: int = 0):
        self.device = resolve_device(device)
        self.threads = threads  # FFmpeg threads for CPU decoding (0: FFmpeg decides); unused on CUDA
        self.name = f"torchcodec-{'cuda' if self.device.startswith('cuda') else 'cpu'}"

    def __call__(self, path: Path, options: DecodeOptions) -> Iterator[FrameBatch]:
        torch = require("torch", "pip install -r requirements.txt")
        decoders = require("torchcodec.decoders", INSTALL_HINT)
        path = Path(path)
        try:
            decoder = decoders.VideoDecoder(str(path), device=self.device, seek_mode="approximate",
                                            num_ffmpeg_threads=self.threads)
            meta = decoder.metadata
        except (RuntimeError, ValueError) as err:
            raise MediaError(path, code="media.unopenable", reason=f"torchcodec: {err}") from err
        begin = float(meta.begin_stream_seconds or 0.0)
        end = float(meta.end_stream_seconds or meta.duration_seconds or 0.0)
        if not end > begin:
            raise MediaError(path, code="media.no_frames", reason=" (torchcodec finds no duration for the video stream)")
        if meta.width and meta.height and meta.width * meta.height > options.max_pixels:
            raise MediaError(path, code="media.too_many_pixels", width=meta.width, height=meta.height,
                             limit=options.max_pixels)
        step = 1.0 / options.fps
        instants = np.arange(0.0, end - begin, step)
        first = 0
        while first < len(instants):
            chunk = instants[first:first + batch_limit(first, options.batch_size)]
            try:
                frames = decoder.get_frames_played_at([begin + float(t) for t in chunk])
            except (RuntimeError, ValueError) as err:
                if first == 0:
                    raise MediaError(path, code="media.no_frames", reason=f" (torchcodec: {err})") from err
                log.warning("%s: decoding stopped at %.1f s (%s); indexing the frames decoded so far",
                            path, float(chunk[0]), err)
                return
            yield self._batch(torch, first, frames, begin, options.short_side)
            first += len(chunk)

    @staticmethod
    def _batch(torch, first: int, frames, begin: float, short_side: int) -> FrameBatch:
        from torchcodec.encoders import JpegEncoder

        data = frames.data  # uint8 (N, 3, H, W) on the decoder's device
        height, width = _working_size(data.shape[2], data.shape[3], short_side)
        small = torch.nn.functional.interpolate(data.float(), size=(height, width), mode="bilinear",
                                                antialias=True, align_corners=False)
        pixels = small.round_().clamp_(0, 255).to(torch.uint8)
        jpegs = [bytes(JpegEncoder(p).to_tensor(quality=FRAME_JPEG_QUALITY).cpu().numpy()) for p in pixels]
        stamps = np.maximum(frames.pts_seconds.cpu().numpy().astype(np.float64) - begin, 0.0)
        return FrameBatch(first, stamps, [], pixels=pixels, jpegs=jpegs, signatures=signatures(torch, pixels))


def signatures(torch, pixels) -> np.ndarray:
    """:func:`pipeline.media.similar.signature` of every frame, on the frames' device: grey
    block means over a crop to a multiple of ``SIGNATURE_CELLS``, ``(N, 16, 16)`` float32."""
    cells = SIGNATURE_CELLS
    height, width = pixels.shape[2] - pixels.shape[2] % cells, pixels.shape[3] - pixels.shape[3] % cells
    weights = torch.tensor([0.299, 0.587, 0.114], device=pixels.device).view(1, 3, 1, 1)
    grey = (pixels[:, :, :height, :width].float() * weights).sum(dim=1, keepdim=True)
    return torch.nn.functional.avg_pool2d(grey, (height // cells, width // cells)).squeeze(1).cpu().numpy()
