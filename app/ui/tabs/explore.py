"""The explore tab: one indexed video's semantic map with its legend, its scene/shot timeline and its
shots. A click on a dot of the map, a bar of the timeline, a class of the legend or a shot plays
the video at that moment."""

from __future__ import annotations

import logging

import gradio as gr

from app.ui.charts import legend_html, map_svg, timeline_html
from app.ui.context import Refresh, UiContext
from app.ui.errors import ui_message
from app.ui.formatting import md_escape, shot_caption
from app.ui.i18n import check_lang, t, tn
from pipeline.core import format_timecode
from pipeline.errors import BuscaError
from pipeline.search import video_overview

log = logging.getLogger(__name__)
PROGRESS = gr.Progress()

#: A click on anything with ``data-t`` (seconds) asks the server to play the video there.
EXPLORE_JS = """
element.addEventListener('click', (event) => {
  const target = event.target.closest('[data-t]');
  if (!target) return;
  element.querySelectorAll('.be-playing').forEach((e) => e.classList.remove('be-playing'));
  target.classList.add('be-playing');
  trigger('select', {t: Number(target.dataset.t)});
});
"""


class ExploreHandlers:
    def __init__(self, ctx: UiContext):
        self.ctx = ctx

    def video_choices(self, db: str | None):
        videos = self.ctx.videos(db)
        first = next(iter(videos), None)
        return gr.update(choices=[(v.source, v.video_id) for v in videos.values()], value=first)

    def show(self, db: str | None, video_id: str | None, method: str, lang: str, progress=PROGRESS):
        lang = check_lang(lang)
        entry = self.ctx.videos(db).get(video_id or "")
        if entry is None:
            raise ui_message(lang, "explore_none")
        progress(0.1, desc=f"{method.upper()} · {entry.source}")
        try:
            overview = video_overview(self.ctx.layout, entry)
            fmap = self.ctx.maps.get(self.ctx.layout, entry, method)
        except (BuscaError, OSError) as err:
            log.warning("cannot explore %s: %s", entry.video_id, err)
            raise ui_message(lang, "missing_artifacts") from err
        seg = overview.segmentation
        counts = ", ".join([tn(lang, "n_frames", entry.n_frames), tn(lang, "n_shots", len(seg.shots)),
                            tn(lang, "n_scenes", len(seg.scenes)), tn(lang, "n_classes", seg.n_classes)])
        summary = t(lang, "explore_facts", source=md_escape(entry.source),
                    duration=format_timecode(entry.duration_s), counts=counts)
        thumbs = {th.shot.index: str(th.path) for th in overview.thumbs}
        chart = map_svg(fmap, lang) + legend_html(seg, thumbs, lang)
        gallery = [(str(th.path), shot_caption(th.shot)) for th in overview.thumbs]
        media = self.ctx.media_path(entry)
        state = {"media": str(media) if media else None, "starts": [th.shot.start_s for th in overview.thumbs],
                 "db": db, "video_id": entry.video_id, "method": method}
        hidden = gr.update(value=None, visible=False)  # mounted again by the first click: see search_handlers.act
        return summary, chart, timeline_html(seg, entry.duration_s, lang), gallery, state, hidden

    def relang(self, lang: str, state: dict | None):
        """The shown video's view again, in another language (nothing when none is shown)."""
        if not state or not state.get("video_id"):
            return (gr.update(),) * 3
        try:
            summary, chart, timeline, *_ = self.show(state["db"], state["video_id"], state["method"], lang)
        except gr.Error:
            return (gr.update(),) * 3
        return summary, chart, timeline

    @staticmethod
    def play(state: dict | None, evt: gr.SelectData):
        """A shot of the gallery: play it from its start."""
        if not state or not state.get("media"):
            return gr.update()
        return gr.update(value=state["media"], playback_position=float(state["starts"][evt.index]), visible=True)

    @staticmethod
    def play_at(state: dict | None, evt: gr.EventData):
        """A dot of the map, a bar of the timeline or a class of the legend: play from that moment."""
        data = getattr(evt, "_data", None) or {}
        if not state or not state.get("media") or not isinstance(data.get("t"), (int, float)):
            return gr.update()
        return gr.update(value=state["media"], playback_position=max(0.0, float(data["t"])), visible=True)


def build_explore_tab(ctx: UiContext, db: gr.Dropdown, lang: gr.State) -> tuple[list[Refresh], tuple]:
    """The tab; returns what must follow the database choice (the video list) and its language hook
    ``(fn, inputs, outputs)``."""
    tx, handlers = ctx.texts, ExploreHandlers(ctx)
    videos = ctx.videos(ctx.services.settings.db)
    with gr.Row():
        video = tx.bind(gr.Dropdown(choices=[(v.source, v.video_id) for v in videos.values()],
                                    value=next(iter(videos), None), label=tx("explore_video"), scale=3,
                                    min_width=200, elem_id="be-explore-video"), label="explore_video")
        method = tx.bind(gr.Radio([("UMAP", "umap"), ("PCA", "pca")], value="umap", label=tx("explore_method"),
                                  scale=1, min_width=140), label="explore_method")
        show_btn = tx.bind(gr.Button(tx("explore_show"), variant="primary", scale=1, min_width=100,
                                     elem_id="be-explore-show"), value="explore_show")
    summary = gr.Markdown(elem_id="be-explore-summary")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            chart = gr.HTML("", js_on_load=EXPLORE_JS, elem_id="be-map-box")
        with gr.Column(scale=2, min_width=280):
            player = gr.Video(interactive=False, visible=False, elem_id="be-explore-player")
    timeline = gr.HTML("", js_on_load=EXPLORE_JS, elem_id="be-timeline")
    thumbs = tx.bind(gr.Gallery(label=tx("explore_thumbs"), columns=8, height=260, allow_preview=False,
                                fit_columns=False, object_fit="cover", elem_id="be-explore-thumbs"),
                     label="explore_thumbs")
    state = gr.State(None)

    show_btn.click(handlers.show, [db, video, method, lang], [summary, chart, timeline, thumbs, state, player],
                   api_name="explore", concurrency_id="explore", concurrency_limit=1)
    thumbs.select(handlers.play, [state], player, api_visibility="private")
    for view in (chart, timeline):
        view.select(handlers.play_at, [state], player, api_visibility="private")
    return [(video, lambda name, _lang: handlers.video_choices(name))], (handlers.relang, [state],
                                                                        [summary, chart, timeline])
