"""The video catalog: one contract for the SQLite catalog (embedded stores) and the companion
collection on a Qdrant server (run here through qdrant-client's local mode, which speaks the
same client API: no Qdrant server runs on the development machines); the automatic migration
of JSON catalogs of earlier versions, losing nothing; damaged files named, never fatal."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from pipeline.errors import CatalogError, ConfigError
from pipeline.index import (
    CatalogTotals,
    DataLayout,
    ServerCatalog,
    VideoCatalog,
    read_json_catalog,
    write_json_catalog,
)
from pipeline.records import IndexedVideo


def entry(i: int, source: str | None = None, shots: int = 3, path: str = "") -> IndexedVideo:
    return IndexedVideo(f"{i:020x}", source or f"v{i:03d}.mp4", path or f"media/{i:020x}.mp4", 10.0 + i, 20, shots,
                        2, 2, "clip-x", "2026-01-01T00:00:00+00:00")


SERVER_URL = os.environ.get("BUSCA_TEST_QDRANT_URL")


@pytest.fixture(params=["sqlite", "server-code-path", pytest.param("live-server", marks=pytest.mark.server)])
def catalog(request, tmp_path):
    """SQLite; the server catalog over qdrant-client's local mode; and, with BUSCA_TEST_QDRANT_URL, a
    real server (in a collection of its own, dropped afterwards)."""
    if request.param == "sqlite":
        made = VideoCatalog(tmp_path)
    elif request.param == "server-code-path":
        qdrant_client = pytest.importorskip("qdrant_client")
        made = ServerCatalog(qdrant_client.QdrantClient(":memory:"), "memory")
    else:
        if not SERVER_URL:
            pytest.skip("no Qdrant server: set BUSCA_TEST_QDRANT_URL (e.g. http://localhost:6333)")
        made = ServerCatalog.connect(SERVER_URL, os.environ.get("BUSCA_TEST_QDRANT_API_KEY"))
        made.collection = f"_busca_test_catalog_{os.getpid()}"
        made.where = made.collection
    yield made
    if request.param == "live-server" and made.client.collection_exists(made.collection):
        made.client.delete_collection(made.collection)
    made.close()


def test_record_get_list_count_and_forget(catalog):
    assert catalog.videos("a") == {} and catalog.databases() == [] and catalog.get("a", entry(1).video_id) is None
    catalog.record("a", entry(2, "b.mp4"))
    catalog.record_many("a", [entry(1, "a.mp4", shots=5), entry(3, "c.mp4")])
    catalog.record("b", entry(1, "a.mp4"))
    assert list(catalog.videos("a")) == [entry(1).video_id, entry(2).video_id, entry(3).video_id]  # by name
    assert catalog.get("a", entry(1).video_id) == entry(1, "a.mp4", shots=5)  # every field back as written
    assert catalog.totals("a") == CatalogTotals(3, 5 + 3 + 3, 0)
    assert catalog.databases() == ["a", "b"] and catalog.holders(entry(1).video_id) == ["a", "b"]
    catalog.record("a", replace(entry(1, "a.mp4"), n_shots=7))  # recording again replaces, never duplicates
    assert catalog.totals("a").shots == 7 + 3 + 3 and len(catalog.videos("a")) == 3
    catalog.forget("a", entry(1).video_id)
    assert entry(1).video_id not in catalog.videos("a") and catalog.holders(entry(1).video_id) == ["b"]


def test_a_begun_ingest_is_pending_and_hidden_until_recorded(catalog):
    video = entry(4)
    catalog.begin("a", video.video_id, video.source)
    assert catalog.pending("a") == [video.video_id] and catalog.videos("a") == {}
    assert catalog.totals("a") == CatalogTotals(0, 0, 1) and catalog.holders(video.video_id) == ["a"]
    catalog.record("a", video)
    assert catalog.pending("a") == [] and catalog.get("a", video.video_id) == video
    catalog.begin("a", video.video_id, video.source)  # re-ingesting an indexed video keeps it listed
    assert catalog.get("a", video.video_id) == video and catalog.pending("a") == []


def test_pages_cover_every_video_once(catalog):
    catalog.record_many("a", [entry(i) for i in range(23)])
    seen, cursor = [], None
    while True:
        page = catalog.page("a", 5, cursor)
        assert page.total == 23 and len(page.videos) <= 5
        seen += [v.video_id for v in page.videos]
        cursor = page.next
        if cursor is None:
            break
    assert sorted(seen) == sorted(entry(i).video_id for i in range(23)) and len(seen) == 23
    with pytest.raises(ConfigError, match="page cursor"):
        catalog.page("a", 5, "not a cursor")


def test_rename_and_drop_a_database(catalog):
    catalog.record_many("a", [entry(1), entry(2)])
    catalog.record("b", entry(3))
    with pytest.raises(ConfigError, match="already lists videos"):
        catalog.rename_database("a", "b")
    assert catalog.rename_database("a", "c") == 2
    assert catalog.databases() == ["b", "c"] and set(catalog.videos("c")) == {entry(1).video_id, entry(2).video_id}
    assert catalog.get("c", entry(1).video_id) == entry(1)
    assert catalog.drop_database("c") == 2 and catalog.databases() == ["b"]


def test_channel_records_are_kept_per_video_and_go_with_the_video_and_the_database(catalog):
    """One record per (database, video, channel): written one at a time, kept or replaced on
    request, not touched when the video's row is recorded again; forgetting the video, renaming
    and dropping the database take them along; they never count as videos."""
    one, two = entry(1).video_id, entry(2).video_id
    catalog.record_many("a", [entry(1), entry(2)])
    assert catalog.channel_records("a") == {}
    assert catalog.record_channels("a", {one: {"speech": {"source": "w", "shots": 2}, "ocr": {"source": "r"}}}) == 2
    catalog.record_channels("a", {two: {"speech": {"source": "w", "shots": 1, "note": "ñandú"}}})
    catalog.record_channels("a", {one: {"speech": {"source": "other"}}}, keep=True)  # kept as it was
    catalog.record_channels("a", {one: {"ocr": {"source": "r2"}}})  # replaced
    assert catalog.channel_records("a", one) == {one: {"ocr": {"source": "r2"}, "speech": {"source": "w", "shots": 2}}}
    assert catalog.channel_records("a")[two] == {"speech": {"source": "w", "shots": 1, "note": "ñandú"}}
    catalog.record("a", replace(entry(1), path="media/moved.mp4"))  # a row written again keeps its records
    assert set(catalog.channel_records("a", one)[one]) == {"ocr", "speech"}
    assert catalog.totals("a") == CatalogTotals(2, 6, 0) and catalog.pending("a") == []
    assert set(catalog.videos("a")) == {one, two} and catalog.holders(one) == ["a"]
    catalog.forget_channels("a", two)
    assert list(catalog.channel_records("a")) == [one] and catalog.get("a", two) is not None
    assert catalog.rename_database("a", "c") == 2
    assert catalog.channel_records("a") == {} and set(catalog.channel_records("c")[one]) == {"ocr", "speech"}
    catalog.forget("c", one)
    assert catalog.channel_records("c") == {}
    catalog.record_channels("c", {two: {"ocr": {"source": "r"}}})
    assert catalog.drop_database("c") == 1 and catalog.channel_records("c") == {} and catalog.databases() == []
    with pytest.raises(ConfigError):
        catalog.record_channels("c", {"../x": {"ocr": {}}})
    with pytest.raises(ConfigError):
        catalog.record_channels("c", {one: {"ocr": "not an object"}})


def test_names_are_checked(catalog):
    for bad in ("../x", "", "a b", "_buscaescenas_catalog"):
        with pytest.raises(ConfigError):
            catalog.record(bad, entry(1))
    with pytest.raises(ConfigError):
        catalog.record("a", replace(entry(1), video_id="../../etc"))


def test_the_server_catalog_is_one_hidden_collection_every_client_shares(tmp_path):
    """Two clients of one Qdrant (two machines of a cluster) see each other's records at once; the
    catalog's collection is not a database."""
    qdrant_client = pytest.importorskip("qdrant_client")
    from pipeline.store import QdrantClientStore

    store = QdrantClientStore(path=tmp_path / "q")
    try:
        from pipeline.index import catalog_for

        store.ensure_collection("archivo", {"v": 4})
        first, second = ServerCatalog(store.client, "one"), ServerCatalog(store.client, "two")
        first.record("archivo", entry(1))
        assert second.get("archivo", entry(1).video_id) == entry(1)
        assert store.list_collections() == ["archivo"]  # the companion collection is hidden
        assert "_buscaescenas_catalog" in [c.name for c in store.client.get_collections().collections]
        store.kind = "server"  # what catalog_for looks at: a server store gets the server catalog
        assert isinstance(catalog_for(store, tmp_path), ServerCatalog)
    finally:
        store.close()
    assert qdrant_client


