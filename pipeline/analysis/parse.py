"""From a model's raw text to a validated pydantic object.

Order: strip Markdown code fences and any prose around the JSON object, then
``json_repair`` (truncated output, single quotes, trailing commas, unquoted keys), then
pydantic validation. Every failure raises :class:`ParseFailure` with a message short
enough to send back to the model as a correction.
"""

from __future__ import annotations

import json
import re
from typing import TypeVar

import json_repair
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)


class ParseFailure(ValueError):
    """The raw text could not be turned into a valid object. ``str()`` is the reason."""


def strip_fences(raw: str) -> str:
    """The content of the first fenced block (closed or truncated), or the text from the
    first ``{`` on when there is no fence; otherwise the text unchanged."""
    text = raw.strip()
    match = _FENCE.search(text)
    if match:
        return match.group(1).strip()
    start = text.find("{")
    return text[start:] if start > 0 else text


def load_json_object(raw: str) -> dict:
    """Parse, repairing when needed; the top level must be a JSON object."""
    text = strip_fences(raw)
    if not text:
        raise ParseFailure("the answer is empty; expected one JSON object")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = json_repair.loads(text)
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        data = data[0]
    if not isinstance(data, dict) or not data:
        raise ParseFailure(f"the answer is not a JSON object (got {type(data).__name__}: {text[:80]!r})")
    return data


def _describe_errors(err: ValidationError, limit: int = 8) -> str:
    parts = []
    for item in err.errors()[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    more = len(err.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def parse_model_output(raw: str, model: type[T]) -> T:
    """Validate ``raw`` against ``model`` or raise :class:`ParseFailure`."""
    data = load_json_object(raw)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ParseFailure(f"the JSON does not follow the schema: {_describe_errors(err)}") from err
