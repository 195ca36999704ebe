"""Semantic segmentation (pipeline.segment) on synthetic CLIP-like embedding streams.

The streams come from :func:`pipeline.segment.synthetic.make_stream`: classes (settings) that
share a common direction, as real CLIP embeddings do, and a timeline of shots whose frames are
mixed so that two frames of one shot have cosine ~0.92 (or ``frame_sim``), shots of one class
~0.74, different classes ~0.48, as with ViT-L-14. Scale invariance has its own file
(``test_segment_scale.py``).
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from pipeline.errors import ConfigError
from pipeline.records import FrameEmbeddings, Segmentation
from pipeline.search import project_2d
from pipeline.segment import SegmentOptions, segment
from pipeline.segment.synthetic import CLIP_LEVELS, Stream, boundary_f1
from pipeline.segment.synthetic import make_stream as _make_stream

DIM = 768


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def make_stream(seed: int = 0, frame_sim: float = CLIP_LEVELS[0], **kwargs) -> Stream:
    """A seeded CLIP-like stream (see the module docstring); ``frame_sim`` sets the cosine of two
    frames of one shot, the other levels stay CLIP's."""
    return _make_stream(seed=seed, levels=(frame_sim, *CLIP_LEVELS[1:]), **kwargs)


def inner_starts(items) -> list[int]:
    return [x.first_frame for x in items][1:]


def assert_invariants(seg: Segmentation, frames: FrameEmbeddings, options: SegmentOptions) -> None:
    n = len(frames.timestamps)
    t = frames.timestamps
    interval = float(np.median(np.diff(t))) if n > 1 else 1.0
    end_time = t[-1] + interval
    assert seg.frame_classes.shape == seg.raw_labels.shape == (n,)
    assert (seg.frame_classes >= 0).all()
    classes = seg.frame_classes.tolist()
    first_seen = [classes.index(c) for c in range(seg.n_classes)]
    assert sorted(set(classes)) == list(range(seg.n_classes)), "class ids are 0..C-1"
    assert first_seen == sorted(first_seen), "class ids are numbered in order of first appearance"
    for groups in (seg.scenes, seg.shots):
        assert [g.index for g in groups] == list(range(len(groups)))
        assert groups[0].first_frame == 0 and groups[-1].end_frame == n, "cover all frames"
        for g, nxt in zip(groups[:-1], groups[1:], strict=True):
            assert g.end_frame == nxt.first_frame and g.end_s == nxt.start_s, "contiguous"
        for g in groups:
            assert g.first_frame < g.end_frame, "non-empty, ordered"
            assert g.start_s == t[g.first_frame]
            assert g.end_s == (t[g.end_frame] if g.end_frame < n else end_time)
            assert set(classes[g.first_frame : g.end_frame]) == {g.class_id}
    for s, nxt in zip(seg.scenes[:-1], seg.scenes[1:], strict=True):
        assert s.class_id != nxt.class_id, "scenes are maximal runs of one class"
    for shot in seg.shots:
        scene = seg.scenes[shot.scene]
        assert scene.first_frame <= shot.first_frame < shot.end_frame <= scene.end_frame, "shot inside its scene"
        assert shot.first_frame <= shot.keyframe < shot.end_frame, "keyframe inside its shot"
        if shot.end_s - shot.start_s < options.min_shot_s - 1e-6:
            assert (shot.first_frame, shot.end_frame) == (scene.first_frame, scene.end_frame), (
                "short shot = short scene"
            )
    assert seg.shot_embeddings.shape == (len(seg.shots), frames.embeddings.shape[1])
    assert seg.shot_embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(seg.shot_embeddings, axis=1), 1.0, atol=1e-5)


# ---------------------------------------------------------------- quality on known ground truth


@pytest.mark.parametrize(
    ("seed", "fps", "frame_sim", "shot_s"),
    [(1, 1.0, 0.92, (3.0, 10.0)), (2, 2.0, 0.9, (1.5, 8.0)), (3, 3.0, 0.9, (1.5, 6.0)), (4, 3.0, 0.96, (2.0, 12.0))],
)
def test_noisy_streams_recover_shot_boundaries_with_f1_at_least_095(seed, fps, frame_sim, shot_s):
    """Shot cuts land within ±1 sample of the true cuts (F1 >= 0.95) at 1-3 fps and frame cosine 0.9-0.96."""
    stream = make_stream(seed=seed, n_shots=60, fps=fps, frame_sim=frame_sim, shot_s=shot_s)
    seg = segment(stream.frames)
    assert boundary_f1(stream.shot_starts[1:], inner_starts(seg.shots)) >= 0.95


