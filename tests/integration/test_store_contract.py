"""One contract for every vector store: Qdrant Edge, qdrant-client local mode (a path in
tmp_path), in memory, and a Qdrant server when BUSCA_TEST_QDRANT_URL is set.

Vectors are synthetic and clustered by video (a centre per video plus noise), so rankings
have no ties and every backend must give the ranking numpy gives by exact cosine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import ConfigError, QueryError, StoreError, StoreLockedError, UnknownDatabaseError
from pipeline.store import EdgeStore, QdrantClientStore, copy_collection, export_collection, import_collection
from pipeline.store.base import PAYLOAD_FIELDS, VectorStore, point_id

REPO = Path(__file__).resolve().parents[2]
SERVER_URL = os.environ.get("BUSCA_TEST_QDRANT_URL")
V = "clip-test"


@dataclass(frozen=True)
class Shots:
    ids: list[str]
    vectors: np.ndarray  # (n, dim) float32, L2-normalised
    payloads: list[dict]

    def of_video(self, video: str) -> list[int]:
        return [i for i, p in enumerate(self.payloads) if p["video_id"] == video]


def make_shots(n_videos: int = 12, per_video: int = 10, dim: int = 64, seed: int = 0, tag: str = "") -> Shots:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_videos, dim))
    x = np.repeat(centres, per_video, axis=0) + 0.6 * rng.normal(size=(n_videos * per_video, dim))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    ids, payloads = [], []
    for v in range(n_videos):
        for s in range(per_video):
            video = f"vid{v:02d}{tag}"
            ids.append(point_id(video, s))
            payloads.append({"video_id": video, "source": f"{video}.mp4", "shot_index": s, "scene": s // 3,
                             "class_id": s % 4, "start_s": s * 2.5, "end_s": (s + 1) * 2.5,
                             "thumbnail": f"thumbs/{video}/{s:04d}.jpg"})
    return Shots(ids, x, payloads)


def exact_top(shots: Shots, q: np.ndarray, k: int, rows: list[int] | None = None) -> list[str]:
    rows = list(range(len(shots.ids))) if rows is None else rows
    scores = shots.vectors[rows] @ (q / np.linalg.norm(q))
    return [shots.ids[rows[i]] for i in np.argsort(-scores, kind="stable")[:k]]


def ids(points) -> list[str]:
    return [p.id for p in points]


@dataclass
class Backend:
    kind: str
    open: Callable[[], VectorStore]
    reopenable: bool
    db: str  # a collection name no other test uses (the server is shared)


def _server() -> QdrantClientStore:
    return QdrantClientStore(url=SERVER_URL, api_key=os.environ.get("BUSCA_TEST_QDRANT_API_KEY"))


@pytest.fixture(params=["edge", "local", "memory", pytest.param("server", marks=pytest.mark.server)])
def backend(request, tmp_path) -> Backend:
    kind = request.param
    db = f"t_{uuid.uuid4().hex[:10]}"
    if kind == "edge":
        return Backend(kind, lambda: EdgeStore(tmp_path / "edge"), True, db)
    if kind == "local":
        return Backend(kind, lambda: QdrantClientStore(path=tmp_path / "qdrant"), True, db)
    if kind == "memory":
        return Backend(kind, lambda: QdrantClientStore(":memory:"), False, db)
    if not SERVER_URL:
        pytest.skip("no Qdrant server: set BUSCA_TEST_QDRANT_URL (e.g. http://localhost:6333) to run this contract on it")
    return Backend(kind, _server, True, db)


@pytest.fixture
def store(backend) -> VectorStore:
    opened = backend.open()
    yield opened
    if backend.kind == "server" and not getattr(opened, "_closed", True):
        for name in opened.list_collections():
            if name.startswith(backend.db):
                opened.drop_collection(name)
    opened.close()


@pytest.fixture(scope="module")
def shots() -> Shots:
    return make_shots()


@pytest.fixture
def filled(store, backend, shots) -> VectorStore:
    store.ensure_collection(backend.db, {V: shots.vectors.shape[1]})
    store.upsert(backend.db, shots.ids, {V: shots.vectors}, shots.payloads)
    return store


def test_upsert_then_retrieve_gives_back_payloads_and_vectors(filled, backend, shots):
    wanted = [shots.ids[5], shots.ids[42], shots.ids[0]]
    got = filled.retrieve(backend.db, [*wanted, point_id("nope", 0)], with_vectors=True)
    assert ids(got) == wanted  # in the order asked, missing ids skipped
    for point, row in zip(got, (5, 42, 0), strict=True):
        assert point.payload == shots.payloads[row] and set(point.payload) == set(PAYLOAD_FIELDS)
        np.testing.assert_allclose(point.vectors[V], shots.vectors[row], atol=1e-6)
    assert filled.retrieve(backend.db, wanted[:1])[0].vectors == {}


def test_reupsert_replaces_points_instead_of_duplicating(filled, backend, shots):
    rows = shots.of_video("vid03")
    new_vectors = shots.vectors[::-1][: len(rows)].copy()
    new_payloads = [{**shots.payloads[r], "scene": 99} for r in rows]
    filled.upsert(backend.db, [shots.ids[r] for r in rows], {V: new_vectors}, new_payloads)
    assert filled.count(backend.db) == len(shots.ids)
    assert filled.count(backend.db, "vid03") == len(rows)
    again = filled.retrieve(backend.db, [shots.ids[rows[0]]], with_vectors=True)[0]
    assert again.payload["scene"] == 99
    np.testing.assert_allclose(again.vectors[V], new_vectors[0], atol=1e-6)


def test_query_ranks_like_exact_cosine(filled, backend, shots):
    rng = np.random.default_rng(1)
    for q in rng.normal(size=(3, shots.vectors.shape[1])).astype(np.float32):
        hits = filled.query(backend.db, V, q, 10)
        assert ids(hits) == exact_top(shots, q, 10)
        expected = shots.vectors[[shots.ids.index(i) for i in ids(hits)]] @ (q / np.linalg.norm(q))
        np.testing.assert_allclose([h.score for h in hits], expected, atol=1e-4)
        assert hits[0].payload == shots.payloads[shots.ids.index(hits[0].id)]


def test_query_restricted_to_some_videos(filled, backend, shots):
    q = shots.vectors[0]
    hits = filled.query(backend.db, V, q, 8, video_ids=["vid04", "vid07"])
    assert {h.payload["video_id"] for h in hits} <= {"vid04", "vid07"}
    assert ids(hits) == exact_top(shots, q, 8, shots.of_video("vid04") + shots.of_video("vid07"))
    assert filled.query(backend.db, V, q, 8, video_ids=[]) == []


def _best_per_video(shots: Shots, q: np.ndarray, k: int, exclude: set[str] = frozenset()) -> list[str]:
    seen, out = set(), []
    for pid in exact_top(shots, q, len(shots.ids)):
        video = shots.payloads[shots.ids.index(pid)]["video_id"]
        if pid not in exclude and video not in seen:
            seen.add(video)
            out.append(pid)
    return out[:k]


def test_one_per_video_gives_the_best_shot_of_each_top_video(filled, backend, shots):
    q = shots.vectors[17] + 0.7 * shots.vectors[55]  # no tie between the two shots
    hits = filled.query(backend.db, V, q, 5, one_per_video=True)
    assert ids(hits) == _best_per_video(shots, q, 5)
    assert len({h.payload["video_id"] for h in hits}) == 5
    everything = filled.query(backend.db, V, q, 50, one_per_video=True)
    assert len(everything) == 12  # every video once, when fewer than k videos exist
    some = filled.query(backend.db, V, q, 5, video_ids=["vid01", "vid02"], one_per_video=True)
    assert sorted(h.payload["video_id"] for h in some) == ["vid01", "vid02"]


def test_recommend_uses_the_average_vector_and_excludes_the_examples(filled, backend, shots):
    pos, neg = [shots.ids[3], shots.ids[4]], [shots.ids[90]]
    vec = shots.vectors
    target = 2 * (vec[3] + vec[4]) / 2 - vec[90]
    hits = filled.recommend(backend.db, V, pos, neg, 10)
    assert not set(ids(hits)) & {*pos, *neg}
    assert ids(hits) == [i for i in exact_top(shots, target, 13) if i not in {*pos, *neg}][:10]
    grouped = filled.recommend(backend.db, V, pos, neg, 4, one_per_video=True)
    assert ids(grouped) == _best_per_video(shots, target, 4, exclude={*pos, *neg})
    only = filled.recommend(backend.db, V, pos, [], 5, video_ids=["vid05"])
    assert {h.payload["video_id"] for h in only} == {"vid05"}


def test_recommend_refuses_no_positives_and_unknown_examples(filled, backend, shots):
    with pytest.raises(QueryError, match="positive"):
        filled.recommend(backend.db, V, [], [shots.ids[0]], 5)
    with pytest.raises(QueryError, match="not found"):
        filled.recommend(backend.db, V, [point_id("ghost", 1)], [], 5)


def test_delete_video_whole_or_from_a_shot_index(filled, backend, shots):
    filled.delete_video(backend.db, "vid02")
    filled.delete_video(backend.db, "vid05", min_shot_index=6)
    assert filled.count(backend.db, "vid02") == 0
    left = sorted(p.payload["shot_index"] for p in filled.scroll(backend.db) if p.payload["video_id"] == "vid05")
    assert left == [0, 1, 2, 3, 4, 5]
    assert filled.count(backend.db) == len(shots.ids) - 10 - 4
    filled.delete_video(backend.db, "never-indexed")  # deleting nothing is fine


def test_delete_video_can_keep_chosen_points_whatever_their_ids(filled, backend, shots):
    """Replacing a video's shots: every other point of the video goes, the kept ones and other
    videos' points stay (re-segmentation keeps the ids of unchanged shots)."""
    video = [i for i, p in zip(shots.ids, shots.payloads, strict=True) if p["video_id"] == "vid03"]
    filled.delete_video(backend.db, "vid03", keep_ids=[video[7], video[2]])
    left = [p.id for p in filled.scroll(backend.db) if p.payload["video_id"] == "vid03"]
    assert sorted(left) == sorted([video[7], video[2]])
    assert filled.count(backend.db) == len(shots.ids) - 8


