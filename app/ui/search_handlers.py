"""Search tab handlers: UI values -> typed query -> pipeline search/refine -> cards and details.

Each handler returns its outputs in the order the tab wires them (see ``search_tab``).
Errors from the pipeline become ``gr.Error(str(err))``; an empty query or an empty
database get a clear message of their own.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import gradio as gr

from app.ui.context import UiContext
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

    @staticmethod
    def _run(call):
        try:
            return call()
        except BuscaError as err:
            raise gr.Error(str(err)) from err

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
        media = self._media(entry)
        if entry is not None and media is None:
            info += "\n" + t(lang, "no_media", path=entry.path)
        strip, shots = self._strip(entry, record, lang)
        player = gr.update(value=str(media) if media else None, playback_position=float(record["start_s"]), visible=True)
        return (gr.update(visible=True), player, info, strip,
                {"media": str(media) if media else None, "starts": shots})

    def _media(self, entry) -> Path | None:
        """The video file, if it lies where the app may serve it (``<data>/media``)."""
        if entry is None:
            return None
        path = Path(entry.path).resolve()
        media_root = (self.ctx.layout.root / "media").resolve()
        return path if path.is_file() and path.is_relative_to(media_root) else None

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
