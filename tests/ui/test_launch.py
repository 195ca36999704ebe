"""``python -m app`` with no command starts the web app on 127.0.0.1 and stops cleanly on Ctrl+C, and on
SIGTERM (``docker stop``), which used to kill it without closing the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_python_m_app_serves_the_page_and_exits_zero_on_interrupt(tmp_path, tiny_clip_dir, port, stop):
    process = _start(tmp_path, tiny_clip_dir, port)
    try:
        page = _wait_for_page(f"http://127.0.0.1:{port}/", process, timeout=90)
        assert "BuscaEscenas" in page
        config = httpx.get(f"http://127.0.0.1:{port}/config", timeout=10).json()
        assert "Describe the scene in words" in str(config)  # BUSCA_LANG=en
    finally:
        output = _stop(process, stop)
    assert process.returncode == 0, output  # SIGTERM's default would give -15, the store left open
    assert f"http://127.0.0.1:{port}" in output


@pytest.mark.slow
def test_sigint_stops_the_app_even_when_started_with_sigint_ignored(tmp_path, tiny_clip_dir, port):
    """What a background start (``&`` in a script, ``nohup``) gives the app: SIGINT ignored, which
    Python keeps (no KeyboardInterrupt ever); ``kill -INT`` must still stop it cleanly."""
    # through bash, so that the app inherits SIGINT ignored
    process = _start(tmp_path, tiny_clip_dir, port, ["bash", "-c", f"trap '' INT; exec {sys.executable} -m app"])
    try:
        _wait_for_page(f"http://127.0.0.1:{port}/", process, timeout=90)
        ignored = int(next(line.split()[1] for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
                           if line.startswith("SigIgn:")), 16)
        assert not ignored & (1 << (signal.SIGINT - 1)), "the app should catch SIGINT itself"
    finally:
        output = _stop(process, signal.SIGINT)
    assert process.returncode == 0, output


@pytest.mark.slow
def test_sigusr1_prints_the_threads_and_the_app_goes_on(tmp_path, tiny_clip_dir, port):
    process = _start(tmp_path, tiny_clip_dir, port)
    try:
        _wait_for_page(f"http://127.0.0.1:{port}/", process, timeout=90)
        process.send_signal(signal.SIGUSR1)
        time.sleep(1)
        assert process.poll() is None, "SIGUSR1 stopped the app"
        assert "BuscaEscenas" in _wait_for_page(f"http://127.0.0.1:{port}/", process, timeout=10)
    finally:
        output = _stop(process, signal.SIGINT)
    assert process.returncode == 0, output
    assert "Thread 0x" in output and "(most recent call first)" in output, output


def _start(tmp_path: Path, tiny_clip_dir: Path, port: int, command: list[str] | None = None) -> subprocess.Popen:
    """``python -m app`` (or ``command``) on ``port`` with the tiny CLIP, English, no login."""
    env = {**os.environ, "BUSCA_DATA_DIR": str(tmp_path / "data"), "BUSCA_CLIP_MODEL": f"local-dir:{tiny_clip_dir}",
           "BUSCA_DEVICE": "cpu", "BUSCA_PORT": str(port), "BUSCA_LANG": "en", "BUSCA_AUTH": ""}
    return subprocess.Popen(command or [sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _stop(process: subprocess.Popen, stop: signal.Signals, timeout: float = 30) -> str:
    """Send ``stop`` and return the app's output once it exits. If it does not within ``timeout``,
    fail with where it hangs: the app prints its threads' stacks on SIGUSR1."""
    process.send_signal(stop)
    try:
        return process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)
        time.sleep(2)
        process.kill()
        pytest.fail(f"the app did not stop within {timeout} s of {stop.name}; its threads:\n{process.communicate()[0]}")


def _wait_for_page(url: str, process: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited with {process.returncode}: {process.stdout.read()}")
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                return response.text
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"no page at {url} after {timeout} s")
