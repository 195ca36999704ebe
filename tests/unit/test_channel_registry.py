"""The channel registry: how each channel is made in the collection's metadata, what was done per
video in the video catalog (SQLite for the embedded store; the server catalog, here over
qdrant-client's local mode); files of earlier versions migrate losing nothing; renaming and
dropping a database carry or remove it; recording a video rewrites no file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.channels import ChannelDone, ChannelRegistry, migrate_registry_files
from pipeline.core import atomic
from pipeline.errors import BuscaError
from pipeline.index import DataLayout, ServerCatalog, VideoCatalog, delete_database, rename_database
from pipeline.store import EdgeStore

SPEECH = {"dense": "speech-e5-small", "sparse": "speech-bm25", "text_model": "e5", "bm25": {"k1": 1.2, "b": 0.75},
          "source": "whisper:base/int8", "language": "es"}
OCR = {"dense": "ocr-e5-small", "sparse": "ocr-bm25", "text_model": "e5", "bm25": {"k1": 1.2, "b": 0.75},
       "source": "rapidocr:PP-OCRv6", "language": None}


def vid(i: int) -> str:
    return f"{i:020x}"


@pytest.fixture(params=["edge+sqlite", "server-code-path"])
def archive(request, tmp_path):
    """(store, catalog, data directory) with database ``db``: the Edge store with the SQLite catalog,
    or qdrant-client's local mode with the server catalog (the code path of a Qdrant server)."""
    if request.param == "edge+sqlite":
        store, catalog = EdgeStore(tmp_path / "edge"), VideoCatalog(tmp_path)
    else:
        pytest.importorskip("qdrant_client")
        from pipeline.store import QdrantClientStore

        store = QdrantClientStore(path=tmp_path / "q")
        catalog = ServerCatalog(store.client, "local")
    store.ensure_collection("db", {"v": 4})
    yield store, catalog, tmp_path
    catalog.close()
    store.close()


def test_records_per_video_and_the_channels_config(archive):
    store, catalog, root = archive
    reg = ChannelRegistry(store, root, catalog)
    assert reg.channels("db") == {} and reg.done("db", vid(1)) == {}
    reg.record("db", vid(1), "speech", SPEECH, ChannelDone("whisper:base/int8", 3, None, n_shots=5))
    reg.record("db", vid(1), "ocr", OCR, ChannelDone("rapidocr:PP-OCRv6", 0, "no text on screen", n_shots=5))
    done = reg.done("db", vid(1))
    assert done["speech"] == ChannelDone("whisper:base/int8", 3, None, done["speech"].at, 5)
    assert done["ocr"].note == "no text on screen" and done["ocr"].at
    assert reg.channels("db") == {"speech": SPEECH, "ocr": OCR} == store.metadata("db")["channels"]
    assert set(catalog.channel_records("db", vid(1))[vid(1)]) == {"speech", "ocr"}
    reg.forget("db", vid(1))
    assert reg.done("db", vid(1)) == {} and reg.channels("db") == {"speech": SPEECH, "ocr": OCR}
    assert not (root / "channels").exists()  # nothing of its own on disk


def legacy_file(root: Path, db: str = "db") -> dict:
    """A registry file as earlier versions wrote it."""
    data = {"format": 1, "channels": {"speech": SPEECH, "ocr": OCR},
            "videos": {vid(i): {"speech": {"source": "whisper:base/int8", "shots": i, "note": None,
                                           "at": f"2026-01-0{i}T00:00:00+00:00", "n_shots": 10 + i},
                                "ocr": {"source": "rapidocr:PP-OCRv6", "shots": 0, "note": "sin texto en pantalla ñ",
                                        "at": "2026-02-01T00:00:00+00:00", "n_shots": 10 + i}}
                       for i in range(1, 4)}}
    (root / "channels").mkdir(exist_ok=True)
    atomic.write_json(root / "channels" / f"{db}.json", data)
    return data


