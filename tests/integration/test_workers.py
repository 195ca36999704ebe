"""Many workers, one archive: ``ingest --workers N`` (worker processes prepare, one process writes)
and ``ingest --shard I/N`` (a deterministic split of the inputs). A worker killed mid-video loses
nothing and leaves no duplicate; shards together cover every input exactly once, whatever the
folder's mount point. URLs go through the one URL validator.

The embedded store stands in for the Qdrant server that N machines would share (none runs here):
the shard runs below take turns on one data directory.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, ingest_paths
from pipeline.index.workers import Shard, ingest_parallel, select_shard
from pipeline.media import DecodeOptions
from pipeline.sources import SourceOptions, UrlPolicy
from pipeline.store import open_store

from testkit import KillOnceEncoder, assert_archive_consistent, slideshow_images, write_video

ROOT = Path(__file__).resolve().parents[2]
DB = "archivo"


def _videos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    photos = slideshow_images((160, 120))
    return [write_video(folder / f"video_{i}.mp4",  # every one different (a video's id is its content)
                        [(img, 1.0 + 0.5 * (i // 4)) for img in photos[i % 4:] + photos[:i % 4]])
            for i in range(n)]


# --- shards ----------------------------------------------------------------------------------------------


def test_shards_split_the_inputs_deterministically_whatever_the_mount_point(tmp_path):
    archive = tmp_path / "mnt" / "archivo"
    for i in range(40):
        path = archive / f"serie_{i % 3}" / f"cinta_{i:02d}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    other_mount = tmp_path / "archivo"
    other_mount.symlink_to(archive)  # the same folder as another machine sees it
    parts = [select_shard([str(archive)], Shard(i, 3)) for i in (1, 2, 3)]
    everything = select_shard([str(archive)], None)
    assert sorted(p for part in parts for p in part) == sorted(everything) and len(everything) == 40
    assert all(parts) and sum(len(p) for p in parts) == 40  # disjoint, none empty
    relative = [[str(Path(p).relative_to(archive)) for p in part] for part in parts]
    assert relative == [[str(Path(p).relative_to(other_mount)) for p in select_shard([str(other_mount)], Shard(i, 3))]
                        for i in (1, 2, 3)]
    assert select_shard([str(archive)], Shard(2, 3)) == parts[1]  # the same again
    for bad in ("0/3", "4/3", "1", "a/b", "1/0"):
        with pytest.raises(ConfigError, match="--shard"):
            Shard.parse(bad)
    assert Shard.parse(" 2 / 5 ") == Shard(2, 5)


# --- worker processes ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_worker_killed_mid_video_loses_nothing_and_leaves_no_duplicate(tmp_path, tiny_clip_dir):
    """The first worker to reach its second batch of frames is SIGKILLed (its video half embedded, its
    frames half written); the pool is started again, the videos in flight are retried, every video
    ends indexed exactly once."""
    videos, data, marker = _videos(tmp_path / "in", 4), tmp_path / "data", tmp_path / "killed"
    store = open_store(data)
    try:
        options = IngestOptions(decode=DecodeOptions(fps=2.0, batch_size=3), progress=False)
        results = ingest_parallel([str(v) for v in videos], KillOnceEncoder(tiny_clip_dir, marker), store,
                                  DataLayout(data), DB, options, workers=2)
    finally:
        store.close()
    assert marker.exists(), "no worker was killed: the test proved nothing"
    assert [r.status for r in results] == ["indexed"] * 4, [r.error for r in results]
    assert [Path(r.path).name for r in results] == [v.name for v in videos]  # in the order given
    assert_archive_consistent(data, DB, 4)


@pytest.mark.slow
def test_cli_shards_with_workers_fill_one_archive_once(tmp_path, tiny_clip_dir):
    """Two "machines" (runs with --shard 1/2, with 2 workers, and 2/2) fill one database; running a
    shard again reuses what it did."""
    _videos(tmp_path / "in", 5)
    data = tmp_path / "data"
    env = {**os.environ, "BUSCA_DATA_DIR": str(data), "BUSCA_CLIP_MODEL": f"local-dir:{tiny_clip_dir}",
           "BUSCA_DEVICE": "cpu", "BUSCA_DB": DB, "BUSCA_STORE": "edge"}
    counts = []
    for shard, workers in (("1/2", "2"), ("2/2", "1"), ("1/2", "1")):
        run = subprocess.run([sys.executable, "-m", "app", "ingest", str(tmp_path / "in"), "--workers", workers,
                              "--shard", shard], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        counts.append(int(run.stderr.split(f"shard {shard}: ")[1].split(" inputs")[0]))
        if shard == "1/2" and len(counts) == 3:
            assert run.stdout.count("reused artifacts") == counts[0]
    assert counts[0] + counts[1] == 5 and counts[0] == counts[2]
    assert_archive_consistent(data, DB, 5)


# --- URLs ----------------------------------------------------------------------------------------------


@pytest.fixture
def video_server(slideshow):
    data = slideshow.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/clip.mp4":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/clip.mp4"
    httpd.shutdown()


def test_a_url_is_indexed_into_a_search_database_through_the_url_validator(tmp_path, video_server, tiny_encoder):
    """A URL ingests like a file (the source users see is the URL); the default policy refuses a
    loopback address before any request, and the batch goes on."""
    data = tmp_path / "data"
    trusted = SourceOptions(cache_dir=data / "downloads", extractors=(), allow_generic_extractor=True,
                            policy=UrlPolicy(allowed_hosts=("127.0.0.1",), trusted_private_hosts=("127.0.0.1",)))
    default = SourceOptions(cache_dir=data / "downloads")
    store = open_store(data)
    try:
        options = IngestOptions(decode=DecodeOptions(fps=2.0), progress=False)
        [refused] = ingest_paths([video_server], tiny_encoder, store, DataLayout(data), DB, options, fetch=default)
        assert refused.status == "failed" and refused.error.startswith(video_server) and "allowlist" in refused.error
        [nothing] = ingest_paths([video_server], tiny_encoder, store, DataLayout(data), DB, options)
        assert nothing.status == "failed" and "download settings" in nothing.error
        assert not store.has_collection(DB)
        [result] = ingest_paths([video_server], tiny_encoder, store, DataLayout(data), DB, options, fetch=trusted)
    finally:
        store.close()
    assert result.status == "indexed", result.error
    [entry] = VideoCatalog(data).videos(DB).values()
    assert entry.source == video_server and entry.path.startswith("media/")
    assert_archive_consistent(data, DB, 1)
