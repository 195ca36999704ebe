"""The scale-out path through the CLI: ``migrate`` edge -> local -> edge and ``backup`` /
``restore`` lose nothing (same points, payloads, vectors and search results), and the
catalog and the channel registry travel with the database."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.cli.main import main
from pipeline.channels import ChannelRegistry
from pipeline.core import atomic
from pipeline.index import DataLayout, VideoCatalog
from pipeline.records import IndexedVideo
from pipeline.store import open_store, point_id

VECTORS = {"clip-a": 16, "clip-b": 8}
N_VIDEOS, SHOTS = 6, 25


@pytest.fixture()
def data(tmp_path, monkeypatch):
    for name in ("BUSCA_QDRANT_URL", "BUSCA_QDRANT_API_KEY", "BUSCA_STORE", "BUSCA_DB", "BUSCA_SHARD_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    store = open_store(root, backend="edge")
    try:
        store.ensure_collection("arch", VECTORS)
        ids, payloads = [], []
        for v in range(N_VIDEOS):
            video = f"{v:020x}"
            for s in range(SHOTS):
                ids.append(point_id(video, s))
                payloads.append({"video_id": video, "source": f"video_{v}.mp4", "shot_index": s, "scene": s // 5,
                                 "class_id": s % 3, "start_s": 2.0 * s, "end_s": 2.0 * s + 2.0,
                                 "thumbnail": f"videos/{video}/clip-a/thumbs/shot_{s:04d}.jpg"})
        vectors = {n: _unit(rng.standard_normal((len(ids), d))) for n, d in VECTORS.items()}
        store.upsert("arch", ids, vectors, payloads)
        store.flush()
    finally:
        store.close()
    layout = DataLayout(root)
    for v in range(N_VIDEOS):
        VideoCatalog(layout.root).record("arch", IndexedVideo(f"{v:020x}", f"video_{v}.mp4", f"/m/{v}.mp4", 50.0, 100, SHOTS,
                                                   5, 3, "clip-a", "2024-01-01T00:00:00"))
    return root


def _unit(a):
    return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)


def snapshot(root, backend, name, queries):
    """Everything a database holds, and what it answers, in a comparable form."""
    store = open_store(root, backend=backend)
    try:
        points = {p.id: p for p in store.scroll(name, with_vectors=True)}
        results = [[(p.id, round(p.score, 5)) for p in store.query(name, "clip-a", q, 10, one_per_video=opv)]
                   for q in queries for opv in (False, True)]
        return {i: p.payload for i, p in points.items()}, {i: p.vectors for i, p in points.items()}, results
    finally:
        store.close()


def assert_same(a, b):
    payloads_a, vectors_a, results_a = a
    payloads_b, vectors_b, results_b = b
    assert len(payloads_a) == N_VIDEOS * SHOTS and payloads_a == payloads_b
    for pid, named in vectors_a.items():
        assert set(named) == set(VECTORS) == set(vectors_b[pid])
        for vname, vector in named.items():
            np.testing.assert_allclose(vector, vectors_b[pid][vname], atol=1e-6)
    assert [[i for i, _ in r] for r in results_a] == [[i for i, _ in r] for r in results_b]
    for ra, rb in zip(results_a, results_b, strict=True):
        np.testing.assert_allclose([s for _, s in ra], [s for _, s in rb], atol=1e-4)


def run(*argv):
    return main([*argv])


#: a channel registry file as earlier versions kept it (``<data>/channels/<db>.json``)
REGISTRY = {"format": 1, "channels": {"speech": {"dense": "speech-e5-small", "sparse": "speech-bm25",
                                                 "source": "whisper:base/int8", "bm25": {"k1": 1.2}}},
            "videos": {f"{v:020x}": {"speech": {"source": "whisper:base/int8", "shots": v, "note": None,
                                                "at": "2026-01-01T00:00:00+00:00", "n_shots": SHOTS}}
                       for v in range(3)}}


def registry(root, backend, name):
    store = open_store(root, backend=backend)
    try:
        with ChannelRegistry(store, root) as reg:
            return reg.read(name)
    finally:
        store.close()


def test_migrate_edge_to_local_and_back_loses_nothing(data, capsys):
    queries = _unit(np.random.default_rng(1).standard_normal((4, 16)))
    original = snapshot(data, "edge", "arch", queries)
    atomic.write_json(data / "channels" / "arch.json", REGISTRY)

    assert run("migrate", "--data-dir", str(data), "--db", "arch", "--from", "edge", "--to", "local") == 0
    assert "copied 150 shots of 'arch' from edge to local" in capsys.readouterr().out
    assert_same(original, snapshot(data, "local", "arch", queries))

    assert run("migrate", "--data-dir", str(data), "--db", "arch", "--from", "local", "--to", "edge",
               "--to-db", "back") == 0
    assert_same(original, snapshot(data, "edge", "back", queries))
    layout = DataLayout(data)
    assert VideoCatalog(layout.root).videos("back") == VideoCatalog(layout.root).videos("arch") and len(VideoCatalog(layout.root).videos("back")) == N_VIDEOS
    assert registry(data, "edge", "back") == registry(data, "local", "arch") == registry(data, "edge", "arch") == REGISTRY
    assert (data / "channels" / "arch.json.migrated").exists() and not (data / "channels" / "back.json").exists()


def test_migrate_refuses_to_overwrite_without_replace(data, capsys):
    base = ("migrate", "--data-dir", str(data), "--db", "arch")
    assert run(*base, "--from", "edge", "--to", "edge") == 1
    assert "both edge 'arch'" in capsys.readouterr().err
    assert run(*base, "--to", "local") == 0
    assert run(*base, "--to", "local") == 1
    assert "pass --replace" in capsys.readouterr().err
    assert run(*base, "--to", "local", "--replace") == 0
    assert run("migrate", "--data-dir", str(data), "--db", "nope", "--to", "local") == 1
    assert run(*base, "--to", "ftp://x") == 1


def test_backup_and_restore_carry_the_catalog(data, tmp_path, capsys):
    queries = _unit(np.random.default_rng(2).standard_normal((3, 16)))
    original = snapshot(data, "edge", "arch", queries)
    atomic.write_json(data / "channels" / "arch.json", REGISTRY)
    backup = tmp_path / "backup"
    assert run("backup", "--data-dir", str(data), "--db", "arch", "--out", str(backup)) == 0
    assert json.loads((backup / "channels.json").read_text()) == REGISTRY
    assert json.loads((backup / "catalog.json").read_text())["videos"].keys() == VideoCatalog(data).videos("arch").keys()

    fresh = tmp_path / "fresh"
    assert run("restore", str(backup), "--data-dir", str(fresh), "--store", "local") == 0
    assert "restored 150 shots into 'arch'" in capsys.readouterr().out
    assert_same(original, snapshot(fresh, "local", "arch", queries))
    assert VideoCatalog(fresh).videos("arch") == VideoCatalog(data).videos("arch")
    assert registry(fresh, "local", "arch") == REGISTRY and not (fresh / "channels").exists()

    assert run("restore", str(backup), "--data-dir", str(data), "--db", "copy") == 0
    assert_same(original, snapshot(data, "edge", "copy", queries))
    assert registry(data, "edge", "copy") == REGISTRY
    assert run("restore", str(backup), "--data-dir", str(data), "--db", "copy") == 1
    assert run("restore", str(tmp_path), "--data-dir", str(data)) == 1
    assert "not a backup" in capsys.readouterr().err


def test_collection_options_from_flags_and_environment():
    from argparse import Namespace

    from app.cli.admin import collection_options

    args = Namespace(shards=None, replication_factor=2, on_disk_vectors=None, scalar_quantization=True)
    env = {"BUSCA_SHARD_NUMBER": "3", "BUSCA_REPLICATION_FACTOR": "5", "BUSCA_ON_DISK_VECTORS": "true"}
    options = collection_options(args, env)
    assert (options.shard_number, options.replication_factor, options.on_disk_vectors,
            options.scalar_quantization) == (3, 2, True, True)


@pytest.mark.server
def test_migrate_to_a_server_and_back_with_collection_options(data, monkeypatch):
    """Needs a Qdrant server: BUSCA_TEST_QDRANT_URL (and BUSCA_TEST_QDRANT_API_KEY if it has one)."""
    import os

    url = os.environ.get("BUSCA_TEST_QDRANT_URL")
    if not url:
        pytest.skip("no Qdrant server: set BUSCA_TEST_QDRANT_URL (e.g. http://localhost:6333) to run this test")
    key = ["--qdrant-api-key", os.environ["BUSCA_TEST_QDRANT_API_KEY"]] if os.environ.get("BUSCA_TEST_QDRANT_API_KEY") \
        else []
    queries = _unit(np.random.default_rng(3).standard_normal((3, 16)))
    original = snapshot(data, "edge", "arch", queries)
    name = f"busca_test_migrate_{os.getpid()}"
    base = ["--data-dir", str(data), "--db", "arch", *key]
    assert run("migrate", *base, "--to", url, "--to-db", name, "--shards", "2", "--scalar-quantization") == 0
    from qdrant_client import QdrantClient

    client = QdrantClient(url=url, api_key=key[1] if key else None)
    try:
        info = client.get_collection(name)  # the options reached the server
        assert info.config.params.shard_number == 2 and info.config.quantization_config is not None
    finally:
        client.close()
    from pipeline.index import ServerCatalog

    on_server = ServerCatalog.connect(url, key[1] if key else None)
    try:
        assert on_server.videos(name) == VideoCatalog(data).videos("arch")  # the catalog went to the server
        assert run("migrate", *base[:2], "--db", name, *key, "--from", url, "--to", "edge", "--to-db", "back") == 0
        assert_same(original, snapshot(data, "edge", "back", queries))
        assert VideoCatalog(data).videos("back") == VideoCatalog(data).videos("arch")  # and came back
    finally:
        on_server.drop_database(name)
        on_server.close()
        server = open_store(data, url=url, api_key=key[1] if key else None)
        server.drop_collection(name)
        server.close()


def test_databases_rename_and_delete_carry_and_remove_the_channel_registry(data):
    """A registry file of an earlier version is imported when the app opens, so renaming carries it."""
    atomic.write_json(data / "channels" / "arch.json", REGISTRY)
    assert run("databases", "rename", "arch", "nuevo", "--data-dir", str(data)) == 0
    assert registry(data, "edge", "nuevo") == REGISTRY and not (data / "channels" / "arch.json").exists()
    assert run("databases", "delete", "nuevo", "--yes", "--keep-files", "--data-dir", str(data)) == 0
    assert VideoCatalog(data).channel_records("nuevo") == {}
