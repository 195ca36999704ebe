"""The "Buscar" tab: query (text, image, weight), result cards you review in place, "Más información"
with a player that stops or loops at the shot's end, refine, the selection, exports.

The handlers live in :mod:`app.ui.tabs.search_handlers` (search, refine, cards, details) and
:mod:`app.ui.tabs.selection` (the selection and the exports); this module builds and wires the
components, restores a search from the URL and settings from the browser's storage.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from app.ui import channels_ui
from app.ui.components import QueryImage
from app.ui.context import Refresh, UiContext
from app.ui.exports import FORMATS
from app.ui.tabs.encoder_picker import EncoderPicker, build_encoder_picker, refresh_choices
from app.ui.tabs.search_extras import (
    LINK_JS,
    DetailTools,
    OrderControls,
    ThenBox,
    build_detail_tools,
    build_order_controls,
    build_then_box,
)
from app.ui.tabs.search_handlers import (
    ACTION_OUTPUTS,
    DETAIL_OUTPUTS,
    RESULT_OUTPUTS,
    SearchHandlers,
)
from app.ui.tabs.search_state import check_image, loader, relanger, save_prefs, url_of
from app.ui.tabs.selection import SelectionHandlers
from app.ui.urlstate import DEFAULT_PREFS, END_MODES

#: Cards and selection items: a click or a key sends ``{action, id}``; arrows move between cards;
#: after the server re-renders the grid, focus goes back to the card that had it.
CARDS_JS = """
const ITEMS = '.be-card, .be-bitem';
const KEYS = {r: 'relevant', n: 'not_relevant', s: 'similar', a: 'basket', delete: 'remove', supr: 'remove'};
const send = (card, action) => {
  element.dataset.focus = card.dataset.id;
  if (action === 'open') {
    element.querySelectorAll('.be-selected').forEach((c) => c.classList.remove('be-selected'));
    card.classList.add('be-selected');
  }
  trigger('select', {action: action, id: card.dataset.id});
};
element.addEventListener('click', (event) => {
  const card = event.target.closest(ITEMS);
  if (!card || event.target.closest('.be-link')) return;  // a deep link opens in its own tab
  const button = event.target.closest('[data-action]');
  event.preventDefault();
  send(card, button ? button.dataset.action : 'open');
});
element.addEventListener('keydown', (event) => {
  const card = event.target.closest(ITEMS);
  if (!card) return;
  const cards = [...element.querySelectorAll(ITEMS)];
  const i = cards.indexOf(card);
  const perRow = Math.max(1, cards.filter((c) => c.offsetTop === cards[0].offsetTop).length);
  const moves = {ArrowRight: 1, ArrowLeft: -1, ArrowDown: perRow, ArrowUp: -perRow, Home: -i, End: cards.length};
  if (event.key in moves) {
    event.preventDefault();
    cards[Math.max(0, Math.min(cards.length - 1, i + moves[event.key]))].focus();
    return;
  }
  if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); send(card, 'open'); return; }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const action = KEYS[event.key.toLowerCase()];
  if (action && card.querySelector('[data-action="' + action + '"]')) { event.preventDefault(); send(card, action); }
});
element.addEventListener('focusin', (event) => {
  const card = event.target.closest(ITEMS);
  if (card) element.dataset.focus = card.dataset.id;
});
watch('value', () => {
  const id = element.dataset.focus;
  const lost = !document.activeElement || document.activeElement === document.body;
  if (!id || !lost) return;
  const card = [...element.querySelectorAll(ITEMS)].find((c) => c.dataset.id === id);
  if (card) card.focus({preventScroll: true});
});
"""


@dataclass
class SearchTab:
    text: gr.Textbox
    limit: gr.Markdown
    image: QueryImage
    weight: gr.Slider
    k: gr.Slider
    one_per_video: gr.Checkbox
    videos: gr.Dropdown
    then: ThenBox
    order: OrderControls
    encoders: EncoderPicker
    channels: channels_ui.ChannelControls

    @property
    def known_item_inputs(self) -> list:
        """"A, then B", minimum score and order: inputs of ``/search`` (before the encoder picker's)."""
        return [self.then.text, self.then.image, self.then.within, self.order.min_score, self.order.sort]


def _query_inputs(ctx: UiContext) -> SearchTab:
    tx = ctx.texts
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=240):
            # lines=1 with room to grow: Enter searches, Shift+Enter starts a new line (Gradio's textbox rule)
            text = tx.bind(gr.Textbox(label=tx("query_text"), placeholder=tx("query_placeholder"), lines=1, max_lines=6,
                                      info=tx("query_enter"), elem_id="be-query"),
                           label="query_text", placeholder="query_placeholder", info="query_enter")
            limit = gr.Markdown("", elem_id="be-query-limit")
        image = tx.bind(QueryImage(label=tx("query_image", mb=ctx.ui.max_upload_mb), type="filepath", image_mode=None,
                                   sources=["upload", "clipboard"], height=180, scale=2, min_width=240,
                                   elem_id="be-image"), {"mb": ctx.ui.max_upload_mb}, label="query_image")
    then = build_then_box(ctx)
    with tx.accordion("options", open=False):
        with gr.Row():
            weight = tx.bind(gr.Slider(0.0, 1.0, value=0.5, step=0.05, label=tx("image_weight"),
                                       info=tx("image_weight_info"), elem_id="be-weight"),
                             label="image_weight", info="image_weight_info")
            k = tx.bind(gr.Slider(1, 100, value=DEFAULT_PREFS["k"], step=1, label=tx("k"), elem_id="be-k"), label="k")
        with gr.Row():
            one = tx.bind(gr.Checkbox(label=tx("one_per_video"), value=False, elem_id="be-one"), label="one_per_video")
            videos = tx.bind(gr.Dropdown(choices=[], multiselect=True, allow_custom_value=True,
                                         label=tx("restrict_videos")), label="restrict_videos")
        order = build_order_controls(ctx)
        encoders = build_encoder_picker(ctx)
        channels = channels_ui.build_channel_controls(ctx)
    return SearchTab(text, limit, image, weight, k, one, videos, then, order, encoders, channels)


