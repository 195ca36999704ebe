"""What a user typed (files, folders, URLs, ``@list.txt``) expanded to the sources of a batch."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.sources.urls import looks_like_url


def _list_entries(list_file: Path) -> list[str]:
    try:
        lines = list_file.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read the input list {list_file} ({err})") from err
    entries = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        nested, name = (line[:1], line[1:]) if line.startswith("@") else ("", line)
        if looks_like_url(name) or Path(name).expanduser().is_absolute():
            entries.append(line)
        else:  # relative to the list, not to the working directory
            entries.append(nested + str(list_file.parent / name))
    return entries


def expand_sources(inputs: Sequence[str | Path], extensions: Collection[str] | None = None) -> list[str]:
    """What a user typed, to the list of sources of a batch: URLs as they are; ``@list.txt``
    read (one path or URL per line, ``#`` comments; relative paths are relative to the list);
    folders walked recursively for video files (sorted); other paths made absolute (so a
    resumed job matches whatever the working directory), kept even when missing so that the
    batch reports them. Duplicates are dropped, the order kept."""
    from pipeline.media import VIDEO_EXTENSIONS

    extensions = VIDEO_EXTENSIONS if extensions is None else frozenset(e.lower() for e in extensions)
    out: list[str] = []
    pending = [str(i) for i in inputs]
    seen_lists: set[Path] = set()
    while pending:
        item = pending.pop(0).strip()
        if not item:
            continue
        if looks_like_url(item):
            out.append(item)
            continue
        if item.startswith("@"):
            list_file = Path(item[1:]).expanduser().resolve()
            if list_file in seen_lists:  # read once (a list naming itself would loop forever)
                continue
            seen_lists.add(list_file)
            pending[:0] = _list_entries(list_file)
            continue
        path = Path(os.path.abspath(Path(item).expanduser()))
        if path.is_dir():
            out.extend(str(p) for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in extensions)
        else:
            out.append(str(path))
    return list(dict.fromkeys(out))
