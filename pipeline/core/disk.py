"""Free disk space, checked before a write that could fill the disk.

Qdrant Edge writes through memory-mapped files; when the disk fills under it, the kernel kills
the process with SIGBUS (exit 135, no message), and every later process that opens the store for
writing dies the same way. So writers ask :func:`check_free_space` first and stop with a
:class:`~pipeline.errors.DiskFullError` while a margin is still free: ``max(min_free_mb,
min_free_percent of the file system)``, 1 GB or 5 % by default.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError, DiskFullError

MB = 1024 * 1024


@dataclass(frozen=True)
class DiskMargin:
    """Free space a writer must leave on the data directory's file system."""

    min_free_mb: float = 1024.0
    min_free_percent: float = 5.0

    def __post_init__(self) -> None:
        if self.min_free_mb < 0 or not 0 <= self.min_free_percent < 100:
            raise ConfigError(f"the free-space margin must be >= 0 MB and 0-99 %, got {self.min_free_mb} MB "
                              f"and {self.min_free_percent} %")

    def required(self, total_bytes: int) -> int:
        """The margin in bytes on a file system of ``total_bytes``."""
        return int(max(self.min_free_mb * MB, self.min_free_percent / 100 * total_bytes))


#: No margin (tests, or an operator who accepts the risk).
NO_MARGIN = DiskMargin(0.0, 0.0)


def _existing(path: Path) -> Path:
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_space(path: str | Path) -> tuple[int, int]:
    """``(free, total)`` bytes of the file system holding ``path`` (or its nearest existing parent).
    ``free`` counts what an unprivileged process may use."""
    usage = shutil.disk_usage(_existing(Path(path)))
    return int(usage.free), int(usage.total)


def space_shortfall(path: str | Path, margin: DiskMargin, extra_bytes: int = 0) -> tuple[int, int] | None:
    """``(free, needed)`` when writing ``extra_bytes`` would leave less than the margin, else None."""
    free, total = disk_space(path)
    needed = margin.required(total) + max(0, int(extra_bytes))
    return (free, needed) if free < needed else None


#: File systems that allocate a page when a hole of a shared mapping is *read* (memory-backed).
_FILL_ON_READ = ("tmpfs", "ramfs", "shm")


def fills_holes_on_read(path: str | Path) -> bool:
    """True when ``path`` lies on a memory-backed file system (tmpfs): there, reading a sparse
    file through a shared mapping allocates its holes, so opening a store costs its full size."""
    target = _existing(Path(path)).resolve()
    best, kind = Path("/"), ""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return False
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = Path(fields[1].replace("\\040", " "))
        if target.is_relative_to(point) and len(point.parts) >= len(best.parts):
            best, kind = point, fields[2]
    return kind in _FILL_ON_READ


def sparse_bytes(folder: str | Path) -> int:
    """Bytes of ``folder``'s files that are holes (apparent size beyond the allocated blocks)."""
    total = 0
    for file in Path(folder).rglob("*"):
        try:
            stat = file.lstat()
        except OSError:
            continue
        if file.is_file():
            total += max(0, stat.st_size - stat.st_blocks * 512)
    return total


def check_free_space(path: str | Path, margin: DiskMargin, action: str, extra_bytes: int = 0) -> None:
    """Raise :class:`DiskFullError` (naming ``path``, what was to be done and the space needed)
    when writing ``extra_bytes`` under ``path`` would leave less than the margin free."""
    short = space_shortfall(path, margin, extra_bytes)
    if short is not None:
        raise DiskFullError(path, action, *short)
