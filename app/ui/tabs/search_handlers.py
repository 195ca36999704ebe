"""Handlers of the "Buscar" tab: search, refine, "more like this", the cards' review actions and "Más información".

Each handler turns UI values into typed arguments, calls one pipeline function, formats records
for display and maps errors to a ``gr.Error`` in the user's language. The view is the list of
records on screen (marked shots of earlier rounds first); the query state remembers what
produced it, the status line as a text key (so a language switch re-renders it) and the URL
parameters that reproduce it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import gradio as gr

from app.ui.context import UiContext
from app.ui.errors import ui_error, ui_message
from app.ui.formatting import (
    choice_label,
    details_markdown,
    hit_record,
    shot_bar_html,
    shot_caption,
    shot_reference,
)
from app.ui.i18n import check_lang, decimal, t, tn
from app.ui.review import apply_marks, clean_basket, keep_disjoint, keep_marked, set_mark, toggle_basket
from app.ui.tabs.encoder_picker import encoders_for, ran_state, ran_text
from app.ui.tabs.search_extras import SearchExtras, cards_for
from pipeline.errors import BuscaError
from pipeline.records import SearchHit
from pipeline.search import DEFAULT_WITHIN_S, Query, refine, search, similar, video_overview
from pipeline.sources import load_image

log = logging.getLogger(__name__)

#: Outputs of search, refine, "more like this" and clear, in order.
RESULT_OUTPUTS = ("cards", "status", "records", "query", "relevant", "not_relevant", "json", "details", "files")
#: Outputs of details, in order (then the id of the shot it shows).
DETAIL_OUTPUTS = ("details", "player", "info", "strip", "strip_state", "shot_bar")
#: Outputs of a card action: the results, then the selection (state, its view), the opened card, the player.
ACTION_OUTPUTS = (*RESULT_OUTPUTS, "basket", "basket_view", "selected", "player")
#: Words CLIP's 77 tokens hold, roughly, when the tokenizer is not loaded yet to count them.
WORD_LIMIT = 60


def status_text(lang: str, spec: list | None) -> str:
    """The status line from its ``[key, values]`` spec: a float gets the language's decimal mark, a
    ``[key, count]`` value becomes a count that agrees in number ("1 relevante", "2 relevantes")."""
    if not spec:
        return ""
    key, values, *more = spec  # more: specs of sentences that follow (what a minimum score hid)
    values = {k: decimal(lang, v, 2) if isinstance(v, float) else tn(lang, v[0], v[1]) if isinstance(v, list) else v
              for k, v in values.items()}
    n = values.pop("n", None)
    text = tn(lang, key, n, **values) if n is not None else t(lang, key, **values)
    return text + "".join(status_text(lang, extra) for extra in more)


class SearchHandlers:
    def __init__(self, ctx: UiContext):
        self.ctx = ctx
        self.extras = SearchExtras(ctx, self)  # "A, then B", minimum score and order, deep links

    # --- search, refine, more like this ------------------------------------------------------

    def search(self, db: str, text: str | None, image: str | None, image_weight: float, k: float,
               one_per_video: bool, video_ids: list[str] | None, lang: str, basket: list | None = None,
               then_text: str | None = None, then_image: str | None = None, within: float = DEFAULT_WITHIN_S,
               min_score: float | None = None, sort: str = "score", encoder: str | None = "",
               query_encoder: str | None = "auto"):
        """A search; with ``then_text``/``then_image``, pairs "A, then B within ``within`` s"; results below
        ``min_score`` hidden, in ``sort`` order (see :mod:`app.ui.tabs.search_extras`); ``encoder`` and
        ``query_encoder`` from the encoder picker (:mod:`app.ui.tabs.encoder_picker`)."""
        lang = check_lang(lang)
        text = (text or "").strip()
        if not text and not image:
            raise ui_message(lang, "empty_query")
        db = self.ctx.require_db(db, lang)
        known = self.ctx.videos(db)
        state = {"db": db, "text": text, "image": image or None, "image_weight": float(image_weight), "k": int(k),
                 "one_per_video": bool(one_per_video), "video_ids": [v for v in video_ids or [] if v in known],
                 "like": None, **self.extras.state(then_text, then_image, within, min_score, sort),
                 "encoder": encoder or "", "query_encoder": query_encoder or "auto"}
        started = time.perf_counter()
        pairs = self.extras.is_temporal(state)
        image_encoder, text_encoder, choice = self._run(lang, lambda: encoders_for(
            self.ctx, db, state["encoder"], state["query_encoder"], bool(text)))
        hits, hidden = self._run(lang, lambda: self.extras.results(
            db, state, self._query(state, lang),
            lambda q: search(self.ctx.services.store, image_encoder, db, q, text_encoder if q.text else None)))
        state["ran"] = ran_state(image_encoder, text_encoder, choice, text)
        spec = ["vb_n_pairs" if pairs else "n_results",
                {"n": len(hits), "db": db, "seconds": round(time.perf_counter() - started, 2)}]
        truncated = self._tokens(text)
        if truncated and truncated[0] > truncated[1] and not pairs:
            spec = ["n_results_cut", {**spec[1], "limit": truncated[1]}]
        state["status"] = self.extras.status(spec, hidden, state)
        return self.outputs(self._results(self.extras.records(hits, db, pairs), state, lang, basket, [], []))

    def refine(self, relevant: list[str] | None, not_relevant: list[str] | None, method: str,
               state: dict | None, records: list[dict] | None, lang: str, basket: list | None = None):
        lang = check_lang(lang)
        if not state:
            raise ui_message(lang, "no_search_yet")
        positive, negative = list(relevant or []), list(not_relevant or [])
        if not positive and not negative:
            raise ui_message(lang, "nothing_marked")
        if self.extras.is_temporal(state):
            raise ui_message(lang, "vb_refine_pairs")
        db = self.ctx.require_db(state["db"], lang)
        seeds = [state["like"]] if state.get("like") and state["like"] not in negative else []
        query = self._query(state, lang) if not state.get("like") else None
        image_encoder, text_encoder, _ = self._run(lang, lambda: encoders_for(
            self.ctx, db, state.get("encoder"), state.get("query_encoder"), bool(state.get("text"))))
        new = self._run(lang, lambda: refine(
            self.ctx.services.store, image_encoder, db, query, [*seeds, *positive], negative,
            method=method or "rocchio", k=state["k"], one_per_video=state["one_per_video"], text_encoder=text_encoder))
        view = keep_marked(records or [], self.records(new, db), positive, negative)
        state = {**state, "status": ["refined_results", {"n": len(new), "pos": ["n_relevant", len(positive)],
                                                          "neg": ["n_not_relevant", len(negative)]}]}
        return self.outputs(self._results(view, state, lang, basket, positive, negative))

    def similar_view(self, record: dict, k: float, one_per_video: bool, video_ids: list[str] | None, lang: str,
                     basket: list | None):
        """"Buscar similares" on a card: the shots nearest to that shot's stored vector."""
        db = self.ctx.require_db(record.get("db"), lang)
        encoder = self._run(lang, lambda: self.ctx.services.encoder_for_db(db))  # its vector name; nothing loads
        known = self.ctx.videos(db)
        restrict = [v for v in video_ids or [] if v in known]
        hits = self._run(lang, lambda: similar(self.ctx.services.store, encoder.vector_name, db, record["point_id"],
                                               int(k), tuple(restrict) or None, bool(one_per_video)))
        like = f"{record['source']} · {record['start_tc']}"
        state = {"db": db, "text": "", "image": None, "image_weight": 0.5, "k": int(k), "video_ids": restrict,
                 "one_per_video": bool(one_per_video), "like": record["point_id"], "like_label": like,
                 "like_ref": shot_reference(record),
                 "status": ["n_similar", {"n": len(hits), "shot": like}]}
        return self._results(self.records(hits, db), state, lang, basket, [], [])

    def similar_records(self, db: str, shot: str, k: float = 20, one_per_video: bool = False) -> list[dict]:
        """``/similar`` for API clients: "more like this" from a shot's point id (from ``/search``)."""
        db = self.ctx.require_db(db, "en")
        encoder = self._run("en", lambda: self.ctx.services.encoder_for_db(db))  # its vector name; nothing loads
        hits = self._run("en", lambda: similar(self.ctx.services.store, encoder.vector_name, db, shot, int(k),
                                               None, bool(one_per_video)))
        return [{key: v for key, v in r.items() if key != "thumbnail_path"} for r in self.records(hits, db)]

    @staticmethod
    def _run(lang: str, call: Callable):
        try:
            return call()
        except BuscaError as err:
            raise ui_error(lang, err) from err

    def _query(self, state: dict, lang: str) -> Query:
        image = None
        if state.get("image"):
            image = self._run(lang, lambda: load_image(state["image"], self.ctx.ui.max_upload_mb * 2**20))
        return Query(text=state["text"] or None, image=image, image_weight=state["image_weight"], k=state["k"],
                     one_per_video=state["one_per_video"], video_ids=tuple(state["video_ids"]) or None)

    def _tokens(self, text: str) -> tuple[int, int] | None:
        """``(tokens, limit)`` of ``text`` with the encoder's tokenizer, once it is loaded."""
        encoder = self.ctx.services.encoder
        count, limit = getattr(encoder, "count_tokens", None), getattr(encoder, "context_length", None)
        n = count(text) if count and text else None
        return (n, limit) if n is not None and limit else None

    def query_limit(self, text: str | None, lang: str) -> str:
        """The line under the query box: its length against what the text encoder reads."""
        lang, text = check_lang(lang), (text or "").strip()
        if not text:
            return ""
        tokens = self._tokens(text)
        if tokens:
            n, limit = tokens
            return t(lang, "limit_tokens_over" if n > limit else "limit_tokens", n=n, limit=limit)
        words = len(text.split())
        return t(lang, "limit_words_over" if words > WORD_LIMIT else "limit_words", n=words, limit=WORD_LIMIT)

    def records(self, hits: list[SearchHit], db: str) -> list[dict]:
        videos = self.ctx.videos(db)
        return [{**hit_record(h, self.ctx.layout.resolve(h.thumbnail), db, videos.get(h.video_id),
                              self.ctx.video_fps(h.video_id)), "link": self.extras.link(db, h.video_id, h.start_s)}
                for h in hits]

    def _results(self, records: list[dict], state: dict, lang: str, basket: list | None, relevant: list[str],
                 not_relevant: list[str]) -> tuple:
        state = {**state, "url": self._url(state, lang)}
        choices = [(choice_label(r), r["point_id"]) for r in records]
        basket_ids = {b["point_id"] for b in clean_basket(basket)}
        public = [{k: v for k, v in r.items() if k != "thumbnail_path"} for r in records]
        status = status_text(lang, state["status"]) + ran_text(lang, state.get("ran"))
        return {"cards": cards_for(records, lang, basket_ids), "status": status,
                "records": records, "query": state, "relevant": gr.update(choices=choices, value=relevant),
                "not_relevant": gr.update(choices=choices, value=not_relevant), "json": public,
                "details": gr.update(visible=False), "files": gr.update(value=None, visible=False)}

    @staticmethod
    def outputs(values: dict) -> tuple:
        """:data:`RESULT_OUTPUTS` in order, from a dict made by the handlers."""
        return tuple(values[name] for name in RESULT_OUTPUTS)

    @staticmethod
    def _url(state: dict, lang: str) -> dict:
        """The URL parameters that reproduce this view (app.js writes them into the address bar)."""
        params = {"db": state["db"], "k": state["k"], "lang": lang}
        if state.get("like_ref"):
            params["like"] = state["like_ref"]
        else:
            params["q"] = state["text"]
            params["w"] = state["image_weight"]
        if state["one_per_video"]:
            params["one"] = 1
        if state["video_ids"]:
            params["v"] = ",".join(state["video_ids"])
        if state.get("then_text"):  # "A, then B" (an example image of B cannot travel in a URL)
            params.update(then=state["then_text"], within=f"{state['within']:g}")
        return params

    def clear(self, lang: str) -> tuple:
        """Empty query, no results, details hidden (the query inputs, then the result outputs)."""
        empty = gr.update(choices=[], value=[])
        return ("", None, "", "", [], None, empty, empty, [], gr.update(visible=False),
                gr.update(value=None, visible=False))

    def db_changed(self, db: str | None, lang: str) -> tuple:
        """A new database: the old results go (they answered another database)."""
        lang = check_lang(lang)
        empty = gr.update(choices=[], value=[])
        status = t(lang, "db_changed", db=db or "") if db else ""
        return ("", status, [], None, empty, empty, [], gr.update(visible=False), gr.update(value=None, visible=False))

    # --- marks, selection and "more like this" from the cards ----------------------------------

    def act(self, records: list[dict] | None, relevant: list[str] | None, not_relevant: list[str] | None,
            state: dict | None, basket: list | None, k: float, one_per_video: bool, video_ids: list[str] | None,
            lang: str, evt: gr.EventData):
        """A card's button (or key): mark, unmark, add to the selection, more like this, or open it.
        Returns :data:`ACTION_OUTPUTS`; ``selected`` is set only to open a card (details follow)."""
        lang, records, basket = check_lang(lang), list(records or []), clean_basket(basket)
        data = getattr(evt, "_data", None) or {}
        action, point = data.get("action"), data.get("id")
        record = next((r for r in records if r["point_id"] == point), None)
        out: dict = {"basket": basket, "selected": ""}
        if record is None:
            pass
        elif action == "open":
            out.update(selected=point, player=gr.update(visible=False))
        elif action == "similar":
            out.update(self.similar_view(record, k, one_per_video, video_ids, lang, basket))
        elif action == "basket":
            basket = toggle_basket(basket, record)
            out.update(basket=basket, basket_view=self.basket_view(basket, lang),
                       cards=cards_for(records, lang, {b["point_id"] for b in basket}))
        elif action in ("relevant", "not_relevant"):
            rel, neg = set_mark(relevant or [], not_relevant or [], point, action)
            cards, records = self.marked(records, rel, neg, basket, lang)
            out.update(cards=cards, records=records, relevant=gr.update(value=rel), not_relevant=gr.update(value=neg))
        return tuple(out.get(name, gr.update()) for name in ACTION_OUTPUTS)

    @staticmethod
    def rerender(records: list[dict] | None, basket: list | None, lang: str) -> str:
        """The cards as they are, drawn again (another language, or the selection changed)."""
        return cards_for(list(records or []), check_lang(lang), {b["point_id"] for b in clean_basket(basket)})

    @staticmethod
    def marked(records: list[dict], relevant: list[str], not_relevant: list[str], basket: list,
               lang: str) -> tuple[str, list[dict]]:
        """The cards and records with the marks applied."""
        records = apply_marks(records, relevant, not_relevant)
        return cards_for(records, lang, {b["point_id"] for b in basket}), records

    def ticked(self, winner: str):
        """A tick in the refine box's lists: the shot leaves the other list; the cards follow."""
        def handler(records, relevant, not_relevant, basket, lang):
            rel, neg = keep_disjoint(relevant or [], not_relevant or [], winner)
            cards, records = self.marked(list(records or []), rel, neg, clean_basket(basket), check_lang(lang))
            return cards, records, gr.update(value=rel), gr.update(value=neg)
        return handler

    def basket_view(self, basket: list | None, lang: str) -> str:
        from app.ui.tabs.selection import basket_html

        return basket_html(self.ctx, clean_basket(basket), check_lang(lang))

    # --- details ("Más información") -----------------------------------------------------------

    def details(self, selected: str | None, records: list[dict] | None, basket: list | None, lang: str):
        lang = check_lang(lang)
        if not selected:
            return (gr.update(),) * (len(DETAIL_OUTPUTS) + 1)
        records = list(records or [])
        record = next((r for r in records if r["point_id"] == selected), None)
        position = records.index(record) + 1 if record is not None else None
        if record is None:
            record = next((b for b in clean_basket(basket) if b["point_id"] == selected), None)
        if record is None:
            raise ui_message(lang, "no_search_yet")
        return (*self.show(record, position, lang), selected)

    def show(self, record: dict, position: int | None, lang: str, at: float | None = None) -> tuple:
        """:data:`DETAIL_OUTPUTS` for one record: the player at the shot's start (or at ``at`` seconds)."""
        entry = self.ctx.videos(record.get("db")).get(record["video_id"])
        info = details_markdown(record, position, entry, lang) + self.extras.details_extra(record, lang)
        media = self.ctx.media_path(entry)
        if entry is not None and media is None:
            info += "\n" + t(lang, "no_media", path=entry.source)
        strip, shots = self._strip(entry, record)
        start = float(record["start_s"]) if at is None else float(at)
        player = gr.update(value=str(media) if media else None, playback_position=start, visible=True)
        strip_state = {"media": str(media) if media else None, "shots": shots,
                       "duration_s": record.get("duration_s"), "record": record}
        return (gr.update(visible=True), player, info, strip, strip_state, shot_bar_html(record, lang))

    def _strip(self, entry, record: dict):
        if entry is None:
            return gr.update(value=[], selected_index=None), []
        try:
            overview = video_overview(self.ctx.layout, entry)
        except (BuscaError, OSError) as err:
            log.warning("no shots for %s: %s", entry.video_id, err)
            return gr.update(value=[], selected_index=None), []
        items = [(str(th.path), shot_caption(th.shot)) for th in overview.thumbs]
        shots = [[th.shot.start_s, min(th.shot.end_s, entry.duration_s or th.shot.end_s)] for th in overview.thumbs]
        index = next((i for i, th in enumerate(overview.thumbs) if th.shot.index == record["shot_index"]), None)
        return gr.update(value=items, selected_index=index), shots

    @staticmethod
    def seek(strip_state: dict | None, lang: str, evt: gr.SelectData):
        """Play the clicked shot of the strip: same video, new start position, its in/out on the bar."""
        if not strip_state or not strip_state.get("media"):
            return gr.update(), gr.update()
        from pipeline.core import format_timecode

        start, end = strip_state["shots"][evt.index]
        record = {**strip_state["record"], "start_s": start, "end_s": end, "start_tc": format_timecode(start),
                  "end_tc": format_timecode(end)}
        return (gr.update(value=strip_state["media"], playback_position=float(start)),
                shot_bar_html(record, check_lang(lang)))

    def video_choices(self, db: str | None):
        """The video filter's choices for ``db`` (its value stays: a database switch by hand empties it,
        a search drops ids of another database)."""
        videos = self.ctx.videos(db)
        return gr.update(choices=[(v.source, v.video_id) for v in videos.values()])