def test_recurring_class_keeps_one_id_but_gives_separate_scenes():
    """A setting that comes back (A B A C A) is one class id in three separate scenes."""
    order = [0] * 3 + [1] * 3 + [0] * 3 + [2] * 3 + [0] * 3
    stream = make_stream(seed=5, n_classes=3, fps=2.0, shot_s=(4.0, 8.0), class_order=order)
    seg = segment(stream.frames)
    assert [s.class_id for s in seg.scenes] == [0, 1, 0, 2, 0]
    truth_scene_starts = [stream.shot_starts[i] for i in (3, 6, 9, 12)]
    assert boundary_f1(truth_scene_starts, inner_starts(seg.scenes), tolerance=0) == 1.0
    assert seg.n_classes == 3


def test_classes_follow_ground_truth_settings_over_many_shots():
    """HDBSCAN classes match the generator's classes, so frame labels agree up to renaming."""
    from sklearn.metrics import adjusted_rand_score

    stream = make_stream(seed=6, n_classes=8, n_shots=80, fps=2.0)
    seg = segment(stream.frames)
    assert adjusted_rand_score(stream.frame_class, seg.frame_classes) >= 0.95


def test_long_shots_of_one_setting_are_merged_into_one_class():
    """Shots longer than min_cluster_s form clusters of their own; centroid merging restores the settings."""
    from sklearn.metrics import adjusted_rand_score

    stream = make_stream(seed=21, n_classes=4, n_shots=24, fps=1.0, shot_s=(12.0, 30.0))
    merged = segment(stream.frames)
    assert adjusted_rand_score(stream.frame_class, merged.frame_classes) >= 0.95
    split = segment(stream.frames, SegmentOptions(class_merge_similarity=None))
    assert split.n_classes > 2 * merged.n_classes, "without merging, classes are single shots"


def test_outlier_frames_are_noise_but_join_their_temporal_neighbours_class():
    """Frames unlike any class are raw noise (-1); they take a neighbouring class and cut no scene."""
    stream = make_stream(seed=7, n_classes=3, fps=2.0, class_order=[0] * 4 + [1] * 4 + [2] * 4, shot_s=(4.0, 8.0))
    emb = stream.frames.embeddings.copy()
    outliers = np.array([5, 40, len(emb) - 10])
    emb[outliers] = _unit(np.random.default_rng(0).standard_normal((3, DIM))).astype(np.float32)
    frames = FrameEmbeddings("outliers", stream.frames.timestamps, emb)
    seg = segment(frames)
    assert (seg.raw_labels[outliers] == -1).all()
    assert (seg.frame_classes[outliers] == seg.frame_classes[outliers - 1]).all()
    assert [s.class_id for s in seg.scenes] == [0, 1, 2]


def test_flicker_shorter_than_min_scene_is_absorbed():
    """A 1-s insert of another class inside a long scene does not become a scene of its own."""
    order = [0] * 4 + [1] * 4
    stream = make_stream(seed=8, n_classes=2, fps=2.0, shot_s=(6.0, 8.0), class_order=order)
    emb = stream.frames.embeddings.copy()
    emb[10:12] = emb[-2:]  # two frames (1 s) of class 1 inside the first scene
    frames = FrameEmbeddings("flicker", stream.frames.timestamps, emb)
    seg = segment(frames, SegmentOptions(min_scene_s=3.0))
    assert (seg.raw_labels[10:12] != seg.raw_labels[9]).all(), "HDBSCAN does see the insert as the other class"
    assert [s.class_id for s in seg.scenes] == [0, 1]
    assert all(s.end_s - s.start_s >= 3.0 for s in seg.scenes)
    unsmoothed = segment(frames, SegmentOptions(min_scene_s=0.0))
    assert [s.class_id for s in unsmoothed.scenes] == [0, 1, 0, 1]


def test_short_run_between_two_classes_joins_the_more_similar_one():
    """Smoothing A-B-C with a short B: B goes to whichever of A and C its frames resemble more."""
    from pipeline.segment.classes import smooth_classes

    rng = np.random.default_rng(0)
    centroids = _unit(rng.standard_normal((3, DIM))).astype(np.float32)
    classes = np.array([0] * 10 + [1] * 2 + [2] * 10)
    emb = centroids[classes].copy()
    emb[10:12] = _unit(centroids[1] + 2.0 * centroids[2])  # the short run looks like class 2
    bounds_s = np.arange(len(classes) + 1, dtype=np.float64)
    smoothed = smooth_classes(classes, bounds_s, emb, centroids, min_scene_s=3.0, tol_s=0.01)
    assert smoothed.tolist() == [0] * 10 + [2] * 12


