"""The evaluation tab through ``gradio_client``: upload a log, get the metrics, the ranks and the report.

The tiny random model proves the wiring (log -> pipeline.evaluate -> table and files), never the
quality of the ranking.
"""

from __future__ import annotations

import json
import threading
import time
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
    summary, metrics, ranks, files, *_ = client.predict(db, handle_file(str(path)), min_overlap, compare,
                                                        api_name="/evaluate")
    return summary, metrics, ranks, files


def test_evaluate_is_a_named_endpoint(client):
    assert "/evaluate" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]


def _percent(cell: str) -> float:
    assert cell.endswith(" %"), cell
    return float(cell.removesuffix(" %"))


def test_evaluate_gives_metrics_ranks_and_report_files(client, tmp_path):
    logs = tmp_path / "registro.txt"
    logs.write_text(LOG, encoding="utf-8")
    summary, metrics, ranks, files = _evaluate(client, logs, compare=True)

    assert "2 de 3 entradas evaluadas" in summary and "1 excluidas" in summary
    assert "línea 4 (archivo_perdido.mp4): el vídeo no está indexado en esta base de datos" in summary
    assert metrics["headers"] == ["Métrica", "text", "text+translation"]
    rows = {row[0]: row[1:] for row in metrics["data"]}
    for level in ("vídeo", "toma"):
        for k in (1, 2, 5, 10, 20, 50):
            assert all(0.0 <= _percent(v) <= 100.0 for v in rows[f"{level} R@{k}"]), (level, k)
        assert all(0.0 <= float(v) <= 1.0 for v in rows[f"{level} MRR"])
    assert rows["vídeo R@1"] == ["100.0 %", "100.0 %"]  # one video indexed: it is always first
    assert [int(v) for v in rows["consultas evaluadas"]] == [2, 2]
    assert [int(v) for v in rows["entradas excluidas"]] == [1, 1]

    assert [int(row[0]) for row in ranks["data"]] == [2, 3]  # log lines of the evaluated entries
    assert all(int(row[3]) == 1 for row in ranks["data"])  # text: video rank

    paths = sorted((Path(f["path"]) for f in files["value"]), key=lambda p: p.suffix)
    assert [p.suffix for p in paths] == [".json", ".md"] and all(p.is_file() for p in paths)
    assert all(p.name.startswith("registro-evaluation-20") for p in paths)  # named after the log and the date
    assert not any(p.is_relative_to(Path.cwd()) for p in paths)
    report = json.loads(paths[0].read_text(encoding="utf-8"))
    assert report["entries"] == {"total": 3, "evaluated": 2, "excluded": 1, "malformed": 0}
    assert report["logs"] == "registro.txt"
    assert paths[1].read_text(encoding="utf-8").startswith("# Evaluation of database `archivo`")


def test_a_real_log_semicolons_frames_and_bad_lines_is_evaluated(client, tmp_path):
    """Spanish Excel's CSV (';', decimal comma, cp1252), a frame timecode, and two bad lines that
    are skipped and listed instead of refusing the whole log."""
    logs = tmp_path / "registro_excel.csv"
    logs.write_bytes(("vídeo;inicio;fin;descripción\r\n"
                      "slideshow.mp4;0,0;2,0;UN ASTRONAUTA\r\n"
                      "slideshow.mp4;00:00:06:00;00:00:07:09;UN COHETE\r\n"
                      "slideshow.mp4;00:00:09;00:00:03;AL REVÉS\r\n"
                      "solo una columna\r\n").encode("cp1252"))
    summary, metrics, ranks, _ = _evaluate(client, logs)
    assert "2 de 2 entradas evaluadas" in summary
    assert "Se omitieron 2 líneas mal formadas del registro:" in summary
    assert "línea 4: el final 00:00:03 es anterior al inicio 00:00:09" in summary
    assert "línea 5: se esperaban al menos 4 columnas (vídeo, inicio, fin, descripción) y hay 1" in summary
    assert [int(row[0]) for row in ranks["data"]] == [2, 3]


def test_evaluate_errors_speak_to_a_web_user(client, tmp_path):
    bad = tmp_path / "malo.txt"
    bad.write_text("slideshow.mp4 00:00:09 - 00:00:03 AL REVES\nbasura\n")
    with pytest.raises(AppError) as info:
        _evaluate(client, bad)
    message = str(info.value)
    assert "El registro «malo.txt» no tiene ninguna entrada válida. línea 1: el final 00:00:03 es anterior" in message
    assert "--help" not in message and "/tmp" not in message  # no CLI talk, no server path
    good = tmp_path / "bueno.txt"
    good.write_text(LOG, encoding="utf-8")
    with pytest.raises(AppError, match="«nada» no existe"):
        _evaluate(client, good, db="nada")
    with pytest.raises(AppError, match="Solapamiento mínimo no válido: «mucho»"):
        _evaluate(client, good, min_overlap="mucho")
    lost = tmp_path / "perdido.txt"
    lost.write_text("otro.mp4 00:00:01 - 00:00:02 NADA\n")
    with pytest.raises(AppError, match="Ninguna de las 1 entradas del registro corresponde a un vídeo de «archivo»"):
        _evaluate(client, lost)
    empty = tmp_path / "vacio.txt"
    empty.write_text("# only a comment\n")
    with pytest.raises(AppError, match="El registro «vacio.txt» no tiene ninguna entrada válida"):
        _evaluate(client, empty)
    with pytest.raises(AppError, match="Suba un fichero"):
        client.predict("archivo", None, "", False, api_name="/evaluate")


def test_evaluations_wait_in_their_own_pool_and_never_hold_up_a_search(client, running_app, tmp_path):
    """Issue 13.1: an evaluation runs as a job of the evaluate pool (one at a time, a bounded
    waiting line); while one runs and another waits, a search is answered."""
    release = threading.Event()
    blocker = running_app.ctx.jobs.submit("evaluate", "ocupado", lambda job: release.wait(60))
    try:
        deadline = time.monotonic() + 30
        while blocker.state != "running":  # the pool's thread picks it up
            assert time.monotonic() < deadline, "the blocking job never started"
            time.sleep(0.05)
        logs = tmp_path / "registro.txt"
        logs.write_text(LOG, encoding="utf-8")
        waiting = client.submit("archivo", handle_file(str(logs)), "", False, api_name="/evaluate")
        deadline = time.monotonic() + 30
        while not any(j.state == "queued" for j in running_app.ctx.jobs.jobs("evaluate")):
            assert time.monotonic() < deadline, "the evaluation was not queued"
            time.sleep(0.05)
        assert blocker.state == "running" and not waiting.done()
        status, *_ = client.predict("archivo", "un cohete", None, 0.5, 5, False, [], api_name="/search")
        assert status  # answered while the evaluate pool is busy
    finally:
        release.set()
    summary, *_ = waiting.result(timeout=120)
    assert "2 de 3 entradas evaluadas" in summary
