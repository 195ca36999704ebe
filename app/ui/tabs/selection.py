"""The selection ("selección") and the exports of the "Buscar" tab.

The selection is a basket of shots kept across searches and databases: a card's "Selección"
button adds or removes a shot; the basket lives in the session and in the browser's storage
(it survives a reload). Results and selection export through :mod:`app.ui.exports`.
"""

from __future__ import annotations

import html
import time

import gradio as gr

from app.ui.context import UiContext
from app.ui.errors import ui_message
from app.ui.exports import provenance, slug, write_export
from app.ui.formatting import file_url
from app.ui.i18n import check_lang, t, tn
from app.ui.review import clean_basket, remove_from_basket
from app.ui.tabs.search_extras import edl_export
from pipeline.errors import BuscaError


def basket_html(ctx: UiContext, items: list[dict], lang: str) -> str:
    """The selection as a row of small cards, each with "Más información" and "Quitar"."""
    head = f'<p class="be-basket-count">{html.escape(tn(lang, "basket_count", len(items)))}</p>'
    if not items:
        return head + f'<p class="be-empty">{html.escape(t(lang, "basket_empty"))}</p>'
    cards = []
    for item in items:
        try:
            thumb = file_url(ctx.layout.resolve(str(item.get("thumbnail") or "")))
        except BuscaError:
            thumb = ""
        esc = html.escape
        label = f"{item['source']} · {item['start_tc']}"
        cards.append(
            f'<div class="be-bitem" role="listitem" tabindex="0" data-id="{esc(item["point_id"])}" '
            f'aria-label="{esc(label)}">'
            f'<img src="{esc(thumb)}" alt="" loading="lazy">'
            f'<div class="be-bitem-body"><div class="be-card-video" title="{esc(item["source"])}">{esc(item["source"])}'
            f'</div><div class="be-card-tc">{esc(item["start_tc"])} – {esc(item["end_tc"])}</div>'
            f'<div class="be-bitem-db">{esc(item["db"])}</div></div>'
            f'<div class="be-card-actions">'
            f'<button type="button" tabindex="-1" class="be-act be-more" data-action="open">'
            f'{esc(t(lang, "card_open"))}</button>'
            f'<button type="button" tabindex="-1" class="be-act" data-action="remove">'
            f'{esc(t(lang, "basket_remove"))}</button></div></div>')
    return head + f'<div class="be-basket" role="list">{"".join(cards)}</div>'


class SelectionHandlers:
    def __init__(self, ctx: UiContext):
        self.ctx = ctx

    def view(self, basket: list | None, lang: str) -> str:
        return basket_html(self.ctx, clean_basket(basket), check_lang(lang))

    def act(self, basket: list | None, lang: str, evt: gr.EventData):
        """A selection card's button: remove it, or open it (the id goes to ``selected``, details follow)."""
        lang, basket = check_lang(lang), clean_basket(basket)
        data = getattr(evt, "_data", None) or {}
        if data.get("action") == "remove":
            basket = remove_from_basket(basket, str(data.get("id")))
            return basket, self.view(basket, lang), ""
        if data.get("action") == "open":
            return basket, gr.update(), str(data.get("id") or "")
        return basket, gr.update(), ""

    def empty(self, lang: str):
        return [], self.view([], lang), gr.update(value=None, visible=False)

    def load(self, stored: list | None, lang: str):
        """The selection kept in the browser, back in the session at page load."""
        basket = clean_basket(stored)
        return basket, self.view(basket, lang)

    # --- exports -------------------------------------------------------------------------------

    def export(self, records: list[dict] | None, state: dict | None, fmt: str, timecodes: str, lang: str):
        lang = check_lang(lang)
        if not records or not state:
            raise ui_message(lang, "no_search_yet")
        query = state.get("text") or ""
        if state.get("like_label"):
            query = t(lang, "query_like", shot=state["like_label"])
        ran = (state.get("ran") or {}).get("encoder") or self.ctx.services.encoder.name  # the one that searched
        prov = provenance(query, state.get("image"), state["db"], str(ran))
        stem = f"buscaescenas-{slug(state.get('text') or state.get('like_label') or '') or 'resultados'}"
        return self._files(records, prov, stem, fmt, timecodes, lang)

    def export_basket(self, basket: list | None, fmt: str, timecodes: str, lang: str):
        lang, items = check_lang(lang), clean_basket(basket)
        if not items:
            raise ui_message(lang, "basket_empty")
        databases = ", ".join(dict.fromkeys(i["db"] for i in items))
        prov = provenance(t(lang, "basket_query"), None, databases, self.ctx.services.encoder.name)
        return self._files(items, prov, "buscaescenas-seleccion", fmt, timecodes, lang)

    def _files(self, records, prov, stem: str, fmt: str, timecodes: str, lang: str):
        stem = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
        folder = self.ctx.export_path(stem).parent
        paths = write_export(records, prov, folder, stem, lang, fmt or "csv_es", timecodes or "ms")
        edl = edl_export(self.ctx, records, folder, stem)  # for editors: CMX3600, with deep links
        return gr.update(value=[str(p) for p in [*paths, *([edl] if edl else [])]], visible=True)