@dataclass
class Details:
    column: gr.Column
    player: gr.Video
    shot_bar: gr.HTML
    end_mode: gr.Radio
    info: gr.Markdown
    strip: gr.Gallery
    close: gr.Button
    tools: DetailTools
    moment: gr.Button


def _details(ctx: UiContext) -> Details:
    tx = ctx.texts
    with gr.Column(scale=2, visible=False, elem_id="be-details", min_width=300) as column:
        with gr.Row(elem_id="be-details-head"):
            tx.bind(gr.Markdown(f"## {tx('details_title')}"), fmt="## {}", value="details_title")
            close = tx.bind(gr.Button(tx("close"), size="sm", scale=0, min_width=80, elem_id="be-details-close"),
                            value="close")
        player = tx.bind(gr.Video(label=tx("player"), interactive=False, autoplay=False, elem_id="be-player"),
                         label="player")
        shot_bar = gr.HTML("", elem_id="be-shotbar-box")
        end_mode = tx.bind(gr.Radio([(tx(f"end_{m}"), m) for m in END_MODES], value=DEFAULT_PREFS["end"],
                                    label=tx("end_mode"), elem_id="be-endmode"),
                           label="end_mode", choices=[(f"end_{m}", m) for m in END_MODES])
        moment = gr.Button(visible=False, size="sm", elem_id="be-moment")
        info = gr.Markdown(elem_id="be-info")
        tools = build_detail_tools(ctx)
        strip = tx.bind(gr.Gallery(label=tx("other_shots"), columns=3, height=220, allow_preview=False,
                                   fit_columns=False, object_fit="cover", elem_id="be-strip"), label="other_shots")
    return Details(column, player, shot_bar, end_mode, info, strip, close, tools, moment)


@dataclass
class RefineBox:
    relevant: gr.CheckboxGroup
    not_relevant: gr.CheckboxGroup
    method: gr.Radio
    button: gr.Button


