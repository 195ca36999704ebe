"""Resumable batch jobs: many items through the same stages, one stage at a time.

A job is a directory::

    <job>/manifest.json       stages, items, and each item's per-stage status as of the last
                              compaction (atomic writes)
    <job>/state.jsonl         every status change since, one JSON line each (appended)
    <job>/items/<item_id>/    where the stage functions write their artifacts
    <job>/.lock               held while a process runs the job (flock: gone when it dies)

A status change costs one appended line, whatever the number of items (the manifest used to be
rewritten whole twice per item and stage: hours of rewriting at 10k items). Readers replay the
lines over the manifest; a run folds them into the manifest when it starts and when it ends
(written atomically, then the log emptied: a crash in between replays the same absolute states
again). A line cut short by a kill is ignored. Manifests of earlier versions, without a log,
read as before.

Stages run in order over *all* items before the next stage starts (whisperX style), so
each stage's model is loaded once (``Stage.setup``) and freed (``Stage.teardown``) before
the next stage's model comes in. An item goes through a stage only when every earlier
stage is ``done`` for it. A failure is recorded on the item (``failed`` + the message)
and the batch goes on with the other items; the item's later stages wait.

Resuming (just run the job again): ``done`` stages are never redone; a stage left
``running`` by a killed process is run again; ``failed`` ones are retried unless
``retry_failed=False``. A stage with nothing to do does not load its model.

A job *stops* (``manifest.stopped``, items left ``pending``: not started) instead of failing
item after item when its model cannot work:

- before any stage runs, the ``check`` of every stage that still has work is called (a
  pre-flight: the model server answers, the weights are there), so a missing model is
  reported before hours of segmentation and transcription;
- a :class:`~pipeline.errors.ModelError` raised by a stage's ``setup``, or by its ``run``
  when the stage's ``check`` now fails too (the server went away), stops the job; a
  ``ModelError`` whose check still passes is that item's own failure;
- ``should_stop()`` (asked before each item) or a :class:`JobCancelled` raised from a
  progress callback cancels the job.

A stage may fail an item and still leave outputs (:class:`StageFailed`), e.g. an analysis
in which no shot is valid: the item is ``failed`` (retried on resume) and its file is kept.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from pipeline.core import atomic
from pipeline.errors import BuscaError, ConfigError, ModelError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
STATE_LOG = "state.jsonl"
Status = Literal["pending", "running", "done", "failed"]


class StageState(BaseModel):
    status: Status = "pending"
    error: str | None = None
    outputs: dict = Field(default_factory=dict)
    attempts: int = 0
    seconds: float | None = None
    finished_at: str | None = None


class ItemState(BaseModel):
    #: ``NNNN-stem``: a folder name under ``items/``; checked again when read back, so an
    #: edited manifest cannot send a stage outside the job directory.
    id: str = Field(pattern=r"^\d{4}-[A-Za-z0-9_-]{1,40}$")
    source: str
    stages: dict[str, StageState]


class StopInfo(BaseModel):
    """Why the last run of a job stopped early. ``reason``: ``model`` (a model could not work,
    ``error`` says why) or ``cancelled``. ``code``/``params`` name the cause for front ends
    that say it in the user's language (when the error carried them)."""

    reason: Literal["model", "cancelled"]
    stage: str | None = None
    error: str = ""
    code: str | None = None
    params: dict = Field(default_factory=dict)
    at: str


class Manifest(BaseModel):
    version: int = 1
    created_at: str
    stages: list[str]
    items: list[ItemState]
    stopped: StopInfo | None = None


class JobCancelled(Exception):  # noqa: N818 - a request, not an error: not a BuscaError
    """Raised (by a progress callback or a stage) when the job was asked to stop."""


class StageFailed(BuscaError):
    """An item failed a stage but left ``outputs`` worth keeping (they are stored with the failure)."""

    def __init__(self, message: str, outputs: Mapping[str, object]):
        self.outputs = dict(outputs)
        super().__init__(message)


