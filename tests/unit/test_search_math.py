"""Pure query math: fusion of text and image vectors, Rocchio feedback, timecodes, names."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core import check_db_name, format_timecode, parse_timecode
from pipeline.errors import ConfigError, QueryError
from pipeline.index import DataLayout
from pipeline.search import fuse_vectors, rocchio
from pipeline.store import point_id


def _unit(*values):
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_fusion_weights_move_the_query_between_text_and_image():
    text, image = _unit(1, 0), _unit(0, 1)
    np.testing.assert_allclose(fuse_vectors([text, image], [1.0, 0.0]), text)
    np.testing.assert_allclose(fuse_vectors([text, image], [0.5, 0.5]), _unit(1, 1), atol=1e-6)
    fused = fuse_vectors([text, image], [0.25, 0.75])
    assert fused[1] > fused[0] and np.linalg.norm(fused) == pytest.approx(1.0)


def test_fusion_normalises_inputs_before_weighting():
    np.testing.assert_allclose(fuse_vectors([np.array([10.0, 0]), _unit(0, 1)], [0.5, 0.5]), _unit(1, 1), atol=1e-6)


def test_fusion_of_opposite_vectors_is_an_error():
    with pytest.raises(QueryError, match="zero"):
        fuse_vectors([_unit(1, 0), _unit(-1, 0)], [0.5, 0.5])


def test_rocchio_moves_towards_relevant_and_away_from_irrelevant():
    query = _unit(1, 0, 0)
    moved = rocchio(query, np.array([_unit(0, 1, 0)]), np.array([_unit(0, 0, 1)]), beta=0.75, gamma=0.25)
    expected = _unit(1, 0.75, -0.25)
    np.testing.assert_allclose(moved, expected, atol=1e-6)


def test_rocchio_without_query_uses_feedback_alone():
    np.testing.assert_allclose(rocchio(None, np.array([_unit(0, 1)]), np.zeros((0, 2))), _unit(0, 1))
    with pytest.raises(QueryError):
        rocchio(None, np.zeros((0, 2)), np.zeros((0, 2)))


@pytest.mark.parametrize("seconds,text", [(0, "00:00:00.000"), (142.205, "00:02:22.205"), (3725.5, "01:02:05.500"),
                                          (360000, "100:00:00.000")])
def test_timecode_format_and_parse(seconds, text):
    assert format_timecode(seconds) == text
    assert parse_timecode(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "1:2:3:4", "00:61:00", "aa:bb:cc", "00:00:75.0"])
def test_timecode_rejects_malformed(bad):
    with pytest.raises(ValueError):
        parse_timecode(bad)


def test_point_ids_are_deterministic_and_distinct():
    assert point_id("a" * 20, 3) == point_id("a" * 20, 3)
    assert len({point_id("a" * 20, i) for i in range(100)}) == 100


@pytest.mark.parametrize("name", ["../etc", "a/b", "", "x" * 65, ".hidden", "con sp"])
def test_database_names_cannot_escape_the_data_directory(name):
    with pytest.raises(ConfigError):
        check_db_name(name)


def test_layout_resolve_refuses_paths_outside_the_data_dir(tmp_path):
    layout = DataLayout(tmp_path)
    assert layout.resolve("videos/x.jpg") == (tmp_path / "videos/x.jpg").resolve()
    with pytest.raises(ConfigError):
        layout.resolve("../../etc/passwd")
    with pytest.raises(ConfigError):
        layout.video_dir("../../etc")


@pytest.mark.parametrize("backend", ["memory", "edge"])
def test_more_like_this_ranks_by_the_stored_vector_and_leaves_the_shot_out(tmp_path, backend):
    """"More like this" reads the shot's own vector back from the store: its nearest shots come
    first, the shot itself never (issue 15 point 3)."""
    from pipeline.search import similar
    from pipeline.store import open_store

    video = "0123456789abcdef0123"
    vectors = np.array([_unit(1, 0, 0), _unit(0.9, 0.1, 0), _unit(0, 1, 0), _unit(0.7, 0.7, 0)], np.float32)
    ids = [point_id(video, i) for i in range(4)]
    payloads = [{"video_id": video, "source": "v.mp4", "shot_index": i, "scene": 0, "class_id": 0,
                 "start_s": float(i), "end_s": i + 1.0, "thumbnail": f"t{i}.jpg"} for i in range(4)]
    store = open_store(tmp_path, backend=backend)
    try:
        store.ensure_collection("db", {"clip": 3})
        store.upsert("db", ids, {"clip": vectors}, payloads)
        hits = similar(store, "clip", "db", ids[0], k=3)
        assert [h.shot_index for h in hits] == [1, 3, 2] and hits[0].score > hits[-1].score
        assert [h.rank for h in hits] == [1, 2, 3]
        with pytest.raises(QueryError, match="is not in database"):
            similar(store, "clip", "db", point_id(video, 99))
    finally:
        store.close()
