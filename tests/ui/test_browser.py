"""The web app in a real browser (Debian's chromium driven by Playwright), in Spanish and English, at
desktop size and on a 390-px phone: search with Enter, review from the cards (marks, keyboard, the
selection, "Buscar similares"), "Más información" where the user is, the player stopping at the
shot's end, exports, the search kept in the URL, stale views, bad images, Explorar.

Screenshots go to ``test-artifacts/`` at the repository root. The tiny random model proves the
wiring, never the ranking."""

from __future__ import annotations

import re

import pytest

from testkit import ARTIFACTS, chromium_browser

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1400, "height": 1000}, "phone": {"width": 390, "height": 844}}
#: What each language says, for the checks below.
WORDS = {
    "es": {"search": "Buscar", "resource": "Recurso #1", "drop": "Coloque la imagen", "score": "Puntuación",
           "relevant": "👍 relevante", "basket": "1 toma en la selección", "bad_image": "El archivo no es una imagen válida",
           "similar": "similar", "other_lang": "English", "other_resource": "Resource #1", "empty": "Consulta vacía"},
    "en": {"search": "Search", "resource": "Resource #1", "drop": "Drop Image", "score": "Score",
           "relevant": "👍 relevant", "basket": "1 shot in the selection", "bad_image": "The file is not a valid image",
           "similar": "similar", "other_lang": "Español", "other_resource": "Recurso #1", "empty": "Empty query"},
}


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as browser:
        yield browser


def _page(browser, size: str, locale: str):
    context = browser.new_context(viewport=SIZES[size], locale=locale, accept_downloads=True,
                                  is_mobile=size == "phone", has_touch=size == "phone")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("dialog", lambda dialog: errors.append(f"unexpected dialog: {dialog.message}"))
    return context, page, errors


def _shot(page, name: str, full_page: bool = True) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def _open_tab(page, name: str) -> None:
    """A tab by its name; on a phone it may sit in Gradio's "More tabs" menu."""
    page.get_by_role("button", name="Buscar" if name == "Explorar" else "Search", exact=True).wait_for(timeout=30_000)
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.is_visible():
        tab.click()
    else:
        page.locator(".overflow-menu > button:visible").click()
        page.locator(".overflow-dropdown button", has_text=name).click()


def _wait_cards(page, timeout=60_000):
    page.locator("#be-cards .be-card").first.wait_for(timeout=timeout)
    page.wait_for_function("() => !document.querySelector('#be-cards.be-stale')", timeout=timeout)


