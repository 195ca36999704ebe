"""From a model's raw text to a validated pydantic object.

Order: strip Markdown code fences and any prose around the JSON object, then
``json_repair`` (truncated output, single quotes, trailing commas, unquoted keys), then
pydantic validation. Every failure raises :class:`ParseFailure` with a message short
enough to send back to the model as a correction. Messages are in Spanish, like the
prompts, and name each field as people know it and as the JSON spells it
(``«intolerancia › evidencia» (intolerance.evidence): debe ser un texto``): they are
stored with the shot and shown to the researchers who read the results.
"""

from __future__ import annotations

import json
import re
from typing import TypeVar

import json_repair
from pydantic import BaseModel, ValidationError

from pipeline.analysis.schema import FIELD_LABELS

T = TypeVar("T", bound=BaseModel)

#: pydantic error types, said in Spanish.
_REASONS = {
    "missing": "falta este campo",
    "string_type": "debe ser un texto",
    "bool_type": "debe ser true o false", "bool_parsing": "debe ser true o false",
    "int_type": "debe ser un número entero", "int_parsing": "debe ser un número entero",
    "int_from_float": "debe ser un número entero",
    "list_type": "debe ser una lista",
    "model_type": "debe ser un objeto JSON", "dict_type": "debe ser un objeto JSON",
    "model_attributes_type": "debe ser un objeto JSON",
    "extra_forbidden": "este campo no está en el esquema",
    "literal_error": "valor no permitido",
}

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
        raise ParseFailure("la respuesta está vacía; se esperaba un objeto JSON")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = json_repair.loads(text)
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        data = data[0]
    if not isinstance(data, dict) or not data:
        raise ParseFailure(f"la respuesta no es un objeto JSON ({type(data).__name__}: {text[:80]!r})")
    return data


def field_label(loc: tuple) -> str:
    """``("intolerance", "evidence")`` -> ``«intolerancia › evidencia» (intolerance.evidence)``."""
    names = [str(p) for p in loc if not isinstance(p, int)]
    if not names:
        return "(objeto completo)"
    spanish = " › ".join(FIELD_LABELS.get(n, n) for n in names)
    return f"«{spanish}» ({'.'.join(str(p) for p in loc)})"


def _reason(item: dict) -> str:
    kind, ctx = item["type"], item.get("ctx") or {}
    if kind == "enum":
        return f"debe ser uno de: {str(ctx.get('expected', '')).replace(' or ', ', ')}"
    if kind == "value_error":
        return str(ctx.get("error", item["msg"]))
    return _REASONS.get(kind, item["msg"])


def describe_errors(err: ValidationError, limit: int = 8) -> str:
    """Each failed field, in Spanish, with its JSON path."""
    parts = [f"{field_label(item['loc'])}: {_reason(item)}" for item in err.errors()[:limit]]
    more = len(err.errors()) - limit
    return "; ".join(parts) + (f"; y {more} más" if more > 0 else "")


def parse_model_output(raw: str, model: type[T]) -> T:
    """Validate ``raw`` against ``model`` or raise :class:`ParseFailure`."""
    data = load_json_object(raw)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ParseFailure(f"el JSON no sigue el esquema: {describe_errors(err)}") from err
