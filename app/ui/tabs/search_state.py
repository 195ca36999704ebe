"""The "Buscar" tab's state beyond one event: the search restored from the URL and settings from the
browser's storage at page load, the URL of a view, the language switch, the image check on upload."""

from __future__ import annotations

import contextlib

import gradio as gr

from app.ui.context import UiContext
from app.ui.errors import ui_error
from app.ui.i18n import check_lang, t
from app.ui.review import clean_basket
from app.ui.tabs.search_handlers import RESULT_OUTPUTS, SearchHandlers, status_text
from app.ui.tabs.selection import SelectionHandlers
from app.ui.urlstate import SearchParams, clean_prefs
from pipeline.errors import BuscaError, QueryError
from pipeline.index import shot_point_id
from pipeline.search import DEFAULT_WITHIN_S, to_hits
from pipeline.sources import load_image


def url_of(query: dict | None):
    return (query or {}).get("url")


def save_prefs(k, weight, one, method, fmt, timecodes, end, lang) -> dict:
    return clean_prefs({"k": k, "weight": weight, "one": one, "method": method, "fmt": fmt, "tc": timecodes,
                        "end": end, "lang": lang})


def check_image(ctx: UiContext):
    """On upload: a file that is not a usable image is taken out at once, with the reason."""
    def check(path: str | None, lang: str):
        lang = check_lang(lang)
        if not path:
            return gr.update(), gr.update()
        try:
            load_image(path, ctx.ui.max_upload_mb * 2**20)
        except BuscaError as err:
            message = ui_error(lang, err).message
            gr.Warning(message, title=t(lang, "toast_warning"))
            return None, f"⚠️ {message}"
        return gr.update(), gr.update()
    return check


def loader(ctx: UiContext, handlers: SearchHandlers, selection: SelectionHandlers):
    def load(stored_basket, stored_prefs, request: gr.Request):
        params = SearchParams.from_query(request.query_params if request else {})
        prefs = clean_prefs(stored_prefs)
        lang = params.lang or prefs["lang"] or ctx.texts.lang
        k = params.k or prefs["k"]
        weight = params.weight if params.weight is not None else prefs["weight"]
        one = params.one if params.one is not None else prefs["one"]
        basket, basket_view = selection.load(stored_basket, lang)
        db = params.db or ctx.services.settings.db
        known = ctx.videos(db)
        videos = gr.update(choices=[(v.source, v.video_id) for v in known.values()],
                           value=[v for v in params.videos if v in known])
        results: tuple = (gr.update(),) * len(RESULT_OUTPUTS)
        if params.runs_a_search:
            try:
                if params.like:
                    results = _like_from_url(ctx, handlers, db, params.like, k, one, lang, basket)
                else:
                    results = handlers.search(db, params.text, None, weight, k, one,
                                              [v for v in params.videos if v in known], lang, basket, params.then,
                                              None, params.within if params.within is not None else DEFAULT_WITHIN_S)
            except gr.Error as err:
                results = (gr.update(), f"⚠️ {err.message}", *(gr.update(),) * (len(RESULT_OUTPUTS) - 2))
        text = params.text if params.runs_a_search else gr.update()  # never wipe what the user began typing
        then = (params.then, params.within if params.within is not None else DEFAULT_WITHIN_S) if params.then else \
            (gr.update(), gr.update())
        return (text, weight, k, one, videos, prefs["method"], prefs["fmt"], prefs["tc"], prefs["end"],
                basket, basket_view, *results, *then)
    return load


def _like_from_url(ctx: UiContext, handlers: SearchHandlers, db: str, like: str, k: int, one: bool, lang: str,
                   basket: list) -> tuple:
    video_id, _, number = like.partition(":")
    entry = ctx.services.catalog.get(db, video_id)  # a re-segmented video's ids no longer follow shot numbers
    pid = shot_point_id(ctx.layout, entry.encoder if entry else None, video_id, int(number) - 1)
    record = handlers.records([_stored_hit(ctx, db, pid, lang)], db)[0]
    return handlers.outputs(handlers.similar_view(record, k, one, [], lang, basket))


def _stored_hit(ctx: UiContext, db: str, pid: str, lang: str):
    points = ctx.services.store.retrieve(ctx.require_db(db, lang), [pid])
    if not points:
        raise ui_error(lang, QueryError(code="query.unknown_shot", shot=pid, db=db))
    return to_hits(points)[0]


def relanger(handlers: SearchHandlers, selection: SelectionHandlers):
    """What the tab shows, again in the new language (labels are relabelled by app.py)."""
    def relang(lang, records, query, basket, opened, text):
        lang = check_lang(lang)
        basket = clean_basket(basket)
        cards = handlers.rerender(records, basket, lang) if records else gr.update()
        status = status_text(lang, query.get("status")) if query else gr.update()
        info = shot_bar = gr.update()
        if opened:
            with contextlib.suppress(gr.Error):  # the shot is gone: keep what is shown
                _, _, info, _, _, shot_bar, _ = handlers.details(opened, records, basket, lang)
        return (cards, status, selection.view(basket, lang), info, shot_bar, handlers.query_limit(text, lang))
    return relang
