"""Crash safety of ingest: a process killed at any point loses nothing already stored, leaves no
half-written artifact that a reader could take for a whole one, and a re-run completes the job
with every video indexed exactly once.

How it holds (see ``pipeline.ingest``): artifacts are written atomically (temporary file, fsync,
rename); ``meta.json``, which marks a video's artifacts as finished, is removed before they are
recomputed and written last; the store is written before the catalog; point ids are
deterministic. Decided for leftovers: temporary files of a killed write (``.<name>.<random>.tmp``)
are never read, and the next run that touches their folder removes them (the video's folder when
it is recomputed). The catalog is SQLite: a killed commit is rolled back by its journal.
"""

from __future__ import annotations

import builtins
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pipeline.index.prepare as prepare_module
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, ingest_paths
from pipeline.media import DecodeOptions
from pipeline.store import open_store

from testkit import assert_archive_consistent, slideshow_images, write_video

ROOT = Path(__file__).resolve().parents[2]
DB = "archivo"


def _videos(folder: Path, n: int) -> list[Path]:
    """``n`` short videos with different content (photo order and durations), so ids differ."""
    folder.mkdir(parents=True, exist_ok=True)
    photos = slideshow_images((160, 120))
    paths = []
    for i in range(n):
        order = photos[i % 4:] + photos[: i % 4]
        paths.append(write_video(folder / f"video_{i}.mp4", [(img, 1.0 + 0.5 * (i % 2)) for img in order]))
    return paths


def check_consistent(data: Path, expected_videos: int) -> None:
    assert_archive_consistent(data, DB, expected_videos)


def _cli_env(data: Path, model_dir: Path) -> dict[str, str]:
    return {**os.environ, "BUSCA_DATA_DIR": str(data), "BUSCA_CLIP_MODEL": f"local-dir:{model_dir}",
            "BUSCA_DEVICE": "cpu", "BUSCA_DB": DB, "BUSCA_FPS": "2", "BUSCA_STORE": "edge"}


def _catalog_size(data: Path) -> int:
    """Videos recorded so far, read as another process would (SQLite in WAL mode: readers never block)."""
    if not (data / "catalog" / "catalog.sqlite3").exists():
        return 0
    catalog = VideoCatalog(data)
    try:
        return catalog.totals(DB).videos
    finally:
        catalog.close()


@pytest.mark.slow
def test_sigkill_mid_ingest_then_rerun_indexes_every_video_exactly_once(tmp_path, tiny_clip_dir):
    """``python -m app ingest FOLDER`` is SIGKILLed once the first video is in the catalog (the
    second is then being decoded, embedded or written); stale temporary files such as a killed
    atomic write leaves are added; a second run completes and cleans up."""
    videos, data = _videos(tmp_path / "in", 4), tmp_path / "data"
    env = _cli_env(data, tiny_clip_dir)
    command = [sys.executable, "-m", "app", "ingest", str(tmp_path / "in")]
    with open(tmp_path / "first.log", "wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 150
        try:
            while _catalog_size(data) < 1 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "first.log").read_text(errors="replace")
    assert 1 <= _catalog_size(data) < len(videos), "the kill came too late to test anything"

    # What a kill in the middle of an atomic write leaves: hidden temporary files beside the target.
    catalog = VideoCatalog(data).videos(DB)
    # (only where the killed run had not finished the artifacts: a finished video is reused as it is)
    in_progress = [d for d in (data / "videos").iterdir() if d.name not in catalog and not list(d.rglob("meta.json"))]
    for folder in in_progress:
        (folder / ".info.json.k1ll3d.tmp").write_bytes(b'{"half": ')
    assert VideoCatalog(data).databases() == [DB]  # readers ignore them meanwhile
    assert len(VideoCatalog(data).pending(DB)) <= 1  # the video being written when the kill came, if any

    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"{len(videos)} indexed, 0 failed" in second.stderr
    assert second.stdout.count("reused artifacts") >= 1  # what the first run finished is not redone
    check_consistent(data, len(videos))


class Killed(BaseException):
    """Stands for SIGKILL inside one process: nothing after the raise runs, nothing catches it."""


def test_a_killed_recompute_is_never_taken_for_a_finished_one(tmp_path, tiny_encoder, monkeypatch):
    """Re-ingest with other options (fps 1) dies after writing the new embeddings but before the
    segmentation: the artifacts of fps 2 are half replaced. A later fps-2 run must recompute,
    not reuse the mix (meta.json of the old run would otherwise still match)."""
    [video] = _videos(tmp_path / "in", 1)
    data, layout = tmp_path / "data", DataLayout(tmp_path / "data")
    fps2 = IngestOptions(decode=DecodeOptions(fps=2.0), progress=False)
    fps1 = IngestOptions(decode=DecodeOptions(fps=1.0), progress=False)

    def run(options):
        store = open_store(data)
        try:
            return ingest_paths([video], tiny_encoder, store, layout, DB, options)[0]
        finally:
            store.close()

    first = run(fps2)
    assert first.status == "indexed"

    def die(*args, **kwargs):
        for folder in (data / "videos").glob("*/*/"):  # and a write cut short, as the kill would leave
            (folder / ".segmentation.json.k1ll3d.tmp").write_bytes(b"{")
        raise Killed

    monkeypatch.setattr(prepare_module, "segment", die)
    with pytest.raises(Killed):
        run(fps1)
    monkeypatch.undo()

    again = run(fps2)
    assert again.status == "indexed" and not again.reused
    check_consistent(data, 1)


def test_ingest_writes_every_artifact_through_a_temporary_file(tmp_path, tiny_encoder, monkeypatch):
    """Every file ingest opens for writing under the data directory is a temporary file that is
    then renamed, except the lock files and the sampled frames (working files: ``meta.json``,
    written last, is what says a video's artifacts are complete)."""
    [video] = _videos(tmp_path / "in", 1)
    data = (tmp_path / "data").resolve()
    written: list[Path] = []
    real_open, real_os_open = builtins.open, os.open

    def note(file) -> None:
        if isinstance(file, str | os.PathLike):
            path = Path(os.path.abspath(file))
            if path.is_relative_to(data):
                written.append(path)

    def spy_open(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            note(file)
        return real_open(file, mode, *args, **kwargs)

    def spy_os_open(file, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            note(file)
        return real_os_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    store = open_store(data)
    try:
        options = IngestOptions(decode=DecodeOptions(fps=2.0), progress=False, media="copy")
        [result] = ingest_paths([video], tiny_encoder, store, DataLayout(data), DB, options)
    finally:
        store.close()
        monkeypatch.undo()
    assert result.status == "indexed", result.error
    in_place = [p for p in written
                if not (p.name.startswith(".") and p.name.endswith(".tmp"))  # atomic.write_bytes, place_media
                and not p.name.endswith(".lock")
                and p.parent.name != "frames"]
    assert not in_place, f"written in place, not atomically: {in_place}"
    assert any(p.parent.name == "thumbs" for p in written)
    # The catalog is SQLite (its own journal makes each commit atomic): the video is recorded.
    assert VideoCatalog(data).get(DB, result.video_id) is not None
