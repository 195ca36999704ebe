"""The text-channel contract of every vector store (Qdrant Edge, qdrant-client local mode and in
memory, and a Qdrant server when BUSCA_TEST_QDRANT_URL is set): sparse BM25 vectors with the IDF
modifier, vector and payload updates, and fused queries (prefetch + weighted RRF in Qdrant).
Backends break ties in their own order, so the data has none: distinct random vectors, texts of
distinct lengths.

The expected fused ranking is computed here from the leaf rankings with the weighted RRF formula
Qdrant documents (``1 / ((rank + 1) / weight + k - 1)``, rank from 0, nested fusions ranked by
their own fused score), so a backend that fused differently, dropped a prefetch or lost a
weight would fail. Texts are drawn from a small vocabulary so that BM25 has real rankings.
"""

from __future__ import annotations

import os
import uuid

import numpy as np
import pytest

from pipeline.errors import QueryError, StoreError
from pipeline.store import (
    Bm25Encoder,
    EdgeStore,
    Prefetch,
    QdrantClientStore,
    SparseVector,
    copy_collection,
    export_collection,
    import_collection,
    point_id,
)

SERVER_URL = os.environ.get("BUSCA_TEST_QDRANT_URL")
VIS, TXT, BM = "clip-test", "speech-e5-test", "speech-bm25"
WORDS = ["bidón", "casablanca", "perro", "playa", "conferencia", "barrio", "ciudad", "mercado", "puerto", "tren", "lluvia", "fábrica", "escuela", "iglesia", "río", "montaña", "coche", "avión", "radio", "noticias"]


@pytest.fixture(scope="module")
def bm25() -> Bm25Encoder:
    return Bm25Encoder()


@pytest.fixture(scope="module")
def data(bm25):
    """12 videos x 8 shots: a visual vector each; 2 of 3 shots carry speech (text, BM25, dense)."""
    rng = np.random.default_rng(7)
    ids, payloads, texts = [], [], []
    for v in range(12):
        for s in range(8):
            video = f"{v:02d}" * 10
            ids.append(point_id(video, s))
            payloads.append({"video_id": video, "source": f"{video}.mp4", "shot_index": s, "scene": 0,
                             "class_id": 0, "start_s": 2.0 * s, "end_s": 2.0 * s + 2, "thumbnail": "t.jpg"})
            n = 3 + len(texts)  # every text a different length: no two BM25 scores tie
            texts.append(" ".join(rng.choice(WORDS, n)) if s % 3 else "")
    vis = rng.normal(size=(len(ids), 32)).astype(np.float32)
    txt = rng.normal(size=(len(ids), 16)).astype(np.float32)
    vis /= np.linalg.norm(vis, axis=1, keepdims=True)
    txt /= np.linalg.norm(txt, axis=1, keepdims=True)
    spoken = [i for i, t in enumerate(texts) if t]
    return {"ids": ids, "payloads": payloads, "texts": texts, "vis": vis, "txt": txt, "spoken": spoken,
            "sparse": [bm25.document(texts[i]) for i in spoken]}


def _fill(store, db: str, d: dict) -> None:
    store.ensure_collection(db, {VIS: 32})
    store.upsert(db, d["ids"], {VIS: d["vis"]}, d["payloads"])
    store.ensure_collection(db, {TXT: 16})
    store.ensure_sparse(db, [BM])
    spoken = d["spoken"]
    sel = [d["ids"][i] for i in spoken]
    store.update_vectors(db, sel, dense={TXT: d["txt"][spoken]}, sparse={BM: d["sparse"]})
    store.set_payload(db, sel, [{"speech_text": d["texts"][i]} for i in spoken])
    store.flush()


@pytest.fixture(params=["edge", "local", "memory", pytest.param("server", marks=pytest.mark.server)])
def store(request, tmp_path, data):
    kind, db = request.param, f"c_{uuid.uuid4().hex[:10]}"
    if kind == "edge":
        opened = EdgeStore(tmp_path / "edge")
    elif kind == "local":
        opened = QdrantClientStore(path=tmp_path / "qdrant")
    elif kind == "memory":
        opened = QdrantClientStore(":memory:")
    elif not SERVER_URL:
        pytest.skip("no Qdrant server: set BUSCA_TEST_QDRANT_URL to run this contract on it")
    else:
        opened = QdrantClientStore(url=SERVER_URL, api_key=os.environ.get("BUSCA_TEST_QDRANT_API_KEY"))
    _fill(opened, db, data)
    opened.db = db
    yield opened
    if kind == "server":
        opened.drop_collection(db)
    opened.close()


def _plan(bm25, d, query: str, image_row: int, weights=(1.0, 2.0)):
    speech = Prefetch("speech", children=(Prefetch("speech-bm25", BM, bm25.query(query), 1.0),
                                          Prefetch("speech-dense", TXT, d["txt"][image_row] * 0.9 + 0.1, 0.7)),
                      weight=weights[1])
    return [Prefetch("visual", VIS, d["vis"][image_row], weights[0]), speech]


