"""Device and precision are resolved here, once, from explicit ``"auto"`` defaults."""

from __future__ import annotations

import importlib
from types import ModuleType

from pipeline.errors import ModelError


def require(module: str, install_hint: str) -> ModuleType:
    """Import a heavy optional dependency, or fail with an install hint."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ModelError(f"{module} is not installed ({err}). Install it with: {install_hint}") from err


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` picks cuda, then mps, then cpu. An explicit device is checked."""
    torch = require("torch", "pip install -r requirements.txt")
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} was asked for but CUDA is not available; use --device cpu or auto")
    return device


def resolve_dtype(precision: str, device: str):
    """``"auto"``: float16 on cuda/mps, float32 on cpu (half precision is slower there)."""
    torch = require("torch", "pip install -r requirements.txt")
    if precision == "auto":
        return torch.float16 if device.startswith(("cuda", "mps")) else torch.float32
    table = {"fp32": torch.float32, "float32": torch.float32, "fp16": torch.float16, "float16": torch.float16,
             "bf16": torch.bfloat16, "bfloat16": torch.bfloat16}
    if precision not in table:
        raise ModelError(f"unknown precision {precision!r}; use auto, fp32, fp16 or bf16")
    return table[precision]
