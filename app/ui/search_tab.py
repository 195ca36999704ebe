"""The search tab: query (text, image, weight), result cards, "Más información", refine, export."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from app.ui.context import Refresh, UiContext
from app.ui.search_handlers import SearchHandlers

#: Opens a card on click (or Enter): highlights it and sends its rank to the server.
CARDS_JS = """
const open = (card) => {
  element.querySelectorAll('.be-card.be-selected').forEach((c) => c.classList.remove('be-selected'));
  card.classList.add('be-selected');
  trigger('select', {rank: Number(card.dataset.rank)});
};
element.addEventListener('click', (event) => {
  const card = event.target.closest('.be-card');
  if (!card) return;
  event.preventDefault();
  open(card);
});
element.addEventListener('keydown', (event) => {
  const card = event.target.closest('.be-card');
  if (card && (event.key === 'Enter' || event.key === ' ')) { event.preventDefault(); open(card); }
});
"""


@dataclass
class SearchTab:
    text: gr.Textbox
    image: gr.Image
    weight: gr.Slider
    k: gr.Slider
    one_per_video: gr.Checkbox
    videos: gr.Dropdown


def _query_inputs(ctx: UiContext) -> SearchTab:
    tx = ctx.texts
    with gr.Row(equal_height=True):
        text = tx.bind(gr.Textbox(label=tx("query_text"), placeholder=tx("query_placeholder"), lines=3, scale=3,
                                  elem_id="be-query"), label="query_text", placeholder="query_placeholder")
        image = tx.bind(gr.Image(label=tx("query_image", mb=ctx.ui.max_upload_mb), type="filepath", image_mode=None,
                                 sources=["upload", "clipboard"], height=180, scale=2, elem_id="be-image"),
                        {"mb": ctx.ui.max_upload_mb}, label="query_image")
    with gr.Accordion(tx("options"), open=False) as options:
        tx.bind(options, label="options")
        with gr.Row():
            weight = tx.bind(gr.Slider(0.0, 1.0, value=0.5, step=0.05, label=tx("image_weight"),
                                       info=tx("image_weight_info")), label="image_weight", info="image_weight_info")
            k = tx.bind(gr.Slider(1, 100, value=20, step=1, label=tx("k")), label="k")
        with gr.Row():
            one = tx.bind(gr.Checkbox(label=tx("one_per_video"), value=False), label="one_per_video")
            videos = tx.bind(gr.Dropdown(choices=[], multiselect=True, label=tx("restrict_videos")),
                             label="restrict_videos")
    return SearchTab(text, image, weight, k, one, videos)


def build_search_tab(ctx: UiContext, db: gr.Dropdown, lang: gr.State) -> list[Refresh]:
    """The tab; returns what must follow the database choice (the video filter)."""
    tx, handlers = ctx.texts, SearchHandlers(ctx)
    q = _query_inputs(ctx)
    with gr.Row():
        search_btn = tx.bind(gr.Button(tx("search"), variant="primary", elem_id="be-search"), value="search")
        clear_btn = tx.bind(gr.Button(tx("clear"), elem_id="be-clear"), value="clear")
    status = gr.Markdown(label=tx("search_status"), elem_id="be-status")
    records, query, strip_state = gr.State([]), gr.State(None), gr.State(None)
    selected = gr.Number(visible=False, precision=0)
    with gr.Row():
        with gr.Column(scale=3):
            cards = gr.HTML("", label=tx("results"), js_on_load=CARDS_JS, elem_id="be-cards")
        with gr.Column(scale=2, visible=False, elem_id="be-details") as details:
            tx.bind(gr.Markdown(f"## {tx('details_title')}"), fmt="## {}", value="details_title")
            player = tx.bind(gr.Video(label=tx("player"), interactive=False, autoplay=False, elem_id="be-player"),
                             label="player")
            info = gr.Markdown(elem_id="be-info")
            strip = tx.bind(gr.Gallery(label=tx("other_shots"), columns=3, height=220, allow_preview=False, fit_columns=False,
                                       object_fit="cover", elem_id="be-strip"), label="other_shots")
    refine_box = _refine_box(ctx)
    with gr.Row():
        export_btn = tx.bind(gr.Button(tx("export"), size="sm", scale=1, elem_id="be-export"), value="export")
        files = tx.bind(gr.File(label=tx("export_files"), file_count="multiple", interactive=False, visible=False,
                                scale=2), label="export_files")
    with gr.Accordion(tx("results_json"), open=False) as json_box:
        tx.bind(json_box, label="results_json")
        json_out = gr.JSON()

    results = [cards, status, records, query, refine_box.relevant, refine_box.not_relevant, json_out, details, files]
    details_out = [details, player, info, strip, strip_state]
    search_inputs = [db, q.text, q.image, q.weight, q.k, q.one_per_video, q.videos, lang]
    opts = {"concurrency_id": "search", "concurrency_limit": 2, "show_progress_on": [cards]}
    search_btn.click(handlers.search, search_inputs, results, api_name="search", **opts)
    q.text.submit(handlers.search, search_inputs, results, api_visibility="private", **opts)
    refine_box.button.click(handlers.refine, [refine_box.relevant, refine_box.not_relevant, refine_box.method, query,
                                              lang], results, api_name="refine", **opts)
    clear_btn.click(handlers.clear, [lang], [q.text, q.image, *results], api_name="clear")
    cards.select(handlers.pick, None, [selected, player], api_visibility="private", queue=False).then(
        handlers.details, [selected, records, query, lang], details_out, api_name="details", scroll_to_output=True)
    strip.select(handlers.seek, [strip_state], player, api_visibility="private")
    export_btn.click(handlers.export, [records, lang], files, api_name="export")
    return [(q.videos, lambda name, _lang: handlers.video_choices(name))]


@dataclass
class RefineBox:
    relevant: gr.CheckboxGroup
    not_relevant: gr.CheckboxGroup
    method: gr.Radio
    button: gr.Button


def _refine_box(ctx: UiContext) -> RefineBox:
    tx = ctx.texts
    with gr.Accordion(tx("refine"), open=False) as box:
        tx.bind(box, label="refine")
        tx.bind(gr.Markdown(tx("refine_help")), value="refine_help")
        with gr.Row():
            relevant = tx.bind(gr.CheckboxGroup(choices=[], label=tx("relevant"), elem_id="be-relevant"),
                               label="relevant")
            not_relevant = tx.bind(gr.CheckboxGroup(choices=[], label=tx("not_relevant"), elem_id="be-not-relevant"),
                                   label="not_relevant")
        with gr.Row():
            method = tx.bind(gr.Radio([("Rocchio", "rocchio"), ("Qdrant recommend", "recommend")], value="rocchio",
                                      label=tx("refine_method")), label="refine_method")
            button = tx.bind(gr.Button(tx("refine"), variant="secondary", elem_id="be-refine"), value="refine")
    return RefineBox(relevant, not_relevant, method, button)