def _rrf(rankings: list[list[str]], weights: list[float], k: int) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for pos, pid in enumerate(ranking):
            scores[pid] = scores.get(pid, 0.0) + (1.0 / ((pos + 1) / w + k - 1) if w > 0 else 0.0)
    return scores


def _expected(plan, rankings: dict[str, list[str]], k: int, depth: int) -> dict[str, float]:
    """Each leaf ranks its top ``depth``; a nested fusion passes on its top ``depth`` too."""
    def ranking(p: Prefetch) -> list[str]:
        if not p.children:
            return rankings[p.label]
        fused = _rrf([ranking(c) for c in p.children], [c.weight for c in p.children], k)
        return sorted(fused, key=lambda i: -fused[i])[:depth]

    return _rrf([ranking(p) for p in plan], [p.weight for p in plan], k)


def _check_fused(result, expected: dict[str, float], k: int) -> None:
    got = [(p.id, p.score) for p in result.points]
    for pid, score in got:
        assert score == pytest.approx(expected[pid], rel=1e-4), pid
    scores = [s for _, s in got]
    assert scores == sorted(scores, reverse=True)
    kth = sorted(expected.values(), reverse=True)[len(got) - 1]
    assert all(expected[pid] >= kth - 1e-9 for pid, _ in got)
    assert len(got) == min(k, len(expected))


def test_updates_add_text_vectors_and_payload_and_keep_the_visual_vector(store, data):
    spoken = data["spoken"][0]
    silent = next(i for i in range(len(data["ids"])) if i not in data["spoken"])
    a, b = store.retrieve(store.db, [data["ids"][spoken], data["ids"][silent]], with_vectors=True)
    assert set(a.vectors) == {VIS, TXT} and set(a.sparse) == {BM}
    np.testing.assert_allclose(a.vectors[VIS], data["vis"][spoken], atol=1e-6)
    assert a.payload["speech_text"] == data["texts"][spoken] and a.payload["shot_index"] == spoken % 8
    assert set(b.vectors) == {VIS} and not b.sparse and "speech_text" not in b.payload
    assert store.sparse_names(store.db) == [BM]
    store.set_payload(store.db, [a.id], [{"speech_text": None}])
    assert "speech_text" not in store.retrieve(store.db, [a.id])[0].payload


def test_leaf_rankings_are_exact_and_the_fusion_is_weighted_rrf(store, data, bm25):
    plan = _plan(bm25, data, "bidón conferencia en la ciudad", 5)
    result = store.fused_query(store.db, plan, k=10, depth=40, rrf_k=2)
    vis = np.argsort(-(data["vis"] @ data["vis"][5]), kind="stable")[:40]
    assert result.rankings["visual"] == [data["ids"][i] for i in vis]
    assert set(result.rankings["speech-bm25"]) <= {data["ids"][i] for i in data["spoken"]}
    assert result.rankings["speech-bm25"], "BM25 found nothing"
    _check_fused(result, _expected(plan, result.rankings, 2, 40), 10)


def test_weights_change_the_fused_ranking_as_rrf_says(store, data, bm25):
    for weights in [(1.0, 0.0), (0.2, 3.0)]:
        plan = _plan(bm25, data, "perro playa", 11, weights)
        result = store.fused_query(store.db, plan, k=8, depth=30, rrf_k=5)
        _check_fused(result, _expected(plan, result.rankings, 5, 30), 8)


def test_one_per_video_the_video_filter_and_exclusions(store, data, bm25):
    plan = _plan(bm25, data, "tren lluvia", 20)
    full = store.fused_query(store.db, plan, k=200, depth=200)
    grouped = store.fused_query(store.db, plan, k=5, depth=200, one_per_video=True)
    videos = [p.payload["video_id"] for p in grouped.points]
    assert len(videos) == len(set(videos)) == 5
    best = {}
    for p in full.points:
        best.setdefault(p.payload["video_id"], p.id)
    assert [p.id for p in grouped.points] == [best[v] for v in videos]
    keep = [data["payloads"][0]["video_id"], data["payloads"][9]["video_id"]]
    top = full.points[0].id
    filtered = store.fused_query(store.db, plan, k=10, video_ids=keep, exclude_ids=[top])
    assert filtered.points and {p.payload["video_id"] for p in filtered.points} <= set(keep)
    assert top not in {p.id for p in filtered.points}
    # the filter applies inside every prefetch (not after the fusion): the fused scores are the RRF of
    # the filtered leaf rankings, and the list is as long as those rankings allow
    assert all(set(r) <= {p.id for p in store.scroll(store.db) if p.payload["video_id"] in keep} - {top}
               for r in filtered.rankings.values())
    _check_fused(filtered, _expected(plan, filtered.rankings, 2, 100), 10)
    assert store.fused_query(store.db, plan, k=3, video_ids=[]).points == []


