"""Batch jobs with fake stage functions: stage-by-stage order, failures recorded, resume
after a failure and after SIGKILL, one model load per stage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline.analysis.jobs import Stage, create_job, job_status, read_manifest, run_job
from pipeline.errors import ConfigError, MediaError

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["fetch", "segment", "transcribe", "describe"]


class Recorder:
    def __init__(self, fail=()):
        self.calls, self.events, self.fail = [], [], set(fail)

    def stage(self, name):
        def run(ctx):
            self.calls.append((name, ctx.item_id))
            if (name, ctx.source) in self.fail:
                raise MediaError(ctx.source, f"cannot {name}")
            (ctx.dir / f"{name}.txt").write_text(ctx.source)
            return {"n": len(ctx.outputs), "file": f"{name}.txt"}

        return Stage(name, run, setup=lambda: self.events.append(("load", name)),
                     teardown=lambda: self.events.append(("free", name)))

    def stages(self):
        return [self.stage(n) for n in STAGES]


def test_stages_run_one_at_a_time_over_all_items(tmp_path):
    create_job(tmp_path, ["a.mp4", "b.mp4"], STAGES)
    rec = Recorder()
    summary = run_job(tmp_path, rec.stages())
    assert summary.complete and summary.failed == []
    assert [c[0] for c in rec.calls] == ["fetch", "fetch", "segment", "segment", "transcribe", "transcribe",
                                         "describe", "describe"]
    assert rec.events == [(e, n) for n in STAGES for e in ("load", "free")]  # each model loaded once
    item = read_manifest(tmp_path).items[1]
    assert item.stages["describe"].outputs == {"n": 3, "file": "describe.txt"}  # saw the 3 earlier outputs
    assert (tmp_path / "items" / item.id / "describe.txt").read_text() == "b.mp4"


def test_a_failure_is_recorded_and_the_batch_goes_on_then_resume_retries_it(tmp_path):
    create_job(tmp_path, ["a.mp4", "b.mp4", "c.mp4"], STAGES)
    rec = Recorder(fail={("transcribe", "b.mp4")})
    summary = run_job(tmp_path, rec.stages())
    assert not summary.complete
    assert summary.failed == [("0001-b", "transcribe", "b.mp4: cannot transcribe")]
    assert summary.counts["describe"] == {"done": 2, "pending": 1}
    first_calls = list(rec.calls)

    rec2 = Recorder()
    summary = run_job(tmp_path, rec2.stages())
    assert summary.complete
    assert rec2.calls == [("transcribe", "0001-b"), ("describe", "0001-b")]  # nothing done is redone
    assert rec2.events == [("load", "transcribe"), ("free", "transcribe"), ("load", "describe"), ("free", "describe")]
    assert read_manifest(tmp_path).items[1].stages["transcribe"].attempts == 2
    assert len(first_calls) == 3 + 3 + 3 + 2


def test_failed_items_can_be_left_alone(tmp_path):
    create_job(tmp_path, ["a.mp4"], ["fetch"])
    run_job(tmp_path, [Recorder(fail={("fetch", "a.mp4")}).stage("fetch")])
    rec = Recorder()
    summary = run_job(tmp_path, [rec.stage("fetch")], retry_failed=False)
    assert rec.calls == [] and rec.events == [] and summary.counts["fetch"] == {"failed": 1}


def test_unexpected_exceptions_are_recorded_too(tmp_path):
    create_job(tmp_path, ["a.mp4", "b.mp4"], ["fetch"])

    def boom(ctx):
        if ctx.source == "a.mp4":
            raise ZeroDivisionError("bug")
        return {}

    summary = run_job(tmp_path, [Stage("fetch", boom)])
    assert summary.failed == [("0000-a", "fetch", "unexpected ZeroDivisionError: bug")]
    assert summary.counts["fetch"] == {"failed": 1, "done": 1}


def test_job_checks(tmp_path):
    create_job(tmp_path, ["a.mp4"], ["fetch"])
    assert create_job(tmp_path, ["a.mp4"], ["fetch"]).items[0].id == "0000-a"  # same job: reopened
    with pytest.raises(ConfigError, match="different job"):
        create_job(tmp_path, ["b.mp4"], ["fetch"])
    with pytest.raises(ConfigError, match="no implementation"):
        run_job(tmp_path, [])
    with pytest.raises(ConfigError, match="not a batch job"):
        job_status(tmp_path / "nothing")


WORKER = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    from pipeline.analysis.jobs import Stage, run_job

    job, log = Path(sys.argv[1]), Path(sys.argv[2])

    def stage(name):
        def run(ctx):
            with open(log, "a") as f:
                f.write(f"start {name} {ctx.item_id}\\n")
            time.sleep(0.15)
            with open(log, "a") as f:
                f.write(f"end {name} {ctx.item_id}\\n")
            return {"by": name}
        return Stage(name, run, setup=lambda: open(log, "a").write(f"load {name}\\n"))

    run_job(job, [stage("fetch"), stage("transcribe")])
''')


@pytest.mark.slow
def test_resume_after_sigkill_mid_batch(tmp_path):
    job, log = tmp_path / "job", tmp_path / "calls.log"
    create_job(job, [f"v{i}.mp4" for i in range(4)], ["fetch", "transcribe"])
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), str(job), str(log)], env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # kill in the middle of the second stage's second item
        if log.exists() and "start transcribe 0001-v1" in log.read_text():
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = log.read_text().splitlines()
    assert "start transcribe 0001-v1" in before and "end transcribe 0003-v3" not in before
    json.loads((job / "manifest.json").read_text())  # never half-written
    assert read_manifest(job).items[1].stages["transcribe"].status == "running"  # the state log says so

    subprocess.run([sys.executable, str(script), str(job), str(log)], env=env, cwd=ROOT, check=True, timeout=60)
    after = log.read_text().splitlines()[len(before):]
    assert after[0] == "load transcribe"  # fetch was finished for every item: its model is not loaded again
    assert [line for line in after if line.startswith("start")] == [
        "start transcribe 0001-v1", "start transcribe 0002-v2", "start transcribe 0003-v3"]
    assert job_status(job).complete


def test_state_changes_append_one_line_each_and_never_rewrite_the_manifest(tmp_path, monkeypatch):
    """O(1) per item: while a stage runs, the manifest is not written; each change is one line
    of state.jsonl. The run folds the log into the manifest at its start and end only."""
    from pipeline.analysis import jobs

    create_job(tmp_path, [f"v{i}.mp4" for i in range(30)], ["fetch", "segment"])
    writes = []
    real_write = jobs.atomic.write_json
    monkeypatch.setattr(jobs.atomic, "write_json", lambda path, data: (writes.append(Path(path).name),
                                                                        real_write(path, data)))
    lines_seen = []

    def fetch(ctx):
        lines_seen.append(len((tmp_path / "state.jsonl").read_text().splitlines()))
        return {"ok": ctx.item_id}

    summary = run_job(tmp_path, [Stage("fetch", fetch), Stage("segment", lambda ctx: {})])
    assert summary.complete
    assert writes == ["manifest.json", "manifest.json"]  # once when it starts, once when it ends
    assert lines_seen == [1 + 2 * i for i in range(30)]  # "running" of this item, then 2 lines per earlier item
    assert not (tmp_path / "state.jsonl").exists()  # folded into the manifest at the end
    assert json.loads((tmp_path / "manifest.json").read_text())["items"][29]["stages"]["fetch"]["outputs"] == {
        "ok": "0029-v29"}


def test_a_job_written_by_an_earlier_version_resumes(tmp_path):
    """A manifest that holds every state itself (no state.jsonl) reads and resumes as before; a line
    cut short by a kill at the end of the log is ignored."""
    manifest = create_job(tmp_path, ["a.mp4", "b.mp4"], ["fetch"])
    data = manifest.model_dump(mode="json")
    data["items"][0]["stages"]["fetch"] = {"status": "done", "error": None, "outputs": {"old": 1}, "attempts": 1,
                                           "seconds": 0.1, "finished_at": "2026-01-01T00:00:00+00:00"}
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    (tmp_path / "state.jsonl").write_text('{"item": "0001-b", "stage": "fetch", "state": {"status": "runn')
    assert [i.stages["fetch"].status for i in read_manifest(tmp_path).items] == ["done", "pending"]
    rec = Recorder()
    assert run_job(tmp_path, [rec.stage("fetch")]).complete
    assert rec.calls == [("fetch", "0001-b")]
    assert read_manifest(tmp_path).items[0].stages["fetch"].outputs == {"old": 1}
