"""Search latency: text encoder, database, and both, at growing database sizes. Prints JSON.

The database holds synthetic *clustered* 768-d unit vectors (one cluster per "subject",
shots of a video near each other), with the real payload schema. The same collection
grows from one size to the next, so each size only pays for the points it adds; upsert
throughput and the index build (the store's ``flush``) are measured at each step.

The encoder is a real architecture with *random* weights (``--model ViT-B-16-SigLIP2``, the
default's, no pretrained tag): same FLOPs as the checkpoint, so the timings hold; it says
nothing about search quality. It runs text queries as the app does (ONNX Runtime on CPU when
installed; a causal tower over its real tokens only).

Text encoding (``--text-models``, default the default encoder and ViT-L-14), per model in one
run, the variants interleaved query by query: the app's path, the plain torch path over the full
context (open_clip's ``encode_text``), the torch path over the real tokens only (causal towers),
and a repeated query answered by the query cache.

    python bench/search.py                                   # edge at 1k,20k,100k; local up to 20k
    python bench/search.py --sizes 1000,20000,100000,1000000 --local-max 100000
    python bench/search.py --url http://localhost:6333 --api-key KEY   # adds the server
    python bench/search.py --no-encoder                      # database only

The ``conclusion`` field says up to which measured size each backend answers within the
interactive budget (``--budget-ms``, p95 of the database query), and whether the encoder
alone fits it on this machine.
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

from pipeline.store import CollectionOptions, open_store, point_id  # noqa: E402

DIM = 768
SHOTS_PER_VIDEO = 50
CHUNK = 10_000
QUERY_TEXTS = [
    "bottles with chemicals in the laboratory", "a worker mixes the dye", "crowd in a square at night",
    "aerial view of a harbour", "a man speaks to the camera in an office", "children playing football",
    "close-up of hands typing", "cars on a motorway in the rain", "a boat leaves the port at dawn",
    "interview with a farmer in a field", "fireworks over the city", "a train crossing a bridge",
]


def percentiles(ms: list[float]) -> dict:
    values = np.asarray(ms, dtype=np.float64)
    return {"n": len(values), "p50_ms": round(float(np.percentile(values, 50)), 2),
            "p95_ms": round(float(np.percentile(values, 95)), 2), "p99_ms": round(float(np.percentile(values, 99)), 2),
            "mean_ms": round(float(values.mean()), 2), "qps": round(1000.0 / float(values.mean()), 1)}


def centers(n_clusters: int, seed: int) -> np.ndarray:
    c = np.random.default_rng(seed).standard_normal((n_clusters, DIM)).astype(np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def synthetic_chunk(start: int, stop: int, centres: np.ndarray, noise: float, seed: int) -> np.ndarray:
    """Points ``start..stop``: each video's shots around one cluster centre, L2-normalised."""
    rng = np.random.default_rng((seed, start))
    video = np.arange(start, stop) // SHOTS_PER_VIDEO
    cluster = (video * 2654435761) % len(centres)  # videos spread over clusters, deterministically
    points = centres[cluster] + noise * rng.standard_normal((stop - start, DIM)).astype(np.float32) / np.sqrt(DIM)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def payloads(start: int, stop: int) -> tuple[list[str], list[dict]]:
    ids, rows = [], []
    for i in range(start, stop):
        video, shot = f"{i // SHOTS_PER_VIDEO:020x}", i % SHOTS_PER_VIDEO
        ids.append(point_id(video, shot))
        rows.append({"video_id": video, "source": f"synthetic_{i // SHOTS_PER_VIDEO}.mp4", "shot_index": shot,
                     "scene": shot // 5, "class_id": shot % 7, "start_s": 4.0 * shot, "end_s": 4.0 * shot + 4.0,
                     "thumbnail": ""})
    return ids, rows


def grow(store, name: str, have: int, want: int, args, centres: np.ndarray) -> dict:
    """Upsert points ``have..want``, then flush (which builds the index where the store does)."""
    started = time.perf_counter()
    for start in range(have, want, CHUNK):
        stop = min(want, start + CHUNK)
        ids, rows = payloads(start, stop)
        store.upsert(name, ids, {"bench": synthetic_chunk(start, stop, centres, args.noise, args.seed)}, rows)
    upsert_s = time.perf_counter() - started
    started = time.perf_counter()
    store.flush()
    flush_s = time.perf_counter() - started
    added = want - have
    return {"added": added, "upsert_s": round(upsert_s, 2), "upserts_per_s": round(added / max(upsert_s, 1e-9)),
            "flush_index_s": round(flush_s, 2)}


def time_queries(store, name: str, vectors: np.ndarray, k: int, one_per_video: bool = False) -> list[float]:
    for v in vectors[:3]:
        store.query(name, "bench", v, k, one_per_video=one_per_video)  # warm-up
    out = []
    for v in vectors:
        started = time.perf_counter()
        store.query(name, "bench", v, k, one_per_video=one_per_video)
        out.append(1000 * (time.perf_counter() - started))
    return out


