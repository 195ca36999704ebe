"""Query encoders without models: the ``auto`` choice, the query-vector cache, translation in front
of a text tower, and the records that say which model made a database's vectors."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from pipeline.core import vector_name_for
from pipeline.errors import QueryError
from pipeline.index import ANY_WEIGHTS, UNRECORDED, check_encoder, record_encoder, stored_encoders
from pipeline.search import CachedTextEncoder, TranslatingEncoder, choose_query_encoder
from pipeline.store import open_store

L14 = "ViT-L-14/openai"


def choose(requested="auto", multilingual=False, space=L14, mclip=True, translator=True):
    return choose_query_encoder(requested, multilingual, space, L14, mclip, translator)


def test_auto_keeps_a_multilingual_or_unknown_encoders_own_text_tower():
    assert choose(multilingual=True).kind == "native"
    assert choose(multilingual=None, space="local-dir:/x").code == "uncatalogued"


def test_auto_on_an_english_only_encoder_prefers_mclip_then_translation_then_english_queries():
    assert choose().kind == "mclip"
    assert choose(mclip=False).kind == "translate"
    assert choose(space="ViT-B-32/openai").kind == "translate"  # M-CLIP only maps into ViT-L-14/openai
    fallback = choose(mclip=False, translator=False)
    assert fallback.kind == "native" and fallback.code == "english_only"


def test_an_impossible_request_is_refused_with_the_reason():
    with pytest.raises(QueryError, match="ViT-L-14/openai only"):
        choose("mclip", space="ViT-B-16-SigLIP2/webli")
    with pytest.raises(QueryError, match="apertium-eng-spa"):
        choose("translate", translator=False)
    with pytest.raises(QueryError, match="unknown query encoder"):
        choose("bing")


class CountingEncoder:
    name, vector_name = "fake", "clip-fake"

    def __init__(self):
        self.calls: list[list[str]] = []

    def encode_texts(self, texts):
        self.calls.append(list(texts))
        out = np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_the_cache_encodes_each_text_once_and_keeps_the_order():
    inner = CountingEncoder()
    cached = CachedTextEncoder(inner, size=2)
    first = cached.encode_texts(["a", "bb", "a"])
    assert inner.calls == [["a", "bb"]]
    again = cached.encode_texts(["bb", "a"])
    assert inner.calls == [["a", "bb"]] and np.array_equal(again, first[[1, 0]])
    cached.encode_texts(["ccc"])  # evicts the least recently used ("bb")
    cached.encode_texts(["bb"])
    assert inner.calls[-1] == ["bb"] and cached.hits == 2 and cached.misses == 4
    assert cached.name == "fake" and cached.vector_name == "clip-fake"


def test_the_cache_is_safe_to_share_between_threads():
    cached = CachedTextEncoder(CountingEncoder(), size=8)
    texts = [f"q{i % 12}" for i in range(200)]
    errors = []

    def work(offset):
        try:
            for i in range(offset, len(texts), 4):
                row = cached.encode_texts([texts[i]])[0]
                assert np.isclose(np.linalg.norm(row), 1.0)
        except Exception as err:  # collected and re-raised by the test thread
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors


class UpperTranslator:
    name = "upper"

    def translate(self, texts):
        return [t.upper() for t in texts]


def test_translation_runs_before_the_text_tower_and_is_remembered():
    inner = CountingEncoder()
    translating = TranslatingEncoder(UpperTranslator(), inner)
    translating.encode_texts(["botellas"])
    assert inner.calls == [["BOTELLAS"]] and translating.last_translations == {"botellas": "BOTELLAS"}
    assert translating.vector_name == "clip-fake"


def test_vector_names_of_existing_databases_do_not_change():
    assert vector_name_for("ViT-L-14/openai") == "clip-vit-l-14-openai"
    assert vector_name_for("ViT-B-16-SigLIP2/webli") == "clip-vit-b-16-siglip2-webli"
    assert vector_name_for("local-dir:/models/tiny-clip/") == "clip-local-tiny-clip"


class Recorded:
    def __init__(self, spec, weights, dim=4):
        self.name, self.vector_name, self.dim, self._weights = spec, vector_name_for(spec), dim, weights

    def identity(self):
        return {"model": self.name, "weights": self._weights, "dim": self.dim, "library": "test"}


@pytest.fixture(params=["edge", "local"])
def store(request, tmp_path):
    opened = open_store(tmp_path / "data", backend=request.param)
    yield opened
    opened.close()


def test_a_database_records_which_weights_made_its_vectors_and_refuses_others(store):
    record_encoder(store, "db", Recorded("ViT-B-16-SigLIP2/webli", "blake2b:aaa"))
    [record] = stored_encoders(store, "db").values()
    assert (record.model, record.weights, record.dim) == ("ViT-B-16-SigLIP2/webli", "blake2b:aaa", 4)
    assert check_encoder(store, "db", Recorded("ViT-B-16-SigLIP2/webli", "blake2b:aaa")).recorded
    with pytest.raises(QueryError, match=r"blake2b:aaa.*blake2b:bbb.*refused"):
        check_encoder(store, "db", Recorded("ViT-B-16-SigLIP2/webli", "blake2b:bbb"))
    with pytest.raises(QueryError, match=r"no vectors made by ViT-L-14/openai.*reindex --db db --model ViT-L-14"):
        check_encoder(store, "db", Recorded("ViT-L-14/openai", "blake2b:ccc"))
    with pytest.raises(QueryError, match="refused"):  # an ingest with other weights is refused too
        record_encoder(store, "db", Recorded("ViT-B-16-SigLIP2/webli", "blake2b:bbb"))


def test_a_database_made_before_records_keeps_working_and_is_recorded_by_the_next_ingest(store):
    store.ensure_collection("old", {"clip-vit-l-14-openai": 4})  # what an old ingest left: no record
    [legacy] = stored_encoders(store, "old", known_specs=[L14]).values()
    assert legacy.model == L14 and legacy.weights == UNRECORDED and not legacy.recorded
    assert not check_encoder(store, "old", Recorded(L14, "blake2b:any-copy")).recorded
    record_encoder(store, "old", Recorded(L14, "blake2b:ddd"))
    assert stored_encoders(store, "old")["clip-vit-l-14-openai"].weights == "blake2b:ddd"


class QueryTower:
    """A text-only query encoder into ViT-L-14/openai's space (as M-CLIP is)."""

    name, vector_name = "mclip", "clip-vit-l-14-openai"

    def __init__(self, space):
        self.space = space

    def identity(self):
        return {"model": self.space, "weights": ANY_WEIGHTS}


def test_a_query_encoder_for_another_space_is_refused(store):
    record_encoder(store, "db", Recorded(L14, "blake2b:eee"))
    assert check_encoder(store, "db", QueryTower(L14)).model == L14
    with pytest.raises(QueryError, match="wrong space"):
        check_encoder(store, "db", QueryTower("ViT-L-14/laion2b_s32b_b82k"))


def test_records_survive_closing_the_store(tmp_path):
    for backend in ("edge", "local"):
        first = open_store(tmp_path / backend, backend=backend)
        record_encoder(first, "db", Recorded(L14, "blake2b:fff"))
        first.close()
        second = open_store(tmp_path / backend, backend=backend)
        try:
            assert stored_encoders(second, "db")["clip-vit-l-14-openai"].weights == "blake2b:fff"
        finally:
            second.close()
