"""Reliability under load and attack (issue 13): the figures the README keeps. Prints JSON.

    python bench/reliability.py searchers [--searchers 32] [--seconds 60] [--shots 20000]
    python bench/reliability.py kills [--kills 6]
    python bench/reliability.py diskfull                  # root only: mounts a 100 MB tmpfs

(each hostile-input class, counted: ``bench/hostile.py``)

- **searchers**: the web app (``python -m app``, its own process) over an Edge database of the
  slideshow video plus synthetic shots; after one warm-up search (the model loads), N threads,
  each its own ``gradio_client`` session (300 s timeout), call ``/search`` for the given time.
  Errors, latency p50/p95/p99, and the server's RSS sampled every second (start, end, max, slope
  over the second half) - "memory over a long run" with ``--seconds 600`` or more. The encoder is the tests' tiny open_clip model: the figures are
  the app's and the store's, not a real encoder's (see bench/search.py for those).
- **kills**: ``python -m app ingest --force`` of three videos (the whole work every time),
  SIGKILLed at a random moment within the time a full run takes, then run again to the end; after each kill and after each re-run: points per video against the catalog
  (duplicates, orphans), temporary files and index-build leftovers.
- **diskfull**: the tmpfs scenario of ``tests/integration/test_disk_full.py``, with timings:
  ingest refused (exit code, the line), search on the read-only store (p50 of 50 queries).

Never part of the test run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from testkit import build_tiny_clip, free_port, slideshow_images, write_video  # noqa: E402

DB = "archivo"
QUERIES = ["una multitud en una plaza", "botellas en un laboratorio", "un barco sale del puerto", "niños jugando",
           "entrevista en una oficina", "coches bajo la lluvia", "fuegos artificiales", "un tren cruza un puente"]


def machine() -> dict:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "loadavg": [round(x, 2) for x in os.getloadavg()]}


def pct(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    a = np.asarray(values) * 1000
    return {"n": len(values), "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "p99_ms": round(float(np.percentile(a, 99)), 1),
            "max_ms": round(float(a.max()), 1)}


def app_env(data: Path, clip: Path, **extra: str) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "BUSCA_DATA_DIR": str(data), "BUSCA_CLIP_MODEL": f"local-dir:{clip}",
            "BUSCA_DEVICE": "cpu", "BUSCA_DB": DB, "BUSCA_AUTH": "", **extra}


def videos(folder: Path, n: int) -> list[Path]:
    """``n`` slideshow videos with different content (so different ids), 8 s each."""
    images = slideshow_images()
    out = []
    for i in range(n):
        order = images[i % 4:] + images[:i % 4]
        out.append(write_video(folder / f"cinta_{i}.mp4", [(np.roll(img, 7 * i, axis=1), 2.0) for img in order]))
    return out


# ------------------------------------------------------------------------------------------ searchers


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def prepare_archive(work: Path, shots: int) -> tuple[Path, Path]:
    from models.clip import ClipOptions, OpenClipEncoder
    from pipeline.index import DataLayout, IngestOptions, ingest_paths
    from pipeline.store import open_store, point_id

    clip = build_tiny_clip(work / "tiny-clip")
    data = work / "data"
    encoder = OpenClipEncoder(ClipOptions(model=f"local-dir:{clip}", device="cpu"))
    store = open_store(data, backend="edge")
    try:
        [result] = ingest_paths(videos(work, 1), encoder, store, DataLayout(data), DB, IngestOptions(progress=False))
        assert result.status == "indexed", result.error
        rng = np.random.default_rng(0)
        for start in range(0, shots, 5000):
            n = min(5000, shots - start)
            x = rng.normal(size=(n, 768)).astype(np.float32)
            ids = [point_id(f"{(start + i) // 50:020x}", (start + i) % 50) for i in range(n)]
            payloads = [{"video_id": f"{(start + i) // 50:020x}", "source": f"sintetico_{(start + i) // 50}.mp4",
                         "shot_index": (start + i) % 50, "scene": 0, "class_id": 0, "start_s": 4.0 * i,
                         "end_s": 4.0 * i + 4, "thumbnail": ""} for i in range(n)]
            store.upsert(DB, ids, {encoder.vector_name: x}, payloads)
        store.flush()
    finally:
        store.close()
    return data, clip


def start_app(data: Path, clip: Path, port: int, timeout: float = 180) -> subprocess.Popen:
    import httpx

    process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=ROOT,
                               env=app_env(data, clip), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited: {process.stdout.read()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200:
                return process
        time.sleep(0.5)
    process.kill()
    raise RuntimeError("the app did not answer")


def searchers(args) -> dict:
    from gradio_client import Client

    with tempfile.TemporaryDirectory(prefix="bench-rel-") as tmp:
        data, clip = prepare_archive(Path(tmp), args.shots)
        port = free_port()
        app = start_app(data, clip, port)
        url = f"http://127.0.0.1:{port}/"
        Client(url, verbose=False, download_files=False).predict(DB, "calentamiento", None, 0.5, 20, False, [],
                                                                 api_name="/search")  # the model loads here
        samples: list[tuple[float, float]] = []
        latencies: list[float] = []
        errors: list[str] = []
        stop = threading.Event()
        started = time.monotonic()

        def sample() -> None:
            while not stop.is_set():
                samples.append((time.monotonic() - started, rss_mb(app.pid)))
                stop.wait(1.0)

        def search(worker: int) -> None:
            try:  # a long timeout: on a loaded machine a slow answer is latency, not an error
                client = Client(url, verbose=False, download_files=False, httpx_kwargs={"timeout": 300})
            except Exception as err:  # noqa: BLE001 - counted, the bench goes on
                errors.append(f"connect: {err}")
                return
            i = worker
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    client.predict(DB, QUERIES[i % len(QUERIES)], None, 0.5, 20, i % 2 == 0, [], api_name="/search")
                    latencies.append(time.perf_counter() - t0)
                except Exception as err:  # noqa: BLE001
                    errors.append(f"{type(err).__name__}: {str(err)[:200]}")
                i += 1

        threads = [threading.Thread(target=sample, daemon=True)]
        threads += [threading.Thread(target=search, args=(w,), daemon=True) for w in range(args.searchers)]
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        app.send_signal(signal.SIGTERM)
        try:
            exit_code = app.wait(timeout=60)
        except subprocess.TimeoutExpired:
            app.kill()
            exit_code = "killed after 60 s"
    rss = [r for _, r in samples]
    half = [(t, r) for t, r in samples if t >= args.seconds / 2]
    slope = float(np.polyfit([t for t, _ in half], [r for _, r in half], 1)[0]) * 60 if len(half) > 2 else None
    return {"searchers": args.searchers, "seconds": args.seconds, "shots": args.shots + 4,
            "requests": len(latencies) + len(errors), "errors": len(errors), "error_examples": sorted(set(errors))[:5],
            "latency": pct(latencies), "throughput_per_s": round(len(latencies) / args.seconds, 1),
            "server_rss_mb": {"start": round(rss[0], 1) if rss else None, "end": round(rss[-1], 1) if rss else None,
                              "max": round(max(rss), 1) if rss else None,
                              "slope_second_half_mb_per_min": round(slope, 2) if slope is not None else None},
            "server_exit_on_sigterm": exit_code, "encoder": "tiny open_clip (random weights)"}


# ------------------------------------------------------------------------------------------------ kills


def archive_state(data: Path) -> dict:
    """Points per video against the catalog, and what a killed writer may leave behind."""
    from pipeline.index import VideoCatalog
    from pipeline.store.edge import EdgeStore

    records = VideoCatalog(data)
    try:
        catalog = records.videos(DB) if DB in records.databases() else {}
        pending = len(records.pending(DB))
    finally:
        records.close()
    state = {"catalog_videos": len(catalog), "pending_in_catalog": pending, "points": 0, "orphan_points": 0,
             "videos_missing_points": 0,
             "temp_files": len(list(data.rglob("*.tmp"))),
             "builder_leftovers": len(list(data.glob("edge/*/shard/temp_segments/*")))}
    if not (data / "edge").exists():
        return state
    with EdgeStore(data / "edge") as store:
        if not store.has_collection(DB):
            return state
        per_video: dict[str, int] = {}
        for point in store.scroll(DB):
            per_video[point.payload["video_id"]] = per_video.get(point.payload["video_id"], 0) + 1
        state["points"] = sum(per_video.values())
        state["orphan_points"] = sum(n for v, n in per_video.items() if v not in catalog)
        state["videos_missing_points"] = sum(per_video.get(v, 0) != e.n_shots for v, e in catalog.items())
    return state


def kills(args) -> dict:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-kill-") as tmp:
        work = Path(tmp)
        clip = build_tiny_clip(work / "tiny-clip")
        inputs = [str(p) for p in videos(work, 3)]
        data = work / "data"
        # --force: every run redoes the whole work (artifacts, upserts), so a kill lands mid-work
        ingest = [sys.executable, "-m", "app", "ingest", *inputs, "--db", DB, "--force", "--data-dir"]
        command = [*ingest, str(data)]
        t0 = time.monotonic()
        reference = subprocess.run([*ingest, str(work / "reference")], cwd=ROOT, env=app_env(work / "reference", clip),
                                   capture_output=True, timeout=900)
        full_s = time.monotonic() - t0
        assert reference.returncode == 0, reference.stderr.decode()[-1000:]
        cycles = []
        for k in range(args.kills):
            delay = rng.uniform(0.3, full_s)
            process = subprocess.Popen(command, cwd=ROOT, env=app_env(data, clip), stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            time.sleep(delay)
            finished = process.poll() is not None
            process.send_signal(signal.SIGKILL)
            process.wait()
            after_kill = archive_state(data)
            rerun = subprocess.run(command, cwd=ROOT, env=app_env(data, clip), capture_output=True, timeout=900)
            after_rerun = archive_state(data)
            cycles.append({"kill": k + 1, "at_s": round(delay, 1), "had_finished": finished,
                           "after_kill": after_kill, "rerun_exit": rerun.returncode, "after_rerun": after_rerun})
            print(json.dumps(cycles[-1]), file=sys.stderr)
    bad = [c for c in cycles if c["rerun_exit"] != 0 or c["after_rerun"]["orphan_points"]
           or c["after_rerun"]["pending_in_catalog"]
           or c["after_rerun"]["videos_missing_points"] or c["after_rerun"]["catalog_videos"] != 3
           or c["after_rerun"]["temp_files"] or c["after_rerun"]["builder_leftovers"]]
    return {"kills": len(cycles), "survived": len(cycles) - len(bad), "full_ingest_s": round(full_s, 1),
            "cycles": cycles, "encoder": "tiny open_clip (random weights)"}


# --------------------------------------------------------------------------------------------- diskfull

_TIMED_SEARCH = """
import sys, time, numpy as np
from app.config import Settings
from app.services import Services
timing = Services.start(Settings.from_env().override(data_dir=sys.argv[1]))
ts = []
for _ in range(50):
    t = time.perf_counter()
    timing.store.query("archivo", "clip", np.random.default_rng(len(ts)).normal(size=768).astype(np.float32), 20)
    ts.append(time.perf_counter() - t)