def query_vectors(n: int, centres: np.ndarray, args) -> np.ndarray:
    rng = np.random.default_rng(args.seed + 1)
    q = centres[rng.integers(0, len(centres), n)] + 1.5 * args.noise * rng.standard_normal((n, DIM)) / np.sqrt(DIM)
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def time_encoder(encoder, n: int) -> tuple[list[float], np.ndarray]:
    encoder.encode_texts(QUERY_TEXTS[:2])  # load and warm up
    out, vectors = [], []
    for i in range(n):
        text = f"{QUERY_TEXTS[i % len(QUERY_TEXTS)]} {i}"
        started = time.perf_counter()
        vectors.append(encoder.encode_texts([text])[0])
        out.append(1000 * (time.perf_counter() - started))
    return out, np.asarray(vectors, dtype=np.float32)


def end_to_end(store, name: str, encoder, n: int, k: int) -> list[float]:
    out = []
    for i in range(n):
        started = time.perf_counter()
        vector = encoder.encode_texts([f"{QUERY_TEXTS[i % len(QUERY_TEXTS)]} e2e {i}"])[0]
        store.query(name, "bench", vector, k)
        out.append(1000 * (time.perf_counter() - started))
    return out


def text_encoding(models: list[str], n: int, device: str) -> list[dict]:
    """p50/p95 of one short query's text encoding, per model and path, interleaved."""
    rows = []
    for name in models:
        rows.append(time_text_paths(name, n, device))
        print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def stand_in_tokenizer(name: str) -> str | None:
    """A local tokenizer folder for architectures whose tokenizer is on the hub (SigLIP: Gemma).
    Non-causal towers run over their whole padded context, so the tokenizer does not change the
    tower's cost; it only has to produce ids."""
    import open_clip

    if not (open_clip.get_model_config(name) or {}).get("text_cfg", {}).get("hf_tokenizer_name"):
        return None
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from testkit import build_tiny_tokenizer

    folder = Path(tempfile.mkdtemp(prefix="bench-tokenizer-"))
    build_tiny_tokenizer(folder)
    return str(folder)


def make_encoder(name: str, device: str, **options):
    from models.clip import ClipOptions, OpenClipEncoder

    return OpenClipEncoder(ClipOptions(model=name, device=device, tokenizer_dir=stand_in_tokenizer(name), **options))


def time_text_paths(name: str, n: int, device: str) -> dict:
    import torch

    from models.clip_text import encode_truncated
    from pipeline.search import CachedTextEncoder

    encoder = make_encoder(name, device).load()
    cached = CachedTextEncoder(encoder)
    paths = {"app": lambda t: encoder.encode_texts([t]),
             "torch_full_context": lambda t: encoder.encode_texts_full_context([t])}
    if encoder._causal is not None:
        paths["torch_real_tokens"] = lambda t: encode_truncated(encoder._causal, encoder._tokenizer([t]))
    started = time.perf_counter()
    for path in paths.values():
        path(QUERY_TEXTS[0])  # load, export the ONNX graph once, warm up
    warm_s = time.perf_counter() - started
    times: dict[str, list[float]] = {key: [] for key in [*paths, "cache_hit"]}
    with torch.inference_mode():
        for i in range(n):
            text = f"{QUERY_TEXTS[i % len(QUERY_TEXTS)]} {i}"
            for key, path in paths.items():
                started = time.perf_counter()
                path(text)
                times[key].append(1000 * (time.perf_counter() - started))
            cached.encode_texts([text])
            started = time.perf_counter()
            cached.encode_texts([text])
            times["cache_hit"].append(1000 * (time.perf_counter() - started))
    stats = {key: percentiles(ms) for key, ms in times.items()}
    tokens = int((encoder._tokenizer([QUERY_TEXTS[0]]) != 0).sum())
    return {"model": name, "text_path": encoder.text_path, "context": encoder.context_length,
            "tokens_of_a_short_query": tokens, "first_query_incl_export_s": round(warm_s, 1), **stats,
            "full_context_over_app_p95": round(stats["torch_full_context"]["p95_ms"] / stats["app"]["p95_ms"], 2)}


