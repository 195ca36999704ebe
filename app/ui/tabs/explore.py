"""The explore tab: one indexed video's semantic map, its scene/shot timeline and its shots."""

from __future__ import annotations

import logging

import gradio as gr

from app.ui.charts import map_frame, timeline_svg
from app.ui.context import Refresh, UiContext
from app.ui.formatting import md_escape, shot_caption
from app.ui.i18n import check_lang, t
from pipeline.core import format_timecode
from pipeline.errors import BuscaError
from pipeline.search import video_overview

log = logging.getLogger(__name__)
PROGRESS = gr.Progress()


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
            raise gr.Error(t(lang, "explore_none"))
        progress(0.1, desc=f"{method.upper()} · {entry.source}")
        try:
            overview = video_overview(self.ctx.layout, entry)
            fmap = self.ctx.maps.get(self.ctx.layout, entry, method)
        except (BuscaError, OSError) as err:
            log.warning("cannot explore %s: %s", entry.video_id, err)
            raise gr.Error(f"{t(lang, 'missing_artifacts')} ({err})") from err
        seg = overview.segmentation
        summary = t(lang, "explore_summary", source=md_escape(entry.source), duration=format_timecode(entry.duration_s),
                    frames=entry.n_frames, shots=len(seg.shots), scenes=len(seg.scenes), classes=seg.n_classes)
        frame, colors = map_frame(fmap, lang)
        col_class, col_time = t(lang, "class"), t(lang, "time")
        scatter = gr.ScatterPlot(value=frame, x="x", y="y", color=col_class, color_map=colors,
                                 tooltip=[col_class, col_time], x_title=t(lang, "map_x"), y_title=t(lang, "map_y"),
                                 label=t(lang, "map_title", method=method.upper(), n=len(frame)))
        thumbs = [(str(th.path), shot_caption(th.shot)) for th in overview.thumbs]
        media = self.ctx.media_path(entry)
        state = {"media": str(media) if media else None, "starts": [th.shot.start_s for th in overview.thumbs]}
        hidden = gr.update(value=None, visible=False)  # mounted again by the first click: see SearchHandlers.pick
        return summary, scatter, timeline_svg(seg, entry.duration_s, lang), thumbs, state, hidden

    @staticmethod
    def play(state: dict | None, evt: gr.SelectData):
        if not state or not state.get("media"):
            return gr.update()
        return gr.update(value=state["media"], playback_position=float(state["starts"][evt.index]), visible=True)


def build_explore_tab(ctx: UiContext, db: gr.Dropdown, lang: gr.State) -> list[Refresh]:
    """The tab; returns what must follow the database choice (the video list)."""
    tx, handlers = ctx.texts, ExploreHandlers(ctx)
    videos = ctx.videos(ctx.services.settings.db)
    with gr.Row():
        video = tx.bind(gr.Dropdown(choices=[(v.source, v.video_id) for v in videos.values()],
                                    value=next(iter(videos), None), label=tx("explore_video"), scale=3,
                                    elem_id="be-explore-video"), label="explore_video")
        method = tx.bind(gr.Radio([("UMAP", "umap"), ("PCA", "pca")], value="umap", label=tx("explore_method"),
                                  scale=1), label="explore_method")
        show_btn = tx.bind(gr.Button(tx("explore_show"), variant="primary", scale=1, elem_id="be-explore-show"),
                           value="explore_show")
    summary = gr.Markdown(elem_id="be-explore-summary")
    with gr.Row():
        scatter = tx.bind(gr.ScatterPlot(x="x", y="y", height=380, label=tx("map_label"), scale=3, elem_id="be-map"),
                          label="map_label")
        player = gr.Video(interactive=False, scale=2, visible=False, elem_id="be-explore-player")
    timeline = gr.HTML("", elem_id="be-timeline")
    thumbs = tx.bind(gr.Gallery(label=tx("explore_thumbs"), columns=8, height=260, allow_preview=False, fit_columns=False,
                                object_fit="cover", elem_id="be-explore-thumbs"), label="explore_thumbs")
    state = gr.State(None)

    show_btn.click(handlers.show, [db, video, method, lang], [summary, scatter, timeline, thumbs, state, player],
                   api_name="explore", concurrency_id="explore", concurrency_limit=1)
    thumbs.select(handlers.play, [state], player, api_visibility="private")
    return [(video, lambda name, _lang: handlers.video_choices(name))]
