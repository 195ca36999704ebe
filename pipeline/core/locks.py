"""File locks: one process per embedded store (:class:`DirectoryLock`, non-blocking), and short
exclusive sections around read-modify-writes shared by processes (:func:`exclusive_lock`).

The kernel drops the lock when its holder exits, even after SIGKILL, so a crashed process
never leaves a stale lock behind. ``flock`` locks belong to an open file description, so a
second :class:`DirectoryLock` on the same directory fails inside one process too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import StoreError, StoreLockedError

log = logging.getLogger(__name__)

LOCK_FILE = ".busca.lock"


class DirectoryLock:
    """Holds ``<directory>/.busca.lock`` exclusively until :meth:`release`."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock; raise :class:`StoreLockedError` if another holder has it."""
        try:
            import fcntl
        except ImportError as err:  # pragma: no cover - Windows
            raise StoreError(
                "the embedded store needs POSIX file locks (fcntl), which this platform lacks: "
                "run a Qdrant server and pass its URL instead"
            ) from err
        if self._fd is not None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            os.close(fd)
            raise StoreLockedError(self.directory) from err
        except OSError:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        log.debug("locked %s", path)

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        if self._fd is None:
            return
        import fcntl

        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        log.debug("unlocked %s", self.directory / LOCK_FILE)


@contextmanager
def exclusive_lock(lock_file: Path) -> Iterator[None]:
    """Wait for an exclusive ``flock`` on ``lock_file`` (created if missing) for the duration of a
    read-modify-write that several processes may attempt at once. The kernel drops it when its
    holder dies, so a killed writer never blocks the others."""
    lock_file = Path(lock_file)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: one writer per data directory
        yield
        return
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
