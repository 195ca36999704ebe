"""Composition of the web app: header (database, language), the tabs, launch options.

:func:`build_app` makes the ``gr.Blocks`` from a :class:`UiContext`; :func:`launch_options`
gives the safe ``launch()`` arguments (with the guards of :mod:`app.ui.guard` in front of
Gradio's routes); :func:`serve` refuses an exposed configuration (:func:`exposure_problem`),
then does both and blocks until stopped: Ctrl+C or SIGTERM (``docker stop``) close the app and
the store cleanly.
"""

from __future__ import annotations

import faulthandler
import logging
import signal
import sys
from dataclasses import asdict, fields
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

from app.config import Settings
from app.services import Services
from app.ui.analysis_models import AnalysisConfig
from app.ui.analysis_style import ANALYSIS_CSS
from app.ui.channels_format import CSS as CHANNELS_CSS
from app.ui.context import Refresh, Texts, UiContext
from app.ui.guard import GuardOptions, ServeGuard
from app.ui.i18n import LANGUAGES, check_lang
from app.ui.settings import UiSettings, exposure_problem, served_paths
from app.ui.style import CSS, app_js
from app.ui.tabs.analysis import build_analysis_tab
from app.ui.tabs.batch import build_batch_tab
from app.ui.tabs.config import browser_storage, build_config_tab
from app.ui.tabs.evaluate import build_evaluate_tab
from app.ui.tabs.explore import build_explore_tab
from app.ui.tabs.ingest import build_ingest_tab
from app.ui.tabs.manage import build_banner, build_manage_tab
from app.ui.tabs.search import SearchView, build_search_tab
from app.ui.urlstate import SearchParams, clean_prefs
from pipeline.errors import ConfigError
from pipeline.records import IndexedVideo

log = logging.getLogger(__name__)


def _header(ctx: UiContext) -> tuple[gr.Dropdown, gr.Radio]:
    tx = ctx.texts
    with gr.Row(elem_id="be-header", equal_height=True):
        with gr.Column(scale=4):
            heading = "# BuscaEscenas\n\n{}"
            tx.bind(gr.Markdown(heading.format(tx("subtitle")), elem_id="be-title"), fmt=heading, value="subtitle")
        db = tx.bind(gr.Dropdown(choices=ctx.databases(), value=ctx.services.settings.db, allow_custom_value=True,
                                 label=tx("database"), info=tx("database_info"), scale=2, elem_id="be-db"),
                     label="database", info="database_info")
        lang = tx.bind(gr.Radio([(name, code) for code, name in LANGUAGES.items()], value=tx.lang,
                                label=tx("language"), scale=1, elem_id="be-lang"), label="language")
    return db, lang


