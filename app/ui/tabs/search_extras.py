"""The search tab's known-item tools, kept apart from the tab's own handlers: "A, then B" (a second
query box), a minimum score and an order, pair cards, "Buscar otras apariciones" (reused footage),
subtitles, the EDL beside the CSV/JSON export, and deep links (``?db=&video=&t=`` opens the player
at that moment; every result carries one).

:mod:`app.ui.tabs.search` builds these components where they belong and calls these handlers.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from app.config import public_url
from app.ui.context import UiContext
from app.ui.formatting import file_url, hit_record, md_escape
from app.ui.i18n import check_lang, t
from pipeline.core import atomic, format_timecode
from pipeline.errors import BuscaError
from pipeline.exports import deep_link, hit_clips, parse_link, subtitles, video_transcript, write_edl
from pipeline.search import SORTS, DuplicateOptions, Query, appearances, arrange, temporal_search
from pipeline.sources import load_image

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
    image: gr.Image
    within: gr.Slider


@dataclass
class OrderControls:
    min_score: gr.Number
    sort: gr.Dropdown


def build_then_box(ctx: UiContext) -> ThenBox:
    """The second query box, B of "A, then B within N seconds" (collapsed: a plain search by default)."""
    tx = ctx.texts
    with gr.Accordion(tx("vb_then_box"), open=False, elem_id="be-then-box") as box:
        tx.bind(box, label="vb_then_box")
        tx.bind(gr.Markdown(tx("vb_then_help")), value="vb_then_help")
        with gr.Row(equal_height=True):
            text = tx.bind(gr.Textbox(label=tx("vb_then_text"), placeholder=tx("vb_then_placeholder"), lines=2,
                                      scale=3, elem_id="be-then"), label="vb_then_text", placeholder="vb_then_placeholder")
            image = tx.bind(gr.Image(label=tx("vb_then_image"), type="filepath", image_mode=None,
                                     sources=["upload", "clipboard"], height=140, scale=2, elem_id="be-then-image"),
                            label="vb_then_image")
        within = tx.bind(gr.Slider(0, 600, value=60, step=5, label=tx("vb_within"), elem_id="be-within"),
                         label="vb_within")
    return ThenBox(text, image, within)


def build_order_controls(ctx: UiContext) -> OrderControls:
    tx = ctx.texts
    with gr.Row():
        min_score = tx.bind(gr.Number(value=0.0, minimum=-1.0, maximum=1.0, step=0.01, label=tx("vb_min_score"),
                                      info=tx("vb_min_score_info"), elem_id="be-min-score"),
                            label="vb_min_score", info="vb_min_score_info")
        sort = tx.bind(gr.Dropdown(choices=[(tx(key), value) for value, key in SORT_TEXTS.items()], value="score",
                                   label=tx("vb_sort"), elem_id="be-sort"), label="vb_sort")
    return OrderControls(min_score, sort)


def sort_choices(lang: str):
    return gr.update(choices=[(t(lang, key), value) for value, key in SORT_TEXTS.items()])


class SearchExtras:
    """Handlers of the tools above. ``strip(entry, record, lang) -> (gallery update, shot starts)`` is the
    tab's strip of a video's shots, reused when a deep link opens a video."""

    def __init__(self, ctx: UiContext, strip: Callable):
        self.ctx = ctx
        self.strip = strip

    @property
    def base_url(self) -> str:
        return public_url(host=self.ctx.ui.host, port=self.ctx.ui.port)

    def link(self, db: str, video_id: str, t_s: float) -> str:
        return deep_link(self.base_url, db, video_id, t_s)

    # --- "A, then B", threshold, order ---------------------------------------------------------------

    @staticmethod
    def state(then_text: str | None, then_image: str | None, within: float | None, min_score: float | None,
              sort: str | None) -> dict:
        """What the query state keeps of these controls."""
        return {"then_text": (then_text or "").strip(), "then_image": then_image or None,
                "within": float(60 if within is None else within), "min_score": float(min_score or 0) or None,
                "sort": sort if sort in SORTS else "score"}

    @staticmethod
    def is_temporal(state: dict) -> bool:
        return bool(state.get("then_text") or state.get("then_image"))

    def results(self, db: str, state: dict, query: Query, search: Callable[[Query], list]) -> tuple[list, int]:
        """Hits of ``query`` (or pairs "query, then B"), cut at the minimum score and sorted; and how many
        the minimum score hid."""
        if self.is_temporal(state):
            image = load_image(state["then_image"]) if state.get("then_image") else None
            then = Query(text=state["then_text"] or None, image=image, image_weight=query.image_weight, k=query.k,
                         one_per_video=query.one_per_video, video_ids=query.video_ids)
            found = temporal_search(search, query, then, state["within"])
        else:
            found = search(query)
        dates = {v.video_id: v.indexed_at for v in self.ctx.videos(db).values()} \
            if state["sort"].startswith("date") else None
        kept = arrange(found, state["min_score"], state["sort"], dates)
        return kept, len(found) - len(kept)

    def records(self, results: Sequence, db: str, pairs: bool) -> list[dict]:
        """What the session keeps of each result: a hit's record with its deep link; for a pair, the first
        shot's record (the player starts there) with the pair's rank and score and the second shot."""
        layout = self.ctx.layout
        out = []
        for r in results:
            if pairs:
                first, then = hit_record(r.first, layout.resolve(r.first.thumbnail)), \
                    hit_record(r.then, layout.resolve(r.then.thumbnail))
                then["link"] = self.link(db, r.then.video_id, r.then.start_s)
                record = {**first, "rank": r.rank, "score": r.score, "then": then, "gap_s": r.gap_s}
            else:
                record = hit_record(r, layout.resolve(r.thumbnail))
            record["link"] = self.link(db, record["video_id"], record["start_s"])
            out.append(record)
        return out

    @staticmethod
    def status(base: str, hidden: int, state: dict, lang: str) -> str:
        return base + (t(lang, "vb_cut", hidden=hidden, min=state["min_score"]) if hidden else "")

    @staticmethod
    def pair_cards(records: list[dict], lang: str) -> str:
        """Cards of ranked pairs: both thumbnails, the two moments and the gap (opened like any card)."""
        if not records:
            return f'<div class="be-empty">{html.escape(t(lang, "no_results"))}</div>'
        esc = html.escape
        cards = []
        for r in records:
            rank, then = int(r["rank"]), r["then"]
            thumbs = "".join(f'<img src="{esc(file_url(x["thumbnail_path"]))}" alt="" loading="lazy">' for x in (r, then))
            cards.append(
                f'<div class="be-card be-pair" data-rank="{rank}" tabindex="0"><div class="be-pair-thumbs">{thumbs}</div>'
                f'<div class="be-card-body"><div class="be-card-title">{esc(t(lang, "vb_pair", n=rank))}</div>'
                f'<div><b>{esc(t(lang, "score"))}</b> {float(r["score"]):.3f}</div>'
                f'<div class="be-card-video" title="{esc(r["source"])}"><b>{esc(t(lang, "video"))}</b> {esc(r["source"])}</div>'
                f'<div class="be-card-tc">{esc(t(lang, "vb_first"))}: {esc(r["start_tc"])} – {esc(r["end_tc"])}</div>'
                f'<div class="be-card-tc">{esc(t(lang, "vb_then"))}: {esc(then["start_tc"])} – {esc(then["end_tc"])} '
                f'({esc(t(lang, "vb_gap", gap=float(r["gap_s"])))})</div>'
                f'<a href="#" class="be-more" data-rank="{rank}">{esc(t(lang, "more_info"))}</a> · '
                f'<a href="{esc(r["link"])}" class="be-link" target="_blank" rel="noopener">{esc(t(lang, "vb_link"))}</a>'
                f"</div></div>")
        return '<div class="be-grid">' + "".join(cards) + "</div>"

    @staticmethod
    def details_extra(record: dict, lang: str) -> str:
        """Lines "Más información" adds for these tools: the second moment of a pair, the deep link."""
        lines = []
        then = record.get("then")
        if then:
            lines.append(f"- **{t(lang, 'vb_then')}:** {then['start_tc']} – {then['end_tc']} "
                         f"({t(lang, 'vb_gap', gap=float(record['gap_s']))}) · [{t(lang, 'vb_link')}]({then['link']})")
        if record.get("link"):
            lines.append(f"- **{t(lang, 'vb_link')}:** [{md_escape(record['link'])}]({record['link']})")
        return "\n".join(lines) + ("\n" if lines else "")

    # --- the shot "Más información" shows ------------------------------------------------------------

    @staticmethod
    def remember(record: dict, state: dict) -> dict:
        """The shot open in "Más información" (a result, or a deep link's shot): what its buttons act on."""
        return {"db": state["db"], **{k: record[k] for k in ("video_id", "source", "start_s", "end_s")}}

    # --- other appearances (reused footage) -------------------------------------------------------------

    def appearances(self, current: dict | None, lang: str):
        lang = check_lang(lang)
        if not current:
            raise gr.Error(t(lang, "no_search_yet"))
        db, record = current["db"], current
        entry = self.ctx.videos(db).get(record["video_id"])
        if entry is None:
            raise gr.Error(t(lang, "vb_link_bad", db=db))
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
            raise gr.Error(str(err)) from err
        return gr.update(value=self._appearances_html(found, db, options, lang), visible=True)

    def _appearances_html(self, found, db: str, options: DuplicateOptions, lang: str) -> str:
        esc = html.escape
        title = f'<div class="be-tl-title">{esc(t(lang, "vb_appearances_title"))}</div>'
        if not found:
            return title + f'<div class="be-empty">{esc(t(lang, "vb_no_appearances", db=db, min=options.min_similarity))}</div>'
        items = []
        for r in found:
            other = r.second
            href = "?" + self.link(db, other.video_id, other.start_s).split("?", 1)[1]
            text = t(lang, "vb_appearance", source=other.source, start=format_timecode(other.start_s),
                     end=format_timecode(other.end_s), similarity=r.similarity)
            here = t(lang, "vb_appearance_here", start=format_timecode(r.first.start_s), end=format_timecode(r.first.end_s))
            items.append(f'<li>{esc(text)} ({esc(here)}) · <a href="{esc(href)}" class="be-appearance">'
                         f'{esc(t(lang, "vb_open"))}</a></li>')
        return title + '<ul class="be-appearances">' + "".join(items) + "</ul>"

    # --- subtitles, EDL --------------------------------------------------------------------------------

    def subtitles(self, current: dict | None, lang: str):
        lang = check_lang(lang)
        if not current:
            raise gr.Error(t(lang, "no_search_yet"))
        record = current
        try:
            segments = video_transcript(self.ctx.layout, record["video_id"], record["source"])
        except BuscaError as err:
            raise gr.Error(str(err)) from err
        link = self.link(current["db"], record["video_id"], 0.0)
        paths = []
        for fmt in ("vtt", "srt"):
            path = self.ctx.export_path(f"{Path(record['source']).stem or 'video'}.{fmt}")
            atomic.write_bytes(path, subtitles(segments, fmt, record["source"], link).encode("utf-8"))
            paths.append(str(path))
        return gr.update(value=paths, visible=True)

    def edl_file(self, records: list[dict], db: str, folder: Path) -> Path | None:
        """The results as a CMX3600 EDL beside the other exports (both moments of a pair); None when a
        video's frame rate cannot be read (the other exports still go out)."""
        shots, notes = [], []
        for r in records:
            parts = [("A", r), ("B", r["then"])] if r.get("then") else [("", r)]
            for part, shot in parts:
                shots.append(SimpleNamespace(**{k: shot[k] for k in ("video_id", "source", "start_s", "end_s")}))
                notes.append(f"#{r['rank']} score {float(r['score']):.3f} {part}".rstrip())
        try:
            text = write_edl(hit_clips(shots, self.ctx.layout, db, self.base_url, notes), title=f"BuscaEscenas {db}")
        except BuscaError as err:
            log.warning("no EDL for this export: %s", err)
            return None
        path = folder / "buscaescenas.edl"
        atomic.write_bytes(path, text.encode("utf-8"))
        return path

    # --- deep links -------------------------------------------------------------------------------------

    def open_link(self, lang: str, evt: gr.EventData) -> tuple:
        """``?db=&video=&t=``: the database chosen, "Más información" open on the video, the player at ``t``.
        Outputs: the database, the details outputs (panel, player, info, strip, strip state), the open shot."""
        lang = check_lang(lang)
        data = getattr(evt, "_data", None) or {}
        target = parse_link({k: str(data.get(k, "")) for k in ("db", "video", "t")})
        entry = self.ctx.videos(target.db).get(target.video_id) if target else None
        media = self.ctx.media_path(entry)
        if target is None or entry is None or media is None:
            gr.Warning(t(lang, "vb_link_bad", db=(target.db if target else data.get("db", ""))))
            return gr.update(), gr.update(), gr.update(), gr.update(), gr.update(), None, None
        at = min(target.t, max(0.0, entry.duration_s - 0.05)) if entry.duration_s else target.t
        shot = _shot_at(self.ctx, entry, at)
        span = (shot.start_s, shot.end_s) if shot else (at, at + 0.5)
        info = (f"### {t(lang, 'vb_link_title', source=md_escape(entry.source), start=format_timecode(at))}\n"
                f"- **{t(lang, 'vb_link')}:** [{md_escape(self.link(target.db, entry.video_id, at))}]"
                f"({self.link(target.db, entry.video_id, at)})\n- **ID:** `{entry.video_id}`\n")
        items, starts = self.strip(entry, {"shot_index": shot.index if shot else None}, lang)
        current = {"db": target.db, "video_id": entry.video_id, "source": entry.source, "start_s": span[0],
                   "end_s": span[1]}
        return (gr.update(value=target.db), gr.update(visible=True),
                gr.update(value=str(media), playback_position=float(at), visible=True), info, items,
                {"media": str(media), "starts": starts}, current)


def _shot_at(ctx: UiContext, entry, at: float):
    """The shot of ``entry`` showing at ``at`` seconds (None when its segmentation cannot be read)."""
    try:
        seg = ctx.layout.load_segmentation(entry.video_id, entry.encoder)
    except (OSError, ValueError, BuscaError):
        return None
    return next((s for s in seg.shots if s.start_s <= at < s.end_s), seg.shots[-1] if seg.shots else None)