def test_count_and_scroll_see_every_point_once_in_a_stable_order(filled, backend, shots):
    assert filled.count(backend.db) == len(shots.ids)
    assert filled.count(backend.db, "vid00") == 10 and filled.count(backend.db, "missing") == 0
    first = list(filled.scroll(backend.db, batch_size=7))
    assert sorted(ids(first)) == sorted(shots.ids)
    assert ids(list(filled.scroll(backend.db, batch_size=50))) == ids(first)
    with_vectors = list(filled.scroll(backend.db, with_vectors=True, batch_size=33))
    row = shots.ids.index(with_vectors[0].id)
    np.testing.assert_allclose(with_vectors[0].vectors[V], shots.vectors[row], atol=1e-6)


def test_close_and_reopen_keeps_points(filled, backend, shots):
    if not backend.reopenable:
        pytest.skip("an in-memory store keeps nothing after close")
    q = shots.vectors[9]
    before = ids(filled.query(backend.db, V, q, 10))
    filled.flush()
    filled.close()
    filled.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        filled.count(backend.db)
    reopened = backend.open()
    try:
        assert reopened.count(backend.db) == len(shots.ids)
        assert ids(reopened.query(backend.db, V, q, 10)) == before
        assert reopened.vector_names(backend.db) == {V: shots.vectors.shape[1]}
    finally:
        if backend.kind == "server":
            reopened.drop_collection(backend.db)
        reopened.close()


