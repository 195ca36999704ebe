"""Video catalog benchmark: recording a video and listing a page, at 100k videos, for each way the
catalog could be kept; and the analysis jobs' state per item.

Catalogs measured, in one run:

* ``sqlite``  — the embedded default (``pipeline.index.VideoCatalog``, WAL, synchronous=NORMAL);
* ``sqlite-full`` — the same with an fsync per commit (synchronous=FULL), the durable variant;
* ``json``    — the catalog of earlier versions: one JSON file rewritten whole (atomically) per video;
* ``edge``    — a companion Qdrant Edge shard (what "in the embedded store itself" would cost):
  one point per video with a 1-d dummy vector (Edge needs one), flushed per record;
* ``server-code-path`` — ``pipeline.index.ServerCatalog`` over qdrant-client's *local mode*: the
  code path a Qdrant server runs, but local mode's pure-Python engine, not a server's figures
  (no Qdrant server runs on the development machine).

Jobs: one state change of the append-only log (``pipeline.analysis.jobs``) against one rewrite of
the whole manifest (what every state change cost before), at ``--job-items`` items.

    .venv/bin/python bench/catalog.py                      # 100k videos (a few minutes)
    .venv/bin/python bench/catalog.py --videos 10000 --json-videos 10000 --quick

Prints one JSON document. Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.core import atomic  # noqa: E402
from pipeline.index import ServerCatalog, VideoCatalog  # noqa: E402
from pipeline.records import IndexedVideo  # noqa: E402

TARGETS = {"videos": 100_000, "record_ms": 5.0, "page_ms": 50.0}
DB, PAGE = "archivo", 50


def entry(i: int) -> IndexedVideo:
    return IndexedVideo(f"{i:020x}", f"DG{(i * 7919) % 10**8:08d}_{i}.mp4", f"media/{i:020x}.mp4", 1800.0 + i % 600,
                        3600, 120 + i % 80, 20 + i % 9, 8 + i % 5, "clip-vit-b-16-siglip2", "2026-11-30T12:00:00+00:00")


def ms(samples: list[float]) -> dict:
    s = sorted(x * 1000 for x in samples)
    return {"n": len(s), "p50_ms": round(statistics.median(s), 3), "p95_ms": round(s[int(0.95 * (len(s) - 1))], 3),
            "max_ms": round(s[-1], 3)}


def timed(fn, repeat: int) -> list[float]:
    out = []
    for i in range(repeat):
        start = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - start)
    return out


# --- the catalogs ------------------------------------------------------------------------------------


def bench_sqlite(folder: Path, n: int, records: int, pages: int, synchronous: str) -> dict:
    catalog = VideoCatalog(folder)
    start = time.perf_counter()
    for chunk in range(0, n, 10_000):
        catalog.record_many(DB, [entry(i) for i in range(chunk, min(n, chunk + 10_000))])
    fill_s = time.perf_counter() - start
    with catalog._sql("bench") as conn:  # noqa: SLF001 - the benchmark switches the durability level
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    record = timed(lambda i: catalog.record(DB, entry(n + i)), records)
    cursors = [None]
    page = catalog.page(DB, PAGE)
    for _ in range(min(pages, 20)):  # cursors spread over the list: first, then deeper pages
        cursors.append(page.next)
        for _ in range(max(1, n // PAGE // 25)):
            page = catalog.page(DB, PAGE, page.next)
    page_times = timed(lambda i: catalog.page(DB, PAGE, cursors[i % len(cursors)]), pages)
    totals = timed(lambda _i: catalog.totals(DB), 10)
    start = time.perf_counter()
    videos = catalog.videos(DB)
    all_s = time.perf_counter() - start
    catalog.close()
    start = time.perf_counter()
    reopened = VideoCatalog(folder)
    reopened.page(DB, PAGE)
    reopen_s = time.perf_counter() - start
    reopened.close()
    size = sum(p.stat().st_size for p in (folder / "catalog").glob("catalog.sqlite3*"))
    return {"videos": len(videos), "fill_s": round(fill_s, 2), "record": ms(record), "page": ms(page_times),
            "totals": ms(totals), "list_all_s": round(all_s, 3), "reopen_and_page_s": round(reopen_s, 3),
            "file_mb": round(size / 1e6, 1), "synchronous": synchronous}


def bench_json(folder: Path, n: int, records: int) -> dict:
    """The pre-SQLite catalog: read the file, add the video, rewrite it whole (atomic, fsync)."""
    path = folder / "catalog" / f"{DB}.json"
    atomic.write_json(path, {"videos": {e.video_id: asdict(e) for e in map(entry, range(n))}})

    def record(i: int) -> None:
        data = atomic.read_json(path)
        new = entry(n + i)
        data["videos"][new.video_id] = asdict(new)
        ordered = dict(sorted(data["videos"].items(), key=lambda item: item[1]["source"]))
        atomic.write_json(path, {"videos": ordered})

    samples = timed(record, records)
    page = timed(lambda _i: list(atomic.read_json(path)["videos"].values())[:PAGE], max(3, records))
    return {"videos": n, "record": ms(samples), "page": ms(page), "file_mb": round(path.stat().st_size / 1e6, 1)}


def bench_edge(folder: Path, n: int, records: int, pages: int) -> dict:
    import qdrant_edge as qe

    shard = qe.EdgeShard.create(str(folder / "shard"), qe.EdgeConfig(
        vectors={"x": qe.EdgeVectorParams(size=1, distance=qe.Distance.Dot)}))
    shard.update(qe.UpdateOperation.create_field_index("db", qe.PayloadSchemaType.Keyword))

    def point(i: int):
        return qe.Point(i + 1, {"x": [1.0]}, {**asdict(entry(i)), "db": DB, "status": "indexed"})

    start = time.perf_counter()
    for chunk in range(0, n, 5000):
        shard.update(qe.UpdateOperation.upsert_points([point(i) for i in range(chunk, min(n, chunk + 5000))]))
    shard.flush()
    fill_s = time.perf_counter() - start

    def record(i: int) -> None:
        shard.update(qe.UpdateOperation.upsert_points([point(n + i)]))
        shard.flush()

    samples = timed(record, records)
    flt = qe.Filter(must=[qe.FieldCondition("db", match=qe.MatchValue(DB))])
    offsets = [None]
    offset = None
    for _ in range(min(pages, 20)):
        for _ in range(max(1, n // PAGE // 25)):
            _, offset = shard.scroll(qe.ScrollRequest(offset=offset, limit=PAGE, filter=flt, with_payload=True))
        offsets.append(offset)

    def page(i: int) -> None:
        shard.scroll(qe.ScrollRequest(offset=offsets[i % len(offsets)], limit=PAGE, filter=flt, with_payload=True))
        shard.count(qe.CountRequest(exact=True, filter=flt))

    page_times = timed(page, pages)
    shard.close()
    return {"videos": n, "fill_s": round(fill_s, 2), "record": ms(samples), "page": ms(page_times),
            "note": "flush per record (durable, as the store's own writes); page = scroll + exact count"}


def bench_server_code_path(n: int, records: int, pages: int) -> dict:
    import qdrant_client

    catalog = ServerCatalog(qdrant_client.QdrantClient(":memory:"), "local mode")
    start = time.perf_counter()
    for chunk in range(0, n, 2000):
        catalog.record_many(DB, [entry(i) for i in range(chunk, min(n, chunk + 2000))])
    fill_s = time.perf_counter() - start
    record = timed(lambda i: catalog.record(DB, entry(n + i)), records)
    page = catalog.page(DB, PAGE)
    cursors = [None, page.next]
    page_times = timed(lambda i: catalog.page(DB, PAGE, cursors[i % 2]), pages)
    return {"videos": n, "fill_s": round(fill_s, 2), "record": ms(record), "page": ms(page_times),
            "note": "qdrant-client local mode (pure Python), NOT a Qdrant server: the code path only"}


# --- the analysis jobs' state --------------------------------------------------------------------------


def bench_jobs(folder: Path, items: int, changes: int) -> dict:
    from pipeline.analysis import jobs

    stages = ["fetch", "segment", "transcribe", "describe"]
    manifest = jobs.create_job(folder / "job", [f"/archivo/v{i:05d}.mp4" for i in range(items)], stages)
    item = manifest.items[items // 2]
    log = jobs._StateLog(folder / "job")  # noqa: SLF001 - one state change, as run_job makes it

    def change(i: int) -> None:
        item.stages["fetch"].status = "running" if i % 2 == 0 else "done"
        log.write(item, "fetch")

    append = timed(change, changes)
    log.close()
    rewrite = timed(lambda _i: atomic.write_json(folder / "job" / jobs.MANIFEST, manifest.model_dump(mode="json")),
                    max(3, changes // 20))
    per_job = 2 * len(stages) * items
    return {"items": items, "state_change_append": ms(append), "state_change_full_rewrite": ms(rewrite),
            "whole_job_state_s": {"append": round(statistics.mean(append) * per_job, 1),
                                  "full_rewrite": round(statistics.mean(rewrite) * per_job, 1)},
            "note": f"{per_job} state changes for {items} items x {len(stages)} stages (running + done each)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=100_000)
    parser.add_argument("--json-videos", type=int, default=100_000, help="size of the JSON catalog measured")
    parser.add_argument("--server-videos", type=int, default=10_000, help="local mode is slow: fewer videos")
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--job-items", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="fewer samples of the slow variants")
    args = parser.parse_args()
    slow = 5 if args.quick else 20
    result = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
                          "sqlite": sqlite3.sqlite_version, "loadavg_start": os.getloadavg()},
              "targets": TARGETS, "catalogs": {}}
    root = Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    try:
        for name, run in [
            ("sqlite", lambda d: bench_sqlite(d, args.videos, args.records, args.pages, "NORMAL")),
            ("sqlite-full", lambda d: bench_sqlite(d, args.videos, args.records, args.pages, "FULL")),
            ("json", lambda d: bench_json(d, args.json_videos, slow)),
            ("edge", lambda d: bench_edge(d, args.videos, slow * 5, args.pages)),
            ("server-code-path", lambda _d: bench_server_code_path(args.server_videos, args.records, args.pages)),
        ]:
            folder = root / name
            folder.mkdir()
            print(f"{name} ...", file=sys.stderr, flush=True)
            result["catalogs"][name] = run(folder)
            shutil.rmtree(folder, ignore_errors=True)
        result["jobs"] = bench_jobs(root, args.job_items, args.records)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    cats = result["catalogs"]
    sqlite = cats["sqlite"]
    result["ratios"] = {
        "json_record_p50_over_sqlite": round(cats["json"]["record"]["p50_ms"] / max(sqlite["record"]["p50_ms"], 1e-3)),
        "edge_record_p50_over_sqlite": round(cats["edge"]["record"]["p50_ms"] / max(sqlite["record"]["p50_ms"], 1e-3)),
        "job_rewrite_over_append": round(result["jobs"]["state_change_full_rewrite"]["p50_ms"]
                                         / max(result["jobs"]["state_change_append"]["p50_ms"], 1e-3), 1),
    }
    result["meets_targets"] = {"record_p95": sqlite["record"]["p95_ms"] <= TARGETS["record_ms"],
                               "page_p95": sqlite["page"]["p95_ms"] <= TARGETS["page_ms"],
                               "at_videos": sqlite["videos"]}
    result["machine"]["loadavg_end"] = os.getloadavg()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
