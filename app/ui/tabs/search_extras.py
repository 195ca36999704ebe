"""The search tab's known-item tools, kept apart from the tab's own handlers: "A, then B" (a second
query box), a minimum score and an order, pair cards, "Buscar otras apariciones" (reused footage),
subtitles, the EDL beside the table/JSON exports, and deep links (``?db=&video=&t=`` opens the
player at that moment; every result carries one, and the address bar gets one when a shot opens).

:mod:`app.ui.tabs.search` builds these components where they belong; :mod:`app.ui.tabs.search_handlers`
calls these handlers.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from app.config import public_url
from app.ui.components import QueryImage
from app.ui.context import UiContext
from app.ui.errors import ui_error, ui_message
from app.ui.formatting import cards_html, file_url, md_escape, score_text
from app.ui.i18n import check_lang, decimal, t
from app.ui.review import clean_basket
from pipeline.core import atomic, format_timecode
from pipeline.errors import BuscaError
from pipeline.exports import deep_link, hit_clips, parse_link, subtitles, video_transcript, write_edl
from pipeline.search import (
    DEFAULT_WITHIN_S,
    SORTS,
    DuplicateOptions,
    Query,
    appearances,
    arrange,
    temporal_search,
    to_hits,
)
from pipeline.sources import load_image
from pipeline.store import point_id

log = logging.getLogger(__name__)

SORT_TEXTS = {"score": "vb_sort_score", "video": "vb_sort_video", "date": "vb_sort_date", "date-asc": "vb_sort_date_asc"}
assert set(SORT_TEXTS) == set(SORTS)

#: Reads ``?db=&video=&t=`` when the page opens and sends it to the server (a deep link).
LINK_JS = """
const params = new URLSearchParams(window.location.search);
if (params.get('video')) {
  trigger('select', {db: params.get('db') || '', video: params.get('video'), t: params.get('t') || '0'});
}
"""


@dataclass
class ThenBox:
    text: gr.Textbox
    image: QueryImage
    within: gr.Slider


@dataclass
class OrderControls:
    min_score: gr.Number
    sort: gr.Dropdown


@dataclass
class DetailTools:
    appearances: gr.Button
    subtitles: gr.Button
    found: gr.HTML
    files: gr.File


def build_then_box(ctx: UiContext) -> ThenBox:
    """The second query box, B of "A, then B within N seconds" (collapsed: a plain search by default)."""
    tx = ctx.texts
    with tx.accordion("vb_then_box", "vb_then_help", open=False, elem_id="be-then-box"):
        with gr.Row(equal_height=True):
            text = tx.bind(gr.Textbox(label=tx("vb_then_text"), placeholder=tx("vb_then_placeholder"), lines=2,
                                      scale=3, elem_id="be-then"), label="vb_then_text", placeholder="vb_then_placeholder")
            image = tx.bind(QueryImage(label=tx("vb_then_image"), type="filepath", image_mode=None,
                                       sources=["upload", "clipboard"], height=140, scale=2, elem_id="be-then-image"),
                            label="vb_then_image")
        within = tx.bind(gr.Slider(0, 600, value=DEFAULT_WITHIN_S, step=5, label=tx("vb_within"), elem_id="be-within"),
                         label="vb_within")
    return ThenBox(text, image, within)


def build_order_controls(ctx: UiContext) -> OrderControls:
    tx = ctx.texts
    with gr.Row():
        min_score = tx.bind(gr.Number(value=0.0, minimum=-1.0, maximum=1.0, step=0.01, label=tx("vb_min_score"),
                                      info=tx("vb_min_score_info"), elem_id="be-min-score"),
                            label="vb_min_score", info="vb_min_score_info")
        sort = tx.bind(gr.Dropdown(choices=[(tx(key), value) for value, key in SORT_TEXTS.items()], value="score",
                                   label=tx("vb_sort"), elem_id="be-sort"),
                       label="vb_sort", choices=[(key, value) for value, key in SORT_TEXTS.items()])
    return OrderControls(min_score, sort)


def build_detail_tools(ctx: UiContext) -> DetailTools:
    """"Buscar otras apariciones" and the subtitles, under "Más información"."""
    tx = ctx.texts
    with gr.Row():
        found_btn = tx.bind(gr.Button(tx("vb_appearances"), size="sm", elem_id="be-appearances-btn"),
                            value="vb_appearances")
        subs_btn = tx.bind(gr.Button(tx("vb_subtitles"), size="sm", elem_id="be-subtitles-btn"), value="vb_subtitles")
    found = gr.HTML("", visible=False, elem_id="be-appearances")
    files = tx.bind(gr.File(label=tx("vb_subtitles_files"), file_count="multiple", interactive=False, visible=False,
                            elem_id="be-subtitles"), label="vb_subtitles_files")
    return DetailTools(found_btn, subs_btn, found, files)


def cards_for(records: list[dict], lang: str, basket_ids: set[str] | frozenset = frozenset()) -> str:
    """The result grid: pair cards for a temporal search's records, the usual cards otherwise."""
    if records and records[0].get("then"):
        return pair_cards(records, lang)
    return cards_html(records, lang, basket_ids)


