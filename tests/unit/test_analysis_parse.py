"""Parsing model output: fences, prose, truncation, repair, schema validation."""

from __future__ import annotations

import json

import pytest

from pipeline.analysis.parse import ParseFailure, load_json_object, parse_model_output, strip_fences
from pipeline.analysis.schema import SCHEMA_VERSION, Severity, ShotDescription, VideoSummaryText, shot_json_schema

VALID = {
    "summary": "Una presentadora habla a cámara en un plató.",
    "setting": "plató de televisión",
    "people": {"count": 1, "apparent_roles": ["presentadora"]},
    "actions": ["hablar a cámara"],
    "objects": ["mesa", "micrófono"],
    "on_screen_text": ["NOTICIAS 24H"],
    "speech": {"summary": "Presenta las noticias.", "topics": ["actualidad"], "tone": "neutro"},
    "intolerance": {"present": False, "type": None, "target_group": None, "evidence": "", "severity": "none"},
}


def test_plain_json_is_parsed():
    assert parse_model_output(json.dumps(VALID), ShotDescription).people.count == 1


def test_fenced_json_with_prose_around_is_parsed():
    raw = "Claro, aquí tienes el análisis:\n```json\n" + json.dumps(VALID, indent=2) + "\n```\nEspero que sirva."
    assert parse_model_output(raw, ShotDescription).setting == "plató de televisión"


def test_unclosed_fence_is_stripped():
    assert strip_fences('```json\n{"a": 1}') == '{"a": 1}'


def test_prose_before_object_is_dropped():
    assert load_json_object('Respuesta: {"summary": "x", "main_topics": []}') == {"summary": "x", "main_topics": []}


def test_truncated_output_is_repaired():
    """A generation cut by max_new_tokens (unclosed string, list and objects) still parses."""
    text = json.dumps({"summary": "Resumen largo", "main_topics": ["política", "migración"]}, ensure_ascii=False)
    truncated = text[: text.index("migración") + 5]  # ... ["política", "migr
    result = parse_model_output("```json\n" + truncated, VideoSummaryText)
    assert result.summary == "Resumen largo"
    assert result.main_topics[0] == "política"


def test_broken_syntax_is_repaired():
    raw = "{'summary': 'x', main_topics: ['a', 'b',],}"
    assert parse_model_output(raw, VideoSummaryText).main_topics == ["a", "b"]


def test_spanish_severity_is_accepted():
    data = json.loads(json.dumps(VALID))
    data["intolerance"].update(present=True, type="xenofobia", target_group="migrantes", evidence="...",
                               severity="Alta")
    assert parse_model_output(json.dumps(data), ShotDescription).intolerance.severity is Severity.high


@pytest.mark.parametrize("raw", ["", "no JSON at all", "[1, 2, 3]", "null"])
def test_non_objects_fail(raw):
    with pytest.raises(ParseFailure):
        parse_model_output(raw, ShotDescription)


def test_off_schema_fails_with_each_field_named_in_spanish_and_as_json():
    data = dict(VALID)
    data.pop("summary")
    data["people"] = {"count": -2, "apparent_roles": []}
    data["intolerance"] = {**VALID["intolerance"], "present": "quizá", "severity": "extrema"}
    with pytest.raises(ParseFailure) as info:
        parse_model_output(json.dumps(data), ShotDescription)
    message = str(info.value)
    assert message.startswith("el JSON no sigue el esquema")
    assert "«resumen» (summary): falta este campo" in message
    assert "«personas › número» (people.count): debe ser 0 o más" in message
    assert "«intolerancia › presente» (intolerance.present): debe ser true o false" in message
    assert "«intolerancia › gravedad» (intolerance.severity): debe ser uno de: 'none', 'low', 'medium', 'high'" \
        in message
    assert "Input should" not in message  # no pydantic English


def test_extra_keys_are_refused():
    with pytest.raises(ParseFailure, match="«comment» \\(comment\\): este campo no está en el esquema"):
        parse_model_output(json.dumps({**VALID, "comment": "hola"}), ShotDescription)


def test_schema_is_self_contained_and_strict():
    """No $ref/$defs/titles; every object lists all its properties as required."""
    schema = shot_json_schema()
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text and '"title"' not in text

    def check(node):
        if isinstance(node, dict):
            if node.get("type") == "object":
                assert node["additionalProperties"] is False
                assert set(node["required"]) == set(node["properties"])
            for value in node.values():
                check(value)
        elif isinstance(node, list):
            for value in node:
                check(value)

    check(schema)
    assert SCHEMA_VERSION.count(".") == 1
