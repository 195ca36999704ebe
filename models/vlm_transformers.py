"""Qwen2.5-VL / Qwen3-VL through transformers, behind :class:`pipeline.protocols.Describer`.

``model`` is a Hugging Face id (default ``Qwen/Qwen2.5-VL-7B-Instruct``) or a local
directory holding any Qwen2-VL, Qwen2.5-VL or Qwen3-VL checkpoint; the class comes from
``config.model_type`` through ``AutoModelForImageTextToText``.

Precision ``"auto"``: bfloat16 on CUDA, float16 on MPS, float32 on CPU. Attention
``"auto"``: ``flash_attention_2`` on CUDA when the ``flash_attn`` package is installed,
``sdpa`` otherwise.

Visual-token budget: Qwen-VL resizes each image to multiples of ``patch_size *
spatial_merge_size`` (28 px for Qwen2.5-VL, 32 for Qwen3-VL) and spends one token per
merged patch, ``ceil(h/28) * ceil(w/28)``. Before calling the model, the frames' per-image
``max_pixels`` is lowered so that all frames of a request fit ``max_visual_tokens``; if
even ``min_pixels`` per frame does not fit, the request is refused with a ModelError.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.device import require, resolve_device, resolve_dtype
from pipeline.errors import MediaError, ModelError
from pipeline.protocols import Frame

log = logging.getLogger(__name__)

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
SUPPORTED_TYPES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe")
_HINT = "pip install -r requirements.txt (transformers, qwen-vl-utils, torch, torchvision)"


@dataclass(frozen=True)
class QwenVLOptions:
    """``min_pixels``/``max_pixels``: bounds on each frame's area after resizing (in pixels).
    ``max_visual_tokens``: bound on the visual tokens of all frames of one request."""

    model: str = DEFAULT_MODEL
    device: str = "auto"
    precision: str = "auto"
    attention: str = "auto"
    min_pixels: int = 32 * 28 * 28
    max_pixels: int = 256 * 28 * 28
    max_visual_tokens: int = 1280
    max_new_tokens: int = 1024
    temperature: float = 0.0
    local_files_only: bool = False


# ----------------------------------------------------------------- visual-token budget (pure)


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """Qwen-VL's resize rule (as in qwen_vl_utils): sides rounded to multiples of ``factor``,
    area brought inside ``[min_pixels, max_pixels]`` keeping the aspect ratio."""
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def visual_tokens(height: int, width: int, factor: int) -> int:
    return math.ceil(height / factor) * math.ceil(width / factor)


def plan_max_pixels(sizes: Sequence[tuple[int, int]], factor: int, min_pixels: int, max_pixels: int,
                    max_tokens: int) -> tuple[int, int]:
    """(per-frame max_pixels, total visual tokens) so that all frames fit ``max_tokens``.

    ``sizes`` are (height, width). Raises ModelError when even ``min_pixels`` per frame is too many."""

    def total(limit: int) -> int:
        return sum(visual_tokens(*smart_resize(h, w, factor, min(min_pixels, limit), limit), factor)
                   for h, w in sizes)

    if not sizes:
        return max_pixels, 0
    tokens = total(max_pixels)
    if tokens <= max_tokens:
        return max_pixels, tokens
    limit = (max_tokens // len(sizes)) * factor * factor
    if limit < min_pixels:
        raise ModelError(
            f"{len(sizes)} frames need at least {len(sizes) * (min_pixels // factor ** 2)} visual tokens, over "
            f"max_visual_tokens={max_tokens}: send fewer frames per shot or raise max_visual_tokens")
    tokens = total(limit)
    log.info("downscaling %d frames to max_pixels=%d (%d visual tokens, budget %d)", len(sizes), limit, tokens,
             max_tokens)
    return limit, tokens


# ----------------------------------------------------------------- the describer


def load_frame(frame: Frame):
    """A PIL RGB image from a path or an RGB uint8 array."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(frame, np.ndarray):
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"a frame array must be RGB uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
        return Image.fromarray(frame)
    try:
        with Image.open(Path(frame)) as image:
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError) as err:
        raise MediaError(frame, f"cannot be read as an image ({err})") from err


def conversation(images: list, max_pixels: int, min_pixels: int, text: str, instructions: str,
                 previous_output: str | None, correction: str | None) -> list[dict]:
    content = [{"type": "image", "image": im, "min_pixels": min(min_pixels, max_pixels), "max_pixels": max_pixels}
               for im in images]
    messages = [{"role": "system", "content": [{"type": "text", "text": instructions}]},
                {"role": "user", "content": [*content, {"type": "text", "text": text}]}]
    if previous_output is not None and correction is not None:
        messages += [{"role": "assistant", "content": [{"type": "text", "text": previous_output}]},
                     {"role": "user", "content": [{"type": "text", "text": correction}]}]
    return messages


