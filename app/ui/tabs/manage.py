"""The "Gestionar archivo" tab: databases at a glance, check and repair, remove a video, rename
or delete a database, index a URL; and the archive warnings shown above every tab.

Every handler calls one pipeline function (:mod:`pipeline.index.manage`, :mod:`pipeline.index.check`,
:func:`pipeline.index.ingest_paths`) on the app's one store and catalog. The events that write
share the ingest tab's queue (``concurrency_id="ingest"``, one at a time), so a repair or a
removal never runs beside an ingest of this app.
"""

from __future__ import annotations

import logging

import gradio as gr
import pandas as pd

from app.services import ArchiveWarning, make_source_options
from app.ui.context import TRACK_TQDM, Refresh, UiContext
from app.ui.errors import error_text, render_error, ui_message
from app.ui.i18n import check_lang, t
from pipeline.core import format_timecode, valid_db_name
from pipeline.errors import BuscaError
from pipeline.index import (
    CheckReport,
    IngestOptions,
    check_archive,
    delete_database,
    find_videos,
    ingest_paths,
    record_encoder,
    remove_video,
    rename_database,
)
from pipeline.media import DecodeOptions

log = logging.getLogger(__name__)

OVERVIEW_COLUMNS = ("mg_col_db", "mg_col_videos", "mg_col_shots", "mg_col_state")
CHECK_COLUMNS = ("mg_col_problem", "mg_col_video", "mg_col_detail", "mg_col_action")
VIDEO_COLUMNS = ("mg_col_name", "mg_col_id", "mg_col_duration", "mg_col_shots")
PAGE = 500  # videos listed at once (the whole list of a large archive is never sent to the browser)


def warning_text(warning: ArchiveWarning, lang: str) -> str:
    if warning.kind == "catalog":
        return t(lang, "warn_catalog", where=warning.where)
    return t(lang, f"warn_{warning.kind}", **warning.values)


def _problems(lang: str, n: int, key: str = "mg_problems") -> str:
    """"1 problema" / "3 problemas" (agreement in both languages)."""
    return t(lang, f"{key}_one") if n == 1 else t(lang, f"{key}_many", n=n)