def _search_with_enter(page, text: str) -> None:
    box = page.locator("#be-query textarea")
    box.fill(text)
    box.press("Shift+Enter")  # a new line, no search
    box.type("de noche")
    assert "\n" in box.input_value()
    box.press("Enter")
    _wait_cards(page)


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["es", "en"])
def test_search_review_details_player_and_export(browser, running_app, lang, size):
    """The main walk-through, in each language at each size: the browser's locale is the *other*
    language, so Gradio's own texts must follow the app's, not the browser's."""
    w = WORDS[lang]
    context, page, errors = _page(browser, size, "en-US" if lang == "es" else "es-ES")
    try:
        page.goto(f"{running_app.url}?lang={lang}")
        page.get_by_role("button", name=w["search"], exact=True).wait_for(timeout=30_000)
        page.wait_for_function("d => (document.querySelector('#be-image')?.innerText || '').includes(d)", arg=w["drop"],
                               timeout=15_000)
        _search_with_enter(page, "un gato en un sofá")
        assert page.locator("#be-query-limit").inner_text().strip()  # the length against the model's limit
        assert "q=un+gato" in page.url or "q=un%20gato" in page.url  # the search is in the address bar
        cards = page.locator("#be-cards .be-card")
        first = cards.first
        assert w["resource"] in first.inner_text() and w["score"] in first.inner_text()
        assert not re.search(r"-0[.,]000", page.locator("#be-cards").inner_text())
        assert first.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")

        # marks: relevant, then not relevant (never both), from the card's buttons
        first.locator("[data-action=relevant]").click()
        page.wait_for_selector("#be-cards .be-card.be-mark-relevant", timeout=15_000)
        page.locator("#be-cards .be-card").first.locator("[data-action=not_relevant]").click()
        page.wait_for_selector("#be-cards .be-card.be-mark-not_relevant", timeout=15_000)
        assert page.locator("#be-cards .be-mark-relevant").count() == 0

        # keyboard: one stop per card, arrows between cards, A adds to the selection
        page.locator("#be-cards .be-card").first.focus()
        page.keyboard.press("ArrowRight")
        focused = page.evaluate("() => document.activeElement.dataset.id")
        assert focused == page.locator("#be-cards .be-card").nth(1).get_attribute("data-id")
        outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none"  # a visible focus ring
        page.keyboard.press("a")
        page.wait_for_function("t => document.querySelector('#be-basket').innerText.includes(t)", arg=w["basket"],
                               timeout=15_000)

        # "Más información": the player starts at the shot and is where the user is
        card = page.locator("#be-cards .be-card").nth(1)
        start = card.locator(".be-card-tc").inner_text().split("–")[0].strip()
        seconds = sum(float(part) * 60 ** i for i, part in enumerate(reversed(start.split(":"))))
        card.locator(".be-more").click()
        page.wait_for_function(
            "s => { const v = document.querySelector('#be-details video');"
            " return v && v.readyState >= 1 && Math.abs(v.currentTime - s) < 0.6; }", arg=seconds, timeout=30_000)
        box = page.locator("#be-details").bounding_box()
        viewport = SIZES[size]
        assert box["y"] < viewport["height"] and box["y"] + box["height"] > 0  # visible without scrolling
        assert page.locator("#be-details .be-shotbar").count() == 1
        _shot(page, f"ui-search-{lang}-{size}")
        _shot(page, f"ui-details-{lang}-{size}", full_page=False)  # what the user sees after the click

        # the player stops at the shot's out point ("Parar" is the default)
        out = float(page.locator("#be-details .be-shotbar").get_attribute("data-out"))
        page.evaluate("() => { const v = document.querySelector('#be-details video'); v.muted = true; v.play(); }")
        page.wait_for_function(
            "o => { const v = document.querySelector('#be-details video'); return v.paused && v.currentTime >= o - 0.3; }",
            arg=out, timeout=30_000)
        assert page.evaluate("() => document.querySelector('#be-details video').currentTime") <= out + 0.3
        page.locator("#be-details-close").click()

        # export: a Spanish-Excel CSV and the JSON
        page.locator("#be-export").click()
        page.locator("#be-export-files a").first.wait_for(timeout=30_000)
        names = page.locator("#be-export-files").inner_text()
        assert ".csv" in names and ".json" in names
        if size == "desktop":
            _shot(page, f"ui-export-{lang}")
        assert not errors, errors
    finally:
        context.close()