def pair_cards(records: list[dict], lang: str) -> str:
    """Cards of ranked pairs: both thumbnails, the two moments and the gap (opened like any card)."""
    esc = html.escape
    cards = []
    for n, r in enumerate(records, start=1):
        then = r["then"]
        thumbs = "".join(f'<img src="{esc(file_url(x["thumbnail_path"]))}" alt="" loading="lazy">' for x in (r, then))
        cards.append(
            f'<div class="be-card be-pair" role="listitem" tabindex="0" data-id="{esc(r["point_id"])}" '
            f'aria-label="{esc(t(lang, "vb_pair", n=n))}, {esc(r["source"])}"><div class="be-pair-thumbs">{thumbs}</div>'
            f'<div class="be-card-body"><div class="be-card-title">{esc(t(lang, "vb_pair", n=n))}</div>'
            f'<div><b>{esc(t(lang, "score"))}</b> {score_text(lang, r["score"])}</div>'
            f'<div class="be-card-video" title="{esc(r["source"])}"><b>{esc(t(lang, "video"))}</b> {esc(r["source"])}</div>'
            f'<div class="be-card-tc">{esc(t(lang, "vb_first"))}: {esc(r["start_tc"])} – {esc(r["end_tc"])}</div>'
            f'<div class="be-card-tc">{esc(t(lang, "vb_then"))}: {esc(then["start_tc"])} – {esc(then["end_tc"])} '
            f'({esc(t(lang, "vb_gap", gap=decimal(lang, r["gap_s"], 1)))})</div>'
            f'<a href="{esc(r["link"])}" class="be-link" target="_blank" rel="noopener">{esc(t(lang, "vb_link"))}</a>'
            f'</div><div class="be-card-actions"><button type="button" tabindex="-1" class="be-act be-act-open be-more" '
            f'data-action="open">{esc(t(lang, "card_open"))}</button></div></div>')
    return (f'<div class="be-grid" role="list" aria-label="{esc(t(lang, "results"))}">{"".join(cards)}</div>'
            if cards else f'<div class="be-empty">{esc(t(lang, "no_results"))}</div>')


def base_url(ctx: UiContext) -> str:
    """The app's address in deep links: ``BUSCA_PUBLIC_URL``, else where this app listens."""
    return public_url(host=ctx.ui.host, port=ctx.ui.port)


