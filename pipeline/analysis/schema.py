"""The versioned JSON the model must return for a shot, and the results we store.

``ShotDescription`` is what the model writes (validated with pydantic). ``ShotAnalysis``
and ``VideoAnalysis`` are what we store: the description (or the error and the raw
text), plus the transcript, frames, instructions and model that produced it.

Bump :data:`SCHEMA_VERSION` whenever a field of ``ShotDescription`` changes meaning,
is added or is removed; readers compare it before trusting stored results.

Real models write ``null`` for what does not apply (the prompt tells them to): optional
texts accept it (``type``, ``target_group``, ``evidence`` keep it; other texts become
``""``), lists become ``[]`` (``null`` items are dropped), and a missing ``speech`` or
``people`` object means nobody speaks or appears. A missing key counts as ``null``. What
cannot be guessed stays required: ``summary``, ``intolerance`` with its ``present``, and
``people.count`` when ``people`` is given. The JSON schema sent to the model still lists
every key as required (:func:`json_schema`).
:data:`FIELD_LABELS` names every field in Spanish for validation messages.
"""

from __future__ import annotations

import copy
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

#: 1.1: ``intolerance.evidence`` may be null; nulls accepted for optional texts and lists.
SCHEMA_VERSION = "1.1"

#: Spanish names of the JSON fields, for validation messages that people read.
FIELD_LABELS = {
    "summary": "resumen", "setting": "lugar", "people": "personas", "count": "número",
    "apparent_roles": "roles aparentes", "actions": "acciones", "objects": "objetos",
    "on_screen_text": "texto en pantalla", "speech": "habla", "topics": "temas", "tone": "tono",
    "intolerance": "intolerancia", "present": "presente", "type": "tipo", "target_group": "colectivo",
    "evidence": "evidencia", "severity": "gravedad", "main_topics": "temas principales",
}


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


_TRUE_WORDS = {"sí", "si", "verdadero", "cierto"}
_FALSE_WORDS = {"falso"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _text(value: object) -> object:
    """``null`` -> ``""`` for a text that may be empty."""
    return "" if value is None else value


def _texts(value: object) -> object:
    """``null`` -> ``[]``; ``null`` items of a list are dropped."""
    if value is None:
        return []
    return [v for v in value if v is not None] if isinstance(value, list) else value


def _boolean(value: object) -> object:
    """Spanish yes/no words as booleans (pydantic already takes true/false/yes/no/0/1)."""
    if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS | _FALSE_WORDS:
        return value.strip().lower() in _TRUE_WORDS
    return value


class People(_Strict):
    count: int = Field(description="Número de personas visibles (0 si no hay).")
    apparent_roles: list[str] = Field(default_factory=list,
                                      description="Roles aparentes: presentador, entrevistado, público...")

    _null_lists = field_validator("apparent_roles", mode="before")(_texts)

    @field_validator("count")
    @classmethod
    def _non_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("debe ser 0 o más")
        return value


class Speech(_Strict):
    summary: str = Field("", description="Resumen de lo que se dice en el plano.")
    topics: list[str] = Field(default_factory=list)
    tone: str = Field("", description="Tono: neutro, irónico, agresivo, alarmista...")

    _null_texts = field_validator("summary", "tone", mode="before")(_text)
    _null_lists = field_validator("topics", mode="before")(_texts)


class IntoleranceAssessment(_Strict):
    present: bool
    type: str | None = Field(None, description="Tipo: racismo, xenofobia, machismo, LGTBIfobia, aporofobia... o null.")
    target_group: str | None = Field(None, description="Grupo al que se dirige, o null.")
    evidence: str | None = Field(None, description="Qué se ve o se oye que lo justifica, o null.")
    severity: Severity = Severity.none

    _yes_no = field_validator("present", mode="before")(_boolean)

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
    setting: str = ""
    people: People = Field(default_factory=lambda: People(count=0))
    actions: list[str] = Field(default_factory=list)
    objects: list[str] = Field(default_factory=list)
    on_screen_text: list[str] = Field(default_factory=list)
    speech: Speech = Field(default_factory=Speech)
    intolerance: IntoleranceAssessment

    _null_texts = field_validator("setting", mode="before")(_text)
    _null_lists = field_validator("actions", "objects", "on_screen_text", mode="before")(_texts)

    @field_validator("people", mode="before")
    @classmethod
    def _nobody(cls, value: object) -> object:
        return {"count": 0, "apparent_roles": []} if value is None else value

    @field_validator("speech", mode="before")
    @classmethod
    def _silence(cls, value: object) -> object:
        return {"summary": "", "topics": [], "tone": ""} if value is None else value


class VideoSummaryText(_Strict):
    """What the model returns for the whole video (one more call over the shot summaries)."""

    summary: str
    main_topics: list[str] = Field(default_factory=list)

    _null_lists = field_validator("main_topics", mode="before")(_texts)


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

    @computed_field
    @property
    def status(self) -> Literal["ok", "partial", "failed", "empty"]:
        """``ok``: every shot has a valid analysis; ``partial``: some do (the counts and flags
        cover those only); ``failed``: none does, so the video was *not* analysed (no flag
        means nothing); ``empty``: the video has no shot."""
        if not self.shots_total:
            return "empty"
        if not self.shots_ok:
            return "failed"
        return "partial" if self.shots_failed else "ok"


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
        if "properties" in node:  # optional when read back, but the model is asked for every key
            out["required"] = list(node["properties"])
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