# --- JSON catalogs of earlier versions ------------------------------------------------------------------


def test_json_catalogs_migrate_on_open_losing_nothing(tmp_path):
    """Every field of every entry of every database comes over; media paths inside the data directory
    become relative (playback survives moving it), others stay absolute; the JSON is kept, renamed."""
    folder = tmp_path / "catalog"
    folder.mkdir()
    inside = replace(entry(1), path=str(tmp_path / "media" / f"{entry(1).video_id}.mp4"))
    outside = replace(entry(2), path="/somewhere/else/original.mp4")
    other = entry(3, "ñandú «raro».mp4")
    (folder / "archivo.json").write_text(json.dumps({"videos": {e.video_id: asdict(e) for e in (inside, outside)}}))
    (folder / "otra.json").write_text(json.dumps({"videos": {other.video_id: asdict(other)}}, ensure_ascii=False))
    (folder / ".archivo.json.k1ll3d.tmp").write_text('{"videos": {"')  # what a killed old writer left

    catalog = VideoCatalog(tmp_path)
    assert catalog.videos("archivo") == {inside.video_id: replace(inside, path=f"media/{inside.video_id}.mp4"),
                                         outside.video_id: outside}
    assert catalog.videos("otra") == {other.video_id: other} and catalog.problems() == []
    assert sorted(p.name for p in folder.glob("*.json*")) == ["archivo.json.migrated", "otra.json.migrated"]
    assert read_json_catalog(folder / "archivo.json.migrated") == [inside, outside]  # the original, untouched
    catalog.close()
    again = VideoCatalog(tmp_path)  # the next open does not import again, and keeps later changes
    again.forget("archivo", outside.video_id)
    again.close()
    assert list(VideoCatalog(tmp_path).videos("archivo")) == [inside.video_id]