def test_unknown_database_is_an_error_that_lists_the_known_ones(filled, backend, shots):
    missing = backend.db + "_missing"
    q = shots.vectors[0]
    calls = [
        lambda: filled.vector_names(missing), lambda: filled.count(missing), lambda: list(filled.scroll(missing)),
        lambda: filled.query(missing, V, q, 5), lambda: filled.recommend(missing, V, [shots.ids[0]], [], 5),
        lambda: filled.retrieve(missing, shots.ids[:2]), lambda: filled.delete_video(missing, "vid00"),
        lambda: filled.upsert(missing, shots.ids[:1], {V: shots.vectors[:1]}, shots.payloads[:1]),
        lambda: filled.drop_collection(missing),
    ]
    for call in calls:
        with pytest.raises(UnknownDatabaseError, match=backend.db):
            call()
    assert not filled.has_collection(missing) and filled.has_collection(backend.db)
    assert backend.db in filled.list_collections()


def test_ensure_collection_adds_a_vector_and_refuses_another_dimension(filled, backend, shots):
    filled.ensure_collection(backend.db, {V: 64})  # idempotent
    filled.ensure_collection(backend.db, {"text-test": 8})
    assert filled.vector_names(backend.db) == {V: 64, "text-test": 8}
    rows = [0, 1]
    filled.upsert(backend.db, [shots.ids[r] for r in rows], {V: shots.vectors[rows], "text-test": np.eye(8)[:2]},
                  [shots.payloads[r] for r in rows])
    assert ids(filled.query(backend.db, "text-test", np.eye(8)[1], 1)) == [shots.ids[1]]
    with pytest.raises(StoreError, match="dimension"):
        filled.ensure_collection(backend.db, {V: 32})


