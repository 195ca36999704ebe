"""One web app for the UI tests: launched in this process on 127.0.0.1 and a free port, with the
tiny random open_clip model and a data directory where the slideshow is already indexed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from app.config import Settings
from app.services import Services
from app.ui.context import UiContext
from app.ui.settings import UiSettings
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, ingest_paths
from pipeline.media import DecodeOptions
from pipeline.store import open_store

from testkit import free_port, serve_app


@dataclass(frozen=True)
class RunningApp:
    url: str
    ctx: UiContext
    data_dir: Path
    ingest_root: Path
    video_id: str


def ui_settings(data_dir: Path, clip_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, db="archivo", clip_model=f"local-dir:{clip_dir}", device="cpu",
                    store="edge", qdrant_url=None, qdrant_api_key=None, fps=2.0)


@pytest.fixture(scope="session")
def running_app(tmp_path_factory, slideshow, tiny_clip_dir, tiny_encoder) -> RunningApp:
    root = tmp_path_factory.mktemp("ui")
    data, ingest_root = root / "data", root / "archive"
    ingest_root.mkdir()
    store = open_store(data, backend="edge")  # closed before the app opens it: one holder at a time
    try:
        options = IngestOptions(decode=DecodeOptions(fps=2.0), progress=False)
        [result] = ingest_paths([slideshow], tiny_encoder, store, DataLayout(data), "archivo", options)
    finally:
        store.close()
    assert result.status == "indexed", result.error
    settings = ui_settings(data, tiny_clip_dir)
    ui = UiSettings(host="127.0.0.1", port=free_port(), ingest_roots=(ingest_root,), lang="es")
    services = Services(settings, DataLayout(data), VideoCatalog(data), open_store(data, backend="edge"), tiny_encoder)  # model loaded once
    with serve_app(settings, ui, services) as ctx:
        # the tests pick a fake model server on 127.0.0.1 and the Whisper folder built from PyPI
        ctx.analysis_env = replace(ctx.analysis_env, ui_models="open")
        yield RunningApp(f"http://127.0.0.1:{ui.port}/", ctx, data, ingest_root, result.video_id)


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def client(running_app):
    """A fresh gradio_client session (its own state: results, last query)."""
    from gradio_client import Client

    return Client(running_app.url, verbose=False, download_files=False)
