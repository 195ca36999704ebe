"""The archive's source of truth on a real ingest (tiny random open_clip model, real decoding, Qdrant
Edge): ``check --repair`` finds and fixes each kind of drift; removing a video, deleting and
renaming a database keep store, catalog and files in step; a damaged catalog never stops the app
and never leaves orphan points; the data directory can move."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.cli.main import main
from app.config import Settings
from app.services import Services
from pipeline.errors import ConfigError
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, content_id, ingest_paths
from pipeline.index.check import check_archive
from pipeline.index.manage import delete_database, remove_video, rename_database
from pipeline.media import DecodeOptions
from pipeline.store import open_store, point_id

from testkit import slideshow_images, write_video

DB = "archivo"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, slideshow, tiny_encoder):
    """Two videos indexed in DB and the first also in "otra" (media copied into the data directory)."""
    root = tmp_path_factory.mktemp("archive")
    photos = slideshow_images()
    second = write_video(root / "second.mp4", [(photos[3], 2.0), (photos[0], 2.0), (photos[1], 2.0)])
    data = root / "data"
    store = open_store(data)
    try:
        options = IngestOptions(decode=DecodeOptions(fps=2.0), progress=False, media="copy")
        results = ingest_paths([slideshow, second], tiny_encoder, store, DataLayout(data), DB, options)
        results += ingest_paths([slideshow], tiny_encoder, store, DataLayout(data), "otra", options)
    finally:
        store.close()
    assert all(r.status == "indexed" for r in results), results
    return data, results[0].video_id, results[1].video_id


@pytest.fixture
def archive(pristine, tmp_path):
    """A fresh copy of the pristine data directory, opened: (services, first video id, second video id)."""
    data = tmp_path / "data"
    shutil.copytree(pristine[0], data)
    services = Services(_settings(data), DataLayout(data), VideoCatalog(data), open_store(data), None)
    yield services, pristine[1], pristine[2]
    services.close()


def _settings(data: Path) -> Settings:
    return Settings(data_dir=data, db=DB, clip_model="local-dir:/nowhere", device="cpu", store="edge",
                    qdrant_url=None, qdrant_api_key=None, fps=2.0)


def _check(services, repair=False, db=DB):
    return check_archive(services.store, services.catalog, services.layout, db, repair)


def _state(services, db=DB):
    """What must come back after a repair: each video's record (but its time) and its points."""
    records = {v: replace(e, indexed_at="") for v, e in services.catalog.videos(db).items()}
    points = sorted((p.id, p.payload["video_id"], p.payload["shot_index"], p.payload["thumbnail"])
                    for p in services.store.scroll(db))
    return records, points


def _kinds(reports):
    return sorted((d.kind, d.video_id) for r in reports for d in r.drift)


def _repair_and_recheck(services, before, kind, video_id, outcome):
    [found] = _check(services)
    assert _kinds([found]) == [(kind, video_id)] and not found.clean
    [fixed] = _check(services, repair=True)
    assert [(d.kind, d.outcome) for d in fixed.drift] == [(kind, outcome)], fixed.drift
    assert _check(services)[0].clean
    if before is not None:
        assert _state(services) == before


# --- each kind of drift ----------------------------------------------------------------------------------


def test_a_clean_archive_checks_clean(archive):
    services, first, _ = archive
    [report] = _check(services)
    assert report.clean and report.videos == 2 and report.points == services.store.count(DB) > 0


def test_points_without_a_record_get_it_back_from_the_artifacts(archive):
    services, first, _ = archive
    before = _state(services)
    services.catalog.forget(DB, first)
    _repair_and_recheck(services, before, "orphan_points", first, "rewritten")


def test_points_without_a_record_or_artifacts_get_a_record_from_the_points(archive):
    services, first, _ = archive
    n_shots = services.catalog.get(DB, first).n_shots
    services.catalog.forget(DB, first)
    for meta in (services.layout.video_dir(first)).rglob("meta.json"):
        meta.unlink()
    _repair_and_recheck(services, None, "orphan_points", first, "from_points")
    rebuilt = services.catalog.get(DB, first)
    assert rebuilt.n_shots == n_shots and rebuilt.source == "slideshow.mp4" and rebuilt.path.startswith("media/")


def test_an_interrupted_ingest_is_completed_from_its_artifacts(archive):
    """Killed after the catalog noted the video and half its points were written."""
    services, _, second = archive
    before = _state(services)
    services.catalog.forget(DB, second)
    services.catalog.begin(DB, second, "second.mp4")
    services.store.delete_video(DB, second, min_shot_index=1)
    _repair_and_recheck(services, before, "interrupted", second, "rewritten")