timing.close()
print("p50_ms", round(1000 * sorted(ts)[25], 2))
"""


def diskfull(args) -> dict:
    if os.geteuid() != 0:
        return {"skipped": "mounting a tmpfs needs root"}
    from integration.test_disk_full import _OPEN, _SEARCH_AND_WRITE, _SETUP  # the test's scenario, one copy

    with tempfile.TemporaryDirectory(prefix="bench-disk-") as tmp:
        disk = Path(tmp) / "disk"
        disk.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100m", "tmpfs", str(disk)], check=True)
        try:
            data = disk / "data"
            env = {**os.environ, "PYTHONPATH": str(ROOT), "BUSCA_MIN_FREE_MB": "8", "BUSCA_MIN_FREE_PERCENT": "0"}
            for script in (_SETUP, _OPEN):
                subprocess.run([sys.executable, "-c", script, str(data / "edge")], env=env, check=True,
                               capture_output=True)
            free = shutil.disk_usage(disk).free
            with open(disk / "filler.bin", "wb") as handle:
                handle.write(b"\0" * (free - 4 * 1024 * 1024))
            clip = Path(tmp) / "no-model"
            t0 = time.monotonic()
            ingest = subprocess.run([sys.executable, "-m", "app", "ingest", str(disk), "--data-dir", str(data)],
                                    cwd=ROOT, env={**env, "BUSCA_CLIP_MODEL": f"local-dir:{clip}"},
                                    capture_output=True, text=True)
            refused_s = time.monotonic() - t0
            search = subprocess.run([sys.executable, "-c", _TIMED_SEARCH + _SEARCH_AND_WRITE, str(data)], cwd=ROOT,
                                    env=env, capture_output=True, text=True)
            free_after = shutil.disk_usage(disk).free
        finally:
            subprocess.run(["umount", "-l", str(disk)], check=False)
    lines = dict(line.split(" ", 1) for line in search.stdout.splitlines() if " " in line)
    return {"disk": "tmpfs 100 MB", "margin_mb": 8, "free_before_mb": 4.0, "free_after_mb": round(free_after / 2**20, 1),
            "ingest": {"exit": ingest.returncode, "seconds": round(refused_s, 1),
                       "stderr": ingest.stderr.strip().splitlines()[-1:]},
            "search_read_only": {"exit": search.returncode, "read_only": lines.get("read_only"),
                                 "query_p50_ms": lines.get("p50_ms"), "hits": lines.get("hits"),
                                 "write": lines.get("write"), "stderr": search.stderr.strip().splitlines()[-1:]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("searchers")
    s.add_argument("--searchers", type=int, default=32)
    s.add_argument("--seconds", type=float, default=60)
    s.add_argument("--shots", type=int, default=20_000)
    k = sub.add_parser("kills")
    k.add_argument("--kills", type=int, default=6)
    k.add_argument("--seed", type=int, default=13)
    sub.add_parser("diskfull")
    args = parser.parse_args()
    started = time.monotonic()
    with contextlib.redirect_stdout(sys.stderr):  # Gradio prints to stdout; the JSON goes there alone
        figures = {"searchers": searchers, "kills": kills, "diskfull": diskfull}[args.what](args)
    print(json.dumps({"benchmark": f"reliability {args.what}", **figures, "wall_s": round(time.monotonic() - started, 1),
                      "machine": machine()}, indent=1))


if __name__ == "__main__":
    main()