def test_refine_similar_and_the_search_in_the_url_survive_a_reload(browser, running_app):
    context, page, errors = _page(browser, "desktop", "es-ES")
    try:
        page.goto(running_app.url)
        _search_with_enter(page, "un cohete")
        first_id = page.locator("#be-cards .be-card").first.get_attribute("data-id")
        page.locator("#be-cards .be-card").first.locator("[data-action=relevant]").click()
        page.wait_for_selector("#be-cards .be-card.be-mark-relevant", timeout=15_000)
        page.locator("#be-cards .be-card").first.locator("[data-action=basket]").click()
        page.wait_for_function("() => document.querySelector('#be-basket').innerText.includes('1 toma')", timeout=15_000)
        page.locator("#be-refine-box").get_by_text("Refinar búsqueda").first.click()
        page.locator("#be-refine").click()
        page.wait_for_function("() => document.querySelector('#be-status').innerText.includes('tras refinar')",
                               timeout=30_000)
        kept = page.locator("#be-cards .be-card").first
        assert kept.get_attribute("data-id") == first_id and "be-mark-relevant" in kept.get_attribute("class")
        _shot(page, "ui-refined")

        # "Buscar similares" on a card: the shot itself is not among the results
        page.locator("#be-cards .be-card").first.locator("[data-action=similar]").click()
        page.wait_for_function("() => document.querySelector('#be-status').innerText.includes('similar')",
                               timeout=30_000)
        ids = page.locator("#be-cards .be-card").evaluate_all("cs => cs.map((c) => c.dataset.id)")
        assert first_id not in ids
        page.wait_for_function("() => location.search.includes('like=')", timeout=15_000)

        # back to a text search, with options, then a reload: query, options, results and selection return
        page.locator("#be-fmt").get_by_text("Excel (.xlsx)").click()  # a setting kept in the browser
        page.wait_for_timeout(500)
        page.locator("#be-query textarea").fill("un gato")
        page.locator("#be-query textarea").press("Enter")
        page.wait_for_function("() => location.search.includes('q=un+gato')", timeout=30_000)
        page.reload()
        _wait_cards(page)
        assert page.locator("#be-query textarea").input_value() == "un gato"
        page.wait_for_function("() => document.querySelector('#be-basket').innerText.includes('1 toma')", timeout=15_000)
        assert page.locator("#be-fmt input[value=xlsx]").is_checked()
        # the same link in a fresh browser (a colleague): the same search, without this browser's selection
        other, other_page, other_errors = _page(browser, "desktop", "es-ES")
        try:
            other_page.goto(page.url)
            _wait_cards(other_page)
            assert other_page.locator("#be-query textarea").input_value() == "un gato"
            assert "0 tomas" in other_page.locator("#be-basket").inner_text() or \
                "vacía" in other_page.locator("#be-basket").inner_text()
            assert not other_errors, other_errors
        finally:
            other.close()
        assert not errors, errors
    finally:
        context.close()


def test_bad_image_and_database_switch_never_leave_a_stale_view(browser, running_app, tmp_path):
    fake = tmp_path / "falso.jpg"
    fake.write_text("esto no es una imagen, solo texto con extensión jpg")
    context, page, errors = _page(browser, "desktop", "es-ES")
    try:
        page.goto(running_app.url)
        _search_with_enter(page, "un gato")
        page.locator("#be-image input[type=file]").set_input_files(str(fake))
        page.wait_for_function("() => document.querySelector('#be-status').innerText.includes('no es una imagen válida')",
                               timeout=30_000)
        assert "falso.jpg" in page.locator("#be-status").inner_text()
        assert "/tmp" not in page.locator("#be-status").inner_text()
        page.wait_for_selector("#be-cards.be-stale", timeout=10_000)  # the old results are greyed out
        toasts = page.locator(".toast-body")
        toasts.first.wait_for(timeout=10_000)
        header = page.locator("#be-header").bounding_box()
        assert toasts.first.bounding_box()["y"] > header["y"] + header["height"]  # not over the header
        _shot(page, "ui-bad-image")

        # another database: the old results go
        page.locator("#be-db input").fill("subidas")
        page.locator("#be-db input").press("Enter")
        page.wait_for_function("() => document.querySelector('#be-status').innerText.includes('Base de datos cambiada')",
                               timeout=30_000)
        assert page.locator("#be-cards .be-card").count() == 0
        assert not errors, errors
    finally:
        context.close()


