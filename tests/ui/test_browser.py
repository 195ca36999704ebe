"""The search screen in a real browser (Debian's chromium driven by Playwright): type a query,
press Buscar, see the result cards, open one and see the player start at the shot. Screenshots
go to ``test-artifacts/`` at the repository root."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="es-ES")
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("dialog", lambda dialog: errors.append(f"unexpected dialog: {dialog.message}"))
    yield page
    page.close()
    assert not errors, errors


def test_search_open_a_card_and_play_the_shot(page, running_app):
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page.goto(running_app.url)
    page.fill("#be-query textarea", "un gato en un sofá")
    page.click("#be-search")
    cards = page.locator(".be-card")
    cards.first.wait_for(timeout=60_000)
    assert cards.count() >= 1
    assert "Recurso #1" in cards.first.inner_text() and "Score" in cards.first.inner_text()
    assert page.locator(".be-card img").first.evaluate("img => img.complete && img.naturalWidth > 0")

    for card in (cards.first, cards.last):  # opening a second card starts the player at its shot too
        start = card.locator(".be-card-tc").inner_text().split("–")[0].strip()
        card.locator(".be-more").click()
        seconds = sum(float(part) * 60 ** i for i, part in enumerate(reversed(start.split(":"))))
        page.wait_for_function(
            "s => { const v = document.querySelector('#be-details video');"
            " return v && v.readyState >= 1 && Math.abs(v.currentTime - s) < 0.6; }", arg=seconds, timeout=30_000)
    assert page.locator("#be-info").inner_text().startswith("Recurso #")
    assert page.locator("#be-strip img").count() >= 1
    page.screenshot(path=str(artifacts / "ui-search.png"), full_page=True)


def test_language_switch_relabels_the_page(page, running_app):
    page.goto(running_app.url + "?lang=en")
    page.get_by_role("button", name="Search", exact=True).wait_for(timeout=30_000)
    assert page.get_by_text("Describe the scene in words").count() == 1
    page.get_by_label("Español").check()
    page.get_by_role("button", name="Buscar", exact=True).wait_for(timeout=10_000)
    assert page.get_by_text("Introduzca la descripción textual de la escena").count() == 1
