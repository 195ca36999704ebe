"""The Gradio 6 web app: search, ingest and explore tabs over one long-lived services object.

``python -m app`` (or ``python -m app serve``) calls :func:`launch`.
"""

from __future__ import annotations

from app.config import Settings


def launch(settings: Settings, host: str | None = None, port: int | None = None) -> int:
    """Start the services, build the app, serve until interrupted; the exit code."""
    from app.ui.app import serve

    return serve(settings, host=host, port=port)
