"""Near-duplicate sampled frames: a frame that looks like the last one the encoder saw can
reuse its embedding instead of being encoded again (on a CPU the encoder is the whole cost).

A frame's *signature* is its grey picture shrunk to 16 x 16 block means (``SIGNATURE_CELLS``).
A frame is a near duplicate of the reference (the last frame actually encoded, never a skipped one, so
a slow pan cannot drift through a chain of skips) when **every** cell differs from the
reference's by at most ``threshold`` grey levels. The test is deliberately strict: one cell
that changes (a person entering a corner of a static shot: a 14x25-pixel cell of a 224-pixel
frame) is enough to encode the frame. Compression noise moves block means by a level or
two. How much it saves depends wholly on the footage: a locked-off camera on a quiet scene,
slides or a still, much; street footage or a moving camera, nothing (``bench/ingest.py``
reports the share skipped per clip).
"""

from __future__ import annotations

import numpy as np

SIGNATURE_CELLS = 16


def signature(image: np.ndarray, cells: int = SIGNATURE_CELLS) -> np.ndarray:
    """``(cells, cells)`` float32 grey block means of an RGB ``uint8 (H, W, 3)`` image."""
    height, width = image.shape[:2]
    if height < cells or width < cells:
        raise ValueError(f"a {width}x{height} frame is too small for a {cells}x{cells} signature")
    grey = image[: height - height % cells, : width - width % cells].astype(np.float32) @ np.float32([0.299, 0.587, 0.114])
    h, w = grey.shape
    return grey.reshape(cells, h // cells, cells, w // cells).mean(axis=(1, 3))


def plan_reuse(signatures: list[np.ndarray], reference: np.ndarray | None, threshold: float) -> tuple[list[int], np.ndarray]:
    """For consecutive frames, which to encode and where each frame's embedding comes from.

    Returns ``(encode, source)``: the positions to encode, and for every position the position
    whose embedding it takes (itself when encoded; ``-1`` for the caller's previous reference,
    when the batch starts with a duplicate of it). ``threshold <= 0`` encodes everything.
    """
    encode: list[int] = []
    source = np.empty(len(signatures), dtype=np.int64)
    ref_sig, ref_pos = reference, -1
    for i, sig in enumerate(signatures):
        if threshold > 0 and ref_sig is not None and ref_sig.shape == sig.shape \
                and float(np.max(np.abs(sig - ref_sig))) <= threshold:
            source[i] = ref_pos
        else:
            encode.append(i)
            source[i] = i
            ref_sig, ref_pos = sig, i
    return encode, source