class SearchExtras:
    """Handlers of the tools above. ``handlers`` is the tab's :class:`SearchHandlers` (its records and
    "Más información" are reused for pairs and deep links)."""

    def __init__(self, ctx: UiContext, handlers):
        self.ctx = ctx
        self.handlers = handlers

    def link(self, db: str, video_id: str, t_s: float) -> str:
        return deep_link(base_url(self.ctx), db, video_id, t_s)

    # --- "A, then B", threshold, order ---------------------------------------------------------------

    @staticmethod
    def state(then_text: str | None, then_image: str | None, within: float | None, min_score: float | None,
              sort: str | None) -> dict:
        """What the query state keeps of these controls."""
        return {"then_text": (then_text or "").strip(), "then_image": then_image or None,
                "within": float(DEFAULT_WITHIN_S if within is None else within), "min_score": float(min_score or 0) or None,
                "sort": sort if sort in SORTS else "score"}

    @staticmethod
    def is_temporal(state: dict | None) -> bool:
        return bool(state and (state.get("then_text") or state.get("then_image")))

    def results(self, db: str, state: dict, query: Query, search: Callable[[Query], list]) -> tuple[list, int]:
        """Hits of ``query`` (or pairs "query, then B"), cut at the minimum score and sorted; and how many
        the minimum score hid."""
        if self.is_temporal(state):
            image = load_image(state["then_image"], self.ctx.ui.max_upload_mb * 2**20) if state["then_image"] else None
            then = replace(query, text=state["then_text"] or None, image=image)  # B: A's channels and settings
            found = temporal_search(search, query, then, state["within"])
        else:
            found = search(query)
        dates = {v.video_id: v.indexed_at for v in self.ctx.videos(db).values()} \
            if state["sort"].startswith("date") else None
        kept = arrange(found, state["min_score"], state["sort"], dates)
        return kept, len(found) - len(kept)

    def records(self, results: Sequence, db: str, pairs: bool) -> list[dict]:
        """The tab's records of the results, each with its deep link; for a pair, the first shot's record
        (the player starts there) with the pair's score, the gap and the second shot's record."""
        if not pairs:
            return self.handlers.records(results, db)
        out = []
        for p in results:
            first, then = self.handlers.records([p.first, p.then], db)
            out.append({**first, "score": p.score, "then": then, "gap_s": p.gap_s})
        return out

    @staticmethod
    def status(spec: list, hidden: int, state: dict) -> list:
        """The status spec, with what the minimum score hid (see ``search_handlers.status_text``)."""
        return [*spec, ["vb_cut", {"hidden": hidden, "min": state["min_score"]}]] if hidden else spec

    @staticmethod
    def details_extra(record: dict, lang: str) -> str:
        """Lines "Más información" adds for these tools: the second moment of a pair, the deep link."""
        lines = []
        then = record.get("then")
        if then:
            lines.append(f"- **{t(lang, 'vb_then')}:** {then['start_tc']} – {then['end_tc']} "
                         f"({t(lang, 'vb_gap', gap=decimal(lang, record['gap_s'], 1))}) · "
                         f"[{t(lang, 'vb_link')}]({then['link']})")
        if record.get("link"):
            lines.append(f"- **{t(lang, 'vb_link')}:** [{md_escape(record['link'])}]({record['link']})")
        return "\n".join(lines) + ("\n" if lines else "")

    def url_with_shot(self, query: dict | None, opened: str | None, records: list[dict] | None,
                      basket: list | None) -> dict | None:
        """The view's URL parameters plus the opened shot's moment (``video``, ``t``): the address bar is
        then a deep link that reopens the search and the player."""
        params = dict((query or {}).get("url") or {})
        record = self.shown(opened, records, basket, None)
        if record is not None:
            params.update(db=record["db"], video=record["video_id"], t=f"{float(record['start_s']):.3f}".rstrip("0"))
        return params or None

    # --- the shot "Más información" shows -----------------------------------------------------------

    @staticmethod
    def shown(opened: str | None, records: list[dict] | None, basket: list | None, current: dict | None) -> dict | None:
        """The shot "Más información" shows: the opened card (a result or the selection), else a deep link's."""
        if opened:
            for record in [*(records or []), *clean_basket(basket)]:
                if record["point_id"] == opened:
                    return record
        return current

    # --- other appearances (reused footage) -------------------------------------------------------------

    def appearances(self, opened: str | None, records: list[dict] | None, basket: list | None,
                    current: dict | None, lang: str):
        lang = check_lang(lang)
        record = self.shown(opened, records, basket, current)
        if not record:
            raise ui_message(lang, "no_search_yet")
        db = record["db"]
        entry = self.ctx.videos(db).get(record["video_id"])
        if entry is None:
            raise ui_message(lang, "vb_link_bad", db=db)
        options = DuplicateOptions()
        layout = self.ctx.layout

        def frames(video_id: str):
            try:
                return layout.load_frames(video_id, entry.encoder)
            except (OSError, ValueError, BuscaError):
                return None

        try:
            found = appearances(self.ctx.services.store, db, entry.encoder, entry, float(record["start_s"]),
                                float(record["end_s"]), options, frames)
        except BuscaError as err:
            raise ui_error(lang, err) from err
        return gr.update(value=self._appearances_html(found, db, options, lang), visible=True)

    def _appearances_html(self, found, db: str, options: DuplicateOptions, lang: str) -> str:
        esc = html.escape
        title = f'<div class="be-tl-title">{esc(t(lang, "vb_appearances_title"))}</div>'
        if not found:
            return title + f'<div class="be-empty">{esc(t(lang, "vb_no_appearances", db=db, min=decimal(lang, options.min_similarity, 2)))}</div>'
        items = []
        for r in found:
            other = r.second
            href = "?" + self.link(db, other.video_id, other.start_s).split("?", 1)[1] + f"&lang={lang}"
            text = t(lang, "vb_appearance", source=other.source, start=format_timecode(other.start_s),
                     end=format_timecode(other.end_s), similarity=score_text(lang, r.similarity))
            here = t(lang, "vb_appearance_here", start=format_timecode(r.first.start_s), end=format_timecode(r.first.end_s))
            items.append(f'<li>{esc(text)} ({esc(here)}) · <a href="{esc(href)}" class="be-appearance">'
                         f'{esc(t(lang, "vb_open"))}</a></li>')
        return title + '<ul class="be-appearances">' + "".join(items) + "</ul>"

    # --- subtitles, EDL --------------------------------------------------------------------------------

    def subtitles(self, opened: str | None, records: list[dict] | None, basket: list | None, current: dict | None,
                  lang: str):
        lang = check_lang(lang)
        record = self.shown(opened, records, basket, current)
        if not record:
            raise ui_message(lang, "no_search_yet")
        try:
            segments = video_transcript(self.ctx.layout, record["video_id"], record["source"])
        except BuscaError as err:
            raise ui_error(lang, err) from err
        link = self.link(record["db"], record["video_id"], 0.0)
        paths = []
        for fmt in ("vtt", "srt"):
            path = self.ctx.export_path(f"{Path(record['source']).stem or 'video'}.{fmt}")
            atomic.write_bytes(path, subtitles(segments, fmt, record["source"], link).encode("utf-8"))
            paths.append(str(path))
        return gr.update(value=paths, visible=True)

    # --- deep links -------------------------------------------------------------------------------------

    def open_link(self, basket: list | None, lang: str, evt: gr.EventData) -> tuple:
        """``?db=&video=&t=``: "Más información" open on the shot showing at ``t``, the player at ``t``.
        Outputs: the details outputs of the tab (``DETAIL_OUTPUTS``), the opened id ("": none) and the
        shot the buttons act on."""
        lang = check_lang(lang)
        data = getattr(evt, "_data", None) or {}
        target = parse_link({k: str(data.get(k, "")) for k in ("db", "video", "t")})
        entry = self.ctx.videos(target.db).get(target.video_id) if target else None
        shot = _shot_at(self.ctx, entry, target.t) if entry is not None else None
        points = self.ctx.services.store.retrieve(target.db, [point_id(entry.video_id, shot.index)]) \
            if shot is not None and self.ctx.services.store.has_collection(target.db) else []
        if not points:
            gr.Warning(t(lang, "vb_link_bad", db=target.db if target else str(data.get("db", ""))))
            return (*(gr.update(),) * 6, gr.update(), None)
        [record] = self.records(to_hits(points), target.db, pairs=False)
        at = min(target.t, max(0.0, float(record["end_s"]) - 0.05))
        outputs = self.handlers.show(record, None, lang, at=at)
        current = {**record, "link": self.link(target.db, entry.video_id, at)}
        return (*outputs, "", current)


