"""The transformers Qwen-VL describer on a tiny random Qwen2.5-VL (real architecture, real
tokenizer vocabulary and special-token ids), saved and loaded through the same
``from_pretrained`` path as a real checkpoint (the ``tiny_qwen_dir`` fixture, built by
``testkit.build_tiny_qwen25vl``). Random weights prove wiring only."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = [pytest.mark.model, pytest.mark.slow]

@pytest.fixture(scope="module")
def describer(tiny_qwen_dir):
    from models.vlm_transformers import QwenVLDescriber, QwenVLOptions

    model = QwenVLDescriber(QwenVLOptions(model=str(tiny_qwen_dir), device="cpu", max_new_tokens=16,
                                          local_files_only=True))
    yield model
    model.unload()


@pytest.fixture
def frames(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    path = tmp_path / "frame0.jpg"
    Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(path)
    return [path, rng.integers(0, 255, (180, 320, 3), dtype=np.uint8)]


def test_describe_two_frames_and_transcript(describer, frames):
    text = describer.describe(frames, "Transcripción: hola a todos", "Describe el plano.", {"type": "object"})
    assert isinstance(text, str)
    t = describer.last_timings
    assert t["model_s"] > 0 and t["prepare_s"] > 0 and 0 < t["new_tokens"] <= 16
    assert describer._model.config.model_type == "qwen2_5_vl" and describer._factor == 28


def test_retry_turns_are_sent(describer, frames):
    text = describer.describe(frames[:1], "x", "y", previous_output="no json", correction="otra vez, en JSON")
    assert isinstance(text, str)


def test_invalid_json_ends_as_a_stored_error_with_the_raw_text(describer, frames):
    from pipeline.analysis import AnalysisOptions, ShotInput, analyze_shots
    from pipeline.records import TranscriptSegment

    shots = [ShotInput(0, 0.0, 2.0, tuple(frames))]
    result = analyze_shots("tiny", shots, [TranscriptSegment("tiny", 0.0, 1.5, "hola a todos")], describer,
                           AnalysisOptions(max_retries=1, progress=False))
    shot = result.shots[0]
    assert shot.status == "error" and shot.attempts == 2 and shot.description is None
    assert shot.raw_output is not None and shot.error.startswith("respuesta no válida tras 2 intento(s)")
    assert shot.model == describer.name and shot.transcript == "hola a todos"
    json.dumps(result.model_dump(mode="json"))


def test_frames_are_downscaled_to_fit_the_visual_token_budget(tiny_qwen_dir, frames):
    from models.vlm_transformers import QwenVLDescriber, QwenVLOptions

    model = QwenVLDescriber(QwenVLOptions(model=str(tiny_qwen_dir), device="cpu", max_new_tokens=2,
                                          min_pixels=4 * 28 * 28, max_visual_tokens=24, local_files_only=True))
    model.load()
    inputs = model._inputs(frames, "x", "y", None, None)
    assert int((inputs["image_grid_thw"].prod(-1) // 4).sum()) <= 24
    assert int((inputs["input_ids"] == 151655).sum()) <= 24


def test_too_many_frames_for_the_budget_are_refused(tiny_qwen_dir, frames):
    from models.vlm_transformers import QwenVLDescriber, QwenVLOptions
    from pipeline.errors import ModelError

    model = QwenVLDescriber(QwenVLOptions(model=str(tiny_qwen_dir), device="cpu", max_visual_tokens=40,
                                          local_files_only=True))
    with pytest.raises(ModelError, match="max_visual_tokens=40"):
        model.describe(frames * 4, "x", "y")


def test_smart_resize_matches_qwen_vl_utils():
    from qwen_vl_utils.vision_process import smart_resize as reference

    from models.vlm_transformers import smart_resize

    for h, w in [(720, 1280), (272, 640), (120, 160), (1080, 1920), (50, 3000), (28, 28)]:
        for factor in (28, 32):
            for max_pixels in (64 * factor**2, 256 * factor**2, 1280 * factor**2):
                assert smart_resize(h, w, factor, 4 * factor**2, max_pixels) == reference(
                    h, w, factor, min_pixels=4 * factor**2, max_pixels=max_pixels)


def test_unsupported_checkpoint_type_is_refused(tmp_path):
    from models.vlm_transformers import QwenVLDescriber, QwenVLOptions
    from pipeline.errors import ModelError

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ModelError, match="'bert' model"):
        QwenVLDescriber(QwenVLOptions(model=str(tmp_path), local_files_only=True)).load()
