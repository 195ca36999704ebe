"""The analysis of whole videos with the core engine, one at a time or as a batch job.

Shots come from :func:`pipeline.ingest.prepare_video` (CLIP frames at 2 fps, segmented),
the frames shown to the model from :mod:`pipeline.analysis.frames` (a few bigger frames
per shot, decoded again from the video in one pass), speech from a
:class:`~pipeline.protocols.Transcriber`, descriptions from a
:class:`~pipeline.protocols.Describer`. Artifacts, beside the core's::

    <data>/videos/<video_id>/analysis/transcript.json
    <data>/videos/<video_id>/analysis/frames/frames.json + shot_0000_0.jpg ...
    <data>/videos/<video_id>/analysis/analysis.json
    <data>/videos/<video_id>/analysis/analysis.partial.json   (while a run is unfinished)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from pathlib import Path

from pipeline.analysis import frames as shot_frames
from pipeline.analysis.jobs import Stage, StageContext, StageFailed
from pipeline.analysis.run import AnalysisOptions, Progress, ShotInput, analyze_shots
from pipeline.analysis.schema import ShotAnalysis, VideoAnalysis
from pipeline.analysis.store import read_partial, read_transcript, write_analysis, write_partial, write_transcript
from pipeline.core import atomic
from pipeline.index import DataLayout, IngestOptions, PreparedVideo, prepare_video
from pipeline.protocols import Describer, ImageTextEncoder, Transcriber
from pipeline.records import TranscriptSegment, VideoInfo
from pipeline.sources import SourceOptions, resolve_source

log = logging.getLogger(__name__)

STAGES = ("fetch", "segment", "transcribe", "describe")


def analysis_dir(layout: DataLayout, video_id: str) -> Path:
    return layout.video_dir(video_id) / "analysis"


def shot_inputs(prepared: PreparedVideo, layout: DataLayout, options: AnalysisOptions,
                video: str | Path | None = None) -> list[ShotInput]:
    """Each shot with its frames for the model, extracted from ``video`` (default: the path
    the video was prepared from) at ``options.frame_short_side``, or read from the cache."""
    return shot_frames.shot_inputs(
        prepared.segmentation.shots, prepared.frames.timestamps, Path(video or prepared.info.path),
        analysis_dir(layout, prepared.video_id) / "frames", options.frames_per_shot, options.frame_short_side)


def load_prepared(layout: DataLayout, video_id: str, vector_name: str) -> PreparedVideo:
    """A video prepared earlier, read back from its artifacts (no model involved)."""
    data = atomic.read_json(layout.video_dir(video_id) / "info.json")
    info = VideoInfo(**{f.name: data[f.name] for f in fields(VideoInfo)})
    return PreparedVideo(video_id, info, layout.load_frames(video_id, vector_name),
                         layout.load_segmentation(video_id, vector_name), vector_name, reused=True)


def transcribe_video(path: Path, video_id: str, transcriber: Transcriber, layout: DataLayout,
                     force: bool = False) -> list[TranscriptSegment]:
    """The transcript, read back when an earlier run stored one (``force`` redoes it)."""
    target = analysis_dir(layout, video_id) / "transcript.json"
    if target.is_file() and not force:
        return read_transcript(target)
    segments = transcriber.transcribe(path, video_id=video_id)
    write_transcript(target, segments)
    atomic.write_json(target.with_name("transcript.meta.json"), {"model": transcriber.name})
    return segments


def describe_video(prepared: PreparedVideo, transcript: Sequence[TranscriptSegment], describer: Describer,
                   layout: DataLayout, options: AnalysisOptions | None = None,
                   progress: Progress | None = None, source: str = "",
                   video: str | Path | None = None) -> VideoAnalysis:
    """Analyse the shots, checkpointing each result; resumes from the checkpoint.
    ``video``: the media file, when it is no longer where it was prepared from."""
    options = options or AnalysisOptions()
    folder = analysis_dir(layout, prepared.video_id)
    partial = folder / "analysis.partial.json"
    reuse = read_partial(partial)
    done: dict[int, ShotAnalysis] = dict(reuse)

    def checkpoint(result: ShotAnalysis) -> None:
        done[result.shot_index] = result
        write_partial(partial, sorted(done.values(), key=lambda s: s.shot_index))

    shots = shot_inputs(prepared, layout, options, video)
    result = analyze_shots(prepared.video_id, shots, transcript, describer, options, progress,
                           source=source or Path(prepared.info.path).name, reuse=reuse, on_shot=checkpoint)
    write_analysis(folder / "analysis.json", result)
    partial.unlink(missing_ok=True)
    return result


def check_models(*models: object) -> None:
    """The pre-flight of each model that has one (``check()``: raises a ModelError, loads nothing)."""
    for model in models:
        check = _method(model, "check")
        if check is not None:
            check()


def analyze_video(path: str | Path, encoder: ImageTextEncoder, transcriber: Transcriber, describer: Describer,
                  layout: DataLayout, options: AnalysisOptions | None = None,
                  ingest: IngestOptions | None = None, progress: Progress | None = None,
                  source: str = "", on_stage: Callable[[str], None] | None = None) -> VideoAnalysis:
    """One video end to end (the UI's entry point): the models' pre-flight (before any
    segmentation or transcription is spent), shots, transcript, analysis. ``on_stage(name)``
    is called as each of :data:`STAGES` after ``fetch`` starts."""
    path = Path(path)
    stage = on_stage or (lambda name: None)
    check_models(describer, transcriber)
    stage("segment")
    prepared = prepare_video(path, encoder, layout, ingest or IngestOptions())
    stage("transcribe")
    transcript = transcribe_video(path, prepared.video_id, transcriber, layout)
    stage("describe")
    return describe_video(prepared, transcript, describer, layout, options, progress, source, video=path)


def _method(model: object, name: str) -> Callable[[], None] | None:
    method = getattr(model, name, None)
    return method if callable(method) else None


def analysis_stages(layout: DataLayout, sources: SourceOptions, encoder: ImageTextEncoder,
                    transcriber: Transcriber, describer: Describer, options: AnalysisOptions | None = None,
                    ingest: IngestOptions | None = None, shot_progress: Progress | None = None) -> list[Stage]:
    """The batch stages fetch -> segment -> transcribe -> describe (see :mod:`pipeline.batch`).

    ``segment`` also extracts the frames the model will see, so ``describe`` is model work
    only. A model with a ``load()`` method is loaded when its stage starts (a model that
    cannot load stops the run before any item fails for it) and freed when the stage ends;
    one with a ``check()`` method is checked before the job starts (see
    :func:`pipeline.analysis.jobs.run_job`). A video in which no shot got a valid analysis
    fails ``describe`` (its analysis file is kept). ``shot_progress(done, total, message)``
    follows the shots of the video being described."""
    ingest = replace(ingest or IngestOptions(), progress=False)
    options = replace(options or AnalysisOptions(), progress=False)

    def fetch(ctx: StageContext) -> dict:
        video = resolve_source(ctx.source, sources)
        return {"path": str(video.path), "title": video.title, "url": video.url}

    def segment(ctx: StageContext) -> dict:
        path = Path(ctx.outputs["fetch"]["path"])
        prepared = prepare_video(path, encoder, layout, ingest)
        shots = shot_inputs(prepared, layout, options, path)
        return {"video_id": prepared.video_id, "vector_name": prepared.vector_name,
                "n_shots": len(prepared.segmentation.shots), "n_frames": sum(len(s.frames) for s in shots)}

    def transcribe(ctx: StageContext) -> dict:
        video_id = ctx.outputs["segment"]["video_id"]
        segments = transcribe_video(Path(ctx.outputs["fetch"]["path"]), video_id, transcriber, layout)
        return {"segments": len(segments)}

    def describe(ctx: StageContext) -> dict:
        prepared = load_prepared(layout, ctx.outputs["segment"]["video_id"], ctx.outputs["segment"]["vector_name"])
        transcript = read_transcript(analysis_dir(layout, prepared.video_id) / "transcript.json")
        result = describe_video(prepared, transcript, describer, layout, options, shot_progress,
                                source=ctx.outputs["fetch"]["title"], video=ctx.outputs["fetch"]["path"])
        s = result.summary
        outputs = {"analysis": str(analysis_dir(layout, prepared.video_id) / "analysis.json"),
                   "shots_ok": s.shots_ok, "shots_failed": s.shots_failed}
        if s.shots_total and not s.shots_ok:
            raise StageFailed(f"no shot has a valid analysis ({s.shots_failed} of {s.shots_total} failed); "
                              "see each shot's error and the model's raw answer", outputs)
        return outputs

    def stage(name: str, run: Callable, model: object) -> Stage:
        return Stage(name, run, _method(model, "load"), _method(model, "unload"), _method(model, "check"))

    return [Stage("fetch", fetch), stage("segment", segment, encoder), stage("transcribe", transcribe, transcriber),
            stage("describe", describe, describer)]
