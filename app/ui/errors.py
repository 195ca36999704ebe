"""Pipeline errors as the web app shows them: in the user's language, cause first, no server path.

``str(err)`` stays the CLI's English one-liner; here the error's code and parameters are
rendered with the ``err.<code>`` texts of :mod:`app.ui.texts.errors`. A ``path`` parameter
becomes ``name``, its file name: an upload's path is Gradio's temporary folder, which tells the
user nothing and the world too much.
"""

from __future__ import annotations

import logging
from pathlib import PurePath

import gradio as gr

from app.ui.i18n import TEXTS, check_lang, t
from pipeline.errors import BuscaError

log = logging.getLogger(__name__)

#: Seconds an error toast stays (then it fades; several never pile up for long).
TOAST_SECONDS = 12


def _shown(value: object) -> object:
    """A parameter as shown: absolute paths shortened to their file name."""
    if isinstance(value, str) and (value.startswith("/") or value[1:3] in (":\\", ":/")):
        return PurePath(value).name or value
    return value


def render_error(lang: str | None, code: str | None, params: dict | None = None) -> str:
    """The text of an error code in ``lang``; an unknown code gets the generic text."""
    lang = check_lang(lang)
    params = {key: _shown(value) for key, value in (params or {}).items()}
    if "path" in params and "name" not in params:
        params["name"] = params["path"]
    key = f"err.{code}"
    if key not in TEXTS[lang]:
        key = f"err.{(code or 'error').split('.')[0]}"
        key = key if key in TEXTS[lang] else "err.error"
    try:
        return t(lang, key, **params)
    except (KeyError, IndexError, ValueError):  # a parameter missing: better generic than a crash
        log.warning("error text %s lacks parameters (has %s)", key, sorted(params))
        return t(lang, "err.error")


def error_text(lang: str | None, err: BuscaError) -> str:
    return render_error(lang, err.code, err.params)


def ui_error(lang: str | None, err: BuscaError) -> gr.Error:
    """A ``gr.Error`` to raise from a handler: ``raise ui_error(lang, err) from err``. The English
    one-liner, which may name server paths, goes to the log only."""
    log.info("shown to the user as %s: %s", err.code, err)
    return gr.Error(error_text(lang, err), duration=TOAST_SECONDS)


def ui_message(lang: str | None, key: str, **values: object) -> gr.Error:
    """A ``gr.Error`` with one of the app's own texts."""
    return gr.Error(t(lang, key, **values), duration=TOAST_SECONDS)