def test_a_file_of_an_earlier_version_migrates_on_first_use_losing_nothing(archive):
    """Every field of every record comes over, records made since stay, the file is kept renamed."""
    store, catalog, root = archive
    old = legacy_file(root)
    raw = (root / "channels" / "db.json").read_bytes()
    newer = {"source": "whisper:small", "shots": 9, "note": None, "at": "2026-03-01T00:00:00+00:00", "n_shots": 11}
    catalog.record_channels("db", {vid(1): {"speech": newer}})
    store.update_metadata("db", {"channels": {"speech": {**SPEECH, "source": "whisper:small"}}})

    reg = ChannelRegistry(store, root, catalog)
    assert reg.done("db", vid(2))["ocr"] == ChannelDone("rapidocr:PP-OCRv6", 0, "sin texto en pantalla ñ",
                                                        "2026-02-01T00:00:00+00:00", 12)
    assert not (root / "channels" / "db.json").exists()
    assert (root / "channels" / "db.json.migrated").read_bytes() == raw
    expected = json.loads(json.dumps(old))
    expected["videos"][vid(1)]["speech"] = newer
    expected["channels"]["speech"]["source"] = "whisper:small"
    assert reg.read("db") == expected
    assert ChannelRegistry(store, root, catalog).read("db") == expected  # a second registry finds it all


def test_the_app_migrates_files_of_databases_the_store_holds_and_leaves_others(archive):
    store, catalog, root = archive
    old = legacy_file(root)
    legacy_file(root, "gone")  # a database deleted before: nothing to attach its records to
    (root / "channels" / "broken.json").write_text("{broken")
    store.ensure_collection("broken", {"v": 4})
    assert migrate_registry_files(store, root, catalog) == ["db"]
    assert ChannelRegistry(store, root, catalog).read("db") == json.loads(json.dumps(old))
    assert (root / "channels" / "gone.json").exists() and (root / "channels" / "broken.json").exists()
    with pytest.raises(BuscaError, match=r"broken\.json is unreadable"):
        ChannelRegistry(store, root, catalog).done("broken", vid(1))


def test_renaming_a_database_carries_the_registry_and_deleting_it_removes_it(archive):
    store, catalog, root = archive
    legacy_file(root)
    reg = ChannelRegistry(store, root, catalog)
    before = reg.read("db")
    assert len(before["videos"]) == 3
    rename_database(store, catalog, "db", "nuevo")
    assert reg.read("nuevo") == before
    assert reg.read("db") == {"format": 1, "channels": {}, "videos": {}}
    store.ensure_collection("db", {"v": 4})  # a new database of the old name starts empty
    assert reg.read("db")["videos"] == {} and reg.channels("db") == {}
    delete_database(store, catalog, DataLayout(root), "nuevo", keep_files=True)
    assert reg.read("nuevo") == {"format": 1, "channels": {}, "videos": {}}
    assert catalog.channel_records("nuevo") == {}


def test_recording_a_thousand_videos_rewrites_no_file(tmp_path, monkeypatch):
    """Each record is one catalog row: no atomic file write, no metadata write once the channel's
    config is there, and every other file of the data directory left as it was."""
    store, catalog = EdgeStore(tmp_path / "edge"), VideoCatalog(tmp_path)
    try:
        store.ensure_collection("db", {"v": 4})
        reg = ChannelRegistry(store, tmp_path, catalog)
        reg.record("db", vid(0), "speech", SPEECH, ChannelDone("whisper:base/int8", 1, n_shots=2))
        files = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")
                 if p.is_file() and not p.name.startswith("catalog.sqlite3")}
        writes, metadata = [], []
        real_write, real_update = atomic.write_bytes, store.update_metadata
        monkeypatch.setattr(atomic, "write_bytes", lambda path, data: (writes.append(path), real_write(path, data)))
        monkeypatch.setattr(store, "update_metadata", lambda *a: (metadata.append(a), real_update(*a)))
        for i in range(1, 1001):
            reg.record("db", vid(i), "speech", SPEECH, ChannelDone("whisper:base/int8", i % 7, None, n_shots=7))
        assert writes == [] and metadata == []
        assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in files} == files
        records = catalog.channel_records("db")
        assert len(records) == 1001 and records[vid(500)]["speech"]["shots"] == 500 % 7
        assert reg.done("db", vid(1000))["speech"].n_shots == 7
        # a channel made another way is written to the metadata once
        reg.record("db", vid(1), "speech", {**SPEECH, "source": "whisper:small"}, ChannelDone("whisper:small", 1))
        assert len(metadata) == 1 and reg.channels("db")["speech"]["source"] == "whisper:small"
    finally:
        catalog.close()
        store.close()
