"""The versioned JSON the model must return for a shot, and the results we store.

``ShotDescription`` is what the model writes (validated with pydantic). ``ShotAnalysis``
and ``VideoAnalysis`` are what we store: the description (or the error and the raw
text), plus the transcript, frames, instructions and model that produced it.

Bump :data:`SCHEMA_VERSION` whenever a field of ``ShotDescription`` changes meaning,
is added or is removed; readers compare it before trusting stored results.
"""

from __future__ import annotations

import copy
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = "1.0"


class Severity(StrEnum):
    none = "none"
    low = "low"
    medium = "medium"
    high = "high"


# Models answering in Spanish often translate the enum values: accept the usual ones.
_SEVERITY_SYNONYMS = {"ninguna": "none", "nula": "none", "baja": "low", "leve": "low", "media": "medium",
                      "moderada": "medium", "alta": "high", "grave": "high", "null": "none", "": "none"}

_ORDER = {Severity.none: 0, Severity.low: 1, Severity.medium: 2, Severity.high: 3}


def max_severity(values: list[Severity]) -> Severity:
    return max(values, key=_ORDER.__getitem__, default=Severity.none)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class People(_Strict):
    count: int = Field(description="Número de personas visibles (0 si no hay).")
    apparent_roles: list[str] = Field(description="Roles aparentes: presentador, entrevistado, público...")

    @field_validator("count")
    @classmethod
    def _non_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("count must be 0 or more")
        return value


class Speech(_Strict):
    summary: str = Field(description="Resumen de lo que se dice en el plano.")
    topics: list[str]
    tone: str = Field(description="Tono: neutro, irónico, agresivo, alarmista...")


class IntoleranceAssessment(_Strict):
    present: bool
    type: str | None = Field(description="Tipo: racismo, xenofobia, machismo, LGTBIfobia, aporofobia... o null.")
    target_group: str | None = Field(description="Grupo al que se dirige, o null.")
    evidence: str = Field(description="Qué se ve o se oye que lo justifica (vacío si no hay).")
    severity: Severity

    @field_validator("severity", mode="before")
    @classmethod
    def _severity_synonyms(cls, value: object) -> object:
        if value is None:
            return "none"
        if isinstance(value, str):
            key = value.strip().lower()
            return _SEVERITY_SYNONYMS.get(key, key)
        return value


class ShotDescription(_Strict):
    """What the model returns for one shot."""

    summary: str
    setting: str
    people: People
    actions: list[str]
    objects: list[str]
    on_screen_text: list[str]
    speech: Speech
    intolerance: IntoleranceAssessment


class VideoSummaryText(_Strict):
    """What the model returns for the whole video (one more call over the shot summaries)."""

    summary: str
    main_topics: list[str]


class ShotAnalysis(BaseModel):
    """The stored result for one shot. ``status="error"`` keeps the error and the raw text."""

    schema_version: str = SCHEMA_VERSION
    video_id: str
    shot_index: int
    start_s: float
    end_s: float
    status: Literal["ok", "error"]
    description: ShotDescription | None = None
    error: str | None = None
    raw_output: str | None = None
    attempts: int = 0
    transcript: str = ""
    frames: list[str] = Field(default_factory=list)
    instructions: str = ""
    model: str = ""
    timings: dict[str, float] = Field(default_factory=dict)


class VideoSummary(BaseModel):
    """The video-level summary. The intolerance fields are aggregated deterministically
    from the shots (never left to the model); ``text``/``main_topics`` come from the model
    when it was asked and answered well (``text_status``)."""

    text: str = ""
    main_topics: list[str] = Field(default_factory=list)
    text_status: Literal["ok", "error", "skipped"] = "skipped"
    text_error: str | None = None
    text_raw_output: str | None = None
    shots_total: int = 0
    shots_ok: int = 0
    shots_failed: int = 0
    flagged_shots: list[int] = Field(default_factory=list)
    max_severity: Severity = Severity.none
    intolerance_types: list[str] = Field(default_factory=list)
    target_groups: list[str] = Field(default_factory=list)


class VideoAnalysis(BaseModel):
    schema_version: str = SCHEMA_VERSION
    video_id: str
    source: str = ""
    model: str = ""
    instructions: str = ""
    created_at: str = ""
    transcript: list[dict] = Field(default_factory=list)
    shots: list[ShotAnalysis] = Field(default_factory=list)
    summary: VideoSummary = Field(default_factory=VideoSummary)


def _inline(node: object, defs: dict) -> object:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]]), defs)
        out = {}
        for key, value in node.items():
            if key == "properties":  # property names are data, not keywords: keep them all
                out[key] = {name: _inline(sub, defs) for name, sub in value.items()}
            elif key not in ("title", "$defs", "default"):
                out[key] = _inline(value, defs)
        return out
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def json_schema(model: type[BaseModel]) -> dict:
    """A self-contained JSON schema (no ``$ref``, no titles) that strict structured-output
    servers accept: every property required, no additional properties."""
    raw = model.model_json_schema()
    return _inline(raw, raw.get("$defs", {}))


def shot_json_schema() -> dict:
    return json_schema(ShotDescription)
