"""Realistic model answers through the real parser and the real shot loop.

The answers are written the way Qwen2.5-VL, vLLM and Ollama models answer in practice: a
clean shot with ``null`` for everything that does not apply, keys left out, Spanish words
for enums and booleans, a Markdown fence with prose around it; and a flagged shot. Issue
12.1: a clean shot of a real model used to fail on ``"evidence": null`` three times and
become an error, which skipped the video summary.
"""

from __future__ import annotations

import json

import pytest

from pipeline.analysis.parse import ParseFailure, parse_model_output
from pipeline.analysis.run import AnalysisOptions, ShotInput, analyze_shots
from pipeline.analysis.schema import Severity, ShotDescription, VideoSummaryText

CLEAN_NULLS = """{
  "summary": "Un presentador habla a cámara delante de un mapa del tiempo.",
  "setting": "plató de informativos",
  "people": {"count": 1, "apparent_roles": ["presentador"]},
  "actions": ["señalar el mapa"],
  "objects": ["mapa", "pantalla"],
  "on_screen_text": null,
  "speech": {"summary": "Anuncia lluvias en el norte.", "topics": ["tiempo"], "tone": "neutro"},
  "intolerance": {"present": false, "type": null, "target_group": null, "evidence": null, "severity": "none"}
}"""

CLEAN_TERSE = """Aquí está el análisis del plano:
```json
{"summary": "Plano general de una calle vacía de noche.", "setting": null, "people": null,
 "actions": [], "objects": ["farola", null], "on_screen_text": [], "speech": null,
 "intolerance": {"present": "no", "severity": "ninguna"}}
```"""

FLAGGED = """```json
{
  "summary": "Un tertuliano habla de un barrio y de sus vecinos inmigrantes.",
  "setting": "plató de tertulia",
  "people": {"count": 3, "apparent_roles": ["tertuliano", "moderadora", "invitado"]},
  "actions": ["debatir"],
  "objects": ["mesa"],
  "on_screen_text": ["¿INVASIÓN EN EL BARRIO?"],
  "speech": {"summary": "Se afirma que los inmigrantes traen delincuencia.", "topics": ["inmigración", "seguridad"],
             "tone": "alarmista"},
  "intolerance": {"present": "sí", "type": "xenofobia", "target_group": "personas migrantes",
                  "evidence": "Rótulo «¿INVASIÓN EN EL BARRIO?» y la frase «traen delincuencia».", "severity": "Alta"}
}
```"""


def test_a_clean_shot_with_nulls_is_valid():
    shot = parse_model_output(CLEAN_NULLS, ShotDescription)
    assert shot.intolerance.present is False and shot.intolerance.evidence is None
    assert shot.intolerance.severity is Severity.none and shot.on_screen_text == []


def test_a_terse_clean_shot_with_missing_keys_and_spanish_words_is_valid():
    shot = parse_model_output(CLEAN_TERSE, ShotDescription)
    assert shot.setting == "" and shot.people.count == 0 and shot.objects == ["farola"]
    assert shot.speech.summary == "" and shot.speech.topics == []
    assert shot.intolerance.present is False and shot.intolerance.type is None
    assert shot.intolerance.severity is Severity.none


def test_a_flagged_shot_keeps_its_assessment():
    shot = parse_model_output(FLAGGED, ShotDescription)
    assert shot.intolerance.present is True and shot.intolerance.severity is Severity.high
    assert shot.intolerance.target_group == "personas migrantes" and "INVASIÓN" in shot.intolerance.evidence


def test_what_cannot_be_guessed_stays_required():
    data = json.loads(CLEAN_NULLS)
    data["intolerance"]["present"] = None
    with pytest.raises(ParseFailure, match=r"«intolerancia › presente» \(intolerance.present\)"):
        parse_model_output(json.dumps(data), ShotDescription)
    with pytest.raises(ParseFailure, match=r"«intolerancia» \(intolerance\): falta este campo"):
        parse_model_output('{"summary": "x"}', ShotDescription)


def test_a_summary_with_null_topics_is_valid():
    assert parse_model_output('{"summary": "Un vídeo.", "main_topics": null}', VideoSummaryText).main_topics == []


class Scripted:
    """Answers in turn: clean (nulls), terse, flagged; the video summary; one call each."""

    name = "scripted"

    def __init__(self, answers: list[str]):
        self.answers, self.calls = list(answers), 0
        self.last_timings = {}

    def describe(self, frames, text, instructions, schema=None, previous_output=None, correction=None) -> str:
        self.calls += 1
        if not frames:
            return '{"summary": "Un informativo con una tertulia.", "main_topics": ["tiempo", "inmigración"]}'
        return self.answers.pop(0)


def test_realistic_answers_analyse_every_shot_and_the_video_at_the_first_attempt():
    shots = [ShotInput(i, 2.0 * i, 2.0 * i + 2, ("f.jpg",)) for i in range(3)]
    describer = Scripted([CLEAN_NULLS, CLEAN_TERSE, FLAGGED])
    result = analyze_shots("v", shots, [], describer, AnalysisOptions(progress=False))
    assert [s.status for s in result.shots] == ["ok", "ok", "ok"] and describer.calls == 4
    s = result.summary
    assert (s.status, s.shots_ok, s.flagged_shots, s.max_severity) == ("ok", 3, [2], Severity.high)
    assert s.text_status == "ok" and s.intolerance_types == ["xenofobia"]