class ManageHandlers:
    def __init__(self, ctx: UiContext):
        self.ctx = ctx

    @property
    def services(self):
        return self.ctx.services

    def _guard(self, lang: str, work):
        """Run ``work``; a pipeline error becomes one message in the user's language."""
        try:
            return work()
        except BuscaError as err:
            raise ui_message(lang, "mg_failed", error=error_text(lang, err)) from err

    # --- what is shown ----------------------------------------------------------------------------

    def banner(self, db: str | None, lang: str) -> str:
        """Warnings above every tab: a damaged catalog, and the chosen database's diverging counts."""
        lang = check_lang(lang)
        try:
            found = self.services.warnings([db] if db and valid_db_name(db) else [])
        except BuscaError as err:
            log.warning("cannot check the archive: %s", err)
            return ""
        return "\n\n".join(warning_text(w, lang) for w in found)

    def overview(self, db: str | None, lang: str) -> pd.DataFrame:
        lang = check_lang(lang)
        rows = []
        for name in self.services.databases():
            try:
                videos = self.services.catalog.totals(name).videos
            except BuscaError:
                videos = "?"
            stored = self.services.store.count(name) if self.services.store.has_collection(name) else 0
            state = "mg_state_check" if self.services.divergence(name) else "mg_state_ok"
            rows.append([name, videos, stored, t(lang, state)])
        return pd.DataFrame(rows, columns=[t(lang, c) for c in OVERVIEW_COLUMNS])

    def videos(self, db: str | None, lang: str):
        """The first page of the database's videos, its count, and the removal picker."""
        lang = check_lang(lang)
        entries, total = [], 0
        if db and valid_db_name(db):
            try:
                page = self.services.catalog.page(db, PAGE)
                entries, total = page.videos, page.total
            except BuscaError as err:
                log.warning("%s", err)
        rows = [[v.source, v.video_id, format_timecode(v.duration_s), v.n_shots] for v in entries]
        table = pd.DataFrame(rows, columns=[t(lang, c) for c in VIDEO_COLUMNS])
        count = t(lang, "mg_videos_count", shown=len(entries), total=total, db=db or "") if db else ""
        picker = gr.update(choices=[(f"{v.source} · {v.video_id}", v.video_id) for v in entries], value=None)
        return table, count, picker

    def refresh(self, db: str | None, lang: str):
        return (self.overview(db, lang), *self.videos(db, lang))

    # --- check and repair -------------------------------------------------------------------------

    def check(self, db: str | None, lang: str, progress=TRACK_TQDM):
        return self._check(db, lang, False, progress)

    def repair(self, db: str | None, lang: str, progress=TRACK_TQDM):
        return self._check(db, lang, True, progress)

    def _check(self, db: str | None, lang: str, repair: bool, progress):
        lang = check_lang(lang)
        db = self._db(db, lang)
        services = self.services
        reports = self._guard(lang, lambda: check_archive(services.store, services.catalog, services.layout, db,
                                                          repair, lambda step: progress(None, desc=step)))
        services.forget_counts()
        return (self._summary(reports[0], lang, repair), self._check_table(reports, lang),
                *self.refresh(db, lang))

    @staticmethod
    def _summary(report: CheckReport, lang: str, repair: bool) -> str:
        values = {"db": report.db, "videos": report.videos, "points": report.points}
        problems = len(report.drift) + len(report.catalog_problems)
        if not problems:
            return t(lang, "mg_check_clean", **values)
        if not repair:
            return t(lang, "mg_check_found", problems=_problems(lang, problems), **values)
        left = len(report.unrepaired) + sum(not c.rebuilt for c in report.catalog_problems)
        return t(lang, "mg_check_repaired", repaired=_problems(lang, problems - left, "mg_repaired"), left=left,
                 **values)

    @staticmethod
    def _check_table(reports: list[CheckReport], lang: str) -> pd.DataFrame:
        rows = []
        for report in reports:
            for issue in report.catalog_problems:
                key = "mg_catalog_rebuilt" if issue.rebuilt else "mg_catalog_damaged"
                rows.append([t(lang, "mg_kind_catalog"), report.db, t(lang, key, where=issue.where), ""])
            for d in report.drift:
                if d.repaired:
                    action = t(lang, f"mg_outcome_{d.outcome}", **d.values)
                else:
                    action = t(lang, f"mg_advice_{d.kind}") if d.advice else t(lang, "mg_not_repaired")
                rows.append([t(lang, f"mg_kind_{d.kind}"), f"{d.source} · {d.video_id}".strip(" ·"),
                             t(lang, f"mg_detail_{d.kind}", **d.values), action])
        return pd.DataFrame(rows, columns=[t(lang, c) for c in CHECK_COLUMNS])

    # --- videos and databases ---------------------------------------------------------------------

    def _db(self, db: str | None, lang: str) -> str:
        if not db:
            raise ui_message(lang, "no_database")
        if not valid_db_name(db):
            raise ui_message(lang, "mg_bad_name", name=db)
        return db

    def remove(self, db: str | None, wanted: str | None, confirmed: bool, lang: str):
        lang = check_lang(lang)
        db = self._db(db, lang)
        wanted = (wanted or "").strip()
        if not wanted:
            raise ui_message(lang, "mg_remove_none")
        if not confirmed:
            raise ui_message(lang, "mg_need_confirm")
        services = self.services
        found = self._guard(lang, lambda: find_videos(services.catalog, db, wanted))
        if len(found) != 1:
            key = "mg_remove_ambiguous" if found else "mg_remove_unknown"
            raise ui_message(lang, key, n=len(found), video=wanted, db=db)
        video = found[0]
        removed = self._guard(lang, lambda: remove_video(services.store, services.catalog, services.layout, db,
                                                         video.video_id))
        services.forget_counts(db)
        files = t(lang, "mg_files_removed" if removed.files_removed else "mg_files_kept")
        status = t(lang, "mg_removed", source=video.source or video.video_id, db=db, points=removed.points,
                   files=files)
        return (status, False, *self.refresh(db, lang))

    def rename(self, db: str | None, new: str | None, lang: str):
        lang = check_lang(lang)
        db = self._db(db, lang)
        new = (new or "").strip()
        if not valid_db_name(new):
            raise ui_message(lang, "mg_bad_name", name=new)
        services = self.services
        if new in services.databases():
            raise ui_message(lang, "mg_exists", name=new)
        if db not in services.databases():
            raise ui_message(lang, "mg_unknown_db", db=db)
        points = self._guard(lang, lambda: rename_database(services.store, services.catalog, db, new))
        services.forget_counts()
        picker = gr.update(choices=self.ctx.databases(), value=new)
        return t(lang, "mg_renamed", old=db, new=new, points=points), "", picker

    def delete(self, db: str | None, confirmed: bool, lang: str):
        lang = check_lang(lang)
        db = self._db(db, lang)
        if not confirmed:
            raise ui_message(lang, "mg_need_confirm")
        services = self.services
        if db not in services.databases():
            raise ui_message(lang, "mg_unknown_db", db=db)
        removed = self._guard(lang, lambda: delete_database(services.store, services.catalog, services.layout, db))
        services.forget_counts()
        remaining = [name for name in services.databases() if name != db]
        fallback = services.settings.db if services.settings.db != db else (remaining[0] if remaining else db)
        picker = gr.update(choices=self.ctx.databases(), value=fallback)
        return t(lang, "mg_deleted", db=db, videos=removed.videos, points=removed.points), False, picker

    # --- a URL into the database ------------------------------------------------------------------

    def ingest_url(self, db: str | None, url: str | None, lang: str, progress=TRACK_TQDM):
        lang = check_lang(lang)
        db = self._db(db, lang)
        url = (url or "").strip()
        if not url:
            raise ui_message(lang, "mg_url_empty")
        fetch = make_source_options(self.ctx.layout.root, self.ctx.analysis_env)
        encoder = self._guard(lang, lambda: self.ctx.ready_encoder(db))  # the database's own, checked and recorded
        self._guard(lang, lambda: record_encoder(self.services.store, db, encoder))
        short_side = max(DecodeOptions.short_side, getattr(encoder, "image_size", 224))
        options = IngestOptions(decode=DecodeOptions(fps=self.services.settings.fps, short_side=short_side))
        [result] = ingest_paths([url], encoder, self.services.store, self.ctx.layout, db, options,
                                self.services.catalog, fetch)
        self.services.forget_counts(db)
        if result.status != "indexed":
            cause = render_error(lang, result.error_code, result.error_params)  # the user's language
            raise ui_message(lang, "mg_url_failed", url=url, error=cause)
        databases = gr.update(choices=self.ctx.databases(), value=db)
        return t(lang, "mg_url_done", url=url, db=db, shots=result.n_shots), databases