def test_a_damaged_json_catalog_is_named_and_left_in_place(tmp_path):
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "roto.json").write_text('{"videos": {"abc": ')
    (folder / "bueno.json").write_text(json.dumps({"videos": {entry(1).video_id: asdict(entry(1))}}))
    catalog = VideoCatalog(tmp_path)
    assert list(catalog.videos("bueno")) == [entry(1).video_id]  # the others still migrate
    [problem] = catalog.problems()
    assert problem.where == str(folder / "roto.json") and "check --db roto --repair" in str(problem)
    assert (folder / "roto.json").exists() and catalog.damaged_json("roto") is problem
    catalog.retire_damaged_json("roto")
    assert (folder / "roto.json.damaged").exists() and catalog.problems() == []


def test_backups_write_the_json_form_that_old_versions_read(tmp_path):
    entries = [entry(2, "b.mp4"), entry(1, "a.mp4")]
    assert write_json_catalog(tmp_path / "catalog.json", entries) == 2
    data = json.loads((tmp_path / "catalog.json").read_text())
    assert list(data["videos"]) == [entry(1).video_id, entry(2).video_id]
    assert read_json_catalog(tmp_path / "catalog.json") == sorted(entries, key=lambda e: e.source)
    (tmp_path / "bad.json").write_text('{"videos": {"x": {"source": 1}}}')
    with pytest.raises(CatalogError, match="bad.json: is damaged"):
        read_json_catalog(tmp_path / "bad.json")


# --- a damaged SQLite file ------------------------------------------------------------------------------


def test_a_damaged_catalog_file_is_named_and_can_be_set_aside(tmp_path):
    (tmp_path / "catalog").mkdir()
    damaged = tmp_path / "catalog" / "catalog.sqlite3"
    damaged.write_bytes(b"this is not a database" * 100)
    catalog = VideoCatalog(tmp_path)
    [problem] = catalog.problems()  # asking never raises
    assert problem.where == str(damaged) and "damaged" in str(problem) and "--repair" in str(problem)
    with pytest.raises(CatalogError) as info:
        catalog.videos("archivo")
    assert str(damaged) in str(info.value) and "\n" not in str(info.value)
    moved = catalog.quarantine()
    assert Path(moved).read_bytes().startswith(b"this is not") and not damaged.exists()
    catalog.record("archivo", entry(1))  # a fresh file
    assert catalog.problems() == [] and list(catalog.videos("archivo")) == [entry(1).video_id]


def test_a_version_1_catalog_gains_the_channel_table_and_keeps_its_videos(tmp_path):
    VideoCatalog(tmp_path).record("a", entry(1))
    with sqlite3.connect(tmp_path / "catalog" / "catalog.sqlite3") as conn:
        conn.execute("DROP TABLE channels")
        conn.execute("PRAGMA user_version = 1")
    again = VideoCatalog(tmp_path)
    assert list(again.videos("a")) == [entry(1).video_id] and again.channel_records("a") == {}
    again.record_channels("a", {entry(1).video_id: {"speech": {"source": "w"}}})
    assert again.channel_records("a") == {entry(1).video_id: {"speech": {"source": "w"}}}


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path):
    (tmp_path / "catalog").mkdir()
    with sqlite3.connect(tmp_path / "catalog" / "catalog.sqlite3") as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(CatalogError, match="schema version 99.*update BuscaEscenas"):
        VideoCatalog(tmp_path).videos("a")


# --- media paths ----------------------------------------------------------------------------------------


def test_media_paths_resolve_after_the_data_directory_moves(tmp_path):
    """Relative paths follow the data directory; absolute ones of earlier versions still play: as they
    are while they exist, else the same file name under the moved directory's media folder."""
    video_id = entry(1).video_id
    old, new = tmp_path / "old", tmp_path / "new"
    (new / "media").mkdir(parents=True)
    (new / "media" / f"{video_id}.mp4").write_bytes(b"video")
    layout = DataLayout(new)
    assert layout.stored_path(new / "media" / f"{video_id}.mp4") == f"media/{video_id}.mp4"
    assert layout.stored_path(tmp_path / "elsewhere.mp4") == str(tmp_path / "elsewhere.mp4")
    here = new / "media" / f"{video_id}.mp4"
    assert layout.media_file(f"media/{video_id}.mp4", video_id) == here
    assert layout.media_file(str(old / "media" / f"{video_id}.mp4"), video_id) == here  # an old absolute entry
    assert layout.media_file("", video_id) == here
    assert layout.media_file("../../etc/passwd", entry(2).video_id) is None