def test_malformed_requests_are_refused_with_the_reason(filled, backend, shots):
    with pytest.raises(QueryError, match="no 'other' vectors"):
        filled.query(backend.db, "other", shots.vectors[0], 5)
    with pytest.raises(QueryError, match="dimensions"):
        filled.query(backend.db, V, shots.vectors[0][:10], 5)
    with pytest.raises(StoreError, match="shape"):
        filled.upsert(backend.db, shots.ids[:2], {V: shots.vectors[:3]}, shots.payloads[:2])
    with pytest.raises(ConfigError, match="invalid database name"):
        filled.ensure_collection("../escape", {V: 64})


def test_drop_collection_removes_it(filled, backend):
    filled.drop_collection(backend.db)
    assert not filled.has_collection(backend.db) and backend.db not in filled.list_collections()


_HOLD = """
import sys
from pathlib import Path
from pipeline.store.factory import open_store
store = open_store(Path(sys.argv[1]), backend=sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
"""


@pytest.mark.parametrize("kind", ["edge", "local"])
def test_a_second_process_gets_store_locked_error(tmp_path, kind):
    from pipeline.store import open_store

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_HOLD), str(tmp_path), kind], cwd=REPO, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError, match="already open in another process"):
            open_store(tmp_path, backend=kind)
    finally:
        holder.communicate("\n", timeout=30)
    open_store(tmp_path, backend=kind).close()  # the lock went away with the process


def test_every_embedded_backend_returns_the_same_top_k(tmp_path):
    """768-d shots: Edge, local mode and memory agree on query, one-per-video and recommend."""
    data = make_shots(n_videos=30, per_video=10, dim=768, seed=3)
    stores = [EdgeStore(tmp_path / "edge"), QdrantClientStore(path=tmp_path / "qdrant"), QdrantClientStore(":memory:")]
    try:
        for s in stores:
            s.ensure_collection("db", {V: 768})
            s.upsert("db", data.ids, {V: data.vectors}, data.payloads)
        rng = np.random.default_rng(5)
        for q in rng.normal(size=(3, 768)).astype(np.float32):
            results = [ids(s.query("db", V, q, 20)) for s in stores]
            assert results[0] == results[1] == results[2] == exact_top(data, q, 20)
            grouped = [ids(s.query("db", V, q, 7, one_per_video=True)) for s in stores]
            assert grouped[0] == grouped[1] == grouped[2]
        reco = [ids(s.recommend("db", V, data.ids[:2], data.ids[50:51], 20)) for s in stores]
        assert reco[0] == reco[1] == reco[2]
    finally:
        for s in stores:
            s.close()


# -- transfer ----------------------------------------------------------------------------


