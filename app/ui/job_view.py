"""Server-side jobs on a page: a progress line with its bar, the tab's recent jobs, a Cancel
button, and the two ways a page follows a job.

- The event that submits a job *follows* it (an async generator: no worker thread is held
  while it waits) and returns when the job ends, so API clients get the final result.
- A :class:`gr.Timer` re-attaches a page loaded later (a reload, another browser): its first
  tick finds the tab's unfinished job and keeps rendering it until it ends, then stops.

Progress reads "Descripción · vídeo 2 de 5 · nombre.mp4 · 80 %" in the page's language (the
percentage is the current video's, when known; the bar below is the whole stage's), never
tqdm's bar, in its own line above the tab's table, which stays visible.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator, Callable, Sequence

import gradio as gr

from app.ui.analysis_messages import error_text, plural
from app.ui.errors import TOAST_SECONDS
from app.ui.i18n import check_lang, t
from app.ui.jobs import Job, JobRefused, JobRunner

#: How often a following page re-renders its job, in seconds.
FOLLOW_S = 0.5
#: ``render(job, lang) -> the tab's own output values``.
Render = Callable[[Job, str], Sequence]


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def progress_line(job: Job, lang: str) -> str:
    p = job.progress
    if job.state == "queued":
        return t(lang, "job_queued")
    if job.state == "done":
        return t(lang, "job_done", seconds=duration(job.seconds))
    if job.state == "cancelled":
        return t(lang, "job_cancelled")
    if job.state == "failed":
        return t(lang, "job_failed", error=error_text(job.error, lang))
    if job.cancel_requested:
        return t(lang, "job_cancelling")
    if not p.total:
        return t(lang, "job_starting")
    parts = [t(lang, f"stage_{p.stage}").capitalize()] if p.stage else []
    parts.append(t(lang, f"job_unit_{p.unit}", index=min(max(p.index, 1), p.total), total=p.total))
    if p.name:
        parts.append(p.name)
    if p.fraction > 0:  # how far this item is (the shots described); the bar shows the whole stage
        parts.append(f"{int(round(100 * min(p.fraction, 1.0)))} %")
    return " · ".join(parts)


def progress_html(job: Job | None, lang: str, outcome: tuple[str, str] | None = None) -> str:
    """The job's progress line and bar; ``outcome`` ``(state, line)`` replaces them for a job
    whose work says more than "done" (a batch that stopped)."""
    if job is None:
        return ""
    state, text = outcome or (job.state, progress_line(job, lang))
    bar = f'<progress max="100" value="{job.progress.percent}"></progress>' if state == "running" else ""
    return f'<div class="be-job be-job-{state}" role="status"><span>{html.escape(text)}</span>{bar}</div>'


def job_title(job: Job, lang: str) -> str:
    if isinstance(job.title, tuple):
        key, values = job.title
        return plural(lang, key, **values) if "n" in values else t(lang, key, **values)
    return job.title


def jobs_html(jobs: Sequence[Job], lang: str, limit: int = 5,
              outcome: Callable[[Job, str], tuple[str, str] | None] | None = None) -> str:
    """The tab's recent jobs: title, state (``outcome``'s, for a job that ended otherwise than
    its state says), progress."""
    if not jobs:
        return ""

    def state(job: Job) -> str:
        said = outcome(job, lang) if outcome is not None and job.finished else None
        return said[0] if said else job.state

    rows = "".join(
        f'<li class="be-jobs-{state(j)}"><b>{html.escape(job_title(j, lang))}</b> · '
        f'{html.escape(t(lang, f"job_state_{state(j)}"))}'
        + (f" · {html.escape(progress_line(j, lang))}" if j.state == "running" else "") + "</li>"
        for j in jobs[:limit])
    return f'<details class="be-jobs" open><summary>{html.escape(t(lang, "jobs_title"))}</summary><ul>{rows}</ul></details>'


def quiet_sink() -> gr.HTML:
    """An invisible component for ``show_progress_on``: Gradio marks the outputs of an event that
    raised with a red "Error", even with ``show_progress="hidden"``; pointed here, the mark is
    never seen, and the ``gr.Error`` toast says what went wrong."""
    return gr.HTML(visible=False)


class JobPanel:
    """The job widgets of one tab (progress, recent jobs, Cancel, the re-attaching timer) and the
    events that drive them. ``render(job, lang)`` gives the tab's own outputs for a job."""

    def __init__(self, runner: JobRunner, kind: str, render: Render, prefix: str, cancel_label: str,
                 outcome: Callable[[Job, str], tuple[str, str] | None] | None = None):
        self.runner, self.kind, self.render, self.outcome = runner, kind, render, outcome
        self.shown = gr.State(None)  # the id of the job this page shows
        with gr.Row(elem_classes="be-job-row"):
            self.progress = gr.HTML(elem_id=f"{prefix}-progress")
            self.cancel_btn = gr.Button(cancel_label, size="sm", variant="stop", scale=0, min_width=120,
                                        visible=False, elem_id=f"{prefix}-cancel")  # shown while a job runs
        self.list = gr.HTML(elem_id=f"{prefix}-jobs")
        self.timer = gr.Timer(1.0, active=True)  # its first tick finds a job started before this page loaded
        self.sink = quiet_sink()

    def follow_options(self, concurrency_id: str) -> dict:
        """Options of an event that follows a job: no worker thread held (async, unbounded: the
        pools bound the work), no overlay, and an error said in a toast and the progress line,
        never as a bare "Error" over the tab's results (:func:`quiet_sink`)."""
        return {"concurrency_id": concurrency_id, "concurrency_limit": None, "show_progress": "hidden",
                "show_progress_on": [self.sink]}

    @property
    def outputs(self) -> list:
        """What a follow updates after the tab's own outputs: the progress, the job list, the Cancel
        button, the shown id."""
        return [self.progress, self.list, self.cancel_btn, self.shown]

    def _panel(self, job: Job, lang: str) -> list:
        outcome = self.outcome(job, lang) if self.outcome is not None and job.finished else None
        return [progress_html(job, lang, outcome), jobs_html(self.runner.jobs(self.kind), lang, outcome=self.outcome),
                gr.update(visible=not job.finished), job.id]

    def submit(self, title: tuple[str, dict], work: Callable[[Job], object], lang: str,
               job_id: str | None = None) -> Job:
        try:
            return self.runner.submit(self.kind, title, work, job_id)
        except JobRefused as err:
            raise gr.Error(error_text(err, lang), duration=TOAST_SECONDS, print_exception=False) from err

    async def follow(self, job: Job, lang: str) -> AsyncIterator[list]:
        """Render ``job`` until it ends; then raise its error (if any) as a ``gr.Error``."""
        while True:
            finished = job.finished
            yield [*self.render(job, lang), *self._panel(job, lang)]
            if finished:
                break
            await asyncio.sleep(FOLLOW_S)
        if job.state == "failed":
            raise gr.Error(error_text(job.error, lang), duration=TOAST_SECONDS, print_exception=False)

    def wire(self, outputs: Sequence, lang: gr.State) -> None:
        """The timer and the Cancel button; ``outputs`` are the tab's own (what ``render`` fills)."""
        self._n = len(outputs)
        self.timer.tick(self.tick, [self.shown, lang], [self.timer, *outputs, *self.outputs],
                        api_visibility="private", queue=False, show_progress="hidden")
        self.cancel_btn.click(self.cancel, [self.shown, lang], [self.progress], api_name=f"cancel_{self.kind}",
                              queue=False, show_progress="hidden")

    def tick(self, shown: str | None, lang: str) -> list:
        """A timer tick: render the shown job, or the tab's unfinished one; stop ticking when none runs."""
        lang = check_lang(lang)
        job = self.runner.get(shown) or self.runner.active(self.kind)
        if job is None:
            return [gr.Timer(active=False), *([gr.update()] * self._n), gr.update(),
                    jobs_html(self.runner.jobs(self.kind), lang, outcome=self.outcome), gr.update(visible=False),
                    gr.update()]
        return [gr.Timer(active=not job.finished), *self.render(job, lang), *self._panel(job, lang)]

    def cancel(self, shown: str | None, lang: str):
        """Cancel the job this page shows (an API client: the tab's unfinished one)."""
        lang = check_lang(lang)
        job = self.runner.get(shown) or self.runner.active(self.kind)
        if job is None or not self.runner.cancel(job.id):
            gr.Info(t(lang, "nothing_to_cancel"))
            return gr.update()
        return progress_html(job, lang)