def test_strided_clustering_of_long_streams_gives_the_same_classes_and_shots():
    """Above cluster_max_frames HDBSCAN sees every k-th frame; classes and cuts stay right."""
    from sklearn.metrics import adjusted_rand_score

    stream = make_stream(seed=9, n_classes=5, n_shots=60, fps=3.0)
    seg = segment(stream.frames, SegmentOptions(cluster_max_frames=300))
    assert len(stream.frame_class) > 2 * 300
    assert adjusted_rand_score(stream.frame_class, seg.frame_classes) >= 0.95
    assert boundary_f1(stream.shot_starts[1:], inner_starts(seg.shots)) >= 0.95


def test_shot_embedding_is_normalised_mean_and_keyframe_is_closest_frame():
    """Each shot vector is its frames' re-normalised mean; its keyframe is the most similar frame."""
    stream = make_stream(seed=10, n_shots=10)
    seg = segment(stream.frames)
    emb = stream.frames.embeddings
    for shot, vector in zip(seg.shots, seg.shot_embeddings, strict=True):
        mean = emb[shot.first_frame : shot.end_frame].mean(axis=0)
        np.testing.assert_allclose(vector, mean / np.linalg.norm(mean), atol=1e-5)
        sims = emb[shot.first_frame : shot.end_frame] @ vector
        assert shot.keyframe == shot.first_frame + int(np.argmax(sims))


# ---------------------------------------------------------------- invariants and degenerate input


DEGENERATE = {  # name: (frames, dims, identical)
    "one frame": (1, DIM, False),
    "two frames": (2, DIM, False),
    "five frames": (5, DIM, False),
    "identical frames": (120, DIM, True),
    "pure noise": (300, DIM, False),
    "low-dimensional noise": (300, 3, False),
}


def _degenerate(kind: str) -> FrameEmbeddings:
    n, dims, identical = DEGENERATE[kind]
    emb = _unit(np.random.default_rng(11).standard_normal((1 if identical else n, dims)))
    emb = np.repeat(emb, n, axis=0) if identical else emb
    return FrameEmbeddings(kind, 10.0 + np.arange(n) / 3.0, emb.astype(np.float32))


def _irregular() -> FrameEmbeddings:
    """A stream whose near-duplicate frames were skipped: sampling intervals of 0.33 to 2 s."""
    stream = make_stream(seed=12, n_shots=20, fps=3.0)
    gaps = np.random.default_rng(12).choice([1 / 3, 2 / 3, 2.0], size=len(stream.frames.timestamps))
    return FrameEmbeddings("irregular", np.cumsum(gaps), stream.frames.embeddings)


INVARIANT_CASES = {
    **{f"random stream {s}": (lambda s=s: make_stream(seed=20 + s, n_shots=25, fps=1.0 + s).frames) for s in range(3)},
    "irregular sampling": _irregular,
    **{kind: (lambda kind=kind: _degenerate(kind)) for kind in DEGENERATE},
}


@pytest.mark.parametrize("case", INVARIANT_CASES)
def test_invariants_hold_on_random_and_degenerate_streams(case):
    """Shots/scenes are contiguous, ordered, cover every frame once, nest, and carry valid vectors."""
    frames = INVARIANT_CASES[case]()
    options = SegmentOptions()
    assert_invariants(segment(frames, options), frames, options)


@pytest.mark.parametrize("kind", ["one frame", "two frames", "five frames", "identical frames", "pure noise"])
def test_tiny_identical_or_structureless_input_degrades_to_one_class(kind):
    """With nothing to cluster, every frame is one class (raw labels all noise) and one scene."""
    seg = segment(_degenerate(kind))
    assert seg.n_classes == 1 and len(seg.scenes) == 1
    assert (seg.raw_labels == -1).all()


def test_identical_frames_make_a_single_shot():
    """No distance, no cut: a frozen picture is one shot with its frame as the embedding."""
    frames = _degenerate("identical frames")
    seg = segment(frames)
    assert len(seg.shots) == 1
    np.testing.assert_allclose(seg.shot_embeddings[0], frames.embeddings[0], atol=1e-6)


