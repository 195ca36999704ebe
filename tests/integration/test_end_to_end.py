"""End to end on the embedded stores: ingest a generated multi-shot video with a tiny random
open_clip model (loaded through the same ``local-dir:`` path as real weights), search by text,
image and both, re-ingest without duplicates, close and reopen.

The tiny model proves wiring and persistence, not search quality.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.cli.main import main
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, ingest_paths
from pipeline.media import DecodeOptions
from pipeline.search import Query, refine, search
from pipeline.store import open_store

from testkit import slideshow_images

OPTIONS = IngestOptions(decode=DecodeOptions(fps=2.0), progress=False)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["edge", "local"])
def backend(request) -> str:
    return request.param


def _ingest(data: Path, backend: str, encoder, inputs, db="archivo"):
    store = open_store(data, backend=backend)
    try:
        return ingest_paths(inputs, encoder, store, DataLayout(data), db, OPTIONS)
    finally:
        store.close()


def test_ingest_search_reingest_reopen(tmp_path, slideshow, tiny_encoder, backend):
    data = tmp_path / "data"
    [result] = _ingest(data, backend, tiny_encoder, [slideshow])
    assert result.status == "indexed", result.error
    layout = DataLayout(data)
    entry = VideoCatalog(layout.root).videos("archivo")[result.video_id]
    assert entry.n_frames == 16 and entry.n_shots == result.n_shots >= 1

    store = open_store(data, backend=backend)
    try:
        assert store.count("archivo") == result.n_shots
        text_hits = search(store, tiny_encoder, "archivo", Query(text="an astronaut", k=50))
        assert len(text_hits) == result.n_shots
        assert [h.rank for h in text_hits] == list(range(1, len(text_hits) + 1))
        assert all(h.video_id == result.video_id and (data / h.thumbnail).is_file() for h in text_hits)
        assert text_hits == sorted(text_hits, key=lambda h: -h.score)
        assert text_hits[0].start_tc.count(":") == 2 and len(text_hits[0].start_tc) == 12

        rocket = slideshow_images()[3]  # shown from 6 s to 8 s
        [best] = search(store, tiny_encoder, "archivo", Query(image=rocket, k=1))
        assert best.start_s < 8.0 and best.end_s > 6.0

        both = search(store, tiny_encoder, "archivo", Query(text="a rocket", image=rocket, image_weight=0.7, k=3))
        assert both and all(-1.0 <= h.score <= 1.0 + 1e-6 for h in both)

        if result.n_shots > 1:
            refined = refine(store, tiny_encoder, "archivo", Query(text="a rocket", k=5),
                             positive=[best.point_id], negative=[], k=5)
            assert best.point_id not in {h.point_id for h in refined}
    finally:
        store.close()

    [again] = _ingest(data, backend, tiny_encoder, [slideshow])
    assert again.status == "indexed" and again.reused
    forced = IngestOptions(decode=OPTIONS.decode, progress=False, force=True)
    store = open_store(data, backend=backend)
    try:
        [third] = ingest_paths([slideshow], tiny_encoder, store, layout, "archivo", forced)
        assert third.status == "indexed" and not third.reused
        assert store.count("archivo") == result.n_shots  # replaced, never duplicated
    finally:
        store.close()

    store = open_store(data, backend=backend)  # reopen: everything is still there
    try:
        assert store.count("archivo") == result.n_shots
        assert search(store, tiny_encoder, "archivo", Query(text="an astronaut", k=50)) == text_hits
    finally:
        store.close()


def test_folder_with_a_bad_file_indexes_the_good_ones(tmp_path, slideshow, tiny_encoder):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.mp4").write_bytes(slideshow.read_bytes())
    (folder / "broken.mp4").write_text("not a video")
    (folder / "empty.mkv").write_bytes(b"")
    results = {Path(r.path).name: r for r in _ingest(tmp_path / "data", "edge", tiny_encoder, [folder])}
    assert results["good.mp4"].status == "indexed"
    assert results["broken.mp4"].status == "failed" and "broken.mp4" in results["broken.mp4"].error
    assert results["empty.mkv"].status == "failed" and "empty file" in results["empty.mkv"].error
    assert len(VideoCatalog(tmp_path / "data").videos("archivo")) == 1


def _cli(args, data: Path, model_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "BUSCA_DATA_DIR": str(data), "BUSCA_CLIP_MODEL": f"local-dir:{model_dir}",
           "BUSCA_DEVICE": "cpu", "BUSCA_DB": "pruebas"}
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_cli_ingest_search_videos(tmp_path, slideshow, tiny_clip_dir, monkeypatch, capsys):
    """``python -m app`` in a real subprocess for ingest, then the other commands through the same
    ``main()`` in-process (saves a torch import per call)."""
    data = tmp_path / "data"
    bad = tmp_path / "bad.mp4"
    bad.write_text("garbage")
    ingest = _cli(["ingest", str(slideshow), str(bad)], data, tiny_clip_dir)
    assert ingest.returncode == 3, ingest.stderr
    assert "FAILED" in ingest.stdout and "bad.mp4" in ingest.stdout and "1 indexed, 1 failed" in ingest.stderr

    for name, value in {"BUSCA_DATA_DIR": str(data), "BUSCA_CLIP_MODEL": f"local-dir:{tiny_clip_dir}",
                        "BUSCA_DEVICE": "cpu", "BUSCA_DB": "pruebas"}.items():
        monkeypatch.setenv(name, value)

    def run(*args):
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = run("search", "--text", "a cat", "--k", "2", "--json")
    assert code == 0, err
    hits = json.loads(out)
    assert 1 <= len(hits) <= 2 and hits[0]["source"] == "slideshow.mp4" and Path(hits[0]["thumbnail_path"]).is_file()
    code, out, _ = run("search", "--text", "a cat")
    assert code == 0 and "slideshow.mp4" in out and "score" in out and "-0.000" not in out
    reference = f"{hits[0]['video_id']}:{hits[0]['shot_index'] + 1}"  # as the table shows it
    assert reference in out
    code, out, err = run("search", "--like", reference, "--json")  # more like this
    assert code == 0, err
    assert hits[0]["point_id"] not in {h["point_id"] for h in json.loads(out)}
    code, out, _ = run("search", "--like", hits[0]["point_id"])
    assert code == 0 and "slideshow.mp4" in out
    code, _, err = run("search", "--like", reference, "--text", "x")
    assert code == 1 and "--like" in err
    code, _, err = run("search", "--like", f"{hits[0]['video_id']}:99")
    assert code == 1 and "is not in database" in err
    code, out, _ = run("videos")
    assert code == 0 and "slideshow.mp4" in out
    code, _, err = run("search", "--db", "nada")
    assert code == 1 and err.startswith("error: empty query")
    code, _, err = run("search", "--text", "x", "--db", "nada")
    assert code == 1 and "database 'nada' does not exist" in err
    code, _, err = run("search", "--image", str(bad))
    assert code == 1 and "bad.mp4" in err


def test_search_rejects_empty_queries():
    with pytest.raises(Exception, match="empty query"):
        Query(text="   ")
    with pytest.raises(Exception, match="image_weight"):
        Query(text="x", image=np.zeros((4, 4, 3), np.uint8), image_weight=1.5)