def _refine_box(ctx: UiContext) -> RefineBox:
    tx = ctx.texts
    with tx.accordion("refine", "refine_help", open=False, elem_id="be-refine-box"):
        with gr.Row():
            relevant = tx.bind(gr.CheckboxGroup(choices=[], label=tx("relevant"), elem_id="be-relevant"),
                               label="relevant")
            not_relevant = tx.bind(gr.CheckboxGroup(choices=[], label=tx("not_relevant"), elem_id="be-not-relevant"),
                                   label="not_relevant")
        with gr.Row():
            method = tx.bind(gr.Radio([("Rocchio", "rocchio"), ("Qdrant recommend", "recommend")], value="rocchio",
                                      label=tx("refine_method"), elem_id="be-method"), label="refine_method")
            button = tx.bind(gr.Button(tx("refine"), variant="secondary", elem_id="be-refine"), value="refine")
    return RefineBox(relevant, not_relevant, method, button)


@dataclass
class Exports:
    fmt: gr.Radio
    timecodes: gr.Radio
    results: gr.Button
    basket: gr.Button
    empty: gr.Button
    files: gr.File
    basket_view: gr.HTML


def _selection_and_exports(ctx: UiContext) -> Exports:
    tx = ctx.texts
    with tx.accordion("basket_title", "basket_help", open=True, elem_id="be-basket-box"):
        basket_view = gr.HTML("", js_on_load=CARDS_JS, elem_id="be-basket")
    with tx.accordion("export_title", open=True, elem_id="be-export-box"):
        with gr.Row():
            fmt = tx.bind(gr.Radio([(tx(f"fmt_{f}"), f) for f in FORMATS], value=DEFAULT_PREFS["fmt"],
                                   label=tx("export_format"), elem_id="be-fmt"),
                          label="export_format", choices=[(f"fmt_{f}", f) for f in FORMATS])
            timecodes = tx.bind(gr.Radio([(tx("tc_ms"), "ms"), (tx("tc_frames"), "frames")], value=DEFAULT_PREFS["tc"],
                                         label=tx("export_timecodes"), elem_id="be-tc"),
                                label="export_timecodes", choices=[("tc_ms", "ms"), ("tc_frames", "frames")])
        with gr.Row():
            results = tx.bind(gr.Button(tx("export"), size="sm", elem_id="be-export"), value="export")
            basket = tx.bind(gr.Button(tx("basket_export"), size="sm", elem_id="be-basket-export"),
                             value="basket_export")
            empty = tx.bind(gr.Button(tx("basket_clear"), size="sm", variant="stop", elem_id="be-basket-clear"),
                            value="basket_clear")
        files = tx.bind(gr.File(label=tx("export_files"), file_count="multiple", interactive=False, visible=False,
                                elem_id="be-export-files"), label="export_files")
    return Exports(fmt, timecodes, results, basket, empty, files, basket_view)


@dataclass
class SearchView:
    """What app.py wires beyond the tab: page load, the language switch, the database switch."""

    load: object  # fn(stored_basket, stored_prefs, request) -> load_outputs
    load_inputs: list
    load_outputs: list
    relang: object  # fn(lang, ...) -> relang_outputs
    relang_inputs: list
    relang_outputs: list
    refreshers: list[Refresh]
    prefs: gr.BrowserState
    gradio_texts: list  # visible components that show Gradio's own texts


