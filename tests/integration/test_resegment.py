"""``resegment``: new classes, scenes and shots from the stored frame embeddings, without the
encoder; unchanged shots keep their point ids, analyses follow by time, and a run killed at any
step and run again leaves no duplicate, no orphan and no lost thumbnail.

The database is made the way an older version made it: ingested with the absolute thresholds
and a ``meta.json`` without ``scale`` or ``cuts``. A tiny random-weight CLIP model makes the
embeddings: it proves wiring and persistence only (that it segments the slideshow's photo changes
on the video scale, where absolute cosines miss some, says nothing about real models).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest

from pipeline.analysis import ShotAnalysis, VideoAnalysis
from pipeline.analysis.store import read_partial, write_analysis
from pipeline.index import (
    DataLayout,
    IngestOptions,
    VideoCatalog,
    ingest_paths,
    resegment_database,
    shot_point_id,
    stored_point_ids,
)
from pipeline.media import DecodeOptions
from pipeline.segment import SegmentOptions
from pipeline.store import open_store, point_id

from testkit import slideshow_images, write_video

ROOT = Path(__file__).resolve().parents[2]
DB = "archivo"
#: The ``segment`` options of a meta.json written before scales existed.
OLD_SEGMENT = {
    "reduce": "pca", "reduce_dims": 32, "min_cluster_s": 10.0, "min_samples_s": 5.0, "cluster_max_frames": 12000,
    "class_merge_similarity": 0.75, "noise_min_similarity": 0.75, "min_scene_s": 3.0, "shot_threshold": 0.15,
    "shot_window_s": 1.0, "min_shot_s": 1.0, "blas_threads": 1, "random_state": 0,
}


@pytest.fixture(scope="module")
def old_database(tmp_path_factory, tiny_encoder) -> Path:
    """Two 23-s slideshows (8 photo changes each) in an old-style database, one of them analysed."""
    root = tmp_path_factory.mktemp("old-db")
    photos = slideshow_images((160, 120))
    videos = [write_video(root / f"v{i}.mp4", [(img, 2.0 + k % 3) for k, img in enumerate((photos[i:] + photos[:i]) * 2)])
              for i in range(2)]
    data, layout = root / "data", DataLayout(root / "data")
    store = open_store(data)
    try:
        options = IngestOptions(decode=DecodeOptions(fps=2.0), segment=SegmentOptions.absolute(), progress=False)
        assert all(r.status == "indexed" for r in ingest_paths(videos, tiny_encoder, store, layout, DB, options))
    finally:
        store.close()
    for vid, entry in VideoCatalog(data).videos(DB).items():
        meta = layout.read_meta(vid, entry.encoder)
        layout.write_meta(vid, entry.encoder, {"encoder": meta["encoder"], "decode": meta["decode"],
                                               "segment": OLD_SEGMENT})
    vid, entry = sorted(VideoCatalog(data).videos(DB).items())[0]
    shots = layout.load_segmentation(vid, entry.encoder).shots
    analyses = [ShotAnalysis(video_id=vid, shot_index=s.index, start_s=s.start_s, end_s=s.end_s, status="ok",
                             model="m", instructions="i") for s in shots]
    write_analysis(layout.video_dir(vid) / "analysis" / "analysis.json", VideoAnalysis(video_id=vid, shots=analyses))
    return data


@pytest.fixture
def data(old_database, tmp_path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(old_database, copy)
    return copy


def _points(data: Path):
    store = open_store(data)
    try:
        return list(store.scroll(DB))
    finally:
        store.close()


def _spans_and_ids(data: Path) -> dict[str, dict[tuple[int, int], str]]:
    layout = DataLayout(data)
    out = {}
    for vid, entry in VideoCatalog(data).videos(DB).items():
        seg = layout.load_segmentation(vid, entry.encoder)
        ids = stored_point_ids(layout, seg, entry.encoder)
        out[vid] = {(s.first_frame, s.end_frame): i for s, i in zip(seg.shots, ids, strict=True)}
    return out


def check_consistent(data: Path, options: SegmentOptions) -> None:
    """Store, catalog and artifacts agree: each shot once under its id, no orphan point, one
    thumbnail per shot, no staging folder, meta.json naming the options."""
    layout = DataLayout(data)
    catalog = VideoCatalog(data).videos(DB)
    assert VideoCatalog(data).pending(DB) == []
    points = _points(data)
    assert len(points) == sum(e.n_shots for e in catalog.values())
    assert max(Counter((p.payload["video_id"], p.payload["shot_index"]) for p in points).values()) == 1
    for vid, entry in catalog.items():
        seg = layout.load_segmentation(vid, entry.encoder)
        mine = {p.id: p.payload for p in points if p.payload["video_id"] == vid}
        ids = stored_point_ids(layout, seg, entry.encoder)
        assert set(mine) == set(ids), "orphan or missing points"
        for shot, i in zip(seg.shots, ids, strict=True):
            assert (mine[i]["shot_index"], mine[i]["start_s"], mine[i]["end_s"]) == (
                shot.index, round(shot.start_s, 3), round(shot.end_s, 3))
            assert layout.resolve(mine[i]["thumbnail"]).is_file()
        folder = layout.encoder_dir(vid, entry.encoder)
        assert len(list((folder / "thumbs").glob("shot_*.jpg"))) == entry.n_shots == len(seg.shots)
        assert not (folder / ".resegment").exists()
        assert layout.read_meta(vid, entry.encoder)["segment"] == asdict(options)
    assert not [p for p in data.rglob("*.tmp") if not p.is_relative_to(data / "edge")]


def test_resegment_an_old_database_keeps_unchanged_ids_and_files_analyses_by_time(data):
    """Video scale on a database made with absolute thresholds: shots change, points follow, every
    shot spanning the same frames as before keeps its id; a second run changes nothing."""
    before = _spans_and_ids(data)
    layout = DataLayout(data)
    store = open_store(data)
    try:
        results = resegment_database(store, layout, DB, SegmentOptions(), progress=False,
                                     on_commit=lambda vid, seg: _realign(layout, vid, seg))
        again = resegment_database(store, layout, DB, SegmentOptions(), progress=False)
    finally:
        store.close()
    assert [r.status for r in results] == ["resegmented", "resegmented"]
    assert [r.status for r in again] == ["unchanged", "unchanged"]
    check_consistent(data, SegmentOptions())
    after = _spans_and_ids(data)
    for vid in before:
        assert before[vid] != after[vid], "the video scale changed the shots"
        unchanged = set(before[vid]) & set(after[vid])
        assert unchanged, "some shots stay as they were"
        assert all(after[vid][span] == before[vid][span] for span in unchanged)
        assert not set(after[vid].values()) - {before[vid][s] for s in unchanged} & set(before[vid].values())
        assert sum(r.kept_ids for r in results if r.video_id == vid) == len(unchanged)
    points = {p.id: p.payload for p in _points(data)}
    moved = 0
    for vid, entry in VideoCatalog(data).videos(DB).items():  # shot numbers people use (VIDEO:N) still resolve
        for index in range(entry.n_shots):
            pid = shot_point_id(layout, entry.encoder, vid, index)
            assert (points[pid]["video_id"], points[pid]["shot_index"]) == (vid, index)
            moved += pid != point_id(vid, index)
    assert moved, "some kept ids no longer follow their shot's index"
    analysed = sorted(before)[0]
    folder = layout.video_dir(analysed) / "analysis"
    assert not (folder / "analysis.json").exists() and (folder / "analysis.before-resegment.json").is_file()
    seg = layout.load_segmentation(analysed, VideoCatalog(data).videos(DB)[analysed].encoder)
    kept = read_partial(folder / "analysis.partial.json")
    survivors = [s for s in seg.shots if (s.first_frame, s.end_frame) in before[analysed]]
    assert sorted(kept) == [s.index for s in survivors]
    assert all((kept[s.index].start_s, kept[s.index].end_s) == (s.start_s, s.end_s) for s in survivors)


def _realign(layout: DataLayout, vid: str, seg) -> None:
    from pipeline.analysis import realign_analysis

    realign_analysis(layout.video_dir(vid) / "analysis", seg.shots)


def test_ingest_with_new_options_re_segments_the_stored_frames(data, tiny_encoder, monkeypatch):
    """Re-ingesting with other segmentation options does not run the encoder again, and unchanged
    shots keep their ids there too."""
    import pipeline.index.prepare as prepare_module

    before = _spans_and_ids(data)

    def no_encoding(*args, **kwargs):
        raise AssertionError("the frames were encoded again")

    monkeypatch.setattr(prepare_module, "embed_frames", no_encoding)
    entries = VideoCatalog(data).videos(DB)
    media = [DataLayout(data).media_file(e.path, vid) for vid, e in entries.items()]
    store = open_store(data)
    try:
        options = IngestOptions(decode=DecodeOptions(fps=2.0), progress=False)
        results = ingest_paths(media, tiny_encoder, store, DataLayout(data), DB, options)
    finally:
        store.close()
    assert all(r.status == "indexed" for r in results), [r.error for r in results]
    check_consistent(data, SegmentOptions())
    after = _spans_and_ids(data)
    for vid in before:
        assert all(after[vid][s] == before[vid][s] for s in set(before[vid]) & set(after[vid]))


class FakeCuts:
    """A :class:`pipeline.protocols.CutDetector` with fixed cuts, counting its calls."""

    name = "fake"

    def __init__(self, cuts: list[float]):
        self.cuts, self.calls = cuts, 0

    def detect_cuts(self, media) -> list[float]:
        self.calls += 1
        return list(self.cuts)

    def unload(self) -> None:
        pass


def test_resegment_with_a_shot_detector_bounds_shots_by_its_cuts_then_keeps_or_drops_them(data):
    """--cuts NAME finds the cuts in the media once (cuts.json) and no shot straddles one; --cuts
    keep reuses them without the detector; --cuts none lets the embeddings alone decide."""
    from pipeline.index import read_cuts

    layout, cuts = DataLayout(data), [3.3, 12.6]  # inside the 2-5 s and 11-14 s photos
    detector = FakeCuts(cuts)

    def run(options, **kwargs):
        store = open_store(data)
        try:
            return resegment_database(store, layout, DB, options, progress=False, **kwargs)
        finally:
            store.close()

    def straddled() -> bool:
        for vid, entry in VideoCatalog(data).videos(DB).items():
            t = layout.load_frames(vid, entry.encoder).timestamps
            if any(t[s.first_frame] < c <= t[s.end_frame - 1]
                   for s in layout.load_segmentation(vid, entry.encoder).shots for c in cuts):
                return True
        return False

    assert straddled(), "without hard cuts the photos are single shots"
    assert {r.status for r in run(SegmentOptions(), cuts="fake", detector=detector)} == {"resegmented"}
    assert detector.calls == 2 and not straddled()
    assert all(read_cuts(layout, vid, "fake") == cuts for vid in VideoCatalog(data).videos(DB))
    check_consistent(data, SegmentOptions())
    run(SegmentOptions(shot_threshold=0.3))  # keep: read from cuts.json, no detector needed
    assert detector.calls == 2 and not straddled()
    check_consistent(data, SegmentOptions(shot_threshold=0.3))
    run(SegmentOptions(shot_threshold=0.3), cuts="none")
    assert straddled()
    check_consistent(data, SegmentOptions(shot_threshold=0.3))


RUNNER = """
import os, signal, sys
sys.path.insert(0, {root!r})
import pipeline.index.resegment as R
from pipeline.index.catalog.sqlite import VideoCatalog
from pipeline.store.edge import EdgeStore
point = sys.argv[1]
calls = [0]

