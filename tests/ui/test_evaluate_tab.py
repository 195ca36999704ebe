"""The evaluation tab through ``gradio_client``: upload a log, get the metrics, the ranks and the report.

The tiny random model proves the wiring (log -> pipeline.evaluate -> table and files), never the
quality of the ranking.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

LOG = """\
# two entries for the indexed slideshow, one for a video that is not indexed
slideshow.mp4 00:00:00.000 - 00:00:02.000 UN ASTRONAUTA CON EL TRAJE ESPACIAL (AN ASTRONAUT IN A SPACESUIT)
slideshow.mp4 00:00:06.000 - 00:00:08.000 UN COHETE EN LA PLATAFORMA (A ROCKET ON THE LAUNCH PAD)
archivo_perdido.mp4 00:00:01.000 - 00:00:02.000 NADA (NOTHING)
"""


def _evaluate(client, path: Path, db="archivo", min_overlap="", compare=False):
    return client.predict(db, handle_file(str(path)), min_overlap, compare, api_name="/evaluate")


def test_evaluate_is_a_named_endpoint(client):
    assert "/evaluate" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]


def test_evaluate_gives_metrics_ranks_and_report_files(client, tmp_path):
    logs = tmp_path / "registro.txt"
    logs.write_text(LOG, encoding="utf-8")
    summary, metrics, ranks, files = _evaluate(client, logs, compare=True)

    assert "2 de 3 entradas evaluadas" in summary and "1 excluidas" in summary and "archivo_perdido.mp4" in summary
    assert metrics["headers"] == ["Métrica", "text", "text+translation"]
    rows = {row[0]: row[1:] for row in metrics["data"]}
    for level in ("vídeo", "toma"):
        for k in (1, 2, 5, 10, 20, 50):
            assert all(0.0 <= float(v) <= 1.0 for v in rows[f"{level} R@{k}"]), (level, k)
        assert all(0.0 <= float(v) <= 1.0 for v in rows[f"{level} MRR"])
    assert rows["vídeo R@1"] == [1.0, 1.0]  # one video indexed: it is always first
    assert [int(v) for v in rows["consultas evaluadas"]] == [2, 2]
    assert [int(v) for v in rows["entradas excluidas"]] == [1, 1]

    assert [int(row[0]) for row in ranks["data"]] == [2, 3]  # log lines of the evaluated entries
    assert all(int(row[3]) == 1 for row in ranks["data"])  # text: video rank

    paths = sorted((Path(f["path"]) for f in files["value"]), key=lambda p: p.suffix)
    assert [p.suffix for p in paths] == [".json", ".md"] and all(p.is_file() for p in paths)
    assert not any(p.is_relative_to(Path.cwd()) for p in paths)
    report = json.loads(paths[0].read_text(encoding="utf-8"))
    assert report["entries"] == {"total": 3, "evaluated": 2, "excluded": 1} and report["logs"] == "registro.txt"
    assert paths[1].read_text(encoding="utf-8").startswith("# Evaluation of database `archivo`")


def test_evaluate_errors_name_the_line_the_database_and_the_file(client, tmp_path):
    bad = tmp_path / "malo.txt"
    bad.write_text("slideshow.mp4 00:00:00 - 00:00:02 BIEN\nslideshow.mp4 00:00:09 - 00:00:03 AL REVES\n")
    with pytest.raises(AppError, match=r"malo\.txt: 1 malformed line: line 2: end 00:00:03 is before start"):
        _evaluate(client, bad)
    good = tmp_path / "bueno.txt"
    good.write_text(LOG, encoding="utf-8")
    with pytest.raises(AppError, match="«nada» no existe"):
        _evaluate(client, good, db="nada")
    with pytest.raises(AppError, match="min overlap must be"):
        _evaluate(client, good, min_overlap="mucho")
    empty = tmp_path / "vacio.txt"
    empty.write_text("# only a comment\n")
    with pytest.raises(AppError, match="no log entries found"):
        _evaluate(client, empty)
    with pytest.raises(AppError, match="Suba un fichero"):
        client.predict("archivo", None, "", False, api_name="/evaluate")
