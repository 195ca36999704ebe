"""Loading query images (JPG, PNG, WEBP, AVIF...) with clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from pipeline.errors import MediaError

#: Decompression-bomb guard: refuse images above this many pixels.
MAX_IMAGE_PIXELS = 80_000_000


def load_image(path: str | Path) -> np.ndarray:
    """An image file as RGB ``uint8 (H, W, 3)``."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(path, "image file not found")
    if path.stat().st_size == 0:
        raise MediaError(path, "empty file (0 bytes)")
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise MediaError(path, f"image is {image.width}x{image.height}, above {MAX_IMAGE_PIXELS} pixels")
            return np.asarray(image.convert("RGB"))
    except UnidentifiedImageError as err:
        raise MediaError(path, "not an image format Pillow can read (use JPG, PNG, WEBP or AVIF)") from err
    except (OSError, Image.DecompressionBombError) as err:
        raise MediaError(path, f"image cannot be decoded ({err})") from err
