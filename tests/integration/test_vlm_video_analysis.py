"""Video analysis with the core engine (decode, segment, frames for the model) and fake models:
a generated three-colour clip, a colour-mean 'encoder', a scripted transcriber and describer.
Proves the wiring from a media file to analysis.json, its resume, the frame cache, and the
batch stages."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.analysis import AnalysisOptions, create_job, read_manifest, run_job
from pipeline.analysis.store import read_analysis
from pipeline.analysis.video import STAGES, analysis_dir, analysis_stages, analyze_video, shot_inputs
from pipeline.index import DataLayout, IngestOptions, prepare_video
from pipeline.records import TranscriptSegment
from pipeline.sources import SourceOptions

VALID = {
    "summary": "Un fondo de color liso.", "setting": "abstracto", "people": {"count": 0, "apparent_roles": []},
    "actions": [], "objects": [], "on_screen_text": [],
    "speech": {"summary": "", "topics": [], "tone": "neutro"},
    "intolerance": {"present": False, "type": None, "target_group": None, "evidence": "", "severity": "none"},
}


class ColourEncoder:
    """Embeds a frame by its mean colour (plus a constant), L2-normalised: shots of one colour cluster."""

    name = "colour-mean"
    vector_name = "colour-mean"
    dim = 4

    def __init__(self):
        self.unloads = 0

    def encode_images(self, images):
        feats = np.array([[*img.reshape(-1, 3).mean(0) / 255.0, 0.2] for img in images], dtype=np.float32)
        return feats / np.linalg.norm(feats, axis=1, keepdims=True)

    def encode_texts(self, texts):
        raise NotImplementedError

    def unload(self):
        self.unloads += 1


class FakeTranscriber:
    name = "fake-whisper"

    def __init__(self):
        self.calls = 0

    def transcribe(self, media, video_id=""):
        self.calls += 1
        return [TranscriptSegment(video_id, 1.0, 7.0, "uno dos tres cuatro cinco seis")]

    def unload(self):
        pass


class FakeDescriber:
    name = "fake-vlm"

    def __init__(self):
        self.frames, self.last_timings = [], {}

    def describe(self, frames, text, instructions, schema=None, previous_output=None, correction=None):
        self.frames.append([str(f) for f in frames])
        if not frames:
            return json.dumps({"summary": "Tres planos de color.", "main_topics": []})
        return json.dumps(VALID)

    def unload(self):
        pass


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (apt install ffmpeg)")
    out = tmp_path_factory.mktemp("clip") / "colours.mp4"
    inputs = []
    for colour in ("red", "green", "blue"):
        inputs += ["-f", "lavfi", "-i", f"color=c={colour}:size=160x120:rate=10:duration=4"]
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *inputs, "-filter_complex",
                    "[0:v][1:v][2:v]concat=n=3:v=1:a=0", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out)],
                   check=True)
    return out


def test_analyze_video_end_to_end_and_resume(clip, tmp_path):
    layout = DataLayout(tmp_path / "data")
    describer = FakeDescriber()
    result = analyze_video(clip, ColourEncoder(), FakeTranscriber(), describer, layout,
                           AnalysisOptions(progress=False, frames_per_shot=3))
    assert len(result.shots) >= 1 and all(s.status == "ok" for s in result.shots)
    assert result.summary.text == "Tres planos de color."
    shot_frames = [f for f in describer.frames if f]
    assert all(Path(p).is_file() and 1 <= len(fs) <= 3 for fs in shot_frames for p in fs)
    frames_dir = analysis_dir(layout, result.video_id) / "frames"
    assert all(Path(p).parent == frames_dir for fs in shot_frames for p in fs)  # not ingest's 224-px frames
    assert not (layout.video_dir(result.video_id) / "frames").exists()
    with Image.open(shot_frames[0][0]) as image:
        assert image.size == (160, 120)  # the clip's own size: frames are never upscaled
    assert " ".join(s.transcript for s in result.shots).split() == ["uno", "dos", "tres", "cuatro", "cinco", "seis"]
    folder = analysis_dir(layout, result.video_id)
    assert read_analysis(folder / "analysis.json") == result
    assert not (folder / "analysis.partial.json").exists()
    assert json.loads((folder / "transcript.json").read_text())[0]["video_id"] == result.video_id


def test_batch_stages_run_stage_by_stage_and_record_a_bad_source(clip, tmp_path):
    layout = DataLayout(tmp_path / "data")
    encoder, transcriber, describer = ColourEncoder(), FakeTranscriber(), FakeDescriber()
    stages = analysis_stages(layout, SourceOptions(cache_dir=tmp_path / "downloads"), encoder, transcriber,
                             describer, AnalysisOptions(frames_per_shot=2))
    job = tmp_path / "job"
    create_job(job, [str(clip), str(tmp_path / "missing.mp4")], STAGES)
    summary = run_job(job, stages)
    assert summary.counts["describe"] == {"done": 1, "pending": 1}
    assert summary.failed[0][1] == "fetch" and "missing.mp4" in summary.failed[0][2]
    assert encoder.unloads == 1 and transcriber.calls == 1
    item = read_manifest(job).items[0]
    assert read_analysis(Path(item.stages["describe"].outputs["analysis"])).summary.shots_ok >= 1


def test_model_frames_are_cached_and_redone_only_when_their_options_change(clip, tmp_path, monkeypatch):
    from pipeline.analysis import frames

    layout = DataLayout(tmp_path / "data")
    prepared = prepare_video(clip, ColourEncoder(), layout, IngestOptions(progress=False))
    calls = []
    real = frames.iter_frames_at
    monkeypatch.setattr(frames, "iter_frames_at", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    first = shot_inputs(prepared, layout, AnalysisOptions(frames_per_shot=2, frame_short_side=96))
    again = shot_inputs(prepared, layout, AnalysisOptions(frames_per_shot=2, frame_short_side=96))
    assert first == again and calls == [96]  # one decoding pass, then the cache
    assert [(s.start_s, s.end_s) for s in first] == [(s.start_s, s.end_s) for s in prepared.segmentation.shots]
    assert all(len(s.frames) == 2 for s in first if s.end_s - s.start_s >= 1.0)
    with Image.open(first[0].frames[0]) as image:
        assert image.size == (128, 96)
    bigger = shot_inputs(prepared, layout, AnalysisOptions(frames_per_shot=1, frame_short_side=120))
    assert calls == [96, 120] and all(len(s.frames) == 1 for s in bigger)
    assert sorted(p.name for p in (analysis_dir(layout, prepared.video_id) / "frames").iterdir()) == sorted(
        ["frames.json", *(Path(s.frames[0]).name for s in bigger)])  # stale frames removed
