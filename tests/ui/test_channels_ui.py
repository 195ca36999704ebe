"""The search tab's channel parts: options, the reasons shown with each hit, the spoken moment; and
a search through the API on a database with a speech channel. The speech text is written straight
into the store with a tiny hashing embedder (no model): this proves the wiring and the display,
not the ranking."""

from __future__ import annotations

import pytest

from app.ui import channels_format, channels_ui
from pipeline.channels import ShotText, write_channel
from pipeline.search import SearchResult
from pipeline.store import Bm25Encoder, copy_collection

from testkit import ARTIFACTS, HashingEmbedder, chromium_browser

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
    a, b = SearchResult([], ("visual",), missing=("ocr",)), SearchResult([], ("visual", "speech"), missing=("ocr",))
    notes = channels_format.result_notes([a, b])  # both parts of "A, then B": each channel named once
    assert notes["missing"] == ["ocr"] and notes["used"] == ["visual", "speech"]
    assert "no tiene: Texto en pantalla. Se ha buscado en: Imagen, Lo que se dice" in \
        channels_format.status_notes(notes, "db", "es")
    words = channels_format.result_notes([SearchResult([], ("speech",), words_only=("speech",))])
    assert "only" in channels_format.status_notes(words, "db", "en")
    assert channels_format.status_notes(None, "db", "es") == ""


def test_the_moment_button_shows_only_for_speech_and_plays_from_it():
    record = {**RECORD, "point_id": "p1"}
    shown, moment = channels_ui.moment_button("p1", [record], [], "es")
    assert shown["visible"] and "00:00:03.500" in shown["value"] and moment == 3.5
    in_basket, moment = channels_ui.moment_button("p1", [], [record], "en")  # opened from the selection
    assert "Play from 00:00:03.500" in in_basket["value"] and moment == 3.5
    hidden, none = channels_ui.moment_button("p2", [record, {"point_id": "p2", "snippets": []}], [], "es")
    assert hidden["visible"] is False and none is None
    assert channels_ui.moment_button("", [record], [], "es") == ({"__type__": "update"}, {"__type__": "update"})
    played = channels_ui.play_moment(3.5, {"media": "/data/media/x.mp4", "shots": []})
    assert played["playback_position"] == 3.5 and played["value"] == "/data/media/x.mp4"


@pytest.fixture(scope="module")
def speech_db(running_app):
    """'canales': the running app's shots; the first says something about bidones, the last (a later
    shot of the same video) about the port. Returns both point ids."""
    services = running_app.ctx.services
    store, embedder, vid = services.store, HashingEmbedder(), running_app.video_id
    shots = sorted((p for p in store.scroll("archivo") if p.payload["video_id"] == vid),
                   key=lambda p: p.payload["start_s"])
    assert len(shots) >= 2, "the slideshow should give the tiny model at least two shots"
    first, last = shots[0], shots[-1]
    if not store.has_collection("canales"):
        copy_collection(store, store, "archivo", "canales")
        services.catalog.record_many("canales", services.catalog.videos("archivo").values())
        segments = [[0.4, 1.6, "los bidones de Casablanca", [[0.4, 0.6, "los"], [0.7, 1.1, "bidones"],
                                                             [1.2, 1.3, "de"], [1.3, 1.6, "Casablanca"]]]]
        texts = [ShotText(first.payload["shot_index"], "los bidones de Casablanca", {"speech_segments": segments}),
                 ShotText(last.payload["shot_index"], "el puerto de Barcelona")]
        write_channel(store, "canales", vid, "speech", texts, embedder, Bm25Encoder(),
                      ids={t.shot_index: p.id for t, p in zip(texts, (first, last), strict=True)})
        store.flush()
    services._text_embedder = embedder
    return first.id, last.id


def _search(client, text, channels=("speech",), then="", within=60, min_score=0, weights=(1, 1, 1, 1)):
    """``/search``: db, query, image, weight, k, one per video, videos; "and then", within, minimum score,
    order; encoder, query encoder; channels, their four weights, text+image fusion."""
    return client.predict("canales", text, None, 0.5, 5, False, [], then, None, within, min_score, "score", "",
                          "auto", list(channels), *weights, "rrf", api_name="/search")