@dataclass(frozen=True)
class StageContext:
    """What a stage function gets for one item: its source, its folder, and the outputs
    of the stages it already went through (by stage name)."""

    item_id: str
    source: str
    dir: Path
    outputs: Mapping[str, dict]


@dataclass(frozen=True)
class Stage:
    """``run(ctx) -> outputs`` (a JSON-able dict, stored in the manifest). ``setup``/``teardown``
    load and free what the stage needs, once for all items."""

    name: str
    run: Callable[[StageContext], dict | None]
    setup: Callable[[], None] | None = None
    teardown: Callable[[], None] | None = None
    check: Callable[[], None] | None = None


@dataclass(frozen=True)
class JobSummary:
    job_dir: Path
    counts: dict[str, dict[str, int]]  # stage -> status -> items
    failed: list[tuple[str, str, str]]  # (item id, stage, error)
    stopped: StopInfo | None = None

    @property
    def complete(self) -> bool:
        return all(c.get("done", 0) == sum(c.values()) for c in self.counts.values())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _item_id(index: int, source: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(source.rstrip("/")).stem or "item")[:40].strip("_")
    return f"{index:04d}-{stem or 'item'}"


def create_job(job_dir: Path, sources: Sequence[str], stages: Sequence[str]) -> Manifest:
    """Make a job (or return the existing one when it has the same sources and stages)."""
    job_dir = Path(job_dir)
    if (job_dir / MANIFEST).exists():
        manifest = read_manifest(job_dir)
        if [i.source for i in manifest.items] != list(sources) or manifest.stages != list(stages):
            raise ConfigError(f"{job_dir} already holds a different job; choose another job directory")
        return manifest
    if not sources or len(set(stages)) != len(stages) or not stages:
        raise ConfigError("a job needs at least one source and distinct stage names")
    items = [ItemState(id=_item_id(i, str(s)), source=str(s), stages={n: StageState() for n in stages})
             for i, s in enumerate(sources)]
    manifest = Manifest(created_at=_now(), stages=list(stages), items=items)
    atomic.write_json(job_dir / MANIFEST, manifest.model_dump(mode="json"))
    return manifest


def read_manifest(job_dir: Path) -> Manifest:
    """The job with every item's current status (the manifest, then the state log replayed over it)."""
    path = Path(job_dir) / MANIFEST
    try:
        manifest = Manifest.model_validate(atomic.read_json(path))
    except FileNotFoundError as err:
        raise ConfigError(f"{job_dir} is not a batch job (no {MANIFEST}); create it first") from err
    except (OSError, ValueError, ValidationError) as err:
        raise ConfigError(f"{path} is not a readable job manifest ({err})") from err
    _replay(Path(job_dir) / STATE_LOG, manifest)
    return manifest


def _replay(log_path: Path, manifest: Manifest) -> None:
    try:
        lines = log_path.read_bytes().splitlines()
    except FileNotFoundError:
        return
    except OSError as err:
        raise ConfigError(f"{log_path} cannot be read ({err.strerror or err})") from err
    items = {item.id: item for item in manifest.items}
    for number, line in enumerate(lines, start=1):
        try:
            change = json.loads(line)
            item = items[change["item"]]
            if change["stage"] not in item.stages:
                raise KeyError(change["stage"])
            item.stages[change["stage"]] = StageState.model_validate(change["state"])
        except (ValueError, KeyError, TypeError, ValidationError) as err:
            if number < len(lines):  # the last line may be cut short by a kill; anything else is odd
                log.warning("%s, line %d: ignored (%s)", log_path, number, err)


def _compact(job_dir: Path, manifest: Manifest) -> None:
    """Fold the state log into the manifest (atomic), then empty the log."""
    atomic.write_json(job_dir / MANIFEST, manifest.model_dump(mode="json"))
    (job_dir / STATE_LOG).unlink(missing_ok=True)


