"""Shared fixtures: generated media, a tiny open_clip model of the real architecture family.

A tiny random-weight model proves wiring, shapes and persistence, never search quality.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from testkit import slideshow_images, write_video


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def slideshow(media_dir) -> Path:
    """8 s, 10 fps, four real photos of 2 s each: four camera shots with known cuts at 2, 4, 6 s."""
    return write_video(media_dir / "slideshow.mp4", [(img, 2.0) for img in slideshow_images()])


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    """A 3.7 M-parameter open_clip model (embed_dim 768, 2-layer ViT and text towers), saved in
    open_clip's local-dir format so it loads exactly like a real checkpoint."""
    import open_clip
    import torch

    folder = tmp_path_factory.mktemp("tiny-clip")
    model_cfg = {
        "embed_dim": 768,
        "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "patch_size": 32},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
    }
    preprocess_cfg = {"mean": list(open_clip.OPENAI_DATASET_MEAN), "std": list(open_clip.OPENAI_DATASET_STD)}
    torch.manual_seed(0)
    model = open_clip.CLIP(**model_cfg)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}))
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return folder


@pytest.fixture(scope="session")
def tiny_encoder(tiny_clip_dir):
    from models.clip import ClipOptions, OpenClipEncoder

    return OpenClipEncoder(ClipOptions(model=f"local-dir:{tiny_clip_dir}", device="cpu"))
