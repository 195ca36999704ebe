"""Video analysis: each shot's frames and transcript to a validated JSON description, one video
at a time or as resumable batch jobs, with their exports.

Entry points: :func:`analyze_video` for one video, :func:`run_job` with
:func:`analysis_stages` for a batch. Everything here is model-free; the models come in
through :class:`pipeline.protocols.Describer` and :class:`pipeline.protocols.Transcriber`.
"""

from pipeline.analysis.align import align_transcript
from pipeline.analysis.export import Exported, ItemResult, export_job, job_results
from pipeline.analysis.jobs import (
    MANIFEST,
    ItemState,
    JobCancelled,
    StageFailed,
    StopInfo,
    create_job,
    job_status,
    read_manifest,
    run_job,
)
from pipeline.analysis.prompts import DEFAULT_INSTRUCTIONS
from pipeline.analysis.realign import realign_analysis
from pipeline.analysis.run import AnalysisOptions, ShotInput, analyze_shots
from pipeline.analysis.schema import SCHEMA_VERSION, ShotAnalysis, ShotDescription, VideoAnalysis
from pipeline.analysis.store import read_transcript
from pipeline.analysis.video import STAGES, analysis_dir, analysis_stages, analyze_video, check_models

__all__ = [
    "DEFAULT_INSTRUCTIONS",
    "MANIFEST",
    "SCHEMA_VERSION",
    "STAGES",
    "AnalysisOptions",
    "Exported",
    "ItemResult",
    "ItemState",
    "JobCancelled",
    "ShotAnalysis",
    "ShotDescription",
    "ShotInput",
    "StageFailed",
    "StopInfo",
    "VideoAnalysis",
    "align_transcript",
    "analysis_dir",
    "analysis_stages",
    "analyze_shots",
    "analyze_video",
    "check_models",
    "create_job",
    "export_job",
    "job_results",
    "job_status",
    "read_manifest",
    "read_transcript",
    "realign_analysis",
    "run_job",
]
