"""Tensor preprocessing (``models.preprocess``, what ``encode_images`` runs, on CPU here and on
the GPU there) against open_clip's own per-image PIL transform: the same pixels within a few
``uint8`` levels at edges, and the same vectors within tolerance, for each resize mode.

The tiny random-weight models prove that the two paths feed the network the same input; they
say nothing about search quality.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from models.preprocess import PixelSpec, to_pixels
from pipeline.media import DecodeOptions, iter_frames

from testkit import slideshow_images


@pytest.fixture(scope="module")
def frames(slideshow) -> list[np.ndarray]:
    """Decoded frames as ingest makes them (short side 224, several aspect ratios), plus a
    full-size photo and a portrait crop, so that every path (shrink, crop, pad) is taken."""
    decoded = [img for b in iter_frames(slideshow, DecodeOptions(fps=1.0)) for img in b.images][:4]
    photo = np.ascontiguousarray(slideshow_images((512, 384))[1])
    return [*decoded, photo, np.ascontiguousarray(photo[:, 100:300])]


@pytest.mark.parametrize("resize_mode", ["shortest", "squash", "longest"])
@pytest.mark.parametrize("interpolation", ["bicubic", "bilinear"])
def test_tensor_pixels_match_open_clips_pil_transform(frames, resize_mode, interpolation):
    from open_clip.transform import image_transform

    mean, std = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
    reference = image_transform(224, False, mean=mean, std=std, resize_mode=resize_mode, interpolation=interpolation)
    expected = torch.stack([reference(Image.fromarray(f)) for f in frames])
    spec = PixelSpec((224, 224), mean, std, interpolation, resize_mode)
    got = to_pixels(frames, spec)
    assert got.shape == expected.shape == (len(frames), 3, 224, 224)
    levels = ((got - expected).abs() * torch.tensor(std).view(1, 3, 1, 1) * 255)  # back to uint8 levels
    assert levels.mean() < 0.2 and levels.max() < 8  # rounding, and bicubic's kernel at a few edges


def _tiny_model_dir(folder: Path, preprocess_cfg: dict) -> Path:
    import open_clip

    model_cfg = {"embed_dim": 64, "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "patch_size": 32},
                 "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}}
    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}))
    torch.save(open_clip.CLIP(**model_cfg).state_dict(), folder / "open_clip_pytorch_model.bin")
    return folder


@pytest.mark.parametrize("preprocess_cfg", [
    {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]},  # CLIP: shortest
    {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "resize_mode": "squash", "interpolation": "bicubic"},  # SigLIP
], ids=["clip-shortest", "siglip-squash"])
def test_encoder_vectors_match_the_pil_path(frames, tmp_path, preprocess_cfg):
    import open_clip

    from models.clip import ClipOptions, OpenClipEncoder

    folder = _tiny_model_dir(tmp_path / "model", preprocess_cfg)
    encoder = OpenClipEncoder(ClipOptions(model=f"local-dir:{folder}", device="cpu"))
    got = encoder.encode_images(frames)
    model, _, transform = open_clip.create_model_and_transforms(f"local-dir:{folder}", device="cpu")
    model.eval()
    with torch.inference_mode():
        features = model.encode_image(torch.stack([transform(Image.fromarray(f)) for f in frames])).numpy()
    expected = features / np.linalg.norm(features, axis=1, keepdims=True)
    assert got.shape == expected.shape
    cosines = np.sum(got * expected, axis=1)
    assert cosines.min() > 0.9999, cosines  # a wrong resize mode gives 0.994-0.998 here


def test_a_uint8_tensor_already_on_the_device_is_taken_as_is(frames):
    """The NVDEC path hands over ``uint8 (N, 3, H, W)`` tensors: same result as the arrays."""
    spec = PixelSpec((224, 224), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "bicubic", "squash")
    same_size = [f for f in frames if f.shape == frames[0].shape]
    batch = torch.from_numpy(np.stack(same_size)).permute(0, 3, 1, 2).contiguous()
    assert torch.equal(to_pixels(batch, spec), to_pixels(same_size, spec))
