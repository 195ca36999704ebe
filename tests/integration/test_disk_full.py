"""A full disk, for real, on a small tmpfs (needs root to mount it; skipped otherwise).

Red team: Qdrant Edge writes through memory-mapped files, so ENOSPC became SIGBUS (exit 135, no
message) for every process, search included, until space was freed. Now: writes stop while a
margin is free (one line naming the data directory and the space needed), and the store opens
read-only so that search goes on. Each step runs in its own process, so a regression shows as
exit code 135 (-7 here) instead of killing the test run.

tmpfs allocates the holes of a mapped file when they are read, so a shard's first opening costs
its apparent size (~40 MB for a small one): the archive is opened once before the disk is
filled, as an archive in use would have been; a shard that could not be opened in the space left
is refused with a clear error instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
#: The margin the processes run with (BUSCA_MIN_FREE_MB); the disk is left with less than it free.
MARGIN_MB = 8

_SETUP = """
import sys, numpy as np
from pipeline.core import NO_MARGIN
from pipeline.store import point_id
from pipeline.store.edge import EdgeStore
store = EdgeStore(sys.argv[1], margin=NO_MARGIN)
store.ensure_collection("archivo", {"clip": 768})
x = np.random.default_rng(0).normal(size=(100, 768)).astype(np.float32)
store.upsert("archivo", [point_id("0123456789abcdef0123", i) for i in range(100)], {"clip": x},
             [{"video_id": "0123456789abcdef0123", "shot_index": i} for i in range(100)])
store.flush()
print(len(store.query("archivo", "clip", x[0], 5)))
store.close()
"""

_OPEN = """
import sys, numpy as np
from pipeline.core import NO_MARGIN
from pipeline.store.edge import EdgeStore
with EdgeStore(sys.argv[1], margin=NO_MARGIN) as store:
    print(len(store.query("archivo", "clip", np.ones(768, np.float32), 5)))
"""

_SEARCH_AND_WRITE = """
import sys, numpy as np
from pathlib import Path
from app.config import Settings
from app.services import Services
from pipeline.errors import StoreError
settings = Settings.from_env().override(data_dir=sys.argv[1])
services = Services.start(settings)
try:
    print("read_only", services.store.read_only)
    print("hits", len(services.store.query("archivo", "clip", np.ones(768, np.float32), 5)))
    try:
        services.store.upsert("archivo", ["00000000-0000-0000-0000-000000000001"],
                              {"clip": np.ones((1, 768), np.float32)}, [{"video_id": "x"}])
        print("write accepted")
    except StoreError as err:
        print("write refused:", err)
finally:
    services.close()
print("closed")
"""


@pytest.fixture
def small_disk(tmp_path):
    """A 100 MB tmpfs (an Edge shard that has been opened takes ~40 MB of it)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO), **env})


def _archive(data: Path, opened: bool = True) -> None:
    """A database of 100 shots (768-d) in ``data/edge``, opened once by another process if ``opened``."""
    for script in (_SETUP, _OPEN) if opened else (_SETUP,):
        done = _run(["-c", script, str(data / "edge")], {})
        assert done.returncode == 0 and done.stdout.strip() == "5", done.stderr


def _fill_until(disk: Path, free_bytes: int) -> None:
    """Write a filler file so that ``free_bytes`` stay free."""
    available = shutil.disk_usage(disk).free
    with open(disk / "filler.bin", "ab") as handle:
        handle.write(b"\0" * max(0, available - free_bytes))


def test_a_nearly_full_disk_refuses_writes_in_one_line_and_keeps_search(small_disk, slideshow):
    data = small_disk / "data"
    env = {"BUSCA_MIN_FREE_MB": str(MARGIN_MB), "BUSCA_MIN_FREE_PERCENT": "0", "BUSCA_DB": "archivo"}
    _archive(data)
    _fill_until(small_disk, 4 * MB)  # under the 8 MB margin, not yet zero

    ingest = _run(["-m", "app", "ingest", str(slideshow), "--data-dir", str(data)], env)
    assert ingest.returncode == 1, ingest.stderr  # not 135 (SIGBUS)
    [line] = ingest.stderr.strip().splitlines()
    assert line.startswith("error: not enough free disk space to ingest into database 'archivo'")
    assert f"the data directory {data}" in line and "needs 8.0 MB" in line

    search = _run(["-c", _SEARCH_AND_WRITE, str(data)], env)
    assert search.returncode == 0, search.stderr
    lines = search.stdout.splitlines()
    assert lines[:2] == ["read_only True", "hits 5"]
    assert lines[2].startswith("write refused:") and "opened read-only" in lines[2] and lines[3] == "closed"


def test_a_write_that_would_fill_the_disk_is_refused_before_it_starts(small_disk):
    """No margin at all: the estimate of the write itself (WAL + segment) still stops it."""
    data = small_disk / "data"
    _archive(data)
    _fill_until(small_disk, 2 * MB)
    bulk = _SETUP.replace("(100, 768)", "(3000, 768)").replace("range(100)", "range(3000)").replace(
        'store.ensure_collection("archivo", {"clip": 768})\n', "")
    done = _run(["-c", bulk, str(data / "edge")], {})
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])  # a Python error, not SIGBUS (135)
    assert "DiskFullError: not enough free disk space to store 3000 points in database 'archivo'" in done.stderr


def test_a_shard_that_cannot_open_in_the_space_left_is_refused_not_a_bus_error(small_disk):
    data = small_disk / "data"
    _archive(data, opened=False)  # never opened since it was written: its holes are not allocated yet
    _fill_until(small_disk, 4 * MB)
    env = {"BUSCA_MIN_FREE_MB": str(MARGIN_MB), "BUSCA_MIN_FREE_PERCENT": "0"}
    done = _run(["-m", "app", "databases", "--data-dir", str(data)], env)
    assert done.returncode == 1, (done.returncode, done.stderr)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: not enough free disk space to open database 'archivo'") and str(data) in last


def test_a_disk_with_no_byte_left_gives_a_clear_error_not_a_bus_error(small_disk):
    data = small_disk / "data"
    _archive(data)
    _fill_until(small_disk, 0)
    env = {"BUSCA_MIN_FREE_MB": str(MARGIN_MB), "BUSCA_MIN_FREE_PERCENT": "0"}
    search = _run(["-m", "app", "databases", "--data-dir", str(data)], env)
    assert search.returncode in (0, 1), search.stderr  # Edge writes a few KB when it opens a shard
    if search.returncode == 1:
        last = search.stderr.strip().splitlines()[-1]
        assert last.startswith("error: ") and ("not enough free disk space" in last or "No space left" in last), last
    (small_disk / "filler.bin").unlink()  # a few KB back: the archive is searchable again
    again = _run(["-c", _SEARCH_AND_WRITE, str(data)], env)
    assert again.returncode == 0 and "hits 5" in again.stdout, again.stderr
