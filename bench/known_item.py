"""Known-item tools on a synthetic archive: reused footage (one video, as the web app's "Buscar otras
apariciones" button; the whole database, as ``python -m app duplicates``) and temporal pairing.

The archive: Qdrant Edge with ``--sizes`` shots of 768-d vectors, 40 shots per video, a component
shared by every shot (as CLIP, where unrelated images still score ~0.4) plus a video centre, a
scene offset and noise (~0.8 within a video). ``--reuses`` runs of 4 consecutive shots are copied
from one video into another at another place, with noise (cosine ~0.99: a re-encode). Frames are
not kept, so spans are shot spans. Reported: wall times, recall of the planted reuses, reuses found
between videos no planted copy links (directly or through another video), and the load average around each figure (the machine is shared).

    .venv/bin/python bench/known_item.py --sizes 2000,10000

Prints one JSON document. Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.records import IndexedVideo, SearchHit  # noqa: E402
from pipeline.search import DuplicateOptions, appearances, find_reuse, pair_hits  # noqa: E402
from pipeline.store import open_store, point_id  # noqa: E402

DIM, PER_VIDEO, RUN, VEC, DB = 768, 40, 4, "clip", "bench"


def archive(n: int, reuses: int, seed: int):
    rng = np.random.default_rng(seed)
    n_videos = max(2, n // PER_VIDEO)
    shared = 1.0 * rng.normal(size=DIM)
    centres = rng.normal(size=(n_videos, DIM))
    x = np.empty((n_videos, PER_VIDEO, DIM))
    for v in range(n_videos):
        scenes = centres[v] + 0.6 * rng.normal(size=(PER_VIDEO // 4, DIM))
        x[v] = shared + np.repeat(scenes, 4, axis=0) + 0.5 * rng.normal(size=(PER_VIDEO, DIM))
    planted = []
    for _ in range(reuses):
        a, b = rng.choice(n_videos, 2, replace=False)
        i, j = rng.integers(0, PER_VIDEO - RUN, 2)
        x[b, j:j + RUN] = x[a, i:i + RUN] + 0.05 * rng.normal(size=(RUN, DIM))
        planted.append((f"v{a:05d}", int(i), f"v{b:05d}", int(j)))
    x /= np.linalg.norm(x, axis=2, keepdims=True)
    return x.astype(np.float32), planted


def _components(planted: list[tuple]) -> dict[str, str]:
    """Videos linked by planted copies, as one representative per group (union-find)."""
    parent: dict[str, str] = {}

    def root(v: str) -> str:
        while parent.setdefault(v, v) != v:
            v = parent[v]
        return v

    for a, _, b, _ in planted:
        parent[root(a)] = root(b)
    return {v: root(v) for v in list(parent)}


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def run(n: int, reuses: int, seed: int, whole_limit: int) -> dict:
    x, planted = archive(n, reuses, seed)
    n_videos = len(x)
    videos = [IndexedVideo(f"v{v:05d}", f"video{v:05d}.mp4", "", PER_VIDEO * 2.0, PER_VIDEO * 4, PER_VIDEO,
                           PER_VIDEO // 4, 4, VEC, "2026-01-01T00:00:00") for v in range(n_videos)]
    with tempfile.TemporaryDirectory(prefix="bench-known-item-") as tmp:
        store = open_store(Path(tmp), backend="edge")
        try:
            store.ensure_collection(DB, {VEC: DIM})
            for v in range(n_videos):
                vid = f"v{v:05d}"
                store.upsert(DB, [point_id(vid, i) for i in range(PER_VIDEO)], {VEC: x[v]},
                             [{"video_id": vid, "source": f"video{v:05d}.mp4", "shot_index": i, "scene": i // 4,
                               "class_id": 0, "start_s": 2.0 * i, "end_s": 2.0 * i + 2.0, "thumbnail": ""}
                              for i in range(PER_VIDEO)])
            store.flush()
            options = DuplicateOptions()
            a_video, a_shot = planted[0][0], planted[0][1]
            entry = next(v for v in videos if v.video_id == a_video)
            before = load_avg()
            started = time.perf_counter()
            one = appearances(store, DB, VEC, entry, 2.0 * a_shot, 2.0 * a_shot + 2.0, options)
            one_s = time.perf_counter() - started
            result = {"shots": n_videos * PER_VIDEO, "videos": n_videos, "planted": len(planted),
                      "one_shot_s": round(one_s, 3), "one_shot_found_planted": any(
                          r.second.video_id == planted[0][2] for r in one), "load_one": [before, load_avg()]}
            asked = videos[:whole_limit]
            before = load_avg()
            started = time.perf_counter()
            found = find_reuse(store, DB, VEC, asked, options)
            whole_s = time.perf_counter() - started
            asked_ids = {v.video_id for v in asked}
            expected = [p for p in planted if p[0] in asked_ids or p[2] in asked_ids]
            hits = sum(any({r.first.video_id, r.second.video_id} == {a, b} for r in found) for a, _, b, _ in expected)
            group = _components(planted)  # material copied on (a -> b -> c) is reused in a and c too
            result.update({"videos_scanned": len(asked), "scan_s": round(whole_s, 2),
                           "scan_per_video_ms": round(1000 * whole_s / len(asked), 1),
                           "planted_recall": round(hits / max(1, len(expected)), 3),
                           "unplanted_reuses": sum(group.get(r.first.video_id, r.first.video_id)
                                                   != group.get(r.second.video_id, r.second.video_id) for r in found),
                           "load_scan": [before, load_avg()]})
        finally:
            store.close()
    return result


def pairing(depth: int, seed: int) -> dict:
    """pair_hits on two rankings of ``depth`` shots spread over 50 videos."""
    rng = np.random.default_rng(seed)

    def ranking() -> list[SearchHit]:
        scores = np.sort(rng.uniform(0.1, 0.4, depth))[::-1]
        out = []
        for r, s in enumerate(scores, start=1):
            v, i = int(rng.integers(0, 50)), int(rng.integers(0, 400))
            out.append(SearchHit(r, float(s), f"{v}:{i}", f"v{v:05d}", "x.mp4", i, 0, 0, 2.0 * i, 2.0 * i + 2, ""))
        return out

    first, then = ranking(), ranking()
    started = time.perf_counter()
    pairs = pair_hits(first, then, 60.0, 20)
    return {"depth": depth, "pairs": len(pairs), "pair_ms": round(1000 * (time.perf_counter() - started), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2000,10000", help="shots per archive, comma-separated")
    parser.add_argument("--reuses", type=int, default=20, help="planted reuses per archive")
    parser.add_argument("--scan-videos", type=int, default=250, help="videos scanned for the whole-database figure")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    report = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
              "archives": [run(int(n), args.reuses, args.seed, args.scan_videos) for n in args.sizes.split(",")],
              "pairing": [pairing(d, args.seed) for d in (200, 1000)]}
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
