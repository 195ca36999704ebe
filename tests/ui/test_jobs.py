"""The web app's job runner (app/ui/jobs.py) and its rendering, without a server: bounded
pools, a waiting line that refuses when full, cancellation before and during a job, errors
kept, progress in words ("vídeo 2 de 5 · nombre · 80 %")."""

from __future__ import annotations

import threading
import time

import pytest

from app.ui.job_view import jobs_html, progress_html, progress_line
from app.ui.jobs import Job, JobRefused, JobRunner
from pipeline.errors import ConfigError


def wait(job: Job, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not job.finished:
        assert time.monotonic() < deadline, f"{job.id} still {job.state}"
        time.sleep(0.01)


@pytest.fixture
def runner():
    r = JobRunner({"ingest": 1, "analysis": 1, "evaluate": 1}, max_waiting=2)
    yield r
    r.close()


def test_jobs_of_one_pool_run_one_at_a_time_and_report_their_result(runner):
    release, order = threading.Event(), []

    def slow(job):
        order.append(("start", job.id))
        release.wait(5)
        return "ok"

    first = runner.submit("ingest", "uno", slow)
    second = runner.submit("ingest", "dos", lambda job: order.append(("start", job.id)) or 42)
    time.sleep(0.1)
    assert first.state == "running" and second.state == "queued"
    assert runner.active("ingest") is first and [j.id for j in runner.jobs("ingest")] == [second.id, first.id]
    release.set()
    wait(second)
    assert (first.result, second.result) == ("ok", 42) and [o[1] for o in order] == [first.id, second.id]


def test_a_single_video_and_a_batch_share_the_analysis_pool(runner):
    release = threading.Event()
    video = runner.submit("analysis", "un vídeo", lambda job: release.wait(5))
    batch = runner.submit("batch", "un lote", lambda job: "lote")
    time.sleep(0.1)
    assert video.state == "running" and batch.state == "queued"  # the models are never swapped under a job
    evaluation = runner.submit("evaluate", "evaluar", lambda job: "hecho")
    wait(evaluation)  # another pool: not held up by the analysis
    release.set()
    wait(batch)


def test_the_waiting_line_is_bounded_and_one_id_runs_once(runner):
    release = threading.Event()
    runner.submit("evaluate", "a", lambda job: release.wait(5), job_id="job-a")
    with pytest.raises(JobRefused) as info:
        runner.submit("evaluate", "a otra vez", lambda job: None, job_id="job-a")
    assert info.value.key == "job_running"
    runner.submit("evaluate", "b", lambda job: None)
    runner.submit("evaluate", "c", lambda job: None)
    with pytest.raises(JobRefused) as info:
        runner.submit("evaluate", "d", lambda job: None)
    assert info.value.key == "jobs_queue_full" and info.value.params == {"n": 2}
    release.set()


def test_cancelling_a_waiting_job_never_starts_it_and_a_running_one_stops_at_its_next_check(runner):
    release, ran = threading.Event(), []

    def steps(job):
        for i in range(1000):
            job.raise_if_cancelled()
            job.update(index=i + 1, total=1000, name=f"v{i}.mp4")
            release.wait(0.01)
        return "all"

    running = runner.submit("ingest", "largo", steps)
    waiting = runner.submit("ingest", "nunca", lambda job: ran.append(1))
    time.sleep(0.1)
    assert runner.cancel(waiting.id) and waiting.state == "cancelled"
    assert runner.cancel(running.id)
    wait(running)
    assert running.state == "cancelled" and running.result is None and ran == []
    assert not runner.cancel(running.id)  # nothing left to cancel


def test_errors_are_kept_and_a_bug_does_not_take_the_runner_down(runner):
    failed = runner.submit("ingest", "mal", lambda job: (_ for _ in ()).throw(ConfigError("no sirve")))
    crashed = runner.submit("ingest", "bug", lambda job: 1 / 0)
    wait(crashed)
    assert failed.state == "failed" and str(failed.error) == "no sirve"
    assert crashed.state == "failed" and isinstance(crashed.error, ZeroDivisionError)
    assert runner.submit("ingest", "sigue", lambda job: "sí").id


def test_progress_in_words_in_both_languages():
    job = Job("j", "batch", "lote", state="running")
    job.update(stage="describe", index=2, total=5, name="entrevista.mp4", fraction=0.8)
    assert progress_line(job, "es") == "Descripción · vídeo 2 de 5 · entrevista.mp4 · 80 %"  # this video's shots
    assert progress_line(job, "en") == "Description · video 2 of 5 · entrevista.mp4 · 80 %"
    html = progress_html(job, "es")
    assert '<progress max="100" value="36">' in html and "be-job-running" in html  # the bar: the whole stage
    job.update(unit="query", stage="", name="", index=3, total=4, fraction=0.0)
    assert progress_line(job, "es") == "consulta 3 de 4"
    job.state, job.error = "failed", JobRefused("job_running", job="<b>roto</b>")
    assert "Error: El trabajo &lt;b&gt;roto&lt;/b&gt; ya está en curso." in progress_html(job, "es")  # escaped
    job.error = ConfigError("/srv/secreto/config.toml is bad")
    assert "/srv" not in progress_line(job, "es")  # a pipeline error by its code, never a server path
    assert "lote</b> · error" in jobs_html([job], "es")
    assert progress_html(job, "es", ("stopped", "Trabajo detenido: x")).count("be-job-stopped") == 1