def test_search_over_channels_through_the_api_says_why(client, speech_db):
    cards, status, _rel, _not, records, _files = _search(client, "bidón Casablanca")
    assert records[0]["point_id"] == speech_db[0]
    assert records[0]["matches"][0] == {"channel": "speech", "ranking": "words", "rank": 1}
    assert "<mark>bidones</mark>" in cards and "Encontrado por" in cards
    _player, info, _strip, _bar = client.predict(speech_db[0], api_name="/details")
    assert "Por qué aparece" in info and "**bidones**" in info
    _, status, *_ = _search(client, "bidón", channels=("speech", "description"))
    assert "no tiene: Descripción del análisis" in status


def test_fused_scores_a_minimum_score_and_a_then_b_over_the_channels(client, speech_db):
    """The fused score is the share of the best possible: a shot both speech rankings (words and
    meaning) put first scores 1.0; a minimum score keeps that meaning; "A, then B" pairs what is said."""
    *_, records, _ = _search(client, "bidones Casablanca")
    assert records[0]["point_id"] == speech_db[0] and records[0]["score"] == pytest.approx(1.0)
    assert all(0 < r["score"] <= 1.0 for r in records)
    *_, kept, _ = _search(client, "bidones Casablanca", min_score=0.99)
    assert [r["point_id"] for r in kept] == [speech_db[0]]
    cards, status, *_, pairs, _ = _search(client, "bidones Casablanca", then="puerto Barcelona")
    assert "Par #1" in cards and "1 par en «canales»" in status
    assert pairs[0]["point_id"] == speech_db[0] and pairs[0]["then"]["point_id"] == speech_db[1]
    assert pairs[0]["score"] == pytest.approx(1.0)  # both moments first in both of their rankings
    assert pairs[0]["then"]["matches"][0]["channel"] == "speech"
    *_, none, _ = _search(client, "puerto Barcelona", then="bidones Casablanca")  # the reverse order
    assert not any(p["point_id"] == speech_db[1] and p["then"]["point_id"] == speech_db[0] for p in none)


WHY_WORDS = {"es": ("Encontrado por", "Lo que se dice", "Por qué aparece"),
             "en": ("Found by", "What is said", "Why it came up")}


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_spoken_hit_in_the_browser_says_why_and_plays_from_the_moment(running_app, speech_db, lang):
    """The walk-through of a channel search: a Spanish query in the address bar, the card's reasons
    with the query's words marked, "Más información", then "play from the spoken moment", in each
    language. Screenshots: test-artifacts/ui-channels-{es,en}.png, ui-channels-why-{es,en}.png."""
    from urllib.parse import urlencode

    found_by, speech, why = WHY_WORDS[lang]
    with chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="es-ES")
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(f"{running_app.url}?{urlencode({'db': 'canales', 'q': 'bidones Casablanca', 'lang': lang})}")
        first = page.locator("#be-cards .be-card").first
        first.wait_for(timeout=60_000)
        text = first.inner_text()
        assert found_by in text and speech in text
        assert first.locator("mark", has_text="bidones").count() == 1  # the query's word, marked
        assert first.get_attribute("data-id") == speech_db[0]
        first.locator(".be-more").click()
        moment = page.locator("#be-moment")
        moment.wait_for(state="visible", timeout=30_000)
        page.wait_for_function("w => (document.querySelector('#be-info')?.innerText || '').includes(w)", arg=why,
                               timeout=30_000)
        assert "00:00:00.700" in moment.inner_text()  # where the query's word "bidones" is said
        moment.click()
        page.wait_for_function(
            "() => { const v = document.querySelector('#be-details video');"
            " return v && v.readyState >= 1 && Math.abs(v.currentTime - 0.7) < 0.3; }", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / f"ui-channels-{lang}.png"), full_page=True)
        page.locator("#be-info").screenshot(path=str(ARTIFACTS / f"ui-channels-why-{lang}.png"))  # scrolled into view
        assert not errors, errors
