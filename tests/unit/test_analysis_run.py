"""analyze_shots with a scripted fake describer: retries, stored errors, summary, resume."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from pipeline.analysis.run import AnalysisOptions, ShotInput, analyze_shots, select_frames
from pipeline.analysis.schema import Severity
from pipeline.analysis.store import read_analysis, read_partial, write_analysis, write_partial
from pipeline.errors import ConfigError, MediaError, ModelError
from pipeline.records import TranscriptSegment

VALID = {
    "summary": "Un hombre habla en una calle.",
    "setting": "calle",
    "people": {"count": 1, "apparent_roles": ["entrevistado"]},
    "actions": ["hablar"],
    "objects": [],
    "on_screen_text": [],
    "speech": {"summary": "Opina sobre el barrio.", "topics": ["barrio"], "tone": "neutro"},
    "intolerance": {"present": False, "type": None, "target_group": None, "evidence": "", "severity": "none"},
}


def flagged(severity: str) -> str:
    data = copy.deepcopy(VALID)
    data["intolerance"] = {"present": True, "type": "Xenofobia", "target_group": "migrantes",
                           "evidence": "dice que los migrantes roban", "severity": severity}
    return json.dumps(data)


class ScriptedDescriber:
    """Answers from a list (the last answer repeats); records every call."""

    name = "fake-vlm"

    def __init__(self, answers, summary='{"summary": "Vídeo de prueba.", "main_topics": ["barrio"]}'):
        self.answers = list(answers)
        self.summary = summary
        self.calls = []
        self.last_timings = {}

    def describe(self, frames, text, instructions, schema=None, previous_output=None, correction=None):
        self.calls.append(dict(frames=list(frames), text=text, instructions=instructions, schema=schema,
                               previous_output=previous_output, correction=correction))
        self.last_timings = {"prepare_s": 0.001, "model_s": 0.01}
        if not frames and "main_topics" in json.dumps(schema):
            return self.summary
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def unload(self):
        pass


SHOTS = [ShotInput(0, 0.0, 2.0, ("a.jpg", "b.jpg")), ShotInput(1, 2.0, 5.0, ("c.jpg",))]
TRANSCRIPT = [TranscriptSegment("v", 0.5, 1.5, "hola vecinos"), TranscriptSegment("v", 2.5, 4.0, "otra frase")]
OPTS = AnalysisOptions(progress=False, max_retries=2)


def test_valid_answers_are_stored_with_transcript_and_instructions():
    describer = ScriptedDescriber([json.dumps(VALID)])
    result = analyze_shots("v", SHOTS, TRANSCRIPT, describer, OPTS)
    assert [s.status for s in result.shots] == ["ok", "ok"]
    assert [s.transcript for s in result.shots] == ["hola vecinos", "otra frase"]
    assert all(s.instructions == OPTS.instructions and s.model == "fake-vlm" for s in result.shots)
    assert result.shots[0].frames == ["a.jpg", "b.jpg"]
    assert "hola vecinos" in describer.calls[0]["text"]
    assert '"intolerance"' in describer.calls[0]["instructions"]  # schema spelled out in the system message
    assert result.shots[0].timings["model_s"] > 0 and "parse_s" in result.shots[0].timings


def test_off_schema_is_retried_with_a_correction_then_stored_as_error_with_raw_text():
    bad = json.dumps({"summary": "solo esto"})
    describer = ScriptedDescriber([bad])
    result = analyze_shots("v", SHOTS[:1], TRANSCRIPT, describer, OPTS)
    shot = result.shots[0]
    assert shot.status == "error" and shot.description is None
    assert shot.attempts == 3 and shot.raw_output == bad
    assert "tras 3 intento(s)" in shot.error and "«intolerancia» (intolerance): falta este campo" in shot.error
    shot_calls = [c for c in describer.calls if c["frames"]]
    assert len(shot_calls) == 3
    assert shot_calls[0]["correction"] is None
    assert shot_calls[1]["previous_output"] == bad and "no es válida" in shot_calls[1]["correction"]
    assert result.summary.shots_failed == 1 and result.summary.status == "failed"  # not analysed, and it says so
    assert result.summary.text_status == "error" and "ningún plano tiene un análisis válido" in result.summary.text_error


def test_a_retry_can_succeed():
    describer = ScriptedDescriber(["lo siento, no puedo", "```json\n" + json.dumps(VALID) + "\n```"])
    shot = analyze_shots("v", SHOTS[:1], [], describer, OPTS).shots[0]
    assert shot.status == "ok" and shot.attempts == 2


def test_zero_retries_means_one_call():
    describer = ScriptedDescriber(["{}"])
    shot = analyze_shots("v", SHOTS[:1], [], describer, AnalysisOptions(progress=False, max_retries=0)).shots[0]
    assert shot.status == "error" and len([c for c in describer.calls if c["frames"]]) == 1


def test_model_error_stops_the_run():
    class Broken(ScriptedDescriber):
        def describe(self, *args, **kwargs):
            raise ModelError("server http://localhost:8000/v1 unreachable")

    with pytest.raises(ModelError, match="unreachable"):
        analyze_shots("v", SHOTS, [], Broken([]), OPTS)


def test_video_summary_aggregates_flags_and_asks_for_text():
    describer = ScriptedDescriber([flagged("medium"), flagged("alta")])
    summary = analyze_shots("v", SHOTS, TRANSCRIPT, describer, OPTS).summary
    assert summary.flagged_shots == [0, 1] and summary.max_severity is Severity.high
    assert summary.intolerance_types == ["xenofobia"] and summary.target_groups == ["migrantes"]
    assert summary.text_status == "ok" and summary.text == "Vídeo de prueba."


def test_video_summary_failure_is_stored_not_raised():
    describer = ScriptedDescriber([json.dumps(VALID)], summary="no sé")
    summary = analyze_shots("v", SHOTS, [], describer, OPTS).summary
    assert summary.text_status == "error" and summary.text_raw_output == "no sé"
    assert summary.main_topics == ["barrio"]  # the deterministic aggregation is still there


def test_resume_reuses_ok_shots_and_checkpoints_new_ones(tmp_path):
    first = analyze_shots("v", SHOTS, [], ScriptedDescriber([json.dumps(VALID), "{}"]),
                          AnalysisOptions(progress=False, max_retries=0, video_summary=False))
    write_partial(tmp_path / "partial.json", first.shots)
    reuse = read_partial(tmp_path / "partial.json")
    describer = ScriptedDescriber([json.dumps(VALID)])
    seen = []
    second = analyze_shots("v", SHOTS, [], describer, AnalysisOptions(progress=False, video_summary=False),
                           reuse=reuse, on_shot=seen.append)
    assert [c["frames"] for c in describer.calls] == [["c.jpg"]]  # only the failed shot is asked again
    assert [s.shot_index for s in seen] == [1] and all(s.status == "ok" for s in second.shots)


def test_analysis_round_trip_and_version_check(tmp_path):
    result = analyze_shots("v", SHOTS, TRANSCRIPT, ScriptedDescriber([json.dumps(VALID)]), OPTS)
    path = tmp_path / "analysis.json"
    write_analysis(path, result)
    assert read_analysis(path) == result
    data = json.loads(path.read_text())
    data["schema_version"] = "2.0"
    path.write_text(json.dumps(data))
    with pytest.raises(MediaError, match="schema 2.0"):
        read_analysis(path)


def test_select_frames_spreads_evenly():
    frames = [f"{i}.jpg" for i in range(10)]
    assert select_frames(frames, 4) == ["0.jpg", "3.jpg", "6.jpg", "9.jpg"]
    assert select_frames(frames, 1) == ["5.jpg"]
    assert select_frames(frames[:2], 4) == frames[:2]


def test_array_frames_are_labelled():
    shot = ShotInput(0, 0.0, 1.0, (np.zeros((4, 4, 3), np.uint8),))
    result = analyze_shots("v", [shot], [], ScriptedDescriber([json.dumps(VALID)]), OPTS)
    assert result.shots[0].frames == ["<array (4, 4, 3)>"]


def test_options_are_checked():
    with pytest.raises(ConfigError):
        AnalysisOptions(alignment="nearest")
    with pytest.raises(ConfigError):
        AnalysisOptions(instructions="  ")