class _StateLog:
    """Appends one line per status change; a finished status is synced to disk before going on."""

    def __init__(self, job_dir: Path):
        self.handle = open(job_dir / STATE_LOG, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def write(self, item: ItemState, stage: str) -> None:
        state = item.stages[stage]
        line = json.dumps({"item": item.id, "stage": stage, "state": state.model_dump(mode="json")},
                          ensure_ascii=False)
        self.handle.write(line + "\n")
        self.handle.flush()
        if state.status != "running":
            os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


class _JobLock:
    def __init__(self, job_dir: Path):
        self.path = Path(job_dir) / ".lock"
        self.fd: int | None = None

    def __enter__(self) -> _JobLock:
        import fcntl

        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            os.close(self.fd)
            raise ConfigError(f"the batch job in {self.path.parent} is already running in another process") from err
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)


def _needs(item: ItemState, stage: str, order: list[str], retry_failed: bool) -> bool:
    state = item.stages[stage]
    earlier_done = all(item.stages[s].status == "done" for s in order[: order.index(stage)])
    wanted = state.status in ("pending", "running") or (state.status == "failed" and retry_failed)
    return earlier_done and wanted


def _context(job_dir: Path, item: ItemState, order: list[str]) -> StageContext:
    folder = job_dir / "items" / item.id
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {s: item.stages[s].outputs for s in order if item.stages[s].status == "done"}
    return StageContext(item.id, item.source, folder, outputs)


class _Stop(Exception):  # noqa: N818 - internal: carries the StopInfo out of the stage loop
    def __init__(self, info: StopInfo):
        self.info = info


def _stop_info(err: BaseException, stage: str | None) -> StopInfo:
    if isinstance(err, JobCancelled):
        return StopInfo(reason="cancelled", stage=stage, at=_now())
    return StopInfo(reason="model", stage=stage, error=str(err), code=getattr(err, "code", None),
                    params=dict(getattr(err, "params", None) or {}), at=_now())


def _model_gone(stage: Stage, err: ModelError) -> BuscaError | None:
    """After a ModelError: the error that says the model is gone (the stage's check failing now
    too, which says why best; the error itself when there is no check), or None: it is the item's."""
    if stage.check is None:
        return err
    try:
        stage.check()
    except BuscaError as gone:
        return gone
    return None


def _run_item(job_dir: Path, manifest: Manifest, item: ItemState, stage: Stage, states: _StateLog) -> None:
    state = item.stages[stage.name]
    state.status, state.error, state.attempts = "running", None, state.attempts + 1
    states.write(item, stage.name)
    started = time.perf_counter()
    try:
        outputs = stage.run(_context(job_dir, item, manifest.stages)) or {}
        state.status, state.outputs = "done", dict(outputs)
    except (JobCancelled, ModelError) as err:
        gone = err if isinstance(err, JobCancelled) else _model_gone(stage, err)
        if gone is not None:
            state.status = "pending"  # not this item's fault: it was not really started
            states.write(item, stage.name)
            raise _Stop(_stop_info(gone, stage.name)) from err
        state.status, state.error = "failed", str(err)
        log.warning("item %s, stage %s: %s", item.id, stage.name, err)
    except StageFailed as err:
        state.status, state.error, state.outputs = "failed", str(err), err.outputs
        log.warning("item %s, stage %s: %s", item.id, stage.name, err)
    except BuscaError as err:
        state.status, state.error = "failed", str(err)
        log.warning("item %s, stage %s: %s", item.id, stage.name, err)
    except Exception as err:  # a bug or an unforeseen library error: record it, keep the batch going
        log.exception("item %s, stage %s: unexpected error", item.id, stage.name)
        state.status, state.error = "failed", f"unexpected {type(err).__name__}: {err}"
    state.seconds, state.finished_at = round(time.perf_counter() - started, 3), _now()
    states.write(item, stage.name)


