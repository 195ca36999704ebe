"""The embedded-store lock: exclusive across processes and within one, gone with its holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.core.locks import LOCK_FILE, DirectoryLock
from pipeline.errors import StoreLockedError

REPO = Path(__file__).resolve().parents[2]


def test_a_second_lock_on_the_same_directory_fails_until_released(tmp_path):
    first, second = DirectoryLock(tmp_path), DirectoryLock(tmp_path)
    first.acquire()
    assert (tmp_path / LOCK_FILE).read_text().strip() == str(os.getpid())
    with pytest.raises(StoreLockedError, match=str(tmp_path)):
        second.acquire()
    first.release()
    first.release()  # idempotent
    second.acquire()
    assert second.held and not first.held
    second.release()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    code = ("import sys, time; from pipeline.core.locks import DirectoryLock; "
            "DirectoryLock(sys.argv[1]).acquire(); print('ready', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError):
            DirectoryLock(tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    lock = DirectoryLock(tmp_path)
    lock.acquire()
    lock.release()
