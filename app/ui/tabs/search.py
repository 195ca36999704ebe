"""The "Buscar" tab: query (text, image, weight), result cards, "Más información", refine, export.

Handlers turn UI values into a typed query, call the pipeline search or refine, and return
their outputs in the order the builder wires them. Errors from the pipeline become
``gr.Error(str(err))``; an empty query or an empty database get a clear message of their own.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import gradio as gr

from app.ui.context import Refresh, UiContext
from app.ui.formatting import (
    cards_html,
    choice_label,
    details_markdown,
    hit_record,
    shot_caption,
    write_exports,
)
from app.ui.i18n import check_lang, t
from pipeline.errors import BuscaError
from pipeline.records import SearchHit
from pipeline.search import Query, refine, search, video_overview
from pipeline.sources import load_image

log = logging.getLogger(__name__)

#: Outputs of search, refine and clear, in order.
RESULT_OUTPUTS = ("cards", "status", "records", "query", "relevant", "not_relevant", "json", "details", "files")
#: Outputs of details, in order.
DETAIL_OUTPUTS = ("details", "player", "info", "strip", "strip_state")


class SearchHandlers:
    def __init__(self, ctx: UiContext):
        self.ctx = ctx

    # --- search and refine ----------------------------------------------------------------------

    def search(self, db: str, text: str | None, image: str | None, image_weight: float, k: float,
               one_per_video: bool, video_ids: list[str] | None, lang: str):
        lang = check_lang(lang)
        text = (text or "").strip()
        if not text and not image:
            raise gr.Error(t(lang, "empty_query"))
        db = self.ctx.require_db(db, lang)
        state = {"db": db, "text": text, "image": image or None, "image_weight": float(image_weight),
                 "k": int(k), "one_per_video": bool(one_per_video), "video_ids": list(video_ids or [])}
        started = time.perf_counter()
        hits = self._run(lambda: search(self.ctx.services.store, self.ctx.ready_encoder(), db, self._query(state)))
        status = t(lang, "n_results", n=len(hits), db=db, seconds=time.perf_counter() - started)
        return self._results(hits, status, state, lang)

    def refine(self, relevant: list[str] | None, not_relevant: list[str] | None, method: str,
               state: dict | None, lang: str):
        lang = check_lang(lang)
        if not state:
            raise gr.Error(t(lang, "no_search_yet"))
        positive, negative = list(relevant or []), list(not_relevant or [])
        if not positive and not negative:
            raise gr.Error(t(lang, "nothing_marked"))
        db = self.ctx.require_db(state["db"], lang)
        hits = self._run(lambda: refine(
            self.ctx.services.store, self.ctx.ready_encoder(), db, self._query(state), positive, negative,
            method=method or "rocchio", k=state["k"], one_per_video=state["one_per_video"]))
        status = t(lang, "refined_results", n=len(hits), pos=len(positive), neg=len(negative))
        return self._results(hits, status, state, lang)

    def _run(self, call):
        try:
            return call()
        except BuscaError as err:
            raise self.ctx.error(err) from err

    @staticmethod
    def _query(state: dict) -> Query:
        image = load_image(state["image"]) if state.get("image") else None
        return Query(text=state["text"] or None, image=image, image_weight=state["image_weight"], k=state["k"],
                     one_per_video=state["one_per_video"], video_ids=tuple(state["video_ids"]) or None)

    def _results(self, hits: list[SearchHit], status: str, state: dict, lang: str) -> tuple:
        records = [hit_record(h, self.ctx.layout.resolve(h.thumbnail)) for h in hits]
        choices = [(choice_label(r), r["point_id"]) for r in records]
        return (cards_html(records, lang), status, records, state,
                gr.update(choices=choices, value=[]), gr.update(choices=choices, value=[]),
                records, gr.update(visible=False), gr.update(value=None, visible=False))

    def clear(self, lang: str) -> tuple:
        """Empty query, no results, details hidden (the outputs of search plus the inputs)."""
        empty = gr.update(choices=[], value=[])
        return ("", None, "", "", [], None, empty, empty, [], gr.update(visible=False),
                gr.update(value=None, visible=False))

    # --- details ("Más información") --------------------------------------------------------------

    @staticmethod
    def pick(evt: gr.EventData) -> tuple:
        """The rank carried by a click on a result card; the player is unmounted meanwhile, so
        that the next video starts at the shot (a new source loaded into a mounted player
        resets Gradio's ``playback_position`` to 0)."""
        return int(evt.rank), gr.update(visible=False)

    def details(self, rank: float | None, records: list[dict] | None, state: dict | None, lang: str):
        lang = check_lang(lang)
        record = next((r for r in records or [] if r["rank"] == int(rank or 0)), None)
        if record is None or not state:
            raise gr.Error(t(lang, "no_search_yet"))
        entry = self.ctx.videos(state["db"]).get(record["video_id"])
        info = details_markdown(record, entry, lang)
        media = self.ctx.media_path(entry)
        if entry is not None and media is None:
            info += "\n" + t(lang, "no_media", path=entry.path)
        strip, shots = self._strip(entry, record, lang)
        player = gr.update(value=str(media) if media else None, playback_position=float(record["start_s"]), visible=True)
        return (gr.update(visible=True), player, info, strip,
                {"media": str(media) if media else None, "starts": shots})

    def _strip(self, entry, record: dict, lang: str):
        if entry is None:
            return gr.update(value=[], selected_index=None), []
        try:
            overview = video_overview(self.ctx.layout, entry)
        except (BuscaError, OSError) as err:
            log.warning("no shots for %s: %s", entry.video_id, err)
            return gr.update(value=[], selected_index=None), []
        items = [(str(th.path), shot_caption(th.shot)) for th in overview.thumbs]
        starts = [th.shot.start_s for th in overview.thumbs]
        index = next((i for i, th in enumerate(overview.thumbs) if th.shot.index == record["shot_index"]), None)
        return gr.update(value=items, selected_index=index), starts

    @staticmethod
    def seek(strip_state: dict | None, evt: gr.SelectData):
        """Play the clicked shot of the strip: same video, new start position."""
        if not strip_state or not strip_state.get("media"):
            return gr.update()
        start = strip_state["starts"][evt.index]
        return gr.update(value=strip_state["media"], playback_position=float(start))

    # --- export and database change ----------------------------------------------------------------

    def export(self, records: list[dict] | None, lang: str):
        if not records:
            raise gr.Error(t(check_lang(lang), "no_search_yet"))
        stamp = time.strftime("%Y%m%d-%H%M%S")
        csv_path = self.ctx.export_path(f"buscaescenas-{stamp}.csv")
        paths = write_exports(records, csv_path, csv_path.with_suffix(".json"))
        return gr.update(value=[str(p) for p in paths], visible=True)

    def video_choices(self, db: str | None):
        videos = self.ctx.videos(db)
        return gr.update(choices=[(v.source, v.video_id) for v in videos.values()], value=[])


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
