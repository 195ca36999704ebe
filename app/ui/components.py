"""Gradio components of the app's own.

Gradio writes a ``.pyi`` stub beside every module that defines a component class (its
``ComponentMeta`` does, at import): this module holds only such classes, and the stub
(``components.pyi``) is ignored by git.
"""

from __future__ import annotations

import gradio as gr


class QueryImage(gr.Image):
    """``gr.Image`` that hands the uploaded file over undecoded. ``gr.Image`` opens it with Pillow
    first, and a bad file gets Gradio's generic error; the app checks it itself
    (:func:`pipeline.sources.load_image`: format, size, pixels) and says why it refused it.
    A subclass, not an instance patch: Gradio rebuilds a component from its class after a
    property update (``gr.update(visible=...)``)."""

    is_template = True  # drawn by Gradio's own image component

    def preprocess(self, payload):
        if payload is not None and payload.path and not (payload.url or "").startswith("data:"):
            return str(payload.path)
        return super().preprocess(payload)