def edl_export(ctx: UiContext, records: list[dict], folder: Path, stem: str) -> Path | None:
        """The records (results or the selection, of any database) as a CMX3600 EDL beside the other
        exports, both moments of a pair; None when a video's frame rate cannot be read."""
        if not records:
            return None
        shots, notes = [], []
        for n, r in enumerate(records, start=1):
            for part, shot in ([("A", r), ("B", r["then"])] if r.get("then") else [("", r)]):
                shots.append(SimpleNamespace(**{k: shot[k] for k in ("video_id", "source", "start_s", "end_s", "db")}))
                notes.append(f"#{n} score {float(r['score']):.3f} {part}".rstrip())
        try:
            clips = []
            for db in dict.fromkeys(s.db for s in shots):  # the selection may gather several databases
                mine = [i for i, s in enumerate(shots) if s.db == db]
                made = hit_clips([shots[i] for i in mine], ctx.layout, db, base_url(ctx), [notes[i] for i in mine])
                clips += list(zip(mine, made, strict=True))
            text = write_edl([c for _, c in sorted(clips, key=lambda x: x[0])], title=stem)
        except BuscaError as err:
            log.warning("no EDL for this export: %s", err)
            return None
        path = folder / f"{stem}.edl"
        atomic.write_bytes(path, text.encode("utf-8"))
        return path



def _shot_at(ctx: UiContext, entry, at: float):
    """The shot of ``entry`` showing at ``at`` seconds (None when its segmentation cannot be read)."""
    try:
        seg = ctx.layout.load_segmentation(entry.video_id, entry.encoder)
    except (OSError, ValueError, BuscaError):
        return None
    return next((s for s in seg.shots if s.start_s <= at < s.end_s), seg.shots[-1] if seg.shots else None)
