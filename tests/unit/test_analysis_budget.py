"""Qwen-VL visual-token budget (pure math in models.vlm_transformers, no torch needed)."""

from __future__ import annotations

import math

import pytest

from models.vlm_transformers import plan_max_pixels, smart_resize, visual_tokens
from pipeline.errors import ModelError

F = 28


def test_resize_is_a_multiple_of_the_factor_and_keeps_the_aspect():
    h, w = smart_resize(720, 1280, F, 4 * F * F, 256 * F * F)
    assert h % F == 0 and w % F == 0 and h * w <= 256 * F * F
    assert abs(w / h - 1280 / 720) < 0.1


def test_tokens_per_image():
    """A 720p frame under max_pixels=256*28*28 becomes 336x588: 12 x 21 = 252 tokens."""
    h, w = smart_resize(720, 1280, F, 4 * F * F, 256 * F * F)
    assert (h, w) == (336, 588)
    assert visual_tokens(h, w, F) == math.ceil(h / F) * math.ceil(w / F) == 252


def test_within_budget_keeps_max_pixels():
    assert plan_max_pixels([(720, 1280)] * 4, F, 4 * F * F, 256 * F * F, 1280) == (256 * F * F, 1008)


def test_over_budget_downscales_every_frame():
    limit, tokens = plan_max_pixels([(720, 1280)] * 8, F, 4 * F * F, 256 * F * F, 1280)
    assert limit == 160 * F * F and tokens <= 1280


def test_refused_when_even_the_minimum_does_not_fit():
    with pytest.raises(ModelError, match="max_visual_tokens=100"):
        plan_max_pixels([(720, 1280)] * 8, F, 32 * F * F, 256 * F * F, 100)


def test_no_frames_no_tokens():
    assert plan_max_pixels([], F, 4 * F * F, 256 * F * F, 10) == (256 * F * F, 0)