def _preflight(manifest: Manifest, by_name: Mapping[str, Stage], retry_failed: bool) -> None:
    """The check of every stage that some item has yet to go through, the last stage first (its
    model, the vision-language one in an analysis, is the one most often missing)."""
    for name in reversed(manifest.stages):
        stage = by_name[name]
        waiting = any(i.stages[name].status != "done" and (retry_failed or i.stages[name].status != "failed")
                      for i in manifest.items)
        if stage.check is not None and waiting:
            try:
                stage.check()
            except BuscaError as err:
                raise _Stop(_stop_info(err, name)) from err


#: ``on_item(stage, index, total, item)`` before an item goes through a stage (``index`` 1-based).
OnItem = Callable[[str, int, int, ItemState], None]


def run_job(job_dir: Path, stages: Sequence[Stage], *, retry_failed: bool = True,
            progress: Callable[[str, int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None, on_item: OnItem | None = None) -> JobSummary:
    """Run (or resume) the job with these stage implementations, named as in the manifest.
    ``progress(stage, done, total)`` is called after each item; ``should_stop()`` and
    ``on_item(stage, index, total, item)`` before each. A run that stops early (see the module
    docstring) returns a summary with ``stopped``."""
    job_dir = Path(job_dir)
    by_name = {s.name: s for s in stages}
    with _JobLock(job_dir):
        manifest = read_manifest(job_dir)
        missing = [n for n in manifest.stages if n not in by_name]
        if missing:
            raise ConfigError(f"no implementation for stage(s) {', '.join(missing)} of the job in {job_dir}")
        manifest.stopped = None
        _compact(job_dir, manifest)
        states = _StateLog(job_dir)
        try:
            _preflight(manifest, by_name, retry_failed)
            for name in manifest.stages:
                _run_stage(job_dir, manifest, by_name[name], retry_failed, progress, states, should_stop, on_item)
        except _Stop as stop:
            manifest.stopped = stop.info
            log.warning("job %s stopped at %s: %s", job_dir.name, stop.info.stage, stop.info.error or "cancelled")
        finally:
            states.close()
        _compact(job_dir, manifest)
    return job_status(job_dir)


def _run_stage(job_dir: Path, manifest: Manifest, stage: Stage, retry_failed: bool,
               progress: Callable[[str, int, int], None] | None, states: _StateLog,
               should_stop: Callable[[], bool] | None = None, on_item: OnItem | None = None) -> None:
    todo = [i for i in manifest.items if _needs(i, stage.name, manifest.stages, retry_failed)]
    if not todo:
        return
    log.info("stage %s: %d item(s)", stage.name, len(todo))
    if stage.setup:
        try:
            stage.setup()
        except ModelError as err:
            raise _Stop(_stop_info(err, stage.name)) from err
    try:
        for done, item in enumerate(todo, start=1):
            if should_stop is not None and should_stop():
                raise _Stop(_stop_info(JobCancelled(), stage.name))
            if on_item is not None:
                on_item(stage.name, done, len(todo), item)
            _run_item(job_dir, manifest, item, stage, states)
            if progress:
                progress(stage.name, done, len(todo))
    except JobCancelled as err:  # from a callback between items
        raise _Stop(_stop_info(err, stage.name)) from err
    finally:
        if stage.teardown:
            stage.teardown()


def job_status(job_dir: Path) -> JobSummary:
    manifest = read_manifest(job_dir)
    counts: dict[str, dict[str, int]] = {s: {} for s in manifest.stages}
    failed = []
    for item in manifest.items:
        for name, state in item.stages.items():
            counts[name][state.status] = counts[name].get(state.status, 0) + 1
            if state.status == "failed":
                failed.append((item.id, name, state.error or ""))
    return JobSummary(Path(job_dir), counts, failed, manifest.stopped)