def test_an_interrupted_ingest_without_artifacts_is_rolled_back(archive):
    services, _, second = archive
    services.catalog.forget(DB, second)
    services.catalog.begin(DB, second, "second.mp4")
    shutil.rmtree(services.layout.video_dir(second))
    _repair_and_recheck(services, None, "interrupted", second, "deleted")
    assert services.store.count(DB, second) == 0 and services.catalog.holders(second) == []


@pytest.mark.parametrize("keep", [0, 1], ids=["all_points_lost", "some_points_lost"])
def test_points_lost_from_the_store_are_rewritten(archive, keep):
    services, first, _ = archive
    before = _state(services)
    services.store.delete_video(DB, first, min_shot_index=keep)
    services.store.flush()
    assert "points were lost" in str(services.divergence(DB))  # the cheap count comparison sees it
    kind = "missing_points" if keep == 0 else "incomplete_points"
    _repair_and_recheck(services, before, kind, first, "rewritten")


def test_missing_thumbnails_are_cut_again_from_the_video(archive):
    services, first, _ = archive
    thumbs = sorted(services.layout.encoder_dir(first, services.catalog.get(DB, first).encoder).glob("thumbs/*.jpg"))
    sizes = [Image.open(p).size for p in thumbs]
    for path in thumbs:
        path.unlink()
    _repair_and_recheck(services, _state(services), "missing_thumbnails", first, "thumbs_cut")
    for path, size in zip(thumbs, sizes, strict=True):
        with Image.open(path) as image:
            image.verify()
        assert Image.open(path).size == size


def test_missing_media_is_placed_again_from_the_original(archive, slideshow):
    services, first, _ = archive
    media = services.layout.media_file(services.catalog.get(DB, first).path, first)
    media.unlink()
    _repair_and_recheck(services, None, "missing_media", first, "media_placed")
    assert content_id(services.layout.media_file(services.catalog.get(DB, first).path, first)) == first


def test_missing_media_without_the_original_is_reported_with_advice(archive, tmp_path):
    services, _, second = archive
    media = services.layout.media_file(services.catalog.get(DB, second).path, second)
    media.unlink()
    info = services.layout.video_dir(second) / "info.json"
    info.write_text(json.dumps({**json.loads(info.read_text()), "path": str(tmp_path / "moved-away.mp4")}))
    [fixed] = _check(services, repair=True)
    [drift] = fixed.unrepaired
    assert drift.kind == "missing_media" and "ingest the video again" in drift.advice


def test_a_damaged_catalog_file_is_rebuilt_from_the_store_for_every_database(archive):
    services, first, second = archive
    before = {db: _state(services, db) for db in (DB, "otra")}
    services.catalog.close()
    (services.layout.root / "catalog" / "catalog.sqlite3").write_bytes(b"\0garbage" * 512)
    for suffix in ("-wal", "-shm"):
        (services.layout.root / "catalog" / f"catalog.sqlite3{suffix}").unlink(missing_ok=True)
    [report] = _check(services)
    assert report.catalog_problems and not report.catalog_problems[0].rebuilt
    reports = _check(services, repair=True)
    assert [r.db for r in reports] == [DB, "otra"] and reports[0].catalog_problems[0].rebuilt
    assert list((services.layout.root / "catalog").glob("catalog.sqlite3.damaged-*"))
    for db in (DB, "otra"):
        records, points = _state(services, db)
        assert points == before[db][1]
        assert {v: replace(e, path="", n_frames=0) for v, e in records.items()} == \
               {v: replace(e, path="", n_frames=0) for v, e in before[db][0].items()}


def test_the_check_command_exits_3_on_drift_and_0_once_repaired(archive, capsys):
    services, first, _ = archive
    services.store.delete_video(DB, first)
    services.close()
    base = ["--data-dir", str(services.layout.root), "--db", DB]
    assert main(["check", *base]) == 3
    out = capsys.readouterr()
    assert f"missing_points     {first} slideshow.mp4: the catalog lists" in out.out and "--repair" in out.err
    assert main(["check", *base, "--repair"]) == 0
    assert "rewrote its record" in capsys.readouterr().out
    assert main(["check", *base, "--json"]) == 0
    assert '"clean": true' in capsys.readouterr().out


# --- removing, deleting, renaming ------------------------------------------------------------------------


