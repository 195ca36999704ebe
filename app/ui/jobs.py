"""Server-side jobs of the web app: long work (ingest, analysis, evaluation) that outlives the
page that started it.

A :class:`JobRunner` owns one small thread pool per kind of job with a bounded number of
workers (one ingest, one analysis and one evaluation at a time by default: the models and
the store are shared, and search must keep its CPU) and a bounded waiting line. A page
submits work and follows its :class:`Job` (state, progress, what to show so far); a page
loaded later finds the same job in :meth:`JobRunner.jobs` and can cancel it. Cancelling is
cooperative: the work asks :meth:`Job.raise_if_cancelled` between items (and progress
callbacks inside an item), a job still waiting never starts.

Jobs live in memory: a restarted server has forgotten them (analysis batches are also
written to disk and can be resumed, see :mod:`app.ui.batch_jobs`). No gradio here; the
tabs render jobs with :mod:`app.ui.job_view`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.analysis import JobCancelled
from pipeline.errors import BuscaError

log = logging.getLogger(__name__)

#: Workers per pool (the jobs of a pool run one after the other by default).
DEFAULT_LIMITS = {"ingest": 1, "analysis": 1, "evaluate": 1}
#: The pool of each kind of job that does not have its own: one video's analysis and a batch
#: share the analysis models, so they take turns.
DEFAULT_POOLS = {"batch": "analysis"}
STATES = ("queued", "running", "done", "failed", "cancelled")


@dataclass(frozen=True)
class JobProgress:
    """Where a job is: item ``index`` (1-based, 0 before the first) of ``total``, its ``name``,
    the ``fraction`` of that item done when known, the ``stage`` it is in (a text key suffix,
    ``""`` for one-stage jobs) and the ``unit`` its items are counted in (``video``, ``query``)."""

    index: int = 0
    total: int = 0
    name: str = ""
    fraction: float = 0.0
    stage: str = ""
    unit: str = "video"

    @property
    def percent(self) -> int:
        """Of the stage: the items before this one, plus this one's fraction."""
        if not self.total:
            return 0
        done = max(self.index - 1, 0) + min(max(self.fraction, 0.0), 1.0)
        return int(round(100 * min(done / self.total, 1.0)))


@dataclass
class Job:
    """One piece of work. ``title`` is a text as is, or a text key and its values (said in each
    page's language). ``view`` is what the work publishes for the page while it runs (e.g.
    the per-video results so far); ``result`` and ``error`` are set when it ends."""

    id: str
    kind: str
    title: str | tuple[str, dict]
    created: float = field(default_factory=time.time)
    state: str = "queued"
    progress: JobProgress = field(default_factory=JobProgress)
    view: Any = None
    result: Any = None
    error: BaseException | None = None
    started: float | None = None
    ended: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _future: Future | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def seconds(self) -> float:
        start = self.started or self.created
        return (self.ended or time.time()) - start

    def update(self, **changes: object) -> None:
        """Move the progress on (the fields of :class:`JobProgress`)."""
        self.progress = replace(self.progress, **changes)

    def raise_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise JobCancelled()


class JobRefused(Exception):  # noqa: N818 - a refusal said to the user, not a failure
    """The runner will not take this job now; ``key`` names the message in the texts table."""

    def __init__(self, key: str, **params: object):
        self.key, self.params = key, params
        super().__init__(f"{key}: {params}")


class JobRunner:
    """Bounded thread pools (one per pool of kinds); the recent jobs, newest first."""

    def __init__(self, limits: Mapping[str, int] | None = None, max_waiting: int = 8, keep: int = 30,
                 pools: Mapping[str, str] | None = None):
        self.limits = dict(limits or DEFAULT_LIMITS)
        self.pool_of = dict(DEFAULT_POOLS if pools is None else pools)
        self.max_waiting, self.keep = max_waiting, keep
        self._pools = {kind: ThreadPoolExecutor(n, thread_name_prefix=f"job-{kind}") for kind, n in self.limits.items()}
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, kind: str, title: str | tuple[str, dict], work: Callable[[Job], Any],
               job_id: str | None = None) -> Job:
        """Queue ``work(job)``; its return value becomes ``job.result``. Refused (:class:`JobRefused`)
        when a job with this id is still unfinished or the waiting line of its pool is full."""
        pool = self.pool_of.get(kind, kind)
        with self._lock:
            if job_id and job_id in self._jobs and not self._jobs[job_id].finished:
                raise JobRefused("job_running", job=job_id)
            waiting = sum(self.pool_of.get(j.kind, j.kind) == pool and j.state == "queued" for j in self._jobs.values())
            if waiting >= self.max_waiting:
                raise JobRefused("jobs_queue_full", n=waiting)
            job = Job(job_id or f"{kind}-{uuid.uuid4().hex[:8]}", kind, title)
            self._jobs[job.id] = job
            self._forget_old()
            job._future = self._pools[pool].submit(self._run, job, work)
        log.info("job %s queued: %s", job.id, title)
        return job

    def _run(self, job: Job, work: Callable[[Job], Any]) -> None:
        if job.cancel_requested:
            job.state, job.ended = "cancelled", time.time()
            return
        job.state, job.started = "running", time.time()
        try:
            job.result = work(job)
            job.state = "done"
        except JobCancelled:
            job.state = "cancelled"
        except BuscaError as err:
            job.error, job.state = err, "failed"
            log.warning("job %s failed: %s", job.id, err)
        except Exception as err:  # a bug: keep the server up, say it on the page, log the traceback
            job.error, job.state = err, "failed"
            log.exception("job %s: unexpected error", job.id)
        finally:
            job.ended = time.time()

    def _forget_old(self) -> None:
        finished = sorted((j for j in self._jobs.values() if j.finished), key=lambda j: j.created)
        for job in finished[: max(0, len(self._jobs) - self.keep)]:
            self._jobs.pop(job.id, None)

    def get(self, job_id: str | None) -> Job | None:
        return self._jobs.get(job_id) if job_id else None

    def jobs(self, kind: str | None = None) -> list[Job]:
        """The recent jobs (of one kind), newest first."""
        with self._lock:
            found = [j for j in self._jobs.values() if kind is None or j.kind == kind]
        return sorted(found, key=lambda j: j.created, reverse=True)

    def active(self, kind: str) -> Job | None:
        """The oldest unfinished job of a kind (the one running, else the next to run)."""
        unfinished = [j for j in self.jobs(kind) if not j.finished]
        return unfinished[-1] if unfinished else None

    def cancel(self, job_id: str | None) -> bool:
        """Ask a job to stop; one that has not started never will. False when there is nothing to cancel."""
        job = self.get(job_id)
        if job is None or job.finished:
            return False
        job._cancel.set()
        if job._future is not None and job._future.cancel():
            job.state, job.ended = "cancelled", time.time()
        return True

    def close(self) -> None:
        """Cancel every job and stop the pools (running work ends at its next cancellation point)."""
        for job in self.jobs():
            self.cancel(job.id)
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
