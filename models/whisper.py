"""Speech recognition with faster-whisper (CTranslate2), behind :class:`pipeline.protocols.Transcriber`.

Defaults (``"auto"``): on a CUDA GPU, ``large-v3`` in ``float16``; on CPU, ``small`` in
``int8`` (about real time on 2 cores; ``base`` is ~7x real time, ``large-v3`` far slower
than real time). ``model`` also takes any faster-whisper size name or the path of a
CTranslate2 model directory. ``language="es"`` by default; ``None`` detects it. VAD
(Silero, bundled with faster-whisper) is on, so silence and music yield no segments.

Audio is decoded here rather than by faster-whisper, so that the known traps are handled:
a file without an audio stream gives an empty transcript (faster-whisper raises an
``IndexError`` from PyAV), and audio PyAV cannot decode (e.g. AC3 in some AVI files,
where faster-whisper silently returns nothing) is extracted with
``ffmpeg -i IN -vn -ac 1 -ar 16000 OUT.wav`` first.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from models.device import require
from pipeline.errors import MediaError, ModelError
from pipeline.records import TranscriptSegment

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
_HINT = "pip install faster-whisper"


def resolve_whisper(model: str, device: str, compute_type: str) -> tuple[str, str, str]:
    """``"auto"`` values to concrete ones: (model, device, compute_type).

    CTranslate2 has no MPS backend, so "auto" is cuda when CTranslate2 sees a GPU, else cpu."""
    if device == "auto":
        ctranslate2 = require("ctranslate2", _HINT)
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if device not in ("cpu", "cuda"):
        raise ModelError(f"faster-whisper runs on cpu or cuda, not {device!r}")
    gpu = device == "cuda"
    if model == "auto":
        model = "large-v3" if gpu else "small"
    if compute_type == "auto":
        compute_type = "float16" if gpu else "int8"
    return model, device, compute_type


def local_whisper(model: str, device: str = "auto", models_dir: str | None = None) -> str:
    """With a models folder, the size's copy there (``<models>/whisper/<size>``; one
    :func:`models.hub.unavailable` line when it is missing); without one, ``model`` unchanged
    (its pre-flight, :meth:`WhisperTranscriber.status`, says whether it can be had)."""
    from models.hub import in_models_dir

    if not models_dir or Path(model).expanduser().is_dir():
        return model
    size = resolve_whisper(model, device, "auto")[0]
    return str(in_models_dir(models_dir, "whisper", size, marker="model.bin"))


def whisper_repo(size: str) -> str:
    """The hub repository faster-whisper downloads a size from (a repo id is returned as it is)."""
    utils = require("faster_whisper.utils", _HINT)
    return utils._MODELS.get(size, size)


def audio_stream_count(path: Path) -> int | None:
    """Number of audio streams PyAV sees, or None when PyAV cannot open the file."""
    av = require("av", "pip install av")
    try:
        with av.open(str(path)) as container:
            return len(container.streams.audio)
    except (av.error.FFmpegError, OSError, ValueError):
        return None


def extract_audio(path: Path, out_dir: Path) -> Path:
    """``ffmpeg -i IN -vn -ac 1 -ar 16000 OUT.wav``; raise MediaError with ffmpeg's last words."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise MediaError(path, "its audio needs ffmpeg to be extracted, and ffmpeg is not installed "
                               "(apt install ffmpeg)")
    out = out_dir / "audio.wav"
    proc = subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(path), "-vn", "-ac", "1",
                           "-ar", str(SAMPLE_RATE), str(out)], capture_output=True, text=True)
    if proc.returncode != 0 or not out.is_file():
        tail = (proc.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise MediaError(path, f"ffmpeg could not extract the audio ({tail[0]})")
    return out


def load_audio(path: str | Path) -> np.ndarray:
    """Mono float32 at 16 kHz; an empty array when the file has no audio stream."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(path, "does not exist")
    faster_whisper = require("faster_whisper", _HINT)
    streams = audio_stream_count(path)
    if streams == 0:
        log.info("%s has no audio stream: empty transcript", path)
        return np.zeros(0, np.float32)
    if streams is not None:
        try:
            audio = faster_whisper.decode_audio(str(path), sampling_rate=SAMPLE_RATE)
            if audio.size > 0:
                return audio
        except Exception as err:  # PyAV raises many types for undecodable audio; ffmpeg gets a second go
            log.info("PyAV could not decode the audio of %s (%s); extracting it with ffmpeg", path, err)
    with tempfile.TemporaryDirectory(prefix="busca-audio-") as tmp:
        wav = extract_audio(path, Path(tmp))
        return faster_whisper.decode_audio(str(wav), sampling_rate=SAMPLE_RATE)


class WhisperTranscriber:
    """faster-whisper, loaded on first use and kept until :meth:`unload`."""

    def __init__(self, model: str = "auto", device: str = "auto", compute_type: str = "auto",
                 language: str | None = "es", vad: bool = True, beam_size: int = 5, cpu_threads: int = 0,
                 local_files_only: bool = False):
        self.model_spec, self.device, self.compute_type = model, device, compute_type
        self.language, self.vad, self.beam_size = language, vad, beam_size
        self.cpu_threads, self.local_files_only = cpu_threads, local_files_only
        self._model = None
        self.name = f"whisper:{model}/{compute_type}"
        self.last_timings: dict[str, float] = {}

    def load(self):
        if self._model is not None:
            return self._model
        faster_whisper = require("faster_whisper", _HINT)
        model, device, compute = resolve_whisper(self.model_spec, self.device, self.compute_type)
        started = time.perf_counter()
        try:
            self._model = faster_whisper.WhisperModel(model, device=device, compute_type=compute,
                                                      cpu_threads=self.cpu_threads,
                                                      local_files_only=self.local_files_only)
        except Exception as err:  # CTranslate2/hub errors have no common base class
            raise ModelError(f"cannot load Whisper model {model!r} on {device} ({compute}): {err}. "
                             "Give a faster-whisper size (tiny, base, small, medium, large-v3) or a "
                             "CTranslate2 model directory.") from err
        self.name = f"whisper:{Path(model).name}/{compute}"
        log.info("loaded %s on %s in %.1f s", self.name, device, time.perf_counter() - started)
        return self._model

    def transcribe(self, media: str | Path, video_id: str = "") -> list[TranscriptSegment]:
        started = time.perf_counter()
        audio = load_audio(media)
        decoded = time.perf_counter()
        self.last_timings = {"decode_s": decoded - started, "model_s": 0.0, "audio_s": audio.size / SAMPLE_RATE}
        if audio.size == 0:
            return []
        model = self.load()
        loaded = time.perf_counter()
        segments, info = model.transcribe(audio, language=self.language, vad_filter=self.vad,
                                          beam_size=self.beam_size)
        out = [TranscriptSegment(video_id, round(float(s.start), 3), round(float(s.end), 3), s.text.strip())
               for s in segments if s.text.strip()]
        self.last_timings.update(load_s=loaded - decoded, model_s=time.perf_counter() - loaded)
        log.info("%s: %d segments, language %s", media, len(out), getattr(info, "language", "?"))
        return out

    def status(self):
        """Are the weights here, or can they be downloaded? (:mod:`models.preflight`; nothing is loaded.)"""
        from models.preflight import whisper_status

        return whisper_status(self.model_spec, self.device, self.local_files_only)

    def check(self) -> None:
        """Raise :class:`models.preflight.ModelUnavailable` unless the model can be loaded."""
        from models.preflight import require_usable

        require_usable(self.status())

    def unload(self) -> None:
        self._model = None
        import gc

        gc.collect()
