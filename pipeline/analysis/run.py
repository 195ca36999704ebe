"""Shot-by-shot analysis with any :class:`~pipeline.protocols.Describer`.

:func:`analyze_shots` does not care how the shots were made: it takes shot spans with
their frames (image paths or RGB arrays) and the transcript of the whole video.

For every shot: align the transcript, ask the model, parse. An answer that cannot be
parsed or does not follow the schema is sent back with a correction, up to
``max_retries`` more times; after that the shot is stored with ``status="error"``, the
error and the model's last raw text. A shot is never dropped. A :class:`ModelError`
(the model cannot run at all) stops the run: every later shot would fail the same way.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import numpy as np
from pydantic import BaseModel
from tqdm.auto import tqdm

from pipeline.analysis import prompts
from pipeline.analysis.align import MODES, align_transcript, full_text, pieces_text
from pipeline.analysis.parse import ParseFailure, parse_model_output
from pipeline.analysis.schema import (
    ShotAnalysis,
    ShotDescription,
    VideoAnalysis,
    VideoSummary,
    VideoSummaryText,
    json_schema,
    max_severity,
)
from pipeline.core import format_timecode
from pipeline.errors import ConfigError
from pipeline.protocols import Describer, Frame
from pipeline.records import TranscriptSegment

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)

#: ``progress(done, total, message)``, called after each shot.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ShotInput:
    """One shot to analyse: its span and its frames, in time order."""

    index: int
    start_s: float
    end_s: float
    frames: tuple[Frame, ...]


@dataclass(frozen=True)
class AnalysisOptions:
    """``max_retries``: extra model calls after an invalid answer (0 = one call only).
    ``frames_per_shot``: frames sent per shot, evenly picked from those given.
    ``frame_short_side``: pixels on the shorter side of the frames extracted for a whole
    video (:mod:`pipeline.analysis.frames` explains the default of 448).
    ``alignment``: ``"split"`` or ``"max"`` (see :mod:`pipeline.analysis.align`).
    ``video_summary``: one more model call over the shot summaries for a video-level text."""

    instructions: str = prompts.DEFAULT_INSTRUCTIONS
    max_retries: int = 2
    frames_per_shot: int = 4
    frame_short_side: int = 448
    max_transcript_chars: int = 3000
    alignment: str = "split"
    video_summary: bool = True
    progress: bool = True

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.frames_per_shot < 1 or self.max_transcript_chars < 100:
            raise ConfigError("max_retries must be >= 0, frames_per_shot >= 1 and max_transcript_chars >= 100")
        if not 64 <= self.frame_short_side <= 2048:
            raise ConfigError(f"frame_short_side must be in [64, 2048] pixels, got {self.frame_short_side}")
        if self.alignment not in MODES:
            raise ConfigError(f"unknown alignment {self.alignment!r}; use one of {', '.join(MODES)}")
        if not self.instructions.strip():
            raise ConfigError("the analysis instructions are empty")


@dataclass
class Answer:
    """The outcome of asking for one validated object, with the model's last raw text."""

    value: BaseModel | None
    raw: str | None
    error: str | None
    attempts: int
    timings: dict[str, float] = field(default_factory=dict)


