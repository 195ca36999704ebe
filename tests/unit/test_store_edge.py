"""What only the Edge backend does: its files, HNSW above exact_below, crash recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from pipeline.store import CollectionOptions, point_id
from pipeline.store.edge import META_FILE, SHARD_DIR, EdgeStore

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


def test_hnsw_above_exact_below_keeps_recall_at_20_above_095(tmp_path):
    x, ids, payloads = _clustered(3000, 48, n_videos=60)
    options = CollectionOptions(exact_below=500)
    with EdgeStore(tmp_path) as store:
        store.ensure_collection("db", {"clip": 48}, options)
        store.upsert("db", ids, {"clip": x}, payloads)
        store.flush()  # runs the optimizer: HNSW for segments above exact_below points
        assert store._open["db"].shard.info().indexed_vectors_count > 0
        rng = np.random.default_rng(1)
        queries = x[rng.integers(0, len(x), 20)] + 0.3 * rng.normal(size=(20, 48)).astype(np.float32)
        recalls = []
        for q in queries:
            exact = {ids[i] for i in np.argsort(-(x @ (q / np.linalg.norm(q))))[:20]}
            recalls.append(len(exact & {p.id for p in store.query("db", "clip", q, 20)}) / 20)
            grouped = store.query("db", "clip", q, 10, one_per_video=True)
            assert len({p.payload["video_id"] for p in grouped}) == 10
        assert np.mean(recalls) >= 0.95


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
