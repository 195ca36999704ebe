"""Analysis artifacts on disk (atomic JSON writes, see :mod:`pipeline.atomic`).

``transcript.json``: a list of :class:`~pipeline.records.TranscriptSegment` as JSON.
``analysis.json``: a :class:`~pipeline.analysis.schema.VideoAnalysis`.
``analysis.partial.json``: the shot results of an unfinished run, to resume it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from pipeline.analysis.schema import SCHEMA_VERSION, ShotAnalysis, VideoAnalysis
from pipeline.core import atomic
from pipeline.errors import MediaError
from pipeline.records import TranscriptSegment


def write_transcript(path: Path, segments: Sequence[TranscriptSegment]) -> None:
    atomic.write_json(path, [s.to_json() for s in segments])


def read_transcript(path: Path) -> list[TranscriptSegment]:
    try:
        return [TranscriptSegment.from_json(item) for item in atomic.read_json(path)]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise MediaError(path, f"is not a readable transcript ({err})") from err


def write_analysis(path: Path, analysis: VideoAnalysis) -> None:
    atomic.write_json(path, analysis.model_dump(mode="json"))


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def read_analysis(path: Path) -> VideoAnalysis:
    """Read a stored analysis; one made with another major schema version is refused."""
    try:
        data = atomic.read_json(path)
        version = str(data.get("schema_version", "?"))
        if _major(version) != _major(SCHEMA_VERSION):
            raise MediaError(path, f"was written with analysis schema {version}; this version reads "
                                   f"{SCHEMA_VERSION}. Run the analysis again.")
        return VideoAnalysis.model_validate(data)
    except (OSError, ValueError, ValidationError) as err:
        raise MediaError(path, f"is not a readable analysis ({err})") from err


def write_partial(path: Path, shots: Sequence[ShotAnalysis]) -> None:
    atomic.write_json(path, [s.model_dump(mode="json") for s in shots])


def read_partial(path: Path) -> dict[int, ShotAnalysis]:
    """Earlier shot results by shot index; ``{}`` when there are none or they are unreadable."""
    try:
        items = atomic.read_json(path)
        return {s.shot_index: s for s in (ShotAnalysis.model_validate(i) for i in items)}
    except (OSError, ValueError, ValidationError, TypeError):
        return {}
