"""Helpers the tests import (``tests/`` is on pytest's pythonpath): generated media."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest


def slideshow_images(size: tuple[int, int] = (320, 240)) -> list[np.ndarray]:
    """Real photos from scikit-image (astronaut, coffee, chelsea, rocket), or distinct synthetic
    patterns when scikit-image is missing."""
    from PIL import Image

    try:
        from skimage import data

        photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    except ImportError:
        rng = np.random.default_rng(0)
        photos = [rng.integers(0, 255, (240, 320, 3), dtype=np.uint8) for _ in range(4)]
    return [np.asarray(Image.fromarray(p).convert("RGB").resize(size)) for p in photos]


def write_video(path: Path, scenes: list[tuple[np.ndarray, float]], fps: int = 10, codec: str = "libx264",
                audio: bool = False) -> Path:
    """Write ``(image, seconds)`` scenes as a video with a little motion noise inside each scene."""
    rng = np.random.default_rng(1)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        height, width = scenes[0][0].shape[:2]
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        audio_stream = container.add_stream("aac", rate=16000) if audio else None
        for image, seconds in scenes:
            for _ in range(int(round(seconds * fps))):
                noisy = np.clip(image.astype(np.int16) + rng.integers(-4, 5, image.shape), 0, 255).astype(np.uint8)
                for packet in stream.encode(av.VideoFrame.from_ndarray(noisy, format="rgb24")):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if audio_stream is not None:
            total = sum(s for _, s in scenes)
            samples = (0.1 * np.sin(np.linspace(0, 440 * 2 * np.pi * total, int(16000 * total)))).astype(np.float32)
            for start in range(0, len(samples), 1024):
                frame = av.AudioFrame.from_ndarray(samples[None, start:start + 1024], format="fltp", layout="mono")
                frame.sample_rate = 16000
                for packet in audio_stream.encode(frame):
                    container.mux(packet)
            for packet in audio_stream.encode():
                container.mux(packet)
    return path


def ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)