def bench_backend(backend: str, sizes: list[int], args, centres: np.ndarray, encoder) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix=f"bench-search-{backend}-") as tmp:
        url = args.url if backend == "server" else None
        store = open_store(Path(tmp), url=url, api_key=args.api_key, backend="edge" if url else backend)
        name = f"bench_search_{os.getpid()}"
        try:
            store.ensure_collection(name, {"bench": DIM}, CollectionOptions(exact_below=args.exact_below))
            queries = query_vectors(args.queries, centres, args)
            have = 0
            for size in sizes:
                row = {"backend": backend, "shots": size, "growth": grow(store, name, have, size, args, centres)}
                have = size
                row["db"] = percentiles(time_queries(store, name, queries, args.k))
                row["db_one_per_video"] = percentiles(time_queries(store, name, queries[:args.queries // 4 or 1],
                                                                   args.k, one_per_video=True))
                if encoder is not None and args.e2e_queries:
                    row["encoder_plus_db"] = percentiles(end_to_end(store, name, encoder, args.e2e_queries, args.k))
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
        finally:
            if backend == "server":
                store.drop_collection(name)
            store.close()
    return rows


def conclusion(results: list[dict], encoder_stats: dict | None, budget_ms: float) -> dict:
    out: dict = {"budget_ms": budget_ms, "criterion": "p95 of the database query (top-k, one query at a time)"}
    for backend in dict.fromkeys(r["backend"] for r in results):
        rows = sorted((r for r in results if r["backend"] == backend), key=lambda r: r["shots"])
        ok = [r["shots"] for r in rows if r["db"]["p95_ms"] <= budget_ms]
        over = [r["shots"] for r in rows if r["db"]["p95_ms"] > budget_ms]
        out[backend] = {"usable_up_to_shots": max(ok) if ok else None,
                        "first_over_budget_shots": min(over) if over else None,
                        "largest_measured": rows[-1]["shots"], "p95_ms_at_largest": rows[-1]["db"]["p95_ms"]}
    if encoder_stats:
        fits = encoder_stats["p95_ms"] <= budget_ms
        out["encoder"] = {"p95_ms": encoder_stats["p95_ms"], "fits_budget": fits}
    out["summary"] = _summary(out, budget_ms)
    return out


def _summary(out: dict, budget_ms: float) -> str:
    parts = []
    for backend, c in out.items():
        if not isinstance(c, dict) or "largest_measured" not in c:
            continue
        if c["first_over_budget_shots"] is None:
            parts.append(f"{backend}: within {budget_ms:g} ms p95 at every measured size (up to "
                         f"{c['largest_measured']:,} shots)")
        elif c["usable_up_to_shots"] is None:
            parts.append(f"{backend}: over {budget_ms:g} ms p95 at every measured size (the smallest: "
                         f"{c['first_over_budget_shots']:,} shots)")
        else:
            parts.append(f"{backend}: usable up to {c['usable_up_to_shots']:,} shots; over {budget_ms:g} ms p95 "
                         f"from {c['first_over_budget_shots']:,}")
    if "encoder" in out and not out["encoder"]["fits_budget"]:
        parts.append(f"the text encoder alone takes {out['encoder']['p95_ms']:.0f} ms p95 on this machine, over the "
                     "budget whatever the store: a GPU, or a smaller/int8 text tower, is the first fix")
    return "; ".join(parts)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,20000,100000", help="database sizes in shots, comma-separated")
    parser.add_argument("--backends", default="edge,local", help="embedded backends: edge, local")
    parser.add_argument("--local-max", type=int, default=20_000, help="largest size for qdrant-client local mode")
    parser.add_argument("--url", help="also measure this Qdrant server (a temporary collection is made and dropped)")
    parser.add_argument("--api-key")
    parser.add_argument("--queries", type=int, default=200, help="database queries timed per size")
    parser.add_argument("--e2e-queries", type=int, default=10, help="encoder+database queries timed per size")
    parser.add_argument("--encoder-queries", type=int, default=20)
    parser.add_argument("--model", default="ViT-B-16-SigLIP2", help="open_clip spec; without a tag, random weights")
    parser.add_argument("--text-models", default="ViT-B-16-SigLIP2,ViT-L-14",
                        help="architectures whose text encoding paths are timed (empty: skip)")
    parser.add_argument("--text-queries", type=int, default=30, help="queries timed per text path")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-encoder", action="store_true", help="time the database only")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--clusters", type=int, default=500)
    parser.add_argument("--noise", type=float, default=0.8, help="spread of points around their cluster centre")
    parser.add_argument("--exact-below", type=int, default=CollectionOptions().exact_below,
                        help="exact search below this many points, HNSW above (CollectionOptions.exact_below)")
    parser.add_argument("--budget-ms", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    backends = [b.strip() for b in args.backends.split(",") if b.strip()] + (["server"] if args.url else [])
    encoder, encoder_stats = None, None
    report: dict = {"model": None if args.no_encoder else args.model, "k": args.k, "dim": DIM,
                    "clusters": args.clusters, "exact_below": args.exact_below, "sizes": sizes}
    report["machine"] = {"load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    if args.text_models and not args.no_encoder:
        report["text_encoding"] = text_encoding([m for m in args.text_models.split(",") if m], args.text_queries,
                                                args.device)
    if not args.no_encoder:
        import torch

        encoder = make_encoder(args.model, args.device)
        ms, _ = time_encoder(encoder, args.encoder_queries)
        encoder_stats = {**percentiles(ms), "device": encoder.device}
        report["machine_torch_threads"] = torch.get_num_threads()
    report["machine"] |= {"cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                          "note": "shared with other jobs; runs vary"}
    report["encoder"] = encoder_stats
    centres = centers(args.clusters, args.seed)
    results = []
    for backend in backends:
        chosen = [s for s in sizes if backend != "local" or s <= args.local_max]
        results += bench_backend(backend, chosen, args, centres, encoder)
    report["results"] = results
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["conclusion"] = conclusion(results, encoder_stats, args.budget_ms)
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
