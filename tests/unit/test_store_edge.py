"""What only the Edge backend does: its files, sealed quantised segments (no HNSW build), databases
of the earlier HNSW format, crash recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from pipeline.store import CollectionOptions, point_id
from pipeline.store.edge import META_FILE, SHARD_DIR, EdgeStore, _qe

REPO = Path(__file__).resolve().parents[2]


def _clustered(n: int, dim: int, n_videos: int, seed: int = 0) -> tuple[np.ndarray, list[str], list[dict]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_videos, dim))
    video = np.arange(n) % n_videos
    x = centres[video] + 0.7 * rng.normal(size=(n, dim))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    ids = [point_id(f"v{v}", i) for i, v in enumerate(video)]
    return x, ids, [{"video_id": f"v{v}", "shot_index": i} for i, v in enumerate(video)]


def test_metadata_is_a_json_file_beside_the_shard(tmp_path):
    with EdgeStore(tmp_path) as store:
        store.ensure_collection("db", {"clip": 8}, CollectionOptions(exact_below=123))
        store.ensure_collection("db", {"text": 4})
    meta = json.loads((tmp_path / "db" / META_FILE).read_text())
    assert meta["vectors"] == {"clip": 8, "text": 4} and meta["options"]["exact_below"] == 123
    assert (tmp_path / "db" / SHARD_DIR / "edge_config.json").is_file()
    assert sorted(p.name for p in (tmp_path / "db").iterdir()) == [META_FILE, SHARD_DIR]  # no temporaries


def test_an_interrupted_creation_is_not_listed_and_is_replaced(tmp_path):
    (tmp_path / "half" / SHARD_DIR).mkdir(parents=True)
    (tmp_path / "half" / SHARD_DIR / "junk").write_text("x")
    with EdgeStore(tmp_path) as store:
        assert store.list_collections() == [] and not store.has_collection("half")
        store.ensure_collection("half", {"clip": 4})
        assert store.list_collections() == ["half"] and store.count("half") == 0


def _recall_and_groups(store: EdgeStore, x: np.ndarray, ids: list[str], dim: int) -> float:
    rng = np.random.default_rng(1)
    queries = x[rng.integers(0, len(x), 20)] + 0.3 * rng.normal(size=(20, dim)).astype(np.float32)
    recalls = []
    for q in queries:
        exact = {ids[i] for i in np.argsort(-(x @ (q / np.linalg.norm(q))))[:20]}
        recalls.append(len(exact & {p.id for p in store.query("db", "clip", q, 20)}) / 20)
        grouped = store.query("db", "clip", q, 10, one_per_video=True)
        assert len({p.payload["video_id"] for p in grouped}) == 10
    return float(np.mean(recalls))


def test_full_segments_are_sealed_as_written_and_searched_with_rescoring(tmp_path):
    """Each time ``edge_segment_points`` points have been written, one segment is sealed (int8
    copies, no graph), so no optimizer run ever has more than about one segment to build; the
    quantised scan with rescoring keeps recall@20 at the exact search's level."""
    x, ids, payloads = _clustered(3000, 48, n_videos=60)
    with EdgeStore(tmp_path) as store:
        store.ensure_collection("db", {"clip": 48}, CollectionOptions(edge_segment_points=500))
        for start in range(0, 3000, 250):  # like videos: small writes, no flush in between
            store.upsert("db", ids[start:start + 250], {"clip": x[start:start + 250]}, payloads[start:start + 250])
            info = store._open["db"].shard.info()
            assert info.points_count - info.indexed_vectors_count < 500 + 250  # never more than one segment waits
        store.flush()
        info = store._open["db"].shard.info()
        assert info.segments_count >= 3 and info.indexed_vectors_count >= 2500
        assert _recall_and_groups(store, x, ids, 48) >= 0.95
    assert json.loads((tmp_path / "db" / META_FILE).read_text())["format"] == 2


def test_a_database_of_the_earlier_hnsw_format_opens_and_is_never_indexed_in_flush(tmp_path):
    """Format 1 (HNSW above ``exact_below``, built in ``flush``): it still answers, and ``flush``
    no longer runs its optimizer, which would hold the process for the whole graph build."""
    qe = _qe()
    config = qe.EdgeConfig(vectors={"clip": qe.EdgeVectorParams(size=48, distance=qe.Distance.Cosine)},
                           hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10),
                           optimizers=qe.EdgeOptimizersConfig(indexing_threshold=10))
    shard = qe.EdgeShard.create(str(tmp_path / "db" / SHARD_DIR), config)
    shard.update(qe.UpdateOperation.create_field_index("video_id", qe.PayloadSchemaType.Keyword))
    shard.close()
    (tmp_path / "db" / META_FILE).write_text(json.dumps(
        {"format": 1, "vectors": {"clip": 48}, "options": {"exact_below": 500}}))
    x, ids, payloads = _clustered(1500, 48, n_videos=30)
    with EdgeStore(tmp_path) as store:
        store.upsert("db", ids, {"clip": x}, payloads)
        store.flush()
        assert store._open["db"].shard.info().indexed_vectors_count == 0
        assert _recall_and_groups(store, x, ids, 48) == 1.0  # exact while nothing is indexed
        store.ensure_collection("db", {"text": 4})
    assert json.loads((tmp_path / "db" / META_FILE).read_text())["format"] == 1


_WRITER = """
import sys, time
import numpy as np
from pipeline.store.edge import EdgeStore
store = EdgeStore(sys.argv[1])
store.ensure_collection("db", {"clip": 16})
x = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
store.upsert("db", [f"00000000-0000-0000-0000-{i:012d}" for i in range(300)], {"clip": x},
             [{"video_id": "v", "shot_index": i} for i in range(300)])
store.flush()
print("flushed", flush=True)
time.sleep(60)
"""


def test_flushed_writes_survive_sigkill(tmp_path):
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert writer.stdout.readline().strip() == "flushed"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    with EdgeStore(tmp_path) as store:
        assert store.count("db") == 300
        point = store.retrieve("db", ["00000000-0000-0000-0000-000000000299"])[0]
        assert point.payload == {"video_id": "v", "shot_index": 299}


def test_dropped_database_leaves_no_files(tmp_path):
    with EdgeStore(tmp_path) as store:
        store.ensure_collection("db", {"clip": 4})
        store.drop_collection("db")
        assert [p.name for p in tmp_path.iterdir()] == [".busca.lock"]
