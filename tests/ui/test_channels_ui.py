"""The search tab's channel parts: options, the reasons shown with each hit, the spoken moment; and
a search through the API on a database with a speech channel. The speech text is written straight
into the store with a tiny hashing embedder (no model): this proves the wiring and the display,
not the ranking."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from app.ui import channels_format, channels_ui
from pipeline.channels import ShotText, write_channel
from pipeline.search import SearchResult
from pipeline.store import Bm25Encoder, copy_collection, point_id


class HashingEmbedder:
    """Bag of hashed words, L2-normalised: deterministic and model-free."""

    name, vector_name, dim = "hashing-test", "hash8", 8

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        for word in text.lower().split():
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        return v / max(np.linalg.norm(v), 1e-6)

    def embed_passages(self, texts):
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text):
        return self._vec(text)


RECORD = {"rank": 1, "matches": [{"channel": "speech", "ranking": "words", "rank": 1},
                                  {"channel": "visual", "ranking": "text", "rank": 7}],
          "snippets": [{"channel": "speech", "text": "los <b>bidones</b> de Casablanca", "spans": [[7, 14], [21, 31]],
                        "moment_s": 3.5}]}


def test_reasons_mark_the_query_words_escape_the_text_and_speak_spanish_or_english():
    html = channels_format.why_html(RECORD, "es")
    assert "Encontrado por" in html and "Lo que se dice n.º 1 (palabras)" in html and "Imagen n.º 7 (texto)" in html
    assert "<mark>bidones</mark>" in html and "&lt;b&gt;" in html and "<b>bidones" not in html
    assert "dicho en 00:00:03.500" in html
    assert "What is said #1 (words)" in channels_format.why_html(RECORD, "en")
    md = channels_format.why_markdown(RECORD, "es")
    assert "Por qué aparece" in md and "**bidones**" in md and "\\<b\\>" in md
    assert channels_format.why_html({"rank": 1}, "es") == ""


def test_options_map_to_the_query_and_notes_name_what_is_missing():
    assert channels_format.query_channels(["visual", "speech", "ocr", "description"], [1, 1, 1, 1], "rrf") == \
        {"channels": None, "image_fusion": "rrf", "weights": ()}
    assert channels_format.query_channels(["ocr", "speech"], [1, 2, 0.5, 1], "vector") == \
        {"channels": ("speech", "ocr"), "image_fusion": "vector", "weights": (("speech", 2.0), ("ocr", 0.5))}
    result = SearchResult([], ("visual",), missing=("ocr",), words_only=())
    assert "no tiene: Texto en pantalla" in channels_format.status_notes(result, "db", "es")
    words = SearchResult([], ("speech",), words_only=("speech",))
    assert "only" in channels_format.status_notes(words, "db", "en")


def test_the_moment_button_shows_only_for_speech_and_plays_from_it():
    shown, moment = channels_ui.moment_button(1, [RECORD], "es")
    assert shown["visible"] and "00:00:03.500" in shown["value"] and moment == 3.5
    hidden, none = channels_ui.moment_button(1, [{"rank": 1, "snippets": []}], "es")
    assert hidden["visible"] is False and none is None
    played = channels_ui.play_moment(3.5, {"media": "/data/media/x.mp4", "starts": []})
    assert played["playback_position"] == 3.5 and played["value"] == "/data/media/x.mp4"


@pytest.fixture(scope="module")
def speech_db(running_app):
    """'canales': the running app's shots, the first one saying something about bidones."""
    services = running_app.ctx.services
    store, embedder = services.store, HashingEmbedder()
    if not store.has_collection("canales"):
        copy_collection(store, store, "archivo", "canales")
        services.catalog.record_many("canales", services.catalog.videos("archivo").values())
        segments = [[0.4, 1.6, "los bidones de Casablanca", [[0.4, 0.6, "los"], [0.7, 1.1, "bidones"],
                                                             [1.2, 1.3, "de"], [1.3, 1.6, "Casablanca"]]]]
        write_channel(store, "canales", running_app.video_id, "speech",
                      [ShotText(0, "los bidones de Casablanca", {"speech_segments": segments})], embedder, Bm25Encoder())
        store.flush()
    services._text_embedder = embedder
    return point_id(running_app.video_id, 0)


def test_search_over_channels_through_the_api_says_why(client, speech_db):
    cards, status, _rel, _not, records, _files = client.predict(
        "canales", "bidón Casablanca", None, 0.5, 5, False, [], ["speech"], 1, 1, 1, 1, "rrf", api_name="/search")
    assert records[0]["point_id"] == speech_db
    assert records[0]["matches"][0] == {"channel": "speech", "ranking": "words", "rank": 1}
    assert "<mark>bidones</mark>" in cards and "Encontrado por" in cards
    _player, info, _strip = client.predict(1, api_name="/details")
    assert "Por qué aparece" in info and "**bidones**" in info
    _, status, *_ = client.predict("canales", "bidón", None, 0.5, 5, False, [], ["speech", "description"],
                                   1, 1, 1, 1, "rrf", api_name="/search")
    assert "no tiene: Descripción del análisis" in status