def build_banner(ctx: UiContext) -> Refresh:
    """The warnings line above the tabs; it follows the chosen database and the language."""
    handlers = ManageHandlers(ctx)
    banner = gr.Markdown(handlers.banner(ctx.services.settings.db, ctx.texts.lang), elem_id="be-warnings")
    return banner, handlers.banner


def build_manage_tab(ctx: UiContext, db: gr.Dropdown, lang: gr.State,
                     lang_radio: gr.Radio) -> tuple[list[Refresh], list]:
    """The tab; returns what must follow the database choice, and the events that change the archive
    (after which every tab's video lists are refreshed)."""
    tx, handlers = ctx.texts, ManageHandlers(ctx)
    roots = ", ".join(str(r) for r in ctx.ui.ingest_roots)
    tx.bind(gr.Markdown(tx("mg_help")), value="mg_help")
    tx.bind(gr.Markdown(tx("mg_roots", roots=roots), elem_id="be-manage-roots"), {"roots": roots}, value="mg_roots")
    start_db = ctx.services.settings.db

    tx.bind(gr.Markdown(f"### {tx('mg_overview')}"), fmt="### {}", value="mg_overview")
    with gr.Row():
        overview = tx.bind(gr.Dataframe(handlers.overview(start_db, tx.lang), interactive=False, wrap=True,
                                        show_label=False, elem_id="be-manage-overview", scale=5), label="mg_overview")
        refresh_btn = tx.bind(gr.Button(tx("mg_refresh"), scale=1, size="sm"), value="mg_refresh")

    tx.bind(gr.Markdown(f"### {tx('mg_check_title')}"), fmt="### {}", value="mg_check_title")
    tx.bind(gr.Markdown(tx("mg_check_help")), value="mg_check_help")
    with gr.Row():
        check_btn = tx.bind(gr.Button(tx("mg_check"), elem_id="be-manage-check"), value="mg_check")
        repair_btn = tx.bind(gr.Button(tx("mg_repair"), variant="primary", elem_id="be-manage-repair"),
                             value="mg_repair")
    check_summary = gr.Markdown(elem_id="be-manage-check-summary")
    check_table = tx.bind(gr.Dataframe(ManageHandlers._check_table([], tx.lang), interactive=False, wrap=True,
                                       label=tx("mg_check_result"), elem_id="be-manage-check-table"),
                          label="mg_check_result")

    tx.bind(gr.Markdown(f"### {tx('mg_videos_title')}"), fmt="### {}", value="mg_videos_title")
    table, count, picker_update = handlers.videos(start_db, tx.lang)
    video_count = gr.Markdown(count, elem_id="be-manage-count")
    videos = tx.bind(gr.Dataframe(table, interactive=False, wrap=True, show_label=False, max_height=320,
                                  elem_id="be-manage-videos"), label="mg_videos_title")
    with gr.Row(equal_height=True):
        picker = tx.bind(gr.Dropdown(choices=picker_update["choices"], value=None, allow_custom_value=True,
                                     label=tx("mg_video_pick"), info=tx("mg_video_pick_info"), scale=3,
                                     elem_id="be-manage-video"), label="mg_video_pick", info="mg_video_pick_info")
        with gr.Column(scale=2):
            remove_ok = tx.bind(gr.Checkbox(label=tx("mg_remove_confirm"), value=False,
                                            elem_id="be-manage-remove-ok"), label="mg_remove_confirm")
            remove_btn = tx.bind(gr.Button(tx("mg_remove"), variant="stop", elem_id="be-manage-remove"),
                                 value="mg_remove")
    remove_status = gr.Markdown(elem_id="be-manage-remove-status")

    tx.bind(gr.Markdown(f"### {tx('mg_db_title')}"), fmt="### {}", value="mg_db_title")
    with gr.Row(equal_height=True):
        new_name = tx.bind(gr.Textbox(label=tx("mg_new_name"), info=tx("mg_new_name_info"), scale=3,
                                      elem_id="be-manage-new-name"), label="mg_new_name", info="mg_new_name_info")
        rename_btn = tx.bind(gr.Button(tx("mg_rename"), scale=1, elem_id="be-manage-rename"), value="mg_rename")
    with gr.Row(equal_height=True):
        delete_ok = tx.bind(gr.Checkbox(label=tx("mg_delete_confirm"), value=False, scale=3,
                                        elem_id="be-manage-delete-ok"), label="mg_delete_confirm")
        delete_btn = tx.bind(gr.Button(tx("mg_delete"), variant="stop", scale=1, elem_id="be-manage-delete"),
                             value="mg_delete")
    db_status = gr.Markdown(elem_id="be-manage-db-status")

    tx.bind(gr.Markdown(f"### {tx('mg_url_title')}"), fmt="### {}", value="mg_url_title")
    with gr.Row(equal_height=True):
        url = tx.bind(gr.Textbox(label=tx("mg_url"), info=tx("mg_url_info"), scale=4, elem_id="be-manage-url",
                                 placeholder="https://www.youtube.com/watch?v=…"), label="mg_url", info="mg_url_info")
        url_btn = tx.bind(gr.Button(tx("mg_url_button"), scale=1, elem_id="be-manage-url-btn"), value="mg_url_button")
    url_status = gr.Markdown(elem_id="be-manage-url-status")

    listing = [overview, videos, video_count, picker]
    queue = {"concurrency_id": "ingest", "concurrency_limit": 1}
    refresh_btn.click(handlers.refresh, [db, lang], listing, api_visibility="private")
    check_btn.click(handlers.check, [db, lang], [check_summary, check_table, *listing], api_name="check_database",
                    show_progress_on=[check_table], **queue)
    events = [
        repair_btn.click(handlers.repair, [db, lang], [check_summary, check_table, *listing],
                         api_name="repair_database", show_progress_on=[check_table], **queue),
        remove_btn.click(handlers.remove, [db, picker, remove_ok, lang], [remove_status, remove_ok, *listing],
                         api_name="remove_video", **queue),
        rename_btn.click(handlers.rename, [db, new_name, lang], [db_status, new_name, db], api_name="rename_database",
                         **queue),
        delete_btn.click(handlers.delete, [db, delete_ok, lang], [db_status, delete_ok, db],
                         api_name="delete_database", **queue),
        url_btn.click(handlers.ingest_url, [db, url, lang], [url_status, db], api_name="ingest_url",
                      show_progress_on=[url_status], **queue),
    ]
    follow = [(overview, handlers.overview), (videos, lambda name, code: handlers.videos(name, code)[0]),
              (video_count, lambda name, code: handlers.videos(name, code)[1]),
              (picker, lambda name, code: handlers.videos(name, code)[2])]
    # A check of another database, or in the other language, is not shown as current.
    def clear(code: str):
        return "", ManageHandlers._check_table([], check_lang(code))

    db.change(clear, [lang], [check_summary, check_table], api_visibility="private", queue=False)
    lang_radio.change(clear, [lang_radio], [check_summary, check_table], api_visibility="private", queue=False)
    return follow, events
