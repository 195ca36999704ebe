"""Server paths typed by web users: only folders and files under the allowed roots
(``BUSCA_INGEST_ROOT``) are read, after symlinks and ``..`` are resolved.

No existence oracle: whether a path lies under a root is decided first, from the path alone
(symlinks resolved as far as they exist), so every path outside the roots gets the same answer,
whether it exists or not. Only inside the roots is a missing path called missing.
"""

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


def _inside_roots(text: str, roots: Sequence[Path], missing: str, outside: str) -> Path:
    """The resolved path, if it lies under a root; ``outside`` for any other path, existing or not."""
    try:
        path = Path(text).expanduser().resolve()
    except (OSError, RuntimeError, ValueError) as err:  # a NUL byte, an unknown ~user, a link loop
        raise FolderRefused(missing, text) from err
    if not under_roots(path, roots):
        raise FolderRefused(outside, text)
    if not path.exists():
        raise FolderRefused(missing, text)
    return path


def check_folder(text: str | None, roots: Sequence[Path]) -> Path:
    """The resolved folder, if it lies under an allowed root, exists and is a directory."""
    text = (text or "").strip()
    if not text:
        raise FolderRefused("folder_empty", "")
    path = _inside_roots(text, roots, "folder_missing", "folder_outside")
    if not path.is_dir():
        raise FolderRefused("folder_not_dir", text)
    return path


def check_path(text: str, roots: Sequence[Path]) -> Path:
    """The resolved file or folder, if it lies under an allowed root and exists."""
    return _inside_roots(text, roots, "path_missing", "path_outside")
