"""Pure helpers shared by the store backends: group-by emulation, average-vector recommend,
request validation."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core import check_db_name, valid_db_name
from pipeline.errors import ConfigError, QueryError, StoreError
from pipeline.store import StoredPoint
from pipeline.store.common import (
    average_vector,
    best_per_video,
    check_batch,
    plain_payload,
    query_vector,
)


def _ranked(n_points: int, n_videos: int, seed: int) -> list[StoredPoint]:
    rng = np.random.default_rng(seed)
    scores = np.sort(rng.random(n_points))[::-1]
    videos = rng.integers(0, n_videos, n_points)
    return [StoredPoint(id=f"p{i}", payload={"video_id": f"v{videos[i]}"}, score=float(s)) for i, s in enumerate(scores)]


def _fetcher(ranked: list[StoredPoint], calls: list[int]):
    def fetch(limit: int, exclude: list[str]) -> list[StoredPoint]:
        calls.append(limit)
        return [p for p in ranked if p.payload["video_id"] not in exclude][:limit]

    return fetch


@pytest.mark.parametrize("seed", range(5))
def test_best_per_video_equals_brute_force_grouping(seed):
    """Widening rounds that exclude the videos found give exactly Qdrant's group_by (size 1)."""
    ranked = _ranked(2000, 60, seed)  # a few videos own most of the top: widening is needed
    expected, seen = [], set()
    for p in ranked:
        if p.payload["video_id"] not in seen:
            seen.add(p.payload["video_id"])
            expected.append(p.id)
    calls: list[int] = []
    got = best_per_video(_fetcher(ranked, calls), 25)
    assert [p.id for p in got] == expected[:25]
    assert [p.id for p in best_per_video(_fetcher(ranked, []), 500)] == expected  # all videos, then stops


def test_best_per_video_stops_when_the_collection_is_exhausted():
    calls: list[int] = []
    assert best_per_video(_fetcher([], calls), 10) == [] and len(calls) == 1


def test_average_vector_is_qdrants_formula():
    pos = [np.array([1.0, 0, 0]), np.array([0, 1.0, 0])]
    neg = [np.array([0, 0, 1.0])]
    np.testing.assert_allclose(average_vector(pos, neg), [1, 1, -1])
    np.testing.assert_allclose(average_vector(pos, []), [0.5, 0.5, 0])


def test_names_that_could_escape_the_store_directory_are_refused():
    """The stores and the catalog share one naming rule (pipeline.core.names)."""
    for bad in ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "x" * 65, "a\0b", "Noticias 1998", "db-1.v2"]:
        assert not valid_db_name(bad)
        with pytest.raises(ConfigError, match="invalid database name"):
            check_db_name(bad)
    for good in ["archivo", "archivo_2024", "Noticias-1998", "db-1_v2", "x" * 64]:
        assert check_db_name(good) == good


def test_batches_and_queries_are_checked_against_the_collection():
    known = {"clip": 4}
    arrays = check_batch("db", known, ["a", "b"], {"clip": np.ones((2, 4), dtype=np.float64)}, [{}, {}])
    assert arrays["clip"].dtype == np.float32
    with pytest.raises(StoreError, match="2 ids but 1 payloads"):
        check_batch("db", known, ["a", "b"], {"clip": np.ones((2, 4))}, [{}])
    with pytest.raises(StoreError, match="has no 'text' vectors"):
        check_batch("db", known, ["a"], {"text": np.ones((1, 4))}, [{}])
    with pytest.raises(StoreError, match=r"expected \(1, 4\)"):
        check_batch("db", known, ["a"], {"clip": np.ones((1, 3))}, [{}])
    assert query_vector("db", known, "clip", np.ones((1, 4)), 3).shape == (4,)
    with pytest.raises(QueryError, match="at least 1"):
        query_vector("db", known, "clip", np.ones(4), 0)


def test_numpy_scalars_in_payloads_become_python_numbers():
    plain = plain_payload({"shot_index": np.int64(3), "start_s": np.float32(1.5), "video_id": "v"})
    assert plain == {"shot_index": 3, "start_s": 1.5, "video_id": "v"}
    assert type(plain["shot_index"]) is int and type(plain["start_s"]) is float
