"""What a user types for ``analyze``, expanded to batch sources (pipeline.inputs.expand_sources)."""

from __future__ import annotations

import os

import pytest

from pipeline.errors import ConfigError
from pipeline.sources import expand_sources


def test_files_folders_urls_and_lists(tmp_path, monkeypatch):
    folder = tmp_path / "videos"
    (folder / "sub").mkdir(parents=True)
    for name in ("b.mp4", "a.MOV", "notes.txt", "sub/c.mkv"):
        (folder / name).write_bytes(b"x")
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "more.txt").write_text("# a comment\n\nhttps://youtu.be/abc\n../videos/b.mp4\nlocal.mp4\n@more.txt\n")
    monkeypatch.chdir(tmp_path)
    sources = expand_sources(["videos", "https://www.youtube.com/watch?v=x", "@lists/more.txt", "missing.mp4"])
    assert sources == [
        str(folder / "a.MOV"), str(folder / "b.mp4"), str(folder / "sub" / "c.mkv"),  # sorted, videos only
        "https://www.youtube.com/watch?v=x",
        "https://youtu.be/abc",
        str(lists / "local.mp4"),  # relative to the list; b.mp4 again is dropped; the list is read once
        str(tmp_path / "missing.mp4"),  # kept: the batch reports it
    ]
    assert all(os.path.isabs(s) for s in sources if not s.startswith("http"))


def test_a_missing_list_is_a_setup_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the input list"):
        expand_sources([f"@{tmp_path / 'nope.txt'}"])


def test_empty_folder_gives_nothing(tmp_path):
    assert expand_sources([tmp_path, "  "]) == []