def build_search_tab(ctx: UiContext, db: gr.Dropdown, lang: gr.State) -> SearchView:
    """The tab; returns the page-load and language hooks and what follows the database choice."""
    tx, handlers, selection = ctx.texts, SearchHandlers(ctx), SelectionHandlers(ctx)
    q = _query_inputs(ctx)
    with gr.Row():
        search_btn = tx.bind(gr.Button(tx("search"), variant="primary", elem_id="be-search"), value="search")
        clear_btn = tx.bind(gr.Button(tx("clear"), elem_id="be-clear"), value="clear")
    status = gr.Markdown(elem_id="be-status")
    records, query, strip_state, opened = gr.State([]), gr.State(None), gr.State(None), gr.State("")
    basket = gr.State([])
    basket_store = gr.BrowserState([], storage_key="buscaescenas-seleccion", secret="buscaescenas-seleccion")
    prefs = gr.BrowserState(dict(DEFAULT_PREFS), storage_key="buscaescenas-ajustes", secret="buscaescenas-ajustes")
    selected = gr.Textbox(visible=False)  # the point id whose details to open (/details takes it)
    url_box = gr.JSON(visible=False)  # the URL parameters of the view, for app.js (a State never reaches the page)
    with gr.Row(elem_id="be-results-row"):
        with gr.Column(scale=3, min_width=300):
            cards = gr.HTML("", js_on_load=CARDS_JS, elem_id="be-cards")
        d = _details(ctx)
    refine_box = _refine_box(ctx)
    ex = _selection_and_exports(ctx)
    with tx.accordion("results_json", open=False):
        json_out = gr.JSON()

    named = {"cards": cards, "status": status, "records": records, "query": query, "relevant": refine_box.relevant,
             "not_relevant": refine_box.not_relevant, "json": json_out, "details": d.column, "files": ex.files,
             "basket": basket, "basket_view": ex.basket_view, "selected": selected, "player": d.player,
             "strip": d.strip, "strip_state": strip_state, "info": d.info, "shot_bar": d.shot_bar}
    results = [named[n] for n in RESULT_OUTPUTS]
    details_out = [named[n] for n in DETAIL_OUTPUTS] + [opened]
    search_inputs = [db, q.text, q.image, q.weight, q.k, q.one_per_video, q.videos, lang, basket,
                     *q.known_item_inputs, q.encoders.encoder, q.encoders.query_encoder, *q.channels.inputs]
    opts = {"concurrency_id": "search", "concurrency_limit": 2, "show_progress_on": [cards]}
    set_url = "(u) => { if (window.beSetUrl && u) window.beSetUrl(u); }"
    stale = "() => { if (window.beStale) window.beStale(true); }"
    fresh = "() => { if (window.beStale) window.beStale(false); }"

    for trigger in (search_btn.click, q.text.submit, refine_box.button.click):
        trigger(None, None, None, js=stale)
    refined = refine_box.button.click(handlers.refine, [refine_box.relevant, refine_box.not_relevant,
                                                        refine_box.method, query, records, lang, basket],
                                      results, api_name="refine", **opts)
    refined.failure(None, None, None, js=fresh)  # a refused refinement leaves the view as it was: current
    for event in (search_btn.click(handlers.search, search_inputs, results, api_name="search", **opts),
                  q.text.submit(handlers.search, search_inputs, results, api_visibility="private", **opts), refined):
        # a failed search keeps the old results greyed out: they do not answer the query on screen
        event.success(url_of, [query], url_box, api_visibility="private", queue=False).then(
            None, [url_box], None, js=set_url).then(None, None, None, js=fresh)
    q.text.input(handlers.query_limit, [q.text, lang], q.limit, api_visibility="private", queue=False,
                 trigger_mode="always_last", show_progress="hidden")
    q.image.upload(check_image(ctx), [q.image, lang], [q.image, status], api_visibility="private").then(
        None, [status], None, js="(s) => { if (s && s.startsWith('⚠') && window.beStale) window.beStale(true, true); }")
    clear_btn.click(handlers.clear, [lang], [q.text, q.image, *results], api_name="clear").then(
        None, None, None, js=fresh).then(lambda: "", None, q.limit, api_visibility="private")

    card_inputs = [records, refine_box.relevant, refine_box.not_relevant, query, basket, q.k, q.one_per_video,
                   q.videos, lang]
    acted = cards.select(handlers.act, card_inputs, [named[n] for n in ACTION_OUTPUTS], api_visibility="private",
                         concurrency_id="search", show_progress="hidden")
    opened_event = acted.then(handlers.details, [selected, records, basket, lang], details_out, api_name="details")
    spoken = gr.State(None)  # the opened hit's spoken moment (seconds), for "play from the spoken moment"
    opened_event.then(channels_ui.moment_button, [selected, records, basket, lang], [d.moment, spoken],
                      api_visibility="private")
    d.moment.click(channels_ui.play_moment, [spoken, strip_state], d.player, api_name="play_moment")
    acted.success(url_of, [query], url_box, api_visibility="private", queue=False).then(
        None, [url_box], None, js=set_url)
    _wire_known_item_tools(handlers, d, records, query, basket, opened, opened_event, details_out, url_box, lang,
                           set_url)
    refine_box.relevant.input(handlers.ticked("relevant"), [records, refine_box.relevant, refine_box.not_relevant,
                                                             basket, lang],
                              [cards, records, refine_box.relevant, refine_box.not_relevant], api_visibility="private")
    refine_box.not_relevant.input(handlers.ticked("not_relevant"), [records, refine_box.relevant,
                                                                     refine_box.not_relevant, basket, lang],
                                  [cards, records, refine_box.relevant, refine_box.not_relevant],
                                  api_visibility="private")
    d.strip.select(handlers.seek, [strip_state, lang], [d.player, d.shot_bar], api_visibility="private")
    d.close.click(lambda: (gr.update(visible=False), ""), None, [d.column, opened], api_visibility="private",
                  js="() => { document.querySelectorAll('#be-details video').forEach((v) => v.pause()); }")
    d.end_mode.change(None, [d.end_mode], None, js="(m) => { window.beEndMode = m; }")

    ex.basket_view.select(selection.act, [basket, lang], [basket, ex.basket_view, selected],
                          api_visibility="private").then(
        handlers.details, [selected, records, basket, lang], details_out, api_visibility="private")
    ex.results.click(selection.export, [records, query, ex.fmt, ex.timecodes, lang], ex.files, api_name="export")
    ex.basket.click(selection.export_basket, [basket, ex.fmt, ex.timecodes, lang], ex.files, api_name="export_selection")
    ex.empty.click(selection.empty, [lang], [basket, ex.basket_view, ex.files], api_visibility="private")
    basket.change(lambda items, shown, lang: (items, handlers.rerender(shown, items, lang)), [basket, records, lang],
                  [basket_store, cards], api_visibility="private")
    settings = [q.k, q.weight, q.one_per_video, refine_box.method, ex.fmt, ex.timecodes, d.end_mode, lang]
    for component in settings:
        component.change(save_prefs, settings, prefs, api_visibility="private", queue=False)
    db.input(handlers.db_changed, [db, lang], [*results], api_visibility="private").then(
        lambda: gr.update(value=[]), None, q.videos, api_visibility="private").then(None, None, None, js=fresh)
    gr.api(handlers.similar_records, api_name="similar")

    load_outputs = [q.text, q.weight, q.k, q.one_per_video, q.videos, refine_box.method, ex.fmt, ex.timecodes,
                    d.end_mode, basket, ex.basket_view, *results, q.then.text, q.then.within]
    relang_inputs = [records, query, basket, opened, q.text]
    relang_outputs = [cards, status, ex.basket_view, d.info, d.shot_bar, q.limit]
    return SearchView(
        load=loader(ctx, handlers, selection), load_inputs=[basket_store, prefs], load_outputs=load_outputs,
        relang=relanger(handlers, selection), relang_inputs=relang_inputs, relang_outputs=relang_outputs,
        refreshers=[(q.videos, lambda name, _lang: handlers.video_choices(name)),
                    (q.encoders.encoder, lambda name, code: refresh_choices(ctx, name, code))],
        prefs=prefs, gradio_texts=[q.image])


def _wire_known_item_tools(handlers: SearchHandlers, d: Details, records, query, basket, opened, opened_event,
                           details_out: list, url_box, lang, set_url: str) -> None:
    """"Buscar otras apariciones", subtitles, the opened shot's moment in the address bar, and a deep link
    (``?db=&video=&t=``) opening the player when the page loads."""
    extras, tools = handlers.extras, d.tools
    current = gr.State(None)  # a deep link's shot (an opened card is found by its id)
    shown = [opened, records, basket, current, lang]
    tools.appearances.click(extras.appearances, shown, tools.found, api_name="appearances")
    tools.subtitles.click(extras.subtitles, shown, tools.files, api_name="subtitles")
    opened_event.then(lambda: (gr.update(value="", visible=False), gr.update(value=None, visible=False)), None,
                      [tools.found, tools.files], api_visibility="private", queue=False)
    opened_event.then(extras.url_with_shot, [query, opened, records, basket], url_box, api_visibility="private",
                      queue=False).then(None, [url_box], None, js=set_url)
    opener = gr.HTML("", js_on_load=LINK_JS, elem_id="be-link-opener", padding=False)
    opener.select(extras.open_link, [basket, lang], [*details_out, current], api_visibility="private")