def kill_after(function, nth, match=lambda *a, **k: True):
    def wrapped(*args, **kwargs):
        result = function(*args, **kwargs)
        if match(*args, **kwargs):
            calls[0] += 1
            if calls[0] == nth:
                os.kill(os.getpid(), signal.SIGKILL)
        return result
    return wrapped

if point == "thumbnail moved":
    R.os.replace = kill_after(os.replace, 1, lambda src, dst: "/.resegment/thumbs/" in str(src))
elif point == "points upserted":
    EdgeStore.upsert = kill_after(EdgeStore.upsert, 2)
elif point == "catalog updated":
    VideoCatalog.record = kill_after(VideoCatalog.record, 1)
from app.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("point", ["thumbnail moved", "points upserted", "catalog updated"])
def test_resegment_killed_at_a_step_and_run_again_has_no_duplicate_and_no_orphan(data, tmp_path, point):
    """SIGKILL in the middle of a video's commit (after its first thumbnail is moved, after its
    points are upserted but before the stale ones are deleted, after its catalog entry is updated
    but before meta.json), then ``python -m app resegment`` again: it finishes the job."""
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER.format(root=str(ROOT)), encoding="utf-8")
    env = {**os.environ, "BUSCA_DATA_DIR": str(data), "BUSCA_DB": DB, "BUSCA_STORE": "edge"}
    args = ["resegment", "--shot-threshold", "0.3", "--json"]
    killed = subprocess.run([sys.executable, str(runner), point, *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert list(data.rglob(".resegment")), "the kill came while a video was being committed"
    again = subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert {r["status"] for r in json.loads(again.stdout)} <= {"resegmented", "unchanged"}
    check_consistent(data, SegmentOptions(shot_threshold=0.3))


def test_calibrate_reports_each_encoder_and_writes_an_svg_plot(data, tmp_path, capsys, monkeypatch):
    """``calibrate --json``: the statistics of the database's encoder, a fit verdict, and an SVG
    whose panels are the three histograms."""
    from app.cli.main import main

    monkeypatch.setenv("BUSCA_DATA_DIR", str(data))
    plot = tmp_path / "cal.svg"
    code = main(["calibrate", "--db", DB, "--plot", str(plot), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code in (0, 3)
    [encoder] = report["encoders"]
    assert encoder["videos"] == 2 and encoder["fits"] == (code == 0)
    assert 0 < encoder["adjacent"]["p50"] <= 1 and encoder["shot_to_shot"]["p50"] is not None
    assert len(encoder["per_video"]) == 2 and encoder["fit"]
    svg = ET.parse(plot).getroot()
    titles = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text") if t.text and ":" in t.text]
    assert any("adjacent frames" in t for t in titles) and any("consecutive shots" in t for t in titles)
    assert len(list(svg.iter("{http://www.w3.org/2000/svg}rect"))) > 10


def test_resegment_of_an_unknown_database_or_video_fails_with_one_line(data, capsys, monkeypatch):
    from app.cli.main import main

    monkeypatch.setenv("BUSCA_DATA_DIR", str(data))
    assert main(["resegment", "--db", "nada"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["resegment", "--db", DB, "--video", "0" * 20]) == 1
    assert "not in database" in capsys.readouterr().err