class QwenVLDescriber:
    """A Qwen-VL checkpoint loaded once (on first use) and kept until :meth:`unload`."""

    def __init__(self, options: QwenVLOptions = QwenVLOptions()):
        self.options = options
        self.name = options.model
        self.last_timings: dict[str, float] = {}
        self._model = self._processor = None
        self._device = "cpu"
        self._factor = 28
        self._patch = 14

    def _precision(self, device: str):
        torch = require("torch", _HINT)
        if self.options.precision == "auto":
            return {"cuda": torch.bfloat16, "mps": torch.float16}.get(device.split(":")[0], torch.float32)
        return resolve_dtype(self.options.precision, device)

    def _attention(self, device: str) -> str:
        if self.options.attention != "auto":
            return self.options.attention
        gpu = device.startswith("cuda")
        return "flash_attention_2" if gpu and importlib.util.find_spec("flash_attn") is not None else "sdpa"

    def load(self) -> None:
        if self._model is not None:
            return
        transformers = require("transformers", _HINT)
        require("qwen_vl_utils", "pip install qwen-vl-utils")
        spec, local = self.options.model, self.options.local_files_only
        started = time.perf_counter()
        try:
            config = transformers.AutoConfig.from_pretrained(spec, local_files_only=local)
        except (OSError, ValueError) as err:
            raise ModelError(f"cannot read the model config of {spec!r} ({err}); give a Hugging Face id "
                             "or a local checkpoint directory") from err
        if config.model_type not in SUPPORTED_TYPES:
            raise ModelError(f"{spec!r} is a {config.model_type!r} model; supported: {', '.join(SUPPORTED_TYPES)}")
        self._device = resolve_device(self.options.device)
        dtype, attention = self._precision(self._device), self._attention(self._device)
        try:
            model = transformers.AutoModelForImageTextToText.from_pretrained(
                spec, dtype=dtype, attn_implementation=attention, local_files_only=local)
            self._processor = transformers.AutoProcessor.from_pretrained(spec, local_files_only=local)
        except (OSError, ValueError, ImportError) as err:
            raise ModelError(f"cannot load {spec!r} with {attention} attention in {dtype} ({err})") from err
        self._model = model.to(self._device).eval()
        vision = config.vision_config
        self._patch = int(vision.patch_size)
        self._factor = self._patch * int(vision.spatial_merge_size)
        log.info("loaded %s (%s, %s, %s) in %.1f s", spec, self._device, dtype, attention,
                 time.perf_counter() - started)

    def _inputs(self, frames: Sequence[Frame], text: str, instructions: str, previous_output: str | None,
                correction: str | None):
        from qwen_vl_utils import process_vision_info

        o = self.options
        images = [load_frame(f) for f in frames]
        limit, tokens = plan_max_pixels([(im.height, im.width) for im in images], self._factor, o.min_pixels,
                                        o.max_pixels, o.max_visual_tokens)
        messages = conversation(images, limit, o.min_pixels, text, instructions, previous_output, correction)
        prompt = self._processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        image_inputs, _ = process_vision_info(messages, image_patch_size=self._patch)
        inputs = self._processor(text=[prompt], images=image_inputs, padding=True, return_tensors="pt")
        if "image_grid_thw" in inputs:
            merge = self._factor // self._patch
            sent = int((inputs["image_grid_thw"].prod(-1) // merge ** 2).sum())
            if sent > o.max_visual_tokens:
                raise ModelError(f"the processor made {sent} visual tokens, over max_visual_tokens="
                                 f"{o.max_visual_tokens} (planned {tokens}); check the processor's min_pixels")
        return inputs.to(self._device)

    def describe(self, frames: Sequence[Frame], text: str, instructions: str, schema: dict | None = None,
                 previous_output: str | None = None, correction: str | None = None) -> str:
        """Generate an answer. ``schema`` is not used: the prompt carries it (no constrained decoding)."""
        torch = require("torch", _HINT)
        self.load()
        started = time.perf_counter()
        inputs = self._inputs(frames, text, instructions, previous_output, correction)
        prepared = time.perf_counter()
        sampling = {"do_sample": True, "temperature": self.options.temperature} if self.options.temperature > 0 \
            else {"do_sample": False}
        with torch.inference_mode():
            output = self._model.generate(**inputs, max_new_tokens=self.options.max_new_tokens, **sampling)
        generated = time.perf_counter()
        new_tokens = output[:, inputs["input_ids"].shape[1]:]
        answer = self._processor.batch_decode(new_tokens, skip_special_tokens=True)[0]
        self.last_timings = {"prepare_s": prepared - started, "model_s": generated - prepared,
                             "decode_s": time.perf_counter() - generated, "new_tokens": float(new_tokens.shape[1]),
                             "prompt_tokens": float(inputs["input_ids"].shape[1])}
        return answer

    def status(self):
        """Are the weights here, or can they be downloaded? (:mod:`models.preflight`; nothing is loaded.)"""
        from models.preflight import transformers_status

        return transformers_status(self.options.model, self.options.local_files_only)

    def check(self) -> None:
        """Raise :class:`models.preflight.ModelUnavailable` unless the model can be loaded."""
        from models.preflight import require_usable

        require_usable(self.status())

    def unload(self) -> None:
        if self._model is None:
            return
        self._model = self._processor = None
        import gc

        gc.collect()
        torch = require("torch", _HINT)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
