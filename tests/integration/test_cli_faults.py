"""The CLI under the faults the red team found: ``videos`` while another process holds the store,
and ingest on a disk with less than the free-space margin (one line, before any model loads)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipeline.index import VideoCatalog
from pipeline.records import IndexedVideo
from pipeline.store.edge import EdgeStore

REPO = Path(__file__).resolve().parents[2]
VIDEO = "0123456789abcdef0123"


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_videos_reads_the_catalog_while_the_app_holds_the_store(tmp_path):
    """Red team: `videos` refused to run while the app was up, though it only reads."""
    data = tmp_path / "data"
    VideoCatalog(data).record("archivo", IndexedVideo(VIDEO, "cinta.mp4", "media/x.mp4", 61.5, 123, 7, 3, 2, "clip-x",
                                                      "2026-01-01T00:00:00"))
    with EdgeStore(data / "edge"):  # what the running app holds
        listed = _cli("videos", "--data-dir", str(data), "--db", "archivo")
        unknown = _cli("videos", "--data-dir", str(data), "--db", "otra")
    assert listed.returncode == 0, listed.stderr
    assert VIDEO in listed.stdout and "cinta.mp4" in listed.stdout and "00:01:01.500" in listed.stdout
    assert unknown.returncode == 1 and unknown.stderr.startswith("error: database 'otra' does not exist")


def test_ingest_on_a_disk_short_of_the_margin_stops_in_one_line_before_anything_loads(tmp_path, slideshow):
    data = tmp_path / "data"
    done = _cli("ingest", str(slideshow), "--data-dir", str(data), "--clip-model", "local-dir:/nonexistent",
                BUSCA_MIN_FREE_PERCENT="99.9")
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: not enough free disk space to ingest into database 'archivo': the data "
                           f"directory {data} has ") and "BUSCA_MIN_FREE_MB" in line
    assert not (data / "edge").exists() and not (data / "videos").exists()
