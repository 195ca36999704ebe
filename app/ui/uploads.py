"""Uploaded files: the caps of one operation, and taking them out of Gradio's upload folder.

Gradio stores uploads in its own folder and deletes them about an hour later
(``delete_cache``); a long batch would lose its inputs half-way, and until then each upload
sits there. So a handler *takes* its uploads first: each is linked (or copied, across file
systems) into a folder of the app's own, ``NN/<name>``, and Gradio's copy is deleted at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from gradio.utils import get_upload_folder

from app.ui.errors import ui_message
from app.ui.settings import UiSettings
from pipeline.errors import MediaError

MB = 1024 * 1024


def check_caps(files: Sequence[str | Path], ui: UiSettings, lang: str) -> None:
    """Refuse (a ``gr.Error``) more files, or more bytes together, than one request may carry:
    a client may split an operation's files over several requests."""
    if len(files) > ui.max_files:
        raise ui_message(lang, "files_too_many", n=len(files), max=ui.max_files)
    missing = [Path(f).name for f in files if not Path(f).is_file()]
    if missing:
        raise ui_message(lang, "upload_gone", name=missing[0])
    total = sum(Path(f).stat().st_size for f in files)
    if total > ui.max_request_mb * MB:
        raise ui_message(lang, "files_too_large", mb=round(total / MB), max=ui.max_request_mb)


def place_uploads(files: Sequence[str | Path], folder: Path) -> list[str]:
    """Uploaded files linked (or copied) into ``folder/NN/<name>``; their new paths."""
    placed = []
    for i, file in enumerate(files):
        source = Path(file)
        target = folder / f"{i:02d}" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
        except OSError as err:
            raise MediaError(source, code="media.unplaceable", reason=err.strerror or str(err)) from err
        placed.append(str(target))
    return placed


def take_uploads(files: Sequence[str | Path], folder: Path) -> list[str]:
    """:func:`place_uploads`, then delete Gradio's copies (only files in Gradio's upload folder,
    and their folders when empty)."""
    placed = place_uploads(files, folder)
    gradio_root = Path(get_upload_folder()).resolve()
    for file in files:
        source = Path(file).resolve()
        if not source.is_relative_to(gradio_root) or source.parent == gradio_root:
            continue
        source.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # Gradio keeps each upload in a folder of its own
            source.parent.rmdir()
    return placed