def test_lone_frame_lasts_one_second():
    """One frame has no sampling interval: its shot ends 1 s after it."""
    seg = segment(_degenerate("one frame"))
    assert (seg.shots[0].start_s, seg.shots[0].end_s) == (10.0, 11.0)


def test_empty_stream_gives_empty_segmentation():
    """Zero frames: no scenes, no shots, a (0, D) embedding matrix."""
    seg = segment(FrameEmbeddings("empty", np.zeros(0), np.zeros((0, DIM), np.float32)))
    assert seg.scenes == () and seg.shots == () and seg.shot_embeddings.shape == (0, DIM)


def test_min_shot_s_is_respected():
    """With min_shot_s=4, only a scene that is itself shorter can hold a shorter shot."""
    frames = make_stream(seed=13, n_shots=30, fps=2.0, shot_s=(1.5, 6.0)).frames
    options = SegmentOptions(min_shot_s=4.0)
    seg = segment(frames, options)
    assert_invariants(seg, frames, options)
    assert len(seg.shots) < 30


def test_same_input_gives_same_output():
    """Two runs on the same frames are equal, records and shot embeddings alike."""
    frames = make_stream(seed=14, n_shots=40, fps=2.0).frames
    first, second = segment(frames), segment(frames)
    assert first.to_json() == second.to_json()
    np.testing.assert_array_equal(first.shot_embeddings, second.shot_embeddings)


def test_json_round_trip_keeps_the_segmentation():
    """The records are plain JSON (no numpy scalars) and from_json restores them (the stage artifact)."""
    seg = segment(make_stream(seed=15, n_shots=10).frames)
    again = Segmentation.from_json(json.loads(json.dumps(seg.to_json())), seg.shot_embeddings)
    assert again.scenes == seg.scenes and again.shots == seg.shots
    np.testing.assert_array_equal(again.frame_classes, seg.frame_classes)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reduce", "tsne"),
        ("reduce_dims", 1),
        ("reduce_dims", 8.5),
        ("min_cluster_s", 0),
        ("min_samples_s", -1.0),
        ("cluster_max_frames", 10),
        ("class_merge_similarity", float("nan")),
        ("noise_min_similarity", float("inf")),
        ("scale", "cosine"),
        ("shot_min_jitter", -1.0),
        ("min_scene_s", -2.0),
        ("shot_threshold", -0.1),
        ("shot_threshold", 0),
        ("shot_threshold", float("nan")),
        ("shot_window_s", 0.0),
        ("min_shot_s", -1.0),
        ("blas_threads", 0),
        ("random_state", "zero"),
    ],
)
def test_nonsense_options_raise_config_error_naming_the_option(field, value):
    """Each impossible value is refused up front, and the message names the option and the value."""
    with pytest.raises(ConfigError, match=field) as info:
        SegmentOptions(**{field: value})
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"), [("class_merge_similarity", 2.0), ("noise_min_similarity", 1.5), ("shot_threshold", 2.5)]
)
def test_absolute_thresholds_out_of_cosine_range_raise_config_error(field, value):
    """On the absolute scale the thresholds are cosines (distances): outside [-1, 1] ((0, 2]) they are refused."""
    with pytest.raises(ConfigError, match=field):
        SegmentOptions.absolute(**{field: value})
    SegmentOptions(**{field: value})  # on the video scale the same number is a level, and allowed


def test_timestamps_that_go_back_are_refused():
    """Frames out of order are a bug upstream: segment() says so instead of guessing."""
    emb = _unit(np.random.default_rng(0).standard_normal((3, DIM))).astype(np.float32)
    with pytest.raises(ValueError, match="strictly increasing"):
        segment(FrameEmbeddings("bad", np.array([0.0, 2.0, 1.0]), emb))


# ---------------------------------------------------------------- 2-D projection


def test_project_2d_pca_is_deterministic_float32_and_spreads_classes():
    """PCA coordinates: (N, 2) float32, same twice, and two classes land apart."""
    stream = make_stream(seed=16, n_classes=2, class_order=[0, 0, 1, 1], shot_s=(5.0, 5.0))
    xy = project_2d(stream.frames.embeddings, method="pca")
    assert xy.shape == (len(stream.frame_class), 2) and xy.dtype == np.float32
    np.testing.assert_array_equal(xy, project_2d(stream.frames.embeddings, method="pca"))
    first, second = sorted((xy[stream.frame_class == c, 0] for c in (0, 1)), key=np.mean)
    assert first.max() < second.min(), "the first axis separates the two classes"


