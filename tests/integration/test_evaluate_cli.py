"""``python -m app evaluate`` end to end: ingest two generated videos with a tiny random
open_clip model, write a small log (one entry for a video that is not indexed), evaluate, and
check that the report files exist, every figure is within [0, 1], and R@K, MRR and the
median agree with the per-query ranks written beside them.

The tiny random-weight model proves wiring only, not search quality: the ranks are whatever
random weights give.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.index import DataLayout, IngestOptions, ingest_paths
from pipeline.media import DecodeOptions
from pipeline.store import open_store

from testkit import slideshow_images, write_video

ROOT = Path(__file__).resolve().parents[2]
LOG = """\
# time-coded logging, as documentalists write it
slideshow.mp4 00:00:00.000 - 00:00:02.000 UN ASTRONAUTA CON EL TRAJE ESPACIAL (AN ASTRONAUT IN A SPACESUIT)
slideshow.mp4 00:00:06.000 - 00:00:08.000 UN COHETE EN LA PLATAFORMA (A ROCKET ON THE LAUNCH PAD)
pair.mp4 00:00:00.000 - 00:00:02.000 UN GATO (A CAT)
archivo_perdido.mp4 00:00:01.000 - 00:00:02.000 NADA (NOTHING)
"""


def _cli(args, data: Path, model_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "BUSCA_DATA_DIR": str(data), "BUSCA_CLIP_MODEL": f"local-dir:{model_dir}",
           "BUSCA_DEVICE": "cpu", "BUSCA_DB": "archivo", "BUSCA_STORE": "edge"}
    env.pop("BUSCA_QDRANT_URL", None)
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, slideshow, tiny_encoder):
    folder = tmp_path_factory.mktemp("evaluate-cli")
    images = slideshow_images()
    pair = write_video(folder / "pair.mp4", [(images[2], 2.0), (images[0], 2.0)])
    data = folder / "data"
    store = open_store(data, backend="edge")
    try:
        results = ingest_paths([slideshow, pair], tiny_encoder, store, DataLayout(data), "archivo",
                               IngestOptions(decode=DecodeOptions(fps=2.0), progress=False))
    finally:
        store.close()
    assert all(r.status == "indexed" for r in results), [r.error for r in results]
    return data


def check_summary(summary: dict, ranks: list[int | None], ks: list[int]) -> None:
    finite = np.array([r if r is not None else np.inf for r in ranks], dtype=float)
    for k in ks:
        assert 0.0 <= summary["recall"][str(k)] <= 1.0
        assert summary["recall"][str(k)] == pytest.approx(np.mean(finite <= k), abs=1e-4)
    assert 0.0 <= summary["mrr"] <= 1.0 and summary["mrr"] == pytest.approx(np.mean(1 / finite), abs=1e-4)
    assert summary["found"] == int(np.isfinite(finite).sum())


@pytest.mark.slow
def test_evaluate_cli_writes_consistent_reports(tmp_path, indexed, tiny_clip_dir):
    logs = tmp_path / "logs.txt"
    logs.write_text(LOG, encoding="utf-8")
    out = tmp_path / "report"
    done = _cli(["evaluate", str(logs), "--compare", "--out", str(out), "--ks", "1,2,5"], indexed, tiny_clip_dir)
    assert done.returncode == 0, done.stderr
    assert "| video R@1 |" in done.stdout and "1 of 4 log entries excluded" in done.stderr

    [json_file] = out.glob("logs-evaluation-*.json")  # named after the log and the date
    report = json.loads(json_file.read_text(encoding="utf-8"))
    assert json_file.with_suffix(".md").read_text(encoding="utf-8").startswith("# Evaluation of database `archivo`")
    assert report["entries"] == {"total": 4, "evaluated": 3, "excluded": 1, "malformed": 0}
    assert report["excluded"] == [{"line": 5, "video": "archivo_perdido.mp4",
                                   "reason": "video not indexed in this database"}]
    assert report["corpus"]["videos"] == 2 and report["corpus"]["shots"] >= 2
    assert [q["translation"] for q in report["queries"]][0] == "AN ASTRONAUT IN A SPACESUIT"
    assert [c["name"] for c in report["configs"]] == ["text", "text+translation"]
    for config in report["configs"]:
        for level in ("video", "shot", "video_in_shots"):
            ranks = [q["ranks"][config["name"]][level] for q in report["queries"]]
            assert all(r is None or r >= 1 for r in ranks)
            check_summary(config[level], ranks, [1, 2, 5])
        videos = [q["ranks"][config["name"]]["video"] for q in report["queries"]]
        assert all(r is not None and r <= 2 for r in videos)  # two videos indexed, depth 100: always found


def test_evaluate_cli_skips_and_names_the_malformed_line(tmp_path, indexed, tiny_clip_dir, capsys, monkeypatch):
    """In process (same code path as ``python -m app``, without a second interpreter start)."""
    from app.cli.main import main

    monkeypatch.delenv("BUSCA_QDRANT_URL", raising=False)
    logs = tmp_path / "logs.txt"
    logs.write_text("slideshow.mp4 00:00:00 - 00:00:02 BIEN\nslideshow.mp4 00:00:09 - 00:00:03 AL REVES\n")
    args = ["evaluate", str(logs), "--data-dir", str(indexed), "--db", "archivo", "--store", "edge",
            "--clip-model", f"local-dir:{tiny_clip_dir}", "--device", "cpu"]
    assert main(args) == 0  # the good line is evaluated
    out, err = capsys.readouterr()
    assert "1 malformed log line(s) skipped: line 2: end 00:00:03 is before start" in err
    assert "1 entries, 1 evaluated, 0 excluded, 1 malformed lines skipped" in out
    logs.write_text("slideshow.mp4 00:00:09 - 00:00:03 AL REVES\n")
    assert main(args) == 1  # nothing valid: an error naming the line
    err = capsys.readouterr().err
    assert err.startswith("error: ") and f"{logs}: 1 malformed line: line 1: end 00:00:03 is before start" in err
    assert main([*args[:2], "--config", "a:query=fr", *args[2:]]) == 1
    assert "unknown query part 'fr'" in capsys.readouterr().err