def build_app(ctx: UiContext) -> gr.Blocks:
    """The Blocks app. Every event that a client may call has a stable ``api_name``."""
    tx = ctx.texts
    with gr.Blocks(title="BuscaEscenas", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        lang = gr.State(tx.lang)
        # A session's analysis settings. Made here: a State directly inside gr.Tabs breaks the tab bar (Gradio 6).
        config = gr.State(AnalysisConfig.from_settings(ctx.analysis_env))
        stored = browser_storage(ctx)  # what the browser keeps of it (same reason: not inside the tabs)
        db, lang_radio = _header(ctx)
        banner = build_banner(ctx)  # a damaged catalog, diverging counts: said above every tab
        with gr.Tabs():
            with gr.Tab(tx("tab_search"), id="search", elem_id="be-tab-search") as tab:
                tx.bind(tab, label="tab_search")
                search = build_search_tab(ctx, db, lang)
                refreshers = list(search.refreshers)
            with gr.Tab(tx("tab_evaluate"), id="evaluate", elem_id="be-tab-evaluate") as tab:
                tx.bind(tab, label="tab_evaluate")
                build_evaluate_tab(ctx, db, lang)
            with gr.Tab(tx("tab_ingest"), id="ingest", elem_id="be-tab-ingest") as tab:
                tx.bind(tab, label="tab_ingest")
                ingest_refreshers, ingest_events = build_ingest_tab(ctx, db, lang)
            with gr.Tab(tx("tab_explore"), id="explore", elem_id="be-tab-explore") as tab:
                tx.bind(tab, label="tab_explore")
                explore_refreshers, explore_relang = build_explore_tab(ctx, db, lang)
                refreshers += ingest_refreshers + explore_refreshers
            with gr.Tab(tx("tab_manage"), id="manage", elem_id="be-tab-manage") as tab:
                tx.bind(tab, label="tab_manage")
                manage_refreshers, manage_events = build_manage_tab(ctx, db, lang, lang_radio)
            refreshers += [banner, *manage_refreshers]
            ingest_events += manage_events
            refreshers += _analysis_tabs(ctx, lang, config, lang_radio, demo, stored)
        _wire_common(ctx, demo, db, lang, lang_radio, refreshers, ingest_events, search.prefs)
        _wire_search(demo, search, lang, lang_radio, [explore_relang])
    return demo


def _analysis_tabs(ctx: UiContext, lang: gr.State, config: gr.State, lang_radio: gr.Radio,
                   demo: gr.Blocks, stored: tuple[gr.BrowserState, gr.BrowserState]) -> list[Refresh]:
    """The analysis tabs (video, batch, settings) over one per-session configuration."""
    tx = ctx.texts
    with gr.Tab(tx("tab_analysis"), id="analysis", elem_id="be-tab-analysis") as tab:
        tx.bind(tab, label="tab_analysis")
        video_line = build_analysis_tab(ctx, config, lang, lang_radio)
    with gr.Tab(tx("tab_batch"), id="batch", elem_id="be-tab-batch") as tab:
        tx.bind(tab, label="tab_batch")
        batch_line, refreshers = build_batch_tab(ctx, config, lang, lang_radio)
    with gr.Tab(tx("tab_config"), id="config", elem_id="be-tab-config") as tab:
        tx.bind(tab, label="tab_config")
        build_config_tab(ctx, config, lang, [video_line, batch_line], demo, stored)
    return refreshers


def _wire_common(ctx: UiContext, demo: gr.Blocks, db: gr.Dropdown, lang: gr.State, lang_radio: gr.Radio,
                 refreshers: list[Refresh], ingest_events: list, prefs: gr.BrowserState) -> None:
    """Language switch, page load (``?lang=`` and ``?db=``, or the language kept in the browser; fresh
    database list), lists that follow the database."""
    tx = ctx.texts

    def relabel(code: str):
        code = check_lang(code)
        return [code, *tx.updates(code)]

    def on_load(stored_prefs, request: gr.Request):
        params = SearchParams.from_query(request.query_params if request else {})
        databases = ctx.databases()
        wanted = params.lang or clean_prefs(stored_prefs)["lang"]
        db = gr.update(choices=databases, value=params.db) if params.db in databases else gr.update(choices=databases)
        return db, check_lang(wanted) if wanted else gr.update()

    def refresh(name: str | None, code: str):
        return [fn(name, code) for _, fn in refreshers]

    def videos(db: str) -> list[dict]:
        """The videos indexed in a database (catalog entries, without the server's file paths)."""
        return [public_video(v) for v in ctx.videos(db).values()]

    followers = [component for component, _ in refreshers]
    lang_radio.change(relabel, [lang_radio], [lang, *tx.components], api_visibility="private", queue=False).then(
        refresh, [db, lang], followers, api_visibility="private")
    demo.load(on_load, [prefs], [db, lang_radio], api_visibility="private", queue=False).then(
        refresh, [db, lang], followers, api_visibility="private")
    db.change(refresh, [db, lang], followers, api_visibility="private")
    for event in ingest_events:
        event.then(refresh, [db, lang], followers, api_visibility="private")
    gr.api(ctx.databases, api_name="databases")
    gr.api(videos, api_name="videos")


def _wire_search(demo: gr.Blocks, search: SearchView, lang: gr.State, lang_radio: gr.Radio,
                 relangs: list[tuple]) -> None:
    """The search restored at page load (URL, browser storage); what is on screen re-rendered in a
    new language, and Gradio's own texts ("Drop Image Here") switched to it too."""
    demo.load(search.load, search.load_inputs, search.load_outputs, api_visibility="private")
    # Gradio's texts: components mounted before the locale changed keep the old one, so the visible
    # ones with Gradio texts (the image drop zone) are unmounted and mounted again once it has changed.
    hide, show = (lambda: gr.update(visible=False)), (lambda: gr.update(visible=True))
    demo.load(hide, None, search.gradio_texts, api_visibility="private", queue=False,
              js="async () => { await window.beLocaleReady; }").then(
        show, None, search.gradio_texts, api_visibility="private", queue=False)
    switched = lang_radio.change(None, [lang_radio], None,
                                 js="async (l) => { if (window.beSetLang) await window.beSetLang(l); }")
    switched.then(hide, None, search.gradio_texts, api_visibility="private", queue=False).then(
        show, None, search.gradio_texts, api_visibility="private", queue=False)
    switched.then(search.relang, [lang_radio, *search.relang_inputs], search.relang_outputs, api_visibility="private")
    for fn, inputs, outputs in relangs:
        switched.then(fn, [lang_radio, *inputs], outputs, api_visibility="private")


#: Catalog fields a client may see: no ``path`` (a server path, and gradio_client downloads any
#: dict with a "path" key as a file: /videos fetched every video of the database).
PUBLIC_VIDEO_FIELDS = tuple(f.name for f in fields(IndexedVideo) if f.name != "path")


def public_video(video: IndexedVideo) -> dict:
    record = asdict(video)
    return {name: record[name] for name in PUBLIC_VIDEO_FIELDS}


def launch_options(settings: Settings, ui: UiSettings) -> dict:
    """``launch()`` arguments: bind address, login, upload caps, what may and may not be served,
    and the guards in front of Gradio's routes (:class:`ServeGuard`)."""
    allowed, blocked = served_paths(settings.data_dir, (ui.auth_file,) if ui.auth_file else ())
    guard = GuardOptions(data_dir=settings.data_dir, upload_dir=Path(get_upload_folder()),
                         max_request_bytes=ui.max_request_mb * 1024 * 1024, max_files=ui.max_files,
                         margin=settings.margin, lang=ui.lang)
    return {
        "server_name": ui.host,
        "server_port": ui.port,
        "auth": list(ui.auth) or None,
        "auth_message": "BuscaEscenas",
        "max_file_size": ui.max_upload_mb * 1024 * 1024,
        "allowed_paths": allowed,
        "blocked_paths": blocked,
        "ssr_mode": False,
        # No run-history page: it can hand the host's Hugging Face token to a browser and
        # connect HF buckets, neither of which an offline archive needs.
        "run_history": False,
        "footer_links": ["api", "settings"],
        "app_kwargs": {"middleware": [Middleware(ServeGuard, options=guard)]},
        "css": CSS + ANALYSIS_CSS + CHANNELS_CSS,
        "js": app_js(ui.lang),
        "theme": gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"],
                                font_mono=["ui-monospace", "monospace"]),
    }


