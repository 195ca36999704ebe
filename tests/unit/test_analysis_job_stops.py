"""Jobs that stop instead of failing item after item (issue 12.3/12.8): a pre-flight check
before any stage, a model that goes away in the middle, a cancellation; and a stage failure
that keeps its outputs. Fake stages, no model."""

from __future__ import annotations

import pytest

from pipeline.analysis.export import export_job
from pipeline.analysis.jobs import JobCancelled, Stage, StageFailed, create_job, read_manifest, run_job
from pipeline.errors import ConfigError, ModelError

STAGES = ["segment", "describe"]


class Server:
    """A fake model server: up or down; ``describe`` raises ModelError while it is down."""

    def __init__(self, up: bool = True, fail_after: int | None = None, bad_item: str | None = None):
        self.up, self.fail_after, self.bad_item = up, fail_after, bad_item
        self.segmented, self.described = [], []

    def check(self):
        if not self.up:
            raise ModelError("cannot reach the VLM server at http://127.0.0.1:9/v1")

    def stages(self):
        def segment(ctx):
            self.segmented.append(ctx.source)
            return {}

        def describe(ctx):
            if ctx.source == self.bad_item:
                raise ModelError(f"the processor refused {ctx.source}")  # this item's own failure
            if self.fail_after is not None and len(self.described) >= self.fail_after:
                self.up = False
            self.check()
            self.described.append(ctx.source)
            return {}

        return [Stage("segment", segment), Stage("describe", describe, check=self.check)]


def statuses(job):
    return {i.source: i.stages["describe"].status for i in read_manifest(job).items}


def test_a_missing_model_stops_the_job_before_any_segmentation(tmp_path):
    create_job(tmp_path, ["a.mp4", "b.mp4"], STAGES)
    server = Server(up=False)
    summary = run_job(tmp_path, server.stages())
    assert server.segmented == []  # the pre-flight ran first
    assert summary.stopped.reason == "model" and summary.stopped.stage == "describe"
    assert "cannot reach the VLM server" in summary.stopped.error
    assert {i.source: i.stages["segment"].status for i in read_manifest(tmp_path).items} == {
        "a.mp4": "pending", "b.mp4": "pending"}  # not started
    assert [i.status for i in export_job(tmp_path).items] == ["pending", "pending"]

    server.up = True  # resumed once the server is back: the stop is cleared
    summary = run_job(tmp_path, server.stages())
    assert summary.complete and summary.stopped is None and server.described == ["a.mp4", "b.mp4"]


def test_a_model_that_goes_away_stops_the_job_and_leaves_the_rest_not_started(tmp_path):
    create_job(tmp_path, ["a.mp4", "b.mp4", "c.mp4"], STAGES)
    server = Server(fail_after=1)
    summary = run_job(tmp_path, server.stages())
    assert summary.stopped.reason == "model" and server.described == ["a.mp4"]
    assert statuses(tmp_path) == {"a.mp4": "done", "b.mp4": "pending", "c.mp4": "pending"}
    assert summary.failed == []  # b was not at fault


def test_a_model_error_of_one_item_fails_that_item_only(tmp_path):
    create_job(tmp_path, ["a.mp4", "b.mp4", "c.mp4"], STAGES)
    server = Server(bad_item="b.mp4")
    summary = run_job(tmp_path, server.stages())
    assert summary.stopped is None and statuses(tmp_path) == {"a.mp4": "done", "b.mp4": "failed", "c.mp4": "done"}


def test_a_model_that_cannot_load_stops_the_job(tmp_path):
    create_job(tmp_path, ["a.mp4"], STAGES)

    def load():
        raise ModelError("cannot load 'Qwen/Qwen2.5-VL-7B-Instruct': not in the local cache")

    stages = [Stage("segment", lambda ctx: {}), Stage("describe", lambda ctx: {}, setup=load)]
    summary = run_job(tmp_path, stages)
    assert summary.stopped.stage == "describe" and "local cache" in summary.stopped.error
    assert statuses(tmp_path) == {"a.mp4": "pending"}


@pytest.mark.parametrize("where", ["should_stop", "progress", "inside"])
def test_a_cancelled_job_stops_between_items_or_inside_one(tmp_path, where):
    create_job(tmp_path, ["a.mp4", "b.mp4", "c.mp4"], STAGES)
    done = []

    def describe(ctx):
        if where == "inside" and ctx.source == "b.mp4":
            raise JobCancelled()
        done.append(ctx.source)
        return {}

    def progress(stage, n, total):
        if where == "progress" and stage == "describe" and n == 1:
            raise JobCancelled()

    stop = (lambda: len(done) == 1) if where == "should_stop" else None
    summary = run_job(tmp_path, [Stage("segment", lambda ctx: {}), Stage("describe", describe)],
                      progress=progress, should_stop=stop)
    assert summary.stopped.reason == "cancelled" and done == ["a.mp4"]
    assert statuses(tmp_path) == {"a.mp4": "done", "b.mp4": "pending", "c.mp4": "pending"}


def test_a_stage_failure_keeps_its_outputs_and_is_retried(tmp_path):
    create_job(tmp_path, ["a.mp4"], STAGES)
    calls = []

    def describe(ctx):
        calls.append(1)
        raise StageFailed("no shot has a valid analysis (3 of 3 failed)", {"analysis": "/x/analysis.json"})

    run_job(tmp_path, [Stage("segment", lambda ctx: {}), Stage("describe", describe)])
    state = read_manifest(tmp_path).items[0].stages["describe"]
    assert state.status == "failed" and state.outputs == {"analysis": "/x/analysis.json"}
    run_job(tmp_path, [Stage("segment", lambda ctx: {}), Stage("describe", describe)])
    assert len(calls) == 2


def test_a_check_that_is_not_a_model_error_stops_too(tmp_path):
    create_job(tmp_path, ["a.mp4"], STAGES)

    def check():
        raise ConfigError("the openai backend needs the server's base URL")

    summary = run_job(tmp_path, [Stage("segment", lambda ctx: {}), Stage("describe", lambda ctx: {}, check=check)])
    assert summary.stopped.reason == "model" and "base URL" in summary.stopped.error
