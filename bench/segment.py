"""Benchmark pipeline.segment on synthetic 768-d CLIP-like streams of 10 min, 1 h and 3 h at 3 fps.

Prints one JSON object: per video length, the segmentation wall time (best of --repeat runs)
and that run's process CPU time (steadier on a shared machine), frames/s, peak memory
(tracemalloc peak of the numpy/Python allocations made by ``segment``, measured in a separate
run, and the process's max RSS), quality against the generator's ground truth (class ARI,
shot-boundary F1 within ±1 sample), whether repeated runs agree, and the growth of time per frame.
Each length runs in its own subprocess so that max RSS belongs to that length alone.

    python bench/segment.py            # 1,800 / 10,800 / 32,400 frames
    python bench/segment.py --quick    # 900 / 1,800 frames
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.records import FrameEmbeddings  # noqa: E402
from pipeline.segment import SegmentOptions, segment  # noqa: E402

DIM = 768
FPS = 3.0


def synthetic(n_frames: int, seed: int = 0) -> tuple[FrameEmbeddings, np.ndarray, np.ndarray]:
    """Frames, true shot starts and true classes: one class per ~3 min of video, shots of 2-12 s
    in scenes of 1-4 shots; cosine ~0.92 within a shot, ~0.75 across shots of a class, ~0.5 across classes."""
    rng = np.random.default_rng(seed)
    n_classes = max(4, int(n_frames / FPS / 180))
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    common = unit(rng.standard_normal(DIM))
    classes = unit(np.sqrt(0.65) * common + np.sqrt(0.35) * unit(rng.standard_normal((n_classes, DIM))))
    sigma = np.sqrt((1 / 0.92 - 1) / DIM)
    emb = np.empty((n_frames, DIM), dtype=np.float32)
    labels = np.empty(n_frames, dtype=np.int64)
    starts, pos, cls = [], 0, -1
    while pos < n_frames:
        cls = (cls + 1 + int(rng.integers(n_classes - 1))) % n_classes  # never the same class twice in a row
        for _ in range(int(rng.integers(1, 5))):
            centre = unit(np.sqrt(0.8) * classes[cls] + np.sqrt(0.2) * unit(rng.standard_normal(DIM)))
            length = min(n_frames - pos, round(rng.uniform(2, 12) * FPS))
            if length <= 0:
                break
            emb[pos : pos + length] = unit(centre + sigma * rng.standard_normal((length, DIM)))
            labels[pos : pos + length] = cls
            starts.append(pos)
            pos += length
    frames = FrameEmbeddings(f"bench-{n_frames}", np.arange(n_frames) / FPS, emb)
    return frames, np.asarray(starts), labels


def boundary_f1(truth: np.ndarray, predicted: np.ndarray, tolerance: int = 1) -> float:
    """Greedy one-to-one matching within ±tolerance samples."""
    free = sorted(truth.tolist())
    hits = 0
    for p in sorted(predicted.tolist()):
        match = next((t for t in free if abs(t - p) <= tolerance), None)
        if match is not None:
            free.remove(match)
            hits += 1
    if not hits:
        return 0.0
    precision, recall = hits / len(predicted), hits / len(truth)
    return 2 * precision * recall / (precision + recall)


def measure(n_frames: int, repeat: int) -> dict:
    """Time, memory and quality of segment() on one synthetic video (run in a fresh process)."""
    from sklearn.metrics import adjusted_rand_score

    frames, true_starts, true_classes = synthetic(n_frames)
    options = SegmentOptions()
    segment(synthetic(300, seed=1)[0], options)  # warm-up: lazy imports of sklearn and hdbscan
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times, cpu_times, results = [], [], []
    for _ in range(repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        seg = segment(frames, options)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        results.append(json.dumps(seg.to_json()))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    segment(frames, options)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    best = min(times)
    cap = options.cluster_max_frames
    return {
        "frames": n_frames,
        "video_minutes": round(n_frames / FPS / 60, 1),
        "seconds": round(best, 2),
        "seconds_all_runs": [round(t, 2) for t in times],
        "cpu_seconds": round(cpu_times[times.index(best)], 2),
        "frames_per_s": round(n_frames / best),
        "us_per_frame": round(best / n_frames * 1e6),
        "hdbscan_frames": n_frames if cap is None or n_frames <= cap else len(range(0, n_frames, -(-n_frames // cap))),
        "peak_traced_mib": round(traced_peak / 2**20, 1),
        "input_mib": round(frames.embeddings.nbytes / 2**20, 1),
        "max_rss_mib_before": round(rss_before, 1),
        "max_rss_mib_after": round(rss_after, 1),
        "true_classes": int(true_classes.max() + 1),
        "classes": seg.n_classes,
        "scenes": len(seg.scenes),
        "true_shots": len(true_starts),
        "shots": len(seg.shots),
        "class_ari": round(float(adjusted_rand_score(true_classes, seg.frame_classes)), 4),
        "repeat_runs_identical": len(set(results)) == 1,
        "shot_boundary_f1": round(boundary_f1(true_starts[1:], np.array([s.first_frame for s in seg.shots[1:]])), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="900 and 1,800 frames only")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per length (best is reported)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one length
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeat)))
        return
    sizes = [900, 1_800] if args.quick else [1_800, 10_800, 32_400]
    results = []
    for n in sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--repeat", str(args.repeat)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    base = results[0]["us_per_frame"]
    for r in results:
        r["cost_per_frame_vs_smallest"] = round(r["us_per_frame"] / base, 2)
    print(
        json.dumps(
            {
                "benchmark": "pipeline.segment.segmenter",
                "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg": os.getloadavg()},
                "options": SegmentOptions().__dict__,
                "fps": FPS,
                "dim": DIM,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
