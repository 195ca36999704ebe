"""Temporal queries ("A, then B within N seconds") on generated videos with a known order: one shows
the astronaut, then a coffee, then the rocket (3 s each, real photos from scikit-image); the other
shows them in reverse. "Astronaut, then rocket" must rank the first video's pair and never pair the
second's astronaut with its (earlier) rocket.

The ranking test uses :class:`testkit.PixelEncoder` (16x16 pixels) and image queries: identical
pictures score 1.0 and different ones near 0, so the test checks the pairing and its scores, not a
model. The CLI test uses the tiny random-weight CLIP, which merges these photos into one shot but
separates flat white, red and black frames: the same order in colours. It proves the wiring of
``search --then`` / ``--then-image`` / ``--within`` / ``--min-score`` / ``--sort`` / ``--edl``,
never search quality.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.cli.main import main
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, ingest_paths
from pipeline.media import DecodeOptions
from pipeline.search import Query, search, temporal_search
from pipeline.store import open_store

from testkit import PixelEncoder, slideshow_images, still_png, write_video

OPTIONS = IngestOptions(decode=DecodeOptions(fps=2.0), progress=False)


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> tuple[Path, Path]:
    astronaut, coffee, _, rocket = slideshow_images()
    folder = tmp_path_factory.mktemp("temporal")
    forward = write_video(folder / "orden.mp4", [(astronaut, 3.0), (coffee, 3.0), (rocket, 3.0)], fps=25)
    backward = write_video(folder / "inverso.mp4", [(rocket, 3.0), (coffee, 3.0), (astronaut, 3.0)], fps=25)
    return forward, backward


def _ingest(data: Path, encoder, paths) -> dict[str, str]:
    store = open_store(data, backend="edge")
    try:
        results = ingest_paths(paths, encoder, store, DataLayout(data), "t", OPTIONS, VideoCatalog(data))
    finally:
        store.close()
    assert all(r.status == "indexed" for r in results), [r.error for r in results]
    return {Path(r.path).name: r.video_id for r in results}


def test_a_then_b_ranks_the_ordered_video_and_never_the_reverse(tmp_path, videos):
    astronaut, _, _, rocket = slideshow_images()
    encoder = PixelEncoder()
    ids = _ingest(tmp_path / "data", encoder, list(videos))
    store = open_store(tmp_path / "data", backend="edge")
    try:
        def run(query: Query):
            return search(store, encoder, "t", query)

        pairs = temporal_search(run, Query(image=astronaut, k=10), Query(image=rocket, k=10), within_s=10)
        top = pairs[0]
        assert (top.video_id, top.first.start_s, top.then.start_s) == (ids["orden.mp4"], 0.0, 6.0)
        assert top.score == pytest.approx(1.0, abs=0.02) and top.gap_s == pytest.approx(3.0)
        # in the reverse video the astronaut comes last: it is never A of a pair with the rocket
        reverse = [p for p in pairs if p.video_id == ids["inverso.mp4"]]
        assert all(not (p.first.start_s == 6.0 and p.then.start_s == 0.0) for p in reverse)
        assert all(p.score < 0.5 for p in reverse)
        assert [p.video_id for p in pairs if p.score >= 0.5] == [ids["orden.mp4"]]
        # the window: the rocket starts 3 s after the astronaut shot ends
        near = temporal_search(run, Query(image=astronaut, k=10), Query(image=rocket, k=10), within_s=2.5)
        assert all(p.gap_s <= 2.5 for p in near) and (0.0, 6.0) not in {(p.first.start_s, p.then.start_s) for p in near}
        # the reverse query finds the reverse video
        back = temporal_search(run, Query(image=rocket, k=10), Query(image=astronaut, k=10), within_s=10)[0]
        assert (back.video_id, back.first.start_s, back.then.start_s) == (ids["inverso.mp4"], 0.0, 6.0)
    finally:
        store.close()


def _cli(capsys, *args: str) -> list[dict]:
    capsys.readouterr()
    assert main(["search", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_cli_then_within_threshold_sort_and_edl(tmp_path, tiny_encoder, tiny_clip_dir, capsys):
    otio = pytest.importorskip("opentimelineio", reason="pip install opentimelineio otio-cmx3600-adapter (dev)")
    white, red, black = (np.full((240, 320, 3), c, np.uint8) for c in ((255, 255, 255), (255, 0, 0), (0, 0, 0)))
    forward = write_video(tmp_path / "orden.mp4", [(white, 3.0), (red, 3.0), (black, 3.0)], fps=25)
    backward = write_video(tmp_path / "inverso.mp4", [(black, 3.0), (red, 3.0), (white, 3.0)], fps=25)
    data = tmp_path / "data"
    ids = _ingest(data, tiny_encoder, [forward, backward])
    a, b = still_png(tmp_path, "a", white, (320, 240)), still_png(tmp_path, "b", black, (320, 240))
    common = ["--db", "t", "--data-dir", str(data), "--clip-model", f"local-dir:{tiny_clip_dir}", "--device", "cpu"]
    pairs = _cli(capsys, "--image", str(a), "--then-image", str(b), "--within", "10", "--edl",
                 str(tmp_path / "pares.edl"), *common)
    assert pairs and pairs[0]["video_id"] == ids["orden.mp4"]
    assert all(p["first"]["end_s"] <= p["then"]["start_s"] <= p["first"]["end_s"] + 10 for p in pairs)
    assert pairs[0]["link"].endswith(f"video={ids['orden.mp4']}&t=0") and pairs[0]["then"]["link"]
    back = _cli(capsys, "--image", str(b), "--then-image", str(a), "--within", "10", *common)
    assert back[0]["video_id"] == ids["inverso.mp4"]
    # a minimum score cuts, an order sorts
    assert _cli(capsys, "--image", str(a), "--then-image", str(b), "--min-score", "0.9999", *common) == \
        [p for p in pairs if p["score"] >= 0.9999]
    hits = _cli(capsys, "--image", str(a), "--k", "10", "--sort", "video", *common)
    assert [h["source"] for h in hits] == sorted(h["source"] for h in hits)
    # the EDL: both moments of each pair, read back at the videos' 25 fps
    clips = list(otio.adapters.read_from_string((tmp_path / "pares.edl").read_text(), "cmx_3600", rate=25).tracks[0])
    assert len(clips) == 2 * len(pairs) and clips[0].name == "orden.mp4"
    assert clips[1].source_range.start_time.to_seconds() == pytest.approx(pairs[0]["then"]["start_s"], abs=1 / 25)


def test_temporal_flags_are_checked(tmp_path, capsys):
    assert main(["search", "--db", "t", "--data-dir", str(tmp_path), "--text", "a", "--then", "b",
                 "--within", "-5"]) == 1
    assert "within" in capsys.readouterr().err
