"""Near-duplicate signatures and the reuse plan (pipeline.media.similar): pure numpy."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.media import plan_reuse, signature


def _frame(seed: int, noise: float = 0.0, base: np.ndarray | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = base.astype(np.float32) if base is not None else rng.integers(0, 256, (224, 398, 3)).astype(np.float32)
    return np.clip(image + noise * rng.normal(size=image.shape), 0, 255).astype(np.uint8)


def test_signature_is_16x16_grey_block_means():
    image = np.zeros((224, 400, 3), np.uint8)
    image[:, :200] = 255  # left half white
    sig = signature(image)
    assert sig.shape == (16, 16) and sig.dtype == np.float32
    assert np.allclose(sig[:, :8], 255 * 1.0, atol=0.01) and np.allclose(sig[:, 8:], 0)
    with pytest.raises(ValueError, match="too small"):
        signature(np.zeros((8, 8, 3), np.uint8))


def test_noise_is_a_duplicate_a_small_new_object_is_not():
    still = _frame(0)
    noisy = _frame(1, noise=8.0, base=still)  # sensor noise: block means barely move
    intruder = still.copy()
    intruder[100:130, 200:215] = 255 - intruder[100:130, 200:215]  # a 30x15 object in one cell
    sigs = [signature(f) for f in (still, noisy, intruder)]
    encode, source = plan_reuse(sigs, None, threshold=3.0)
    assert encode == [0, 2] and source.tolist() == [0, 0, 2]


def test_the_reference_is_the_last_encoded_frame_so_a_slow_drift_is_caught():
    base = _frame(0)
    drift = [np.clip(base.astype(int) + 2 * k, 0, 255).astype(np.uint8) for k in range(6)]  # +2 levels each
    encode, source = plan_reuse([signature(f) for f in drift], None, threshold=3.0)
    assert encode == [0, 2, 4]  # never more than 3 levels from the frame whose embedding is reused
    assert source.tolist() == [0, 0, 2, 2, 4, 4]


def test_a_batch_starting_with_a_duplicate_of_the_previous_reference_points_to_it():
    still = signature(_frame(0))
    encode, source = plan_reuse([still, still], still, threshold=3.0)
    assert encode == [] and source.tolist() == [-1, -1]


def test_threshold_zero_encodes_everything():
    still = signature(_frame(0))
    encode, source = plan_reuse([still, still, still], still, threshold=0)
    assert encode == [0, 1, 2] and source.tolist() == [0, 1, 2]
