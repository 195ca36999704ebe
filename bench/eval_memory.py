"""Peak memory of an evaluation against the length of its log (issue 13, point 1). Prints JSON.

A 100k-line log once took the web app to a 23 GB peak: every distinct text went through the text
tower in one forward pass. Each measurement here runs in a fresh process: load the encoder, open
an Edge database of ``--shots`` shots, write a plain log of N lines with distinct texts, run
:func:`pipeline.evaluation.evaluate` (the function the CLI and the web tab call) and report the
peak RSS beyond the RSS after warm-up (model loaded, store opened, one query run).

- ``--model tiny`` (default): the real :class:`models.clip.OpenClipEncoder` over the tiny open_clip
  model of the tests (``tests/testkit.build_tiny_clip``): the whole code path (tokenizer, batches,
  store, ranking, report), small activations; fast enough for 100k lines.
- ``--model ViT-L-14``: the real architecture with random weights (no download): activations as
  large as the OpenAI checkpoint's. About 0.1 s per text on 2 CPU cores: keep N small.
- ``--modes batched,unbatched``: also measure with the batches switched off (``TEXT_BATCH``
  and ``QUERY_BATCH`` = 10^9), which is how evaluation behaved before the fix.

    python bench/eval_memory.py                                   # tiny model, 1k and 100k lines
    python bench/eval_memory.py --model ViT-L-14 --lines 64,512 --modes batched,unbatched

Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

MB = 1024 * 1024
VIDEO_IDS = [f"{i:020x}" for i in range(20)]
VECTOR = "bench-vec"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build_archive(folder: Path, dim: int, shots: int) -> None:
    """An Edge database ``bench`` of ``shots`` random shots over 20 videos, and its catalog."""
    import numpy as np

    from pipeline.index import VideoCatalog
    from pipeline.records import IndexedVideo
    from pipeline.store import open_store, point_id

    store = open_store(folder, backend="edge")
    try:
        store.ensure_collection("bench", {VECTOR: dim})
        x = np.random.default_rng(0).normal(size=(shots, dim)).astype(np.float32)
        video = [VIDEO_IDS[i % len(VIDEO_IDS)] for i in range(shots)]
        store.upsert("bench", [point_id(v, i) for i, v in enumerate(video)], {VECTOR: x},
                     [{"video_id": v, "source": f"{v}.mp4", "shot_index": i, "scene": 0, "class_id": 0,
                       "start_s": 4.0 * (i // 20), "end_s": 4.0 * (i // 20) + 4, "thumbnail": ""}
                      for i, v in enumerate(video)])
        store.flush()
    finally:
        store.close()
    for v in VIDEO_IDS:
        VideoCatalog(folder).record("bench", IndexedVideo(v, f"{v}.mp4", "", 600.0, 1200, shots // 20, 5, 3, VECTOR,
                                                          "2026-01-01T00:00:00"))



def child(args: argparse.Namespace) -> dict:
    """One measurement, in this (fresh) process."""
    from models import clip as clip_module
    from models.clip import ClipOptions, OpenClipEncoder
    from pipeline.evaluation import EvaluateOptions, LogOptions, evaluate
    from pipeline.evaluation import run as run_module
    from pipeline.index import DataLayout
    from pipeline.store import open_store

    if args.unbatched:
        clip_module.TEXT_BATCH = run_module.QUERY_BATCH = 10**9
    encoder = OpenClipEncoder(ClipOptions(model=args.spec, device="cpu"))
    encoder.vector_name = VECTOR  # the archive's vector name, whatever the model
    work = Path(args.work)
    store = open_store(work, backend="edge")
    try:
        dim = encoder.dim
        log = work / f"log-{args.child}.txt"
        with open(log, "w", encoding="utf-8") as handle:
            for i in range(args.child):
                handle.write(f"{VIDEO_IDS[i % 20]}.mp4 00:00:{i % 50:02d}.000 - 00:00:{i % 50 + 4:02d}.000 "
                             f"plano número {i} de una escena con {i % 97} personas y {i % 13} coches\n")
        encoder.encode_texts(["calentamiento"])
        store.query("bench", VECTOR, encoder.encode_texts(["x"])[0], 5)
        base = rss_mb()
        started = time.perf_counter()
        options = EvaluateOptions(depth=args.depth, ks=tuple(k for k in (1, 5, 10, 50) if k <= args.depth),
                                  log=LogOptions(max_lines=10**7, max_bytes=2**40))
        report = evaluate(log, store, encoder, DataLayout(work), "bench", options)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"lines": args.child, "dim": dim, "unbatched": args.unbatched, "evaluated": len(report.entries),
                "seconds": round(seconds, 1), "rss_after_warmup_mb": round(base, 1), "peak_rss_mb": round(peak, 1),
                "peak_beyond_warmup_mb": round(max(0.0, peak - base), 1),
                "log_mb": round(log.stat().st_size / MB, 2)}
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny", help="tiny, or an open_clip architecture (random weights)")
    parser.add_argument("--lines", default="1000,100000", help="log lengths to measure")
    parser.add_argument("--shots", type=int, default=400, help="shots in the database")
    parser.add_argument("--modes", default="batched", help="batched, unbatched (before the fix), or both")
    parser.add_argument("--depth", type=int, default=10, help="shots and videos fetched per query")
    parser.add_argument("--unbatched", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args)))
        return

    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        work = Path(tmp)
        if args.model == "tiny":
            from testkit import build_tiny_clip

            spec = f"local-dir:{build_tiny_clip(work / 'tiny-clip')}"
        else:
            spec = args.model
        build_archive(work / "data", 768, args.shots)
        runs = []
        for mode in args.modes.split(","):
            unbatched = mode.strip() == "unbatched"
            for lines in (int(n) for n in args.lines.split(",")):
                command = [sys.executable, __file__, "--child", str(lines), "--spec", spec, "--work",
                           str(work / "data"), "--depth", str(args.depth)] + (["--unbatched"] if unbatched else [])
                done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
                if done.returncode != 0:
                    runs.append({"lines": lines, "unbatched": unbatched, "error": done.stderr.strip()[-800:]})
                    continue
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(json.dumps(runs[-1]), file=sys.stderr)
    result = {
        "benchmark": "eval_memory", "model": args.model, "shots": args.shots, "depth": args.depth, "runs": runs,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "loadavg": os.getloadavg()},
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
