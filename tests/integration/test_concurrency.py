"""Concurrency: one store client per process, a clear message for a second process on an
embedded store, catalog writers that never lose each other's entries, and a web app that
serves several search clients at once with the results each would get alone.

Load is bounded (8 clients x 5 queries, 127.0.0.1 only, a timeout on everything).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.config import Settings
from app.services import Services
from pipeline.errors import StoreLockedError
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, ingest_paths
from pipeline.media import DecodeOptions
from pipeline.store import open_store

ROOT = Path(__file__).resolve().parents[2]
STORE_DIRS = {"edge": "edge", "local": "qdrant"}


def _settings(data: Path, backend: str = "edge", model: str = "local-dir:/nonexistent") -> Settings:
    return Settings(data_dir=data, db="archivo", clip_model=model, device="cpu", store=backend,
                    qdrant_url=None, qdrant_api_key=None, fps=2.0)


@pytest.mark.parametrize("backend", ["edge", "local"])
def test_services_hold_the_only_store_client_of_a_process(tmp_path, backend):
    """A second Services (or any second client) on the same embedded store is refused, even in
    the same process; once the first closes, the store opens again."""
    first = Services.start(_settings(tmp_path, backend))
    try:
        with pytest.raises(StoreLockedError, match="--qdrant-url"):
            Services.start(_settings(tmp_path, backend))
    finally:
        first.close()
    Services.start(_settings(tmp_path, backend)).close()


def test_the_web_app_reaches_the_store_only_through_its_services():
    """No handler opens a client of its own: a second one in the app's process would be refused
    by an embedded store, and would bypass the one lifecycle the services own."""
    openers = {"open_store", "QdrantClient", "QdrantClientStore", "EdgeStore", "Services.start"}
    calls = []
    for path in sorted((ROOT / "app" / "ui").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name in openers or name.split(".")[-1] in openers:
                    calls.append((str(path.relative_to(ROOT)), name))
    assert calls == [("app/ui/app.py", "Services.start")]  # in start(), only when no services are given


HOLDER = textwrap.dedent("""
    import sys
    from pipeline.store.factory import open_store
    store = open_store(sys.argv[1], backend=sys.argv[2])
    print("holding", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    store.close()
""")


@pytest.mark.parametrize("backend", ["edge", "local"])
def test_a_second_process_on_the_embedded_store_is_told_to_use_a_server(tmp_path, backend):
    data = tmp_path / "data"
    env = {**os.environ, "BUSCA_DATA_DIR": str(data), "BUSCA_STORE": backend}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data), backend], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        second = subprocess.run([sys.executable, "-m", "app", "databases"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert second.returncode == 1, second.stderr
    [line] = second.stderr.strip().splitlines()
    assert line.startswith("error: ") and str(data / STORE_DIRS[backend]) in line
    assert "already open in another process" in line and "--qdrant-url" in line and "BUSCA_QDRANT_URL" in line
    assert holder.returncode == 0


WRITER = textwrap.dedent("""
    import sys
    from pipeline.index import VideoCatalog
    from pipeline.records import IndexedVideo
    catalog, worker, count = VideoCatalog(__import__("pathlib").Path(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
    for i in range(count):
        video_id = f"{worker:04x}{i:016x}"
        catalog.record("archivo", IndexedVideo(video_id, f"w{worker}-{i}.mp4", "/x.mp4", 1.0, 2, 1, 1, 1,
                                               "clip-x", "2026-01-01T00:00:00+00:00"))
""")


def test_catalog_writers_in_several_processes_lose_no_entry(tmp_path):
    """Processes that share a data directory (ingests against one Qdrant server) each add videos
    to the same catalog at the same time: every entry survives (a lock around read-modify-write)."""
    workers, each = 4, 25
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(w), str(each)], cwd=ROOT)
             for w in range(workers)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    catalog = VideoCatalog(tmp_path).videos("archivo")
    assert len(catalog) == workers * each
    assert not list((tmp_path / "catalog").glob("*.tmp"))


# --- the web app under 8 concurrent clients -------------------------------------------------------

QUERIES = ("a cat", "a rocket on the launch pad", "a cup of coffee", "an astronaut", "a street at night")
CLIENTS, PER_CLIENT = 8, 5


@pytest.fixture(scope="module")
def search_app(tmp_path_factory, slideshow, tiny_clip_dir, tiny_encoder):
    pytest.importorskip("gradio")
    from app.ui.settings import UiSettings

    from testkit import free_port, serve_app, slideshow_images, write_video

    root = tmp_path_factory.mktemp("concurrent-app")
    data = root / "data"
    photos = slideshow_images()
    second = write_video(root / "second.mp4", [(photos[3], 2.0), (photos[0], 2.0), (photos[1], 2.0)])
    store = open_store(data)
    try:
        results = ingest_paths([slideshow, second], tiny_encoder, store, DataLayout(data), "archivo",
                               IngestOptions(decode=DecodeOptions(fps=2.0), progress=False))
    finally:
        store.close()
    assert all(r.status == "indexed" for r in results), results
    settings = _settings(data, model=f"local-dir:{tiny_clip_dir}")
    ui = UiSettings(host="127.0.0.1", port=free_port(), ingest_roots=(root,), lang="en")
    services = Services(settings, DataLayout(data), VideoCatalog(data), open_store(data), tiny_encoder)
    with serve_app(settings, ui, services):
        yield f"http://127.0.0.1:{ui.port}/", sum(r.n_shots for r in results)


def _ranking(client, text: str) -> list[tuple[str, float]]:
    *_, records, _files = client.predict("archivo", text, None, 0.5, 6, False, [], api_name="/search")
    return [(r["point_id"], round(float(r["score"]), 5)) for r in records]


@pytest.mark.slow
def test_eight_concurrent_search_clients_each_get_the_single_client_results(search_app):
    from gradio_client import Client

    url, n_shots = search_app
    assert n_shots >= 2
    alone = Client(url, verbose=False, download_files=False)
    expected = {q: _ranking(alone, q) for q in QUERIES}
    assert all(len(r) == min(6, n_shots) for r in expected.values())
    assert len({tuple(r) for r in expected.values()}) > 1  # the queries do not all rank alike

    def one_client(n: int) -> list[tuple[str, list]]:
        client = Client(url, verbose=False, download_files=False)
        order = [QUERIES[(n + i) % len(QUERIES)] for i in range(PER_CLIENT)]
        return [(q, _ranking(client, q)) for q in order]

    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(one_client, n) for n in range(CLIENTS)]
        answers = [f.result(timeout=240) for f in futures]
    assert sum(len(a) for a in answers) == CLIENTS * PER_CLIENT
    for client_answers in answers:
        for query, ranking in client_answers:
            assert ranking == expected[query], query