def test_removing_a_video_takes_its_points_record_and_files_unless_another_database_holds_it(archive):
    services, first, second = archive
    layout, store, catalog = services.layout, services.store, services.catalog
    removed = remove_video(store, catalog, layout, DB, first)
    assert removed.points > 0 and removed.files_kept == 1  # "otra" still lists it
    assert store.count(DB, first) == 0 and catalog.get(DB, first) is None and layout.video_dir(first).is_dir()
    removed = remove_video(store, catalog, layout, "otra", first)
    assert removed.files_removed == 1 and not layout.video_dir(first).exists()
    assert not list((layout.root / "media").glob(f"{first}.*"))
    assert store.count(DB, second) > 0 and catalog.get(DB, second) is not None  # the other video untouched
    with pytest.raises(ConfigError, match="is not in database"):
        remove_video(store, catalog, layout, DB, first)
    assert _check(services)[0].clean


def test_deleting_and_renaming_databases(archive):
    services, first, second = archive
    layout, store, catalog = services.layout, services.store, services.catalog
    before = _state(services)
    query = store.retrieve(DB, [point_id(second, 0)], with_vectors=True)[0].vectors
    assert rename_database(store, catalog, DB, "nuevo") == len(before[1])
    assert not store.has_collection(DB) and catalog.videos(DB) == {}
    assert _state(services, "nuevo") == before
    [(vname, vector)] = query.items()
    assert store.query("nuevo", vname, vector, 1)[0].id == point_id(second, 0)
    with pytest.raises(ConfigError, match="already exists"):
        rename_database(store, catalog, "nuevo", "otra")
    removed = delete_database(store, catalog, layout, "nuevo")
    assert (removed.videos, removed.files_removed, removed.files_kept) == (2, 1, 1)  # first is still in "otra"
    assert not layout.video_dir(second).exists() and layout.video_dir(first).is_dir()
    assert services.databases() == ["otra"] and _check(services, db="otra")[0].clean


def test_archive_commands_on_the_command_line(archive, capsys):
    services, first, second = archive
    n_first = services.catalog.get(DB, first).n_shots
    services.close()
    base = ["--data-dir", str(services.layout.root)]
    assert main(["remove", "second.mp4", *base, "--db", DB]) == 0
    assert f"removed {second} second.mp4" in capsys.readouterr().out
    assert main(["remove", "nothing.mp4", *base, "--db", DB]) == 1
    assert main(["databases", *base, "rename", "otra", "copia"]) == 0
    assert main(["databases", *base, "delete", "copia"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["databases", *base, "delete", "copia", "--yes"]) == 0
    capsys.readouterr()
    assert main(["databases", *base]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{DB}\t{n_first} shots\t1 videos"]


# --- a damaged catalog, moving the data directory ----------------------------------------------------------


def test_a_damaged_catalog_never_stops_the_app_and_never_leaves_orphans(archive, tmp_path, capsys, tiny_encoder):
    services, first, _ = archive
    data = services.layout.root
    points = services.store.count(DB)
    services.close()
    (data / "catalog" / "catalog.sqlite3").write_bytes(b"\0garbage" * 512)
    for suffix in ("-wal", "-shm"):
        (data / "catalog" / f"catalog.sqlite3{suffix}").unlink(missing_ok=True)
    damaged = str(data / "catalog" / "catalog.sqlite3")

    started = Services.start(_settings(data))  # the app's services start, and say which file is damaged
    try:
        [warning] = started.warnings([DB])
        assert warning.kind == "catalog" and warning.where == damaged
        assert started.databases() == [DB, "otra"]  # the store's, still listed
        photos = slideshow_images()
        fresh = write_video(tmp_path / "fresh.mp4", [(photos[2], 1.5), (photos[1], 1.5)])
        [result] = ingest_paths([fresh], tiny_encoder, started.store, started.layout, DB,
                                IngestOptions(decode=DecodeOptions(fps=2.0), progress=False), started.catalog)
        assert result.status == "failed" and damaged in result.error
        assert started.store.count(DB) == points  # it stopped before writing any point
    finally:
        started.close()
    for command in (["videos"], ["databases"]):
        assert main([*command, "--data-dir", str(data), "--db", DB]) == 1
        [line] = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("error: video catalog ") and damaged in line and "--repair" in line


def test_moving_the_data_directory_keeps_playback(archive, tmp_path):
    services, first, _ = archive
    services.close()
    moved = tmp_path / "elsewhere" / "data"
    shutil.move(str(services.layout.root), moved)
    layout, catalog = DataLayout(moved), VideoCatalog(moved)
    for video_id, entry in catalog.videos(DB).items():
        assert not Path(entry.path).is_absolute()
        assert layout.media_file(entry.path, video_id).is_relative_to(moved)
    old_absolute = replace(catalog.get(DB, first), path=str(services.layout.root / "media" / f"{first}.mp4"))
    assert layout.media_file(old_absolute.path, first) == moved / "media" / f"{first}.mp4"
    assert np.isfinite(catalog.get(DB, first).duration_s)
