"""The small interfaces through which the pipeline talks to models.

``models/`` implements them with real networks; tests implement them with fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class ImageTextEncoder(Protocol):
    """A joint text-image embedding model (CLIP-like)."""

    #: Human-readable model spec, e.g. ``"ViT-L-14/openai"``.
    name: str
    #: Name of the Qdrant named vector this encoder writes, e.g. ``"clip-vit-l-14-openai"``.
    vector_name: str
    #: Embedding dimension.
    dim: int

    def encode_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB ``uint8 (H, W, 3)`` images to ``(N, dim)`` float32, L2-normalised."""
        ...

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Texts to ``(N, dim)`` float32, L2-normalised."""
        ...