def start(settings: Settings, ui: UiSettings, services: Services | None = None) -> tuple[UiContext, gr.Blocks]:
    """Services (made here unless given), context and app, ready for ``demo.launch(**launch_options(...))``."""
    owned = services is None
    services = services or Services.start(settings)
    ctx = UiContext(services, ui, Texts(ui.lang))
    try:
        allowed, _ = served_paths(settings.data_dir)
        gr.set_static_paths(allowed)  # thumbnails and videos are served in place, never copied to the cache
        demo = build_app(ctx)
        demo.queue(default_concurrency_limit=4)
    except BaseException:
        ctx.close()
        if owned:
            services.close()
        raise
    return ctx, demo


def _interrupt_on_sigterm() -> None:
    """``docker stop`` sends SIGTERM: make it the Ctrl+C that ``launch()`` already handles. SIGINT
    is set too: a process started in the background (``&`` in a script, ``nohup``) inherits SIGINT
    ignored, and Python then never raises KeyboardInterrupt, so ``kill -INT`` did nothing. And
    ``kill -USR1 <pid>`` prints every thread's stack to stderr, for a server that seems stuck."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
        faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    except ValueError:  # not the main thread (an embedding program): its own signals apply
        log.debug("SIGTERM handler not installed: not in the main thread")


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> int:
    ui = UiSettings.from_env(settings).override(host=host, port=port)
    problem = exposure_problem(ui)
    if problem:
        raise ConfigError(problem)
    if not ui.is_loopback and not ui.auth:
        log.warning("the web app listens on %s without a login (BUSCA_ALLOW_ANONYMOUS=1)", ui.host)
    ctx, demo = start(settings, ui)
    _interrupt_on_sigterm()
    try:
        demo.launch(**launch_options(settings, ui))
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        demo.close()
        ctx.close()
        ctx.services.close()
        log.info("store closed")
    return 0