def test_without_ranks_the_fused_query_answers_the_same(store, data, bm25):
    """``ranks=False`` is Qdrant's prefetch + fusion query alone: the same points, scores and
    payloads, grouped or not, filtered or not; only the leaf rankings are left out."""
    plan = _plan(bm25, data, "bidón conferencia tren", 7, (1.0, 0.6))
    keep = [data["payloads"][0]["video_id"], data["payloads"][9]["video_id"], data["payloads"][20]["video_id"]]
    for options in ({"k": 10}, {"k": 4, "one_per_video": True}, {"k": 6, "video_ids": keep, "exclude_ids": [data["ids"][7]]},
                    {"k": 3, "one_per_video": True, "depth": 5}):
        ranked = store.fused_query(store.db, plan, ranks=True, **options)
        bare = store.fused_query(store.db, plan, ranks=False, **options)
        assert bare.rankings is None and ranked.rankings
        assert [(p.id, round(p.score, 6)) for p in bare.points] == [(p.id, round(p.score, 6)) for p in ranked.points]
        assert [p.payload for p in bare.points] == [p.payload for p in ranked.points]
        assert all("speech_text" in p.payload or "shot_index" in p.payload for p in bare.points), "full payloads"
        assert len(bare.points) == options["k"]
    assert store.fused_query(store.db, plan, k=3, video_ids=[], ranks=False).rankings is None


def test_malformed_fused_queries_are_refused(store, data, bm25):
    with pytest.raises(QueryError, match="sparse"):
        store.fused_query(store.db, [Prefetch("x", "ocr-bm25", bm25.query("perro"))], k=3)
    with pytest.raises(QueryError, match="no 'nope' vectors"):
        store.fused_query(store.db, [Prefetch("x", "nope", data["vis"][0])], k=3)
    with pytest.raises(QueryError, match="distinct labels"):
        store.fused_query(store.db, [Prefetch("x", VIS, data["vis"][0]), Prefetch("x", VIS, data["vis"][1])], k=3)
    with pytest.raises(StoreError, match="sparse"):
        store.update_vectors(store.db, data["ids"][:1], sparse={"ocr-bm25": [SparseVector((1,), (1.0,))]})


def test_clear_fields_removes_one_videos_text_vectors_and_payload_only(store, data):
    video = data["payloads"][0]["video_id"]
    store.clear_fields(store.db, video, [BM, TXT, "never-made"], ["speech_text"])
    points = {p.id: p for p in store.scroll(store.db, with_vectors=True)}
    for i, pid in enumerate(data["ids"]):
        mine = data["payloads"][i]["video_id"] == video
        spoken = i in data["spoken"]
        assert (BM in points[pid].sparse) == (TXT in points[pid].vectors) == (spoken and not mine)
        assert ("speech_text" in points[pid].payload) == (spoken and not mine)
        assert VIS in points[pid].vectors and points[pid].payload["video_id"] == data["payloads"][i]["video_id"]


def test_every_embedded_backend_fuses_alike_and_survives_reopen_and_transfer(tmp_path, data, bm25):
    edge, local, memory = EdgeStore(tmp_path / "edge"), QdrantClientStore(path=tmp_path / "q"), QdrantClientStore(":memory:")
    try:
        for s in (edge, local, memory):
            _fill(s, "db", data)
        plans = [_plan(bm25, data, q, row) for q, row in [("bidón casablanca", 3), ("río montaña", 40)]]
        answers = [[(p.id, round(p.score, 6)) for p in s.fused_query("db", plan, k=12).points]
                   for plan in plans for s in (edge, local, memory)]
        assert answers[0] == answers[1] == answers[2] and answers[3] == answers[4] == answers[5]
        edge.close()
        edge = EdgeStore(tmp_path / "edge")
        assert edge.sparse_names("db") == [BM]
        assert [(p.id, round(p.score, 6)) for p in edge.fused_query("db", plans[0], k=12).points] == answers[0]
        copy_collection(edge, memory, "db", "copy")
        export_collection(edge, "db", tmp_path / "backup")
        import_collection(local, tmp_path / "backup", "restored")
        for s, name in ((memory, "copy"), (local, "restored")):
            assert s.sparse_names(name) == [BM]
            assert [(p.id, round(p.score, 6)) for p in s.fused_query(name, plans[1], k=12).points] == answers[3]
    finally:
        for s in (edge, local, memory):
            s.close()


def test_a_shot_every_ranking_puts_first_scores_the_best_rrf_score(store, data):
    """``pipeline.search.rrf_best`` (what fused scores are divided by) is Qdrant's score of a shot
    ranked first everywhere, on every backend, weights and k alike."""
    from pipeline.search import rrf_best

    i = data["spoken"][3]
    plan = [Prefetch("visual", VIS, data["vis"][i], 0.5), Prefetch("dense", TXT, data["txt"][i], 2.0)]
    for k in (2, 5):
        top = store.fused_query(store.db, plan, k=1, rrf_k=k).points[0]
        assert top.id == data["ids"][i] and top.score == pytest.approx(rrf_best([0.5, 2.0], k), rel=1e-5)
