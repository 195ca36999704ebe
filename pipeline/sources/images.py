"""Loading query images (JPG, PNG, WEBP, AVIF...) with clear errors.

The file is checked here, not by whatever received it: its size in bytes, that it is an image
format we accept (by its content, not its name), its pixel count (a decompression bomb is
refused before it is decoded), and that it decodes completely.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from pipeline.errors import MediaError

#: Decompression-bomb guard: refuse images above this many pixels.
MAX_IMAGE_PIXELS = 80_000_000
#: Image formats accepted as queries (Pillow's names), whatever the file is called.
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "GIF", "BMP", "TIFF")


def load_image(path: str | Path, max_bytes: int | None = None) -> np.ndarray:
    """An image file as RGB ``uint8 (H, W, 3)``; :class:`MediaError` with a code saying why not."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(path, code="image.not_found")
    size = path.stat().st_size
    if size == 0:
        raise MediaError(path, code="media.empty")
    if max_bytes is not None and size > max_bytes:
        raise MediaError(path, code="image.too_big", size_mb=f"{size / 2**20:.1f}", limit_mb=f"{max_bytes / 2**20:g}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.format not in IMAGE_FORMATS:
                    raise MediaError(path, code="image.invalid")
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise MediaError(path, code="image.too_many_pixels", width=image.width, height=image.height,
                                     limit=MAX_IMAGE_PIXELS)
                return np.asarray(image.convert("RGB"))
    except UnidentifiedImageError as err:
        raise MediaError(path, code="image.invalid") from err
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise MediaError(path, code="image.too_many_pixels", width="?", height="?", limit=MAX_IMAGE_PIXELS) from err
    except (OSError, SyntaxError, ValueError) as err:
        raise MediaError(path, code="image.undecodable", reason=str(err)) from err
