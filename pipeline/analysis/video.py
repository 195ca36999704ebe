"""The analysis of whole videos with the core engine, one at a time or as a batch job.

Shots and their frames come from :func:`pipeline.ingest.prepare_video` with
``keep_frames=True`` (the sampled frames kept as JPEGs), speech from a
:class:`~pipeline.protocols.Transcriber`, descriptions from a
:class:`~pipeline.protocols.Describer`. Artifacts, beside the core's::

    <data>/videos/<video_id>/analysis/transcript.json
    <data>/videos/<video_id>/analysis/analysis.json
    <data>/videos/<video_id>/analysis/analysis.partial.json   (while a run is unfinished)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from pipeline import atomic
from pipeline.analysis.run import AnalysisOptions, Progress, ShotInput, analyze_shots
from pipeline.analysis.schema import ShotAnalysis, VideoAnalysis
from pipeline.analysis.store import read_partial, read_transcript, write_analysis, write_partial, write_transcript
from pipeline.artifacts import DataLayout
from pipeline.batch import Stage, StageContext
from pipeline.ingest import IngestOptions, PreparedVideo, prepare_video
from pipeline.protocols import Describer, ImageTextEncoder, Transcriber
from pipeline.records import TranscriptSegment, VideoInfo
from pipeline.sources import SourceOptions, resolve_source

log = logging.getLogger(__name__)

STAGES = ("fetch", "segment", "transcribe", "describe")


def analysis_dir(layout: DataLayout, video_id: str) -> Path:
    return layout.video_dir(video_id) / "analysis"


def frame_path(layout: DataLayout, video_id: str, index: int) -> Path:
    """Where ingest keeps sampled frame ``index`` (``keep_frames=True``); mirrors pipeline.ingest."""
    return layout.video_dir(video_id) / "frames" / f"{index:06d}.jpg"


def shot_inputs(prepared: PreparedVideo, layout: DataLayout, frames_per_shot: int) -> list[ShotInput]:
    """Each shot's frames, evenly picked over its sampled frames (its keyframe when one is
    asked for), falling back to the shot thumbnail when the frames were not kept."""
    inputs = []
    for shot in prepared.segmentation.shots:
        count = max(1, shot.end_frame - shot.first_frame)
        if frames_per_shot == 1 or count == 1:
            indices = [shot.keyframe]
        else:
            picks = np.linspace(shot.first_frame, shot.end_frame - 1, min(frames_per_shot, count))
            indices = sorted(set(picks.round().astype(int).tolist()))
        paths = [p for p in (frame_path(layout, prepared.video_id, i) for i in indices) if p.is_file()]
        if not paths:
            paths = [layout.thumb_path(prepared.video_id, prepared.vector_name, shot.index)]
        inputs.append(ShotInput(shot.index, shot.start_s, shot.end_s, tuple(paths)))
    return inputs


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
                   progress: Progress | None = None, source: str = "") -> VideoAnalysis:
    """Analyse the shots, checkpointing each result; resumes from the checkpoint."""
    options = options or AnalysisOptions()
    folder = analysis_dir(layout, prepared.video_id)
    partial = folder / "analysis.partial.json"
    reuse = read_partial(partial)
    done: dict[int, ShotAnalysis] = dict(reuse)

    def checkpoint(result: ShotAnalysis) -> None:
        done[result.shot_index] = result
        write_partial(partial, sorted(done.values(), key=lambda s: s.shot_index))

    shots = shot_inputs(prepared, layout, options.frames_per_shot)
    result = analyze_shots(prepared.video_id, shots, transcript, describer, options, progress,
                           source=source or Path(prepared.info.path).name, reuse=reuse, on_shot=checkpoint)
    write_analysis(folder / "analysis.json", result)
    partial.unlink(missing_ok=True)
    return result


def analyze_video(path: str | Path, encoder: ImageTextEncoder, transcriber: Transcriber, describer: Describer,
                  layout: DataLayout, options: AnalysisOptions | None = None,
                  ingest: IngestOptions | None = None, progress: Progress | None = None,
                  source: str = "") -> VideoAnalysis:
    """One video end to end (the UI's and the CLI's entry point): shots, transcript, analysis."""
    path = Path(path)
    prepared = prepare_video(path, encoder, layout, replace(ingest or IngestOptions(), keep_frames=True))
    transcript = transcribe_video(path, prepared.video_id, transcriber, layout)
    return describe_video(prepared, transcript, describer, layout, options, progress, source)


def _unloader(model: object) -> Callable[[], None] | None:
    unload = getattr(model, "unload", None)
    return unload if callable(unload) else None


def analysis_stages(layout: DataLayout, sources: SourceOptions, encoder: ImageTextEncoder,
                    transcriber: Transcriber, describer: Describer, options: AnalysisOptions | None = None,
                    ingest: IngestOptions | None = None) -> list[Stage]:
    """The batch stages fetch -> segment -> transcribe -> describe (see :mod:`pipeline.batch`).
    Each model is loaded lazily by its first item and freed when its stage ends."""
    ingest = replace(ingest or IngestOptions(), keep_frames=True, progress=False)
    options = replace(options or AnalysisOptions(), progress=False)

    def fetch(ctx: StageContext) -> dict:
        video = resolve_source(ctx.source, sources)
        return {"path": str(video.path), "title": video.title, "url": video.url}

    def segment(ctx: StageContext) -> dict:
        prepared = prepare_video(Path(ctx.outputs["fetch"]["path"]), encoder, layout, ingest)
        return {"video_id": prepared.video_id, "vector_name": prepared.vector_name,
                "n_shots": len(prepared.segmentation.shots)}

    def transcribe(ctx: StageContext) -> dict:
        video_id = ctx.outputs["segment"]["video_id"]
        segments = transcribe_video(Path(ctx.outputs["fetch"]["path"]), video_id, transcriber, layout)
        return {"segments": len(segments)}

    def describe(ctx: StageContext) -> dict:
        prepared = load_prepared(layout, ctx.outputs["segment"]["video_id"], ctx.outputs["segment"]["vector_name"])
        transcript = read_transcript(analysis_dir(layout, prepared.video_id) / "transcript.json")
        result = describe_video(prepared, transcript, describer, layout, options, source=ctx.outputs["fetch"]["title"])
        return {"analysis": str(analysis_dir(layout, prepared.video_id) / "analysis.json"),
                "shots_ok": result.summary.shots_ok, "shots_failed": result.summary.shots_failed}

    return [Stage("fetch", fetch), Stage("segment", segment, teardown=_unloader(encoder)),
            Stage("transcribe", transcribe, teardown=_unloader(transcriber)),
            Stage("describe", describe, teardown=_unloader(describer))]