def select_frames(frames: Sequence[Frame], n: int) -> list[Frame]:
    """At most ``n`` frames, evenly spread and in order (the middle one when ``n == 1``)."""
    if len(frames) <= n:
        return list(frames)
    if n == 1:
        return [frames[len(frames) // 2]]
    picks = np.linspace(0, len(frames) - 1, n).round().astype(int)
    return [frames[i] for i in sorted(set(picks.tolist()))]


def _add_timings(total: dict[str, float], part: Mapping[str, float]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0.0) + float(value)


def ask_validated(describer: Describer, frames: Sequence[Frame], text: str, instructions: str,
                  model: type[T], max_retries: int) -> Answer:
    """Ask, parse, and on an invalid answer ask again with a correction."""
    schema = json_schema(model)
    system = prompts.system_message(instructions, schema)
    timings: dict[str, float] = {}
    previous = correction = raw = None
    error = ""
    for attempt in range(1, max_retries + 2):
        raw = describer.describe(frames, text, system, schema, previous_output=previous, correction=correction)
        _add_timings(timings, getattr(describer, "last_timings", {}) or {})
        started = time.perf_counter()
        try:
            value = parse_model_output(raw, model)
        except ParseFailure as err:
            error = str(err)
            log.info("attempt %d: invalid answer (%s)", attempt, error)
            previous, correction = raw, prompts.correction_message(error)
            continue
        finally:
            _add_timings(timings, {"parse_s": time.perf_counter() - started})
        return Answer(value, raw, None, attempt, timings)
    return Answer(None, raw, f"respuesta no válida tras {max_retries + 1} intento(s): {error}", max_retries + 1,
                  timings)


def _frame_label(frame: Frame) -> str:
    return str(frame) if isinstance(frame, str | Path) else f"<array {getattr(frame, 'shape', '?')}>"


def analyze_shot(video_id: str, shot: ShotInput, transcript: str, describer: Describer,
                 options: AnalysisOptions) -> ShotAnalysis:
    started = time.perf_counter()
    frames = select_frames(shot.frames, options.frames_per_shot)
    text = prompts.shot_message(shot.start_s, shot.end_s, len(frames), transcript, options.max_transcript_chars)
    answer = ask_validated(describer, frames, text, options.instructions, ShotDescription, options.max_retries)
    answer.timings["total_s"] = time.perf_counter() - started
    if answer.error:
        log.warning("video %s shot %d: %s", video_id, shot.index, answer.error)
    return ShotAnalysis(
        video_id=video_id, shot_index=shot.index, start_s=shot.start_s, end_s=shot.end_s,
        status="error" if answer.error else "ok", description=answer.value, error=answer.error,
        raw_output=answer.raw, attempts=answer.attempts, transcript=transcript,
        frames=[_frame_label(f) for f in frames], instructions=options.instructions,
        model=describer.name, timings={k: round(v, 4) for k, v in answer.timings.items()},
    )


def _reusable(previous: ShotAnalysis | None, describer: Describer, options: AnalysisOptions) -> bool:
    return (previous is not None and previous.status == "ok" and previous.model == describer.name
            and previous.instructions == options.instructions)


def analyze_shots(video_id: str, shots: Sequence[ShotInput], transcript: Sequence[TranscriptSegment],
                  describer: Describer, options: AnalysisOptions = AnalysisOptions(),
                  progress: Progress | None = None, *, source: str = "",
                  reuse: Mapping[int, ShotAnalysis] | None = None,
                  on_shot: Callable[[ShotAnalysis], None] | None = None) -> VideoAnalysis:
    """Analyse every shot, then summarise the video.

    ``reuse`` maps shot index to an earlier result: an ``ok`` one made by the same model
    with the same instructions is kept as is (resuming an interrupted run). ``on_shot``
    is called with each new result (to checkpoint it)."""
    pieces = align_transcript(transcript, shots, options.alignment)
    results: list[ShotAnalysis] = []
    bar = tqdm(total=len(shots), desc="análisis", unit="plano", disable=not options.progress)
    for done, (shot, shot_pieces) in enumerate(zip(shots, pieces, strict=True), start=1):
        previous = (reuse or {}).get(shot.index)
        if _reusable(previous, describer, options):
            result = previous
        else:
            result = analyze_shot(video_id, shot, pieces_text(shot_pieces), describer, options)
            if on_shot is not None:
                on_shot(result)
        results.append(result)
        bar.update(1)
        if progress is not None:
            progress(done, len(shots), f"plano {shot.index} ({result.status})")
    bar.close()
    summary = summarize_video(results, transcript, describer if options.video_summary else None, options)
    return VideoAnalysis(
        video_id=video_id, source=source, model=describer.name, instructions=options.instructions,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        transcript=[s.to_json() for s in transcript], shots=results, summary=summary,
    )


def aggregate_shots(shots: Sequence[ShotAnalysis]) -> VideoSummary:
    """The deterministic part of the video summary: counts, flagged shots, worst severity,
    types and target groups (in order of frequency), most frequent speech topics."""
    ok = [s for s in shots if s.status == "ok" and s.description is not None]
    flagged = [s for s in ok if s.description.intolerance.present]
    types = Counter(s.description.intolerance.type.strip().lower() for s in flagged
                    if s.description.intolerance.type and s.description.intolerance.type.strip())
    groups = Counter(s.description.intolerance.target_group.strip().lower() for s in flagged
                     if s.description.intolerance.target_group and s.description.intolerance.target_group.strip())
    topics = Counter(t.strip().lower() for s in ok for t in s.description.speech.topics if t.strip())
    return VideoSummary(
        shots_total=len(shots), shots_ok=len(ok), shots_failed=len(shots) - len(ok),
        flagged_shots=[s.shot_index for s in flagged],
        max_severity=max_severity([s.description.intolerance.severity for s in flagged]),
        intolerance_types=[t for t, _ in types.most_common()], target_groups=[g for g, _ in groups.most_common()],
        main_topics=[t for t, _ in topics.most_common(10)],
    )


def summarize_video(shots: Sequence[ShotAnalysis], transcript: Sequence[TranscriptSegment],
                    describer: Describer | None, options: AnalysisOptions) -> VideoSummary:
    """Aggregate the shots; with a describer, also ask for a summary text and main topics."""
    summary = aggregate_shots(shots)
    lines = [f"[{format_timecode(s.start_s)}] {s.description.summary}"
             for s in shots if s.status == "ok" and s.description is not None]
    if shots and not lines:
        return summary.model_copy(update={"text_status": "error", "text_error": (
            f"ningún plano tiene un análisis válido ({len(shots)} con error): el vídeo no se ha analizado")})
    if describer is None:
        return summary
    text = prompts.video_summary_message(lines, full_text(transcript), options.max_transcript_chars)
    answer = ask_validated(describer, [], text, prompts.VIDEO_SUMMARY_INSTRUCTIONS, VideoSummaryText,
                           options.max_retries)
    if answer.error:
        log.warning("video summary: %s", answer.error)
        return summary.model_copy(update={"text_status": "error", "text_error": answer.error,
                                          "text_raw_output": answer.raw})
    return summary.model_copy(update={"text": answer.value.summary, "main_topics": answer.value.main_topics,
                                      "text_status": "ok", "text_raw_output": answer.raw})
