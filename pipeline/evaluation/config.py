"""What an evaluation compares: configurations, and the options shared by all of them.

A configuration is written ``NAME:key=value,key=value`` (or as a JSON object with the same
keys). Keys:

- ``query``: the log columns that make the query, ``text`` (the description), ``translation``
  (the second query column, or the trailing parenthesised part of a plain log line), or
  both joined by ``+``. ``es`` and ``en`` are accepted for ``text`` and ``translation``.
  Default ``text``.
- ``weight``: with both parts, the weight of the translation in the fused query vector
  ``normalise((1 - weight) * text + weight * translation)``. Default ``0.5``.
- ``model``: an encoder spec (open_clip conventions, e.g. ``ViT-B-32/openai``) whose named
  vector the database holds. Default: the encoder the evaluation was started with.
- ``query_encoder`` (or ``qe``): how the query text becomes a vector: ``native`` (the encoder's
  own text tower), ``mclip`` (M-CLIP, for ViT-L-14/openai vectors), ``translate`` (Apertium to
  English first) or ``auto``. Default: the run's default (``auto``).

Examples: ``es:query=es``, ``fused:query=es+en,weight=0.3``,
``b32:model=ViT-B-32/openai``, ``l14-mclip:model=ViT-L-14/openai,qe=mclip``,
``{"name": "en", "query": "en"}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from pipeline.errors import ConfigError
from pipeline.evaluation.logs import LogOptions
from pipeline.evaluation.metrics import OverlapOptions
from pipeline.search import QUERY_ENCODERS

PARTS = ("text", "translation")
_PART_ALIASES = {"text": "text", "es": "text", "description": "text", "translation": "translation", "en": "translation"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,31}$")
DEFAULT_KS = (1, 2, 5, 10, 20, 50)


@dataclass(frozen=True)
class EvalConfig:
    """One way of turning a log entry into a search (see the module docstring)."""

    name: str = "text"
    query: tuple[str, ...] = ("text",)
    weight: float = 0.5
    model: str | None = None
    query_encoder: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigError(f"invalid configuration name {self.name!r}: use up to 32 letters, digits, '_.+-'")
        if not self.query or len(set(self.query)) != len(self.query) or not set(self.query) <= set(PARTS):
            raise ConfigError(f"configuration {self.name!r}: query must be text, translation or text+translation")
        if not 0.0 <= self.weight <= 1.0:
            raise ConfigError(f"configuration {self.name!r}: weight must be between 0 and 1, got {self.weight}")
        if self.query_encoder not in (None, *QUERY_ENCODERS):
            raise ConfigError(f"configuration {self.name!r}: query_encoder must be one of {', '.join(QUERY_ENCODERS)}")

    def describe(self) -> str:
        parts = "+".join(self.query)
        fused = f", weight={self.weight:g}" if len(self.query) > 1 else ""
        return (f"query={parts}{fused}" + (f", model={self.model}" if self.model else "")
                + (f", query_encoder={self.query_encoder}" if self.query_encoder else ""))

    def to_json(self) -> dict:
        return {"name": self.name, "query": "+".join(self.query), "weight": self.weight, "model": self.model,
                "query_encoder": self.query_encoder}


#: ``--compare`` without ``--config``: the description alone against description+translation fused.
COMPARE_DEFAULT = (EvalConfig("text"), EvalConfig("text+translation", ("text", "translation"), 0.5))


def _query_parts(value: str, name: str) -> tuple[str, ...]:
    parts = []
    for item in value.split("+"):
        part = _PART_ALIASES.get(item.strip().lower())
        if part is None:
            raise ConfigError(f"configuration {name!r}: unknown query part {item!r}; use text (es), translation (en)")
        parts.append(part)
    return tuple(parts)


def _from_mapping(data: dict, name: str) -> EvalConfig:
    data = {("query_encoder" if k == "qe" else k): v for k, v in data.items()}
    unknown = set(data) - {"name", "query", "weight", "model", "query_encoder"}
    if unknown:
        raise ConfigError(f"configuration {name!r}: unknown key(s) {', '.join(sorted(unknown))}; "
                          "use query, weight, model, query_encoder")
    query = _query_parts(str(data.get("query", "text")), name)
    if "weight" in data and len(query) < 2:
        raise ConfigError(f"configuration {name!r}: weight only applies to query=text+translation")
    try:
        weight = float(data.get("weight", 0.5))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"configuration {name!r}: weight must be a number, got {data['weight']!r}") from err
    model = data.get("model") or None
    query_encoder = str(data["query_encoder"]).lower() if data.get("query_encoder") else None
    return EvalConfig(name=name, query=query, weight=weight, model=str(model) if model else None,
                      query_encoder=query_encoder)


def parse_config(spec: str) -> EvalConfig:
    """``NAME:key=value,...`` or a JSON object -> :class:`EvalConfig`."""
    spec = spec.strip()
    if spec.startswith("{"):
        try:
            data = json.loads(spec)
        except json.JSONDecodeError as err:
            raise ConfigError(f"configuration {spec!r} is not valid JSON ({err.msg})") from err
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ConfigError(f"configuration {spec!r}: a JSON configuration needs a \"name\"")
        name = data.pop("name")
        return _from_mapping(data, name)
    name, _, rest = spec.partition(":")
    values: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not value.strip():
            raise ConfigError(f"configuration {spec!r}: expected key=value, got {item!r}")
        values[key.strip().lower()] = value.strip()
    return _from_mapping(values, name.strip())


def parse_min_overlap(text: str) -> OverlapOptions:
    """``"1.5"`` or ``"1.5s"`` -> at least 1.5 s; ``"50%"`` -> at least half of the shorter interval."""
    value = text.strip().lower()
    try:
        if value.endswith("%"):
            return OverlapOptions(min_overlap_fraction=float(value[:-1]) / 100.0)
        return OverlapOptions(min_overlap_s=float(value.removesuffix("s")))
    except ValueError as err:
        raise ConfigError(f"min overlap must be seconds (e.g. 1.5 or 1.5s) or a percentage (e.g. 50%), "
                          f"got {text!r}") from err


def parse_ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(sorted({int(k) for k in text.split(",") if k.strip()}))
    except ValueError as err:
        raise ConfigError(f"K values must be integers separated by commas, got {text!r}") from err
    if not ks or ks[0] < 1:
        raise ConfigError(f"K values must be positive integers, got {text!r}")
    return ks


@dataclass(frozen=True)
class EvaluateOptions:
    """``depth`` is how many shots (and, one per video, how many videos) each query fetches:
    ranks beyond it are misses. It must be at least the largest K. ``within_s`` bounds the gap
    of two-part entries (:mod:`pipeline.evaluation.temporal`)."""

    configs: tuple[EvalConfig, ...] = (EvalConfig(),)
    ks: tuple[int, ...] = DEFAULT_KS
    depth: int = 100
    overlap: OverlapOptions = field(default_factory=OverlapOptions)
    log: LogOptions = field(default_factory=LogOptions)
    progress: bool = False
    #: Two-part entries ("A >> B"): B starts at most this many seconds after A ends.
    within_s: float = 60.0

    def __post_init__(self) -> None:
        if not self.configs:
            raise ConfigError("give at least one configuration to evaluate")
        names = [c.name for c in self.configs]
        if len(set(names)) != len(names):
            raise ConfigError(f"configuration names must differ, got {', '.join(names)}")
        if not self.ks or min(self.ks) < 1:
            raise ConfigError(f"K values must be positive, got {self.ks}")
        if not 0 <= self.within_s <= 3600:
            raise ConfigError(f"'within' must be between 0 and 3600 seconds, got {self.within_s}")
        if not max(self.ks) <= self.depth <= 1000:
            raise ConfigError(f"depth must be between the largest K ({max(self.ks)}) and 1000, got {self.depth}")