def _two_vector_db(store: VectorStore, shots: Shots) -> None:
    """Every shot has the image vector; half of them a second, smaller one (added later)."""
    store.ensure_collection("src", {V: 64})
    store.upsert("src", shots.ids, {V: shots.vectors}, shots.payloads)
    store.ensure_collection("src", {"text-test": 16})
    half = list(range(0, len(shots.ids), 2))
    extra = np.random.default_rng(2).normal(size=(len(half), 16)).astype(np.float32)
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    store.upsert("src", [shots.ids[i] for i in half], {V: shots.vectors[half], "text-test": extra},
                 [shots.payloads[i] for i in half])


def _assert_same_database(a: VectorStore, a_name: str, b: VectorStore, b_name: str, shots: Shots) -> None:
    assert a.vector_names(a_name) == b.vector_names(b_name)
    left = {p.id: p for p in a.scroll(a_name, with_vectors=True)}
    right = {p.id: p for p in b.scroll(b_name, with_vectors=True)}
    assert left.keys() == right.keys() and len(left) == len(shots.ids)
    for pid, point in left.items():
        assert point.payload == right[pid].payload
        assert point.vectors.keys() == right[pid].vectors.keys()
        for name, vector in point.vectors.items():
            np.testing.assert_allclose(vector, right[pid].vectors[name], atol=1e-6)
    for q in shots.vectors[[1, 60, 111]]:
        assert ids(a.query(a_name, V, q, 15)) == ids(b.query(b_name, V, q, 15))
        assert ids(a.query(a_name, V, q, 5, one_per_video=True)) == ids(b.query(b_name, V, q, 5, one_per_video=True))


@pytest.mark.parametrize("direction", ["edge->local", "local->edge"])
def test_copy_between_embedded_stores_loses_nothing(tmp_path, shots, direction):
    edge, local = EdgeStore(tmp_path / "edge"), QdrantClientStore(path=tmp_path / "qdrant")
    src, dst = (edge, local) if direction == "edge->local" else (local, edge)
    seen = []
    try:
        _two_vector_db(src, shots)
        copied = copy_collection(src, dst, "src", "copy", batch_size=25, progress=lambda d, t: seen.append((d, t)))
        assert copied == len(shots.ids) and seen[-1] == (len(shots.ids), len(shots.ids))
        _assert_same_database(src, "src", dst, "copy", shots)
        with pytest.raises(StoreError, match="already has"):
            copy_collection(src, dst, "src", "copy")
    finally:
        edge.close()
        local.close()


def test_export_then_import_restores_the_same_database(tmp_path, shots):
    with EdgeStore(tmp_path / "edge") as edge, QdrantClientStore(":memory:") as memory:
        _two_vector_db(edge, shots)
        assert export_collection(edge, "src", tmp_path / "backup") == len(shots.ids)
        files = sorted(p.name for p in (tmp_path / "backup").iterdir())
        assert files == ["manifest.json", "points.jsonl", "vectors_000.npy", "vectors_001.npy"]
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".backup")]  # no temporary left
        assert import_collection(memory, tmp_path / "backup") == len(shots.ids)
        _assert_same_database(edge, "src", memory, "src", shots)
        assert import_collection(edge, tmp_path / "backup", name="restored") == len(shots.ids)
        _assert_same_database(edge, "src", edge, "restored", shots)
        with pytest.raises(StoreError, match="not an empty directory"):
            export_collection(edge, "src", tmp_path / "backup")
        with pytest.raises(StoreError, match="already has"):
            import_collection(edge, tmp_path / "backup", name="restored")


def test_export_import_of_an_empty_database(tmp_path):
    with EdgeStore(tmp_path / "edge") as edge:
        edge.ensure_collection("empty", {V: 8})
        assert export_collection(edge, "empty", tmp_path / "b") == 0
        assert import_collection(edge, tmp_path / "b", name="again") == 0
        assert edge.vector_names("again") == {V: 8} and edge.count("again") == 0


def test_import_refuses_a_directory_that_is_not_an_export(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "manifest.json").write_text('{"format": "something-else"}')
    with EdgeStore(tmp_path / "edge") as edge, pytest.raises(StoreError, match="not a BuscaEscenas"):
        import_collection(edge, tmp_path / "x")
