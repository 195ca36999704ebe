"""Image preprocessing as batched tensor operations, on the encoder's device.

open_clip's own preprocessing takes one PIL image at a time (resize, crop, to tensor,
normalise). Here a batch of decoded frames becomes one ``uint8`` tensor once, is moved to the
device as ``uint8`` (a quarter of the bytes of float), and is resized, cropped and normalised
there, in one call per batch: no per-frame PIL, and on a GPU no per-frame CPU work at all.

The geometry follows open_clip's eval transform for each ``resize_mode`` (``shortest``: the
shorter side to the target, then a centre crop; ``squash``: straight to the target size;
``longest``: the longer side to the target, then centred padding with ``fill_color``), with
antialiased bicubic (or bilinear) resampling like PIL's, and the result rounded to ``uint8``
levels as PIL's is, before ``(x / 255 - mean) / std``. ``tests/integration`` checks that the
vectors match the PIL path's within tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from pipeline.errors import ModelError


@dataclass(frozen=True)
class PixelSpec:
    """What a model's image tower expects: ``size`` is (height, width)."""

    size: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bicubic"
    resize_mode: str = "shortest"
    fill_color: int = 0

    def __post_init__(self) -> None:
        if self.resize_mode not in ("shortest", "squash", "longest"):
            raise ModelError(f"unknown resize_mode {self.resize_mode!r} in the model's preprocessing config")

    @classmethod
    def from_open_clip(cls, cfg: dict[str, Any]) -> PixelSpec:
        """From ``model.visual.preprocess_cfg`` (open_clip sets it on every model it creates)."""
        size = cfg.get("size", 224)
        height, width = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))

        def triple(value: Any) -> tuple[float, float, float]:
            values = [float(v) for v in (value if isinstance(value, (list, tuple)) else [value] * 3)]
            return values[0], values[1], values[2]

        return cls((height, width), triple(cfg["mean"]), triple(cfg["std"]), str(cfg.get("interpolation", "bicubic")),
                   str(cfg.get("resize_mode", "shortest")), int(cfg.get("fill_color", 0)))


def uint8_batch(images: Sequence[np.ndarray] | torch.Tensor) -> list[tuple[list[int], torch.Tensor]]:
    """Group frames by size: ``[(positions, uint8 NCHW tensor)]``. A tensor is taken as one
    group (``uint8``, NCHW, any device); arrays are RGB ``uint8 (H, W, 3)``."""
    if isinstance(images, torch.Tensor):
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
            raise ModelError(f"expected a uint8 (N, 3, H, W) tensor, got {tuple(images.shape)} {images.dtype}")
        return [(list(range(images.shape[0])), images)]
    groups: dict[tuple[int, ...], list[int]] = {}
    for position, image in enumerate(images):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ModelError(f"expected RGB uint8 (H, W, 3) frames, got {image.shape} {image.dtype}")
        groups.setdefault(image.shape, []).append(position)
    return [(positions, torch.from_numpy(np.stack([images[p] for p in positions])).permute(0, 3, 1, 2))
            for positions in groups.values()]


def _resize(x: torch.Tensor, height: int, width: int, interpolation: str) -> torch.Tensor:
    if tuple(x.shape[-2:]) == (height, width):
        return x
    mode = "bilinear" if interpolation == "bilinear" else "bicubic"
    # PIL resamples with antialiasing (its filter support grows with the scale when shrinking)
    out = F.interpolate(x, size=(height, width), mode=mode, align_corners=False, antialias=True)
    return out.round_().clamp_(0, 255)  # PIL's output is uint8


def _center_crop_or_pad(x: torch.Tensor, height: int, width: int, fill: float) -> torch.Tensor:
    h, w = x.shape[-2:]
    if h < height or w < width:  # pad evenly (torchvision's CenterCrop pads with 0; CenterCropOrPad with fill)
        top, left = max(0, (height - h) // 2), max(0, (width - w) // 2)
        x = F.pad(x, (left, max(0, width - w - left), top, max(0, height - h - top)), value=fill)
        h, w = x.shape[-2:]
    top, left = int(round((h - height) / 2.0)), int(round((w - width) / 2.0))
    return x[..., top:top + height, left:left + width]


def geometry(x: torch.Tensor, spec: PixelSpec) -> torch.Tensor:
    """Float ``(N, 3, H, W)`` in 0..255 to the model's size, as open_clip's eval transform does."""
    height, width = spec.size
    h, w = x.shape[-2:]
    if spec.resize_mode == "squash":
        return _resize(x, height, width, spec.interpolation)
    if spec.resize_mode == "longest":
        scale = min(height / h, width / w)
        x = _resize(x, max(1, round(h * scale)), max(1, round(w * scale)), spec.interpolation)
        return _center_crop_or_pad(x, height, width, float(spec.fill_color))
    if height == width:  # torchvision Resize(int): the shorter side to the size, the longer truncated
        short, long = (h, w) if h <= w else (w, h)
        new_long = int(height * long / short)
        new_h, new_w = (height, new_long) if h <= w else (new_long, width)
    else:
        scale = max(height / h, width / w)
        new_h, new_w = round(h * scale), round(w * scale)
    return _center_crop_or_pad(_resize(x, new_h, new_w, spec.interpolation), height, width, 0.0)


def to_pixels(images: Sequence[np.ndarray] | torch.Tensor, spec: PixelSpec, device: str | torch.device = "cpu",
              dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Frames to the model's normalised input, ``(N, 3, H, W)`` of ``dtype`` on ``device``, in the
    order given. Frames travel to the device as ``uint8``; everything after runs there."""
    groups = uint8_batch(images)
    mean = torch.tensor(spec.mean, device=device, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(spec.std, device=device, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
    out: torch.Tensor | None = None
    for positions, batch in groups:
        x = batch.to(device, non_blocking=True).float()
        x = ((geometry(x, spec) - mean) / std).to(dtype)
        if len(groups) == 1:
            return x
        if out is None:
            out = torch.empty((len(images), *x.shape[1:]), dtype=dtype, device=device)
        out[positions] = x
    if out is None:
        return torch.empty((0, 3, *spec.size), dtype=dtype, device=device)
    return out
