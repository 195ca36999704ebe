"""Video analysis: each shot's frames and transcript to a validated JSON description.

Entry point: :func:`pipeline.analysis.run.analyze_shots`. Everything here is model-free;
the models come in through :class:`pipeline.protocols.Describer`.
"""

from pipeline.analysis.align import align_transcript
from pipeline.analysis.prompts import DEFAULT_INSTRUCTIONS
from pipeline.analysis.run import AnalysisOptions, ShotInput, analyze_shots
from pipeline.analysis.schema import SCHEMA_VERSION, ShotAnalysis, ShotDescription, VideoAnalysis

__all__ = [
    "DEFAULT_INSTRUCTIONS",
    "SCHEMA_VERSION",
    "AnalysisOptions",
    "ShotAnalysis",
    "ShotDescription",
    "ShotInput",
    "VideoAnalysis",
    "align_transcript",
    "analyze_shots",
]