@pytest.mark.parametrize("shape", [(40, 64), (300, 8)], ids=["fewer points than dims", "more points than dims"])
def test_project_2d_pca_matches_sklearn_up_to_sign(shape):
    """Both PCA code paths (SVD for few points, scatter-matrix eigh for many) give sklearn's coordinates."""
    from sklearn.decomposition import PCA

    data = _unit(np.random.default_rng(1).standard_normal(shape) * np.linspace(3, 1, shape[1])).astype(np.float32)
    ours = project_2d(data, method="pca")
    theirs = PCA(2).fit_transform(data.astype(np.float64))
    np.testing.assert_allclose(np.abs(ours), np.abs(theirs), atol=1e-4)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_project_2d_falls_back_to_pca_for_tiny_inputs(n):
    """Too few points for UMAP: PCA (zeros for 0-1 points), never an exception."""
    emb = _unit(np.random.default_rng(n).standard_normal((n, DIM))).astype(np.float32) if n else np.zeros((0, DIM))
    xy = project_2d(emb, method="umap")
    assert xy.shape == (n, 2) and np.isfinite(xy).all()


def test_project_2d_falls_back_to_pca_when_umap_is_missing(monkeypatch, caplog):
    """Without umap-learn the map is still drawn (PCA) and a warning says how to install it."""
    monkeypatch.setitem(sys.modules, "umap", None)  # makes `import umap` raise ImportError
    emb = make_stream(seed=17, n_shots=6).frames.embeddings
    xy = project_2d(emb, method="umap")
    np.testing.assert_array_equal(xy, project_2d(emb, method="pca"))
    assert "umap-learn" in caplog.text


def test_project_2d_rejects_unknown_method():
    """A method other than umap/pca is a ConfigError naming the choices."""
    with pytest.raises(ConfigError, match="umap, pca"):
        project_2d(np.zeros((3, 4), np.float32), method="tsne")


class FakeUMAP:
    """Stands in for umap.UMAP (whose numba compilation alone takes ~20 s here): records its arguments."""

    calls: list[dict] = []

    def __init__(self, **kwargs):
        FakeUMAP.calls.append(kwargs)
        self.n_components = kwargs["n_components"]

    def fit_transform(self, data):
        return np.asarray(data, dtype=np.float64)[:, : self.n_components] * 10.0


@pytest.fixture
def fake_umap(monkeypatch):
    module = type(sys)("umap")
    module.UMAP = FakeUMAP
    FakeUMAP.calls = []
    monkeypatch.setitem(sys.modules, "umap", module)
    return FakeUMAP


def test_reduce_umap_passes_dims_seed_and_cosine_metric_to_umap(fake_umap):
    """reduce='umap' hands reduce_dims, random_state and the cosine metric to UMAP; records stay valid."""
    frames = make_stream(seed=18, n_classes=3, n_shots=12, fps=1.0).frames
    options = SegmentOptions(reduce="umap", reduce_dims=10, random_state=7)
    assert_invariants(segment(frames, options), frames, options)
    (call,) = fake_umap.calls
    assert (call["n_components"], call["random_state"], call["metric"]) == (10, 7, "cosine")


def test_reduce_umap_on_a_handful_of_frames_uses_pca(fake_umap):
    """Enough frames to cluster but fewer than UMAP to 32-d needs: PCA is used, segmentation succeeds."""
    frames = make_stream(seed=22, n_classes=2, class_order=[0, 1], fps=1.0, shot_s=(10.0, 10.0)).frames
    options = SegmentOptions(reduce="umap", min_cluster_s=4.0, min_samples_s=2.0)
    seg = segment(frames, options)
    assert fake_umap.calls == []
    assert (seg.raw_labels >= 0).any(), "HDBSCAN did run (on PCA coordinates)"
    assert_invariants(seg, frames, options)


def test_project_2d_umap_gives_float32_pairs_with_the_seed(fake_umap):
    """project_2d(method='umap') asks UMAP for 2 components with the given seed and returns float32."""
    emb = make_stream(seed=19, n_shots=6).frames.embeddings
    xy = project_2d(emb, method="umap", random_state=3)
    assert xy.shape == (len(emb), 2) and xy.dtype == np.float32
    (call,) = fake_umap.calls
    assert (call["n_components"], call["random_state"]) == (2, 3)
