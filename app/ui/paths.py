"""Server paths typed by web users: only folders and files under the allowed roots
(``BUSCA_INGEST_ROOT``) are read, after symlinks and ``..`` are resolved."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class FolderRefused(Exception):
    """A folder path the app will not read; ``key`` names the message in the texts table."""

    def __init__(self, key: str, path: str):
        self.key, self.path = key, path
        super().__init__(f"{key}: {path}")


def under_roots(path: Path, roots: Sequence[Path]) -> bool:
    return any(path.is_relative_to(root.resolve()) for root in roots)


def check_folder(text: str | None, roots: Sequence[Path]) -> Path:
    """The resolved folder, if it exists, is a directory and lies under an allowed root."""
    text = (text or "").strip()
    if not text:
        raise FolderRefused("folder_empty", "")
    try:
        path = Path(text).expanduser().resolve(strict=True)
    except (OSError, RuntimeError, ValueError) as err:
        raise FolderRefused("folder_missing", text) from err
    if not path.is_dir():
        raise FolderRefused("folder_not_dir", text)
    if not under_roots(path, roots):
        raise FolderRefused("folder_outside", text)
    return path


def check_path(text: str, roots: Sequence[Path]) -> Path:
    """The resolved file or folder, if it lies under an allowed root and exists. A path outside
    the roots is refused as such whether or not it exists (no existence oracle)."""
    try:
        if not under_roots(Path(text).expanduser().resolve(), roots):
            raise FolderRefused("path_outside", text)
        return Path(text).expanduser().resolve(strict=True)
    except (OSError, RuntimeError, ValueError) as err:
        raise FolderRefused("path_missing", text) from err
