"""What every handler shares: the long-lived services, the web settings, the texts registry.

One :class:`UiContext` is made at start-up; handlers are methods of small classes that
hold it, so nothing is a module global.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from app.config import AnalysisSettings
from app.services import Services
from app.ui.analysis_models import AnalysisModels
from app.ui.errors import ui_error, ui_message
from app.ui.i18n import DEFAULT_LANG, check_lang, t
from app.ui.jobs import JobRunner
from app.ui.settings import UiSettings
from pipeline.core import check_db_name
from pipeline.errors import BuscaError
from pipeline.records import IndexedVideo
from pipeline.search import MapCache

log = logging.getLogger(__name__)

#: A component whose value follows the chosen database: ``(component, fn(db, lang) -> value)``.
Refresh = tuple[Any, Callable[[str | None, str], Any]]


class Texts:
    """Registry of translatable component properties, to relabel the page on a language change."""

    def __init__(self, lang: str = DEFAULT_LANG):
        self.lang = check_lang(lang)
        self._entries: list[tuple[gr.components.Component | gr.blocks.BlockContext, dict[str, str]]] = []

    def __call__(self, key: str, **values: object) -> str:
        return t(self.lang, key, **values)

    def bind(self, component, values: dict | None = None, fmt: str = "{}", **props: str):
        """Register ``component``'s properties (``label="key"``...), each text formatted with
        ``values`` and wrapped in ``fmt`` (e.g. ``"## {}"``); ``choices=[("key", value), ...]``
        translates a radio's or dropdown's choices. Returns the component."""
        self._entries.append((component, {"props": props, "values": values or {}, "fmt": fmt}))
        return component

    def accordion(self, key: str, help_key: str | None = None, **kwargs) -> gr.Accordion:
        """A translated accordion (``with tx.accordion("refine", "refine_help", open=False): ...``),
        its help text first inside it."""
        box = self.bind(gr.Accordion(self(key), **kwargs), label=key)
        if help_key:
            with box:
                self.bind(gr.Markdown(self(help_key)), value=help_key)
        return box

    @property
    def components(self) -> list:
        return [component for component, _ in self._entries]

    def updates(self, lang: str) -> list[dict]:
        """One ``gr.update`` per registered component, in :attr:`components` order."""
        out = []
        for _, entry in self._entries:
            values, fmt = entry["values"], entry["fmt"]
            out.append(gr.update(**{prop: self._text(lang, key, values, fmt) for prop, key in entry["props"].items()}))
        return out

    @staticmethod
    def _text(lang: str, key, values: dict, fmt: str):
        """A text, or for ``choices=[(key, value), ...]`` the translated choices."""
        if isinstance(key, (list, tuple)):
            return [(t(lang, k), v) for k, v in key]
        return fmt.format(t(lang, key, **values))


#: Gradio recognises a Progress default and fills it per event; tqdm bars of the pipeline show up.
TRACK_TQDM = gr.Progress(track_tqdm=True)


@dataclass
class UiContext:
    services: Services
    ui: UiSettings
    texts: Texts
    maps: MapCache = field(default_factory=MapCache)
    export_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="buscaescenas-export-")))
    _encoder_lock: threading.Lock = field(default_factory=threading.Lock)
    #: The analysis tabs: BUSCA_* analysis settings (read at start-up), the models they load.
    analysis_env: AnalysisSettings = field(default_factory=AnalysisSettings.from_env)
    analysis_models: AnalysisModels | None = None
    #: Long work (ingest, analysis, evaluation) as server-side jobs, bounded per kind.
    jobs: JobRunner = field(default_factory=JobRunner)
    _fps: dict[str, float | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.analysis_models is None:
            self.analysis_models = AnalysisModels(self.services.settings.device)

    @property
    def jobs_dir(self) -> Path:
        """Where the batch analysis jobs live: ``<data>/jobs/<job_id>``."""
        return self.layout.root / "jobs"

    @property
    def layout(self):
        return self.services.layout

    def ready_encoder(self, db: str | None = None):
        """The encoder (for ``db``: the one that made its vectors, see
        :meth:`app.services.Services.encoder_for_db`), loaded once under a lock (concurrent first
        requests would load it twice)."""
        encoder = self.services.encoder_for_db(db) if db else self.services.encoder
        with self._encoder_lock:
            _ = encoder.dim
        return encoder

    def databases(self) -> list[str]:
        names = self.services.databases()
        return names if self.services.settings.db in names else [self.services.settings.db, *names]

    def require_db(self, db: str | None, lang: str) -> str:
        """The checked database name; a clear error when it is missing or has no shot."""
        if not db:
            raise ui_message(lang, "no_database")
        try:
            check_db_name(db)
            exists = self.services.store.has_collection(db) and self.services.store.count(db) > 0
        except BuscaError as err:
            raise ui_error(lang, err) from err
        if not exists:
            raise ui_message(lang, "empty_db", db=db)
        return db

    def videos(self, db: str | None) -> dict[str, IndexedVideo]:
        try:
            return self.services.catalog.videos(check_db_name(db)) if db else {}
        except BuscaError:
            return {}

    def video_fps(self, video_id: str) -> float | None:
        """The video's frame rate from its probe record (``info.json``), for frame timecodes; None if unknown."""
        if video_id not in self._fps:
            try:
                fps = float(self.layout.load_info(video_id).fps or 0)
            except (BuscaError, OSError, ValueError, TypeError):
                fps = 0.0
            self._fps[video_id] = fps if fps > 0 else None
        return self._fps[video_id]

    def media_path(self, entry: IndexedVideo | None) -> Path | None:
        """The video file of a catalog entry, if it lies where the app may serve it (``<data>/media``);
        relative catalog paths and absolute ones of earlier versions both resolve."""
        if entry is None:
            return None
        found = self.layout.media_file(entry.path, entry.video_id)
        path = found.resolve() if found is not None else None
        media_root = (self.layout.root / "media").resolve()
        return path if path is not None and path.is_relative_to(media_root) else None

    def export_path(self, name: str) -> Path:
        """A fresh file in this app's export folder; files older than an hour are removed."""
        cutoff = time.time() - 3600
        for old in self.export_dir.glob("*/"):
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(dir=self.export_dir))
        return folder / name

    def close(self) -> None:
        self.jobs.close()
        shutil.rmtree(self.export_dir, ignore_errors=True)
        self.analysis_models.close()
