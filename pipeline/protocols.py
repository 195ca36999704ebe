"""The small interfaces through which the pipeline talks to models.

``models/`` implements them with real networks; tests implement them with fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.records import TranscriptSegment


class TextEncoder(Protocol):
    """Texts to vectors in the space of one named vector (``vector_name``): an image-text
    encoder's own text tower, or a query encoder that maps into its space (M-CLIP, or a
    translation in front of an English tower; see :mod:`pipeline.search.text_encoders`)."""

    #: Human-readable description, e.g. ``"M-CLIP/XLM-Roberta-Large-Vit-L-14"``.
    name: str
    #: The named vector whose space the texts are mapped into.
    vector_name: str

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Texts to ``(N, dim)`` float32, L2-normalised."""
        ...


class Translator(Protocol):
    """Machine translation of short texts (Apertium in ``models.translate``)."""

    name: str

    def translate(self, texts: Sequence[str]) -> list[str]:
        """One translation per text, in order; a text it cannot translate comes back unchanged."""
        ...


class ImageTextEncoder(Protocol):
    """A joint text-image embedding model (CLIP-like).

    Real encoders also have ``identity() -> {"model", "weights", "dim", ...}``, which a database
    records for the vectors they make (:mod:`pipeline.index.encoders`); fakes may omit it."""

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


class CutDetector(Protocol):
    """A shot-boundary detector over a media file (TransNetV2 in ``models.transnetv2``).

    Its cuts bound semantic shots (:func:`pipeline.segment.segment`'s ``hard_cuts``)."""

    #: Human-readable model spec, e.g. ``"transnetv2"``; stored with the cuts it found.
    name: str

    def detect_cuts(self, media: str | Path) -> list[float]:
        """Sorted times (seconds, on the clock of :func:`pipeline.media.iter_frames`) at which a
        new camera shot starts. Raises :class:`pipeline.errors.MediaError` for an unusable file."""
        ...

    def unload(self) -> None:
        """Free the model; the next call loads it again."""
        ...


#: A frame handed to a describer: an image file, or an RGB ``uint8 (H, W, 3)`` array.
Frame = str | Path | np.ndarray


class Transcriber(Protocol):
    """Speech recognition over a media file (faster-whisper in ``models.whisper``)."""

    #: Human-readable model spec, e.g. ``"whisper:small/int8"``.
    name: str

    def transcribe(self, media: str | Path, video_id: str = "") -> list[TranscriptSegment]:
        """Timed segments in order; ``[]`` for a file without audio or without speech."""
        ...

    def unload(self) -> None:
        """Free the model; the next call loads it again."""
        ...


class Describer(Protocol):
    """A vision-language model that answers with text (meant to be JSON) about a few frames.

    ``instructions`` is the system message, ``text`` the user message that goes with the
    frames. ``schema`` is the JSON schema the answer must follow: backends that can
    constrain decoding use it (OpenAI-compatible ``response_format``); the prompt made by
    :mod:`pipeline.analysis.prompts` also spells it out, so the others can ignore it.
    A retry passes the model's ``previous_output`` and a ``correction`` message, which
    backends append as an assistant turn and a user turn.

    Raises :class:`pipeline.errors.ModelError` when the model cannot run at all (missing
    weights, server unreachable); a bad *answer* is returned as text for the caller to judge.
    """

    #: Human-readable model spec, e.g. ``"Qwen/Qwen2.5-VL-7B-Instruct"``.
    name: str
    #: Seconds spent in the last call, split by part: ``{"prepare_s": ..., "model_s": ...}``.
    last_timings: dict[str, float]

    def describe(self, frames: Sequence[Frame], text: str, instructions: str, schema: dict | None = None,
                 previous_output: str | None = None, correction: str | None = None) -> str:
        ...

    def unload(self) -> None:
        ...