def test_language_switch_rerenders_what_is_on_screen(browser, running_app):
    context, page, errors = _page(browser, "desktop", "es-ES")
    try:
        page.goto(running_app.url)
        _search_with_enter(page, "un gato")
        page.locator("#be-cards .be-card").first.locator(".be-more").click()
        page.locator("#be-info").get_by_text("Recurso #1").wait_for(timeout=30_000)
        page.get_by_label("English").check()
        page.get_by_role("button", name="Search", exact=True).wait_for(timeout=15_000)
        page.wait_for_function("() => document.querySelector('#be-cards').innerText.includes('Resource #1')",
                               timeout=15_000)
        page.wait_for_function("() => document.querySelector('#be-status').innerText.includes('result')",
                               timeout=15_000)
        page.wait_for_function("() => document.querySelector('#be-info').innerText.includes('Resource #1')",
                               timeout=15_000)
        page.wait_for_function("() => (document.querySelector('#be-image')?.innerText || '').includes('Drop Image')",
                               timeout=15_000)
        assert "lang=en" in page.url
        _shot(page, "ui-switched-to-en")

        # "Loop": at the out point the player goes back to the in point
        page.locator("#be-endmode").get_by_text("Loop").click()
        bar = page.locator("#be-details .be-shotbar")
        tin, tout = float(bar.get_attribute("data-in")), float(bar.get_attribute("data-out"))
        page.evaluate("""() => { const v = document.querySelector('#be-details video'); window.bePeak = 0;
            v.addEventListener('timeupdate', () => { window.bePeak = Math.max(window.bePeak, v.currentTime); });
            v.muted = true; v.play(); }""")
        page.wait_for_function(
            "([i, o]) => { const v = document.querySelector('#be-details video');"
            " return window.bePeak >= o - 0.3 && !v.paused && v.currentTime < i + 1.0; }", arg=[tin, tout],
            timeout=30_000)
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["es", "en"])
def test_explore_plays_the_clicked_moment_and_stays_legible(browser, running_app, lang, size):
    context, page, errors = _page(browser, size, "es-ES" if lang == "es" else "en-US")
    try:
        page.goto(f"{running_app.url}?lang={lang}")
        _open_tab(page, "Explorar" if lang == "es" else "Explore")
        page.get_by_label("PCA").check()  # UMAP's first run compiles for a minute on 2 cores; the view is the same
        page.locator("#be-explore-show").click()
        dots = page.locator("#be-map-box circle")
        dots.first.wait_for(timeout=60_000)
        assert "00:" in dots.first.locator("title").text_content()  # tooltips give timecodes
        assert page.locator("#be-map-box .be-legend-item img").count() >= 1  # classes with their keyframes
        bar = page.locator("#be-timeline .be-tl-track").nth(1).locator(".be-tl-bar").last
        t = float(bar.get_attribute("data-t"))
        bar.click()
        page.wait_for_function(
            "t => { const v = document.querySelector('#be-explore-player video');"
            " return v && v.readyState >= 1 && Math.abs(v.currentTime - t) < 0.6; }", arg=t, timeout=30_000)
        dot = dots.nth(dots.count() // 2)
        t = float(dot.get_attribute("data-t"))
        dot.dispatch_event("click")
        page.wait_for_function(
            "t => { const v = document.querySelector('#be-explore-player video');"
            " return v && Math.abs(v.currentTime - t) < 0.6; }", arg=t, timeout=30_000)
        # ticks inside the axis (none clipped) and text large enough to read on a phone
        axis = page.locator("#be-timeline .be-tl-axis").bounding_box()
        for tick in page.locator("#be-timeline .be-tl-tick:visible").all():
            box = tick.bounding_box()
            assert box["x"] >= axis["x"] - 1 and box["x"] + box["width"] <= axis["x"] + axis["width"] + 1
        sizes = page.locator("#be-timeline .be-tl-tick, #be-timeline .be-tl-label").evaluate_all(
            "els => els.map((e) => parseFloat(getComputedStyle(e).fontSize))")
        assert min(sizes) >= 11
        _shot(page, f"ui-explore-{lang}-{size}")
        assert not errors, errors
    finally:
        context.close()
