"""Pipeline errors as the web app shows them: in the user's language, cause first, no server path.

``str(err)`` stays the CLI's English one-liner; here the error's code and parameters are
rendered with the ``err.<code>`` texts of :mod:`app.ui.texts.errors`. A ``path`` parameter
becomes ``name``, its file name: an upload's path is Gradio's temporary folder, which tells the
user nothing and the world too much. Free text that may name server paths (a batch item's
error) goes through :func:`public_message`.

An error shown to a user is logged as **one line** (the English one-liner, paths included) and
its ``gr.Error`` prints no traceback: Gradio prints one for every error otherwise, ~50 lines per
refused URL.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path, PurePath

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
    log.warning("refused (%s): %s", err.code, " ".join(str(err).split()))
    return gr.Error(error_text(lang, err), duration=TOAST_SECONDS, print_exception=False)


def ui_message(lang: str | None, key: str, **values: object) -> gr.Error:
    """A ``gr.Error`` with one of the app's own texts (no traceback in the log)."""
    return gr.Error(t(lang, key, **values), duration=TOAST_SECONDS, print_exception=False)


def ui_free_error(text: str, data_dir: Path | None = None) -> gr.Error:
    """A ``gr.Error`` with free English text (a log's line-by-line problems), its server paths
    shortened (:func:`public_message`); one log line, no traceback."""
    log.warning("refused: %s", " ".join(str(text).split()))
    return gr.Error(public_message(text, data_dir), duration=TOAST_SECONDS, print_exception=False)


# An absolute POSIX path: a "/" that does not follow a word character, ":" or "/" (so not the
# path part of a URL, not "a/b"), then anything up to a space, quote, bracket or ", ".
_ABSOLUTE = re.compile(r"(?<![\w:/.~-])/(?:[^\s'\"()<>\[\],;]|,(?! ))+")


def public_spec(spec: str) -> str:
    """A model spec as users see it: ``local-dir:`` with the folder's name, never the server's path."""
    prefix = "local-dir:"
    if spec.startswith(prefix):
        return prefix + (PurePath(spec[len(prefix):]).name or spec[len(prefix):])
    return public_message(spec)


def public_message(text: str, data_dir: Path | None = None) -> str:
    """Free ``text`` without absolute server paths: a path under ``data_dir`` starts at the data
    directory's own name (``data/videos/...``), any other keeps only its file name."""
    root = str(Path(data_dir).expanduser().resolve()) if data_dir is not None else None

    def shorten(match: re.Match) -> str:
        path = match.group(0).rstrip(".:")
        tail = match.group(0)[len(path):]
        if root and (path == root or path.startswith(root + "/")):
            return Path(root).name + path[len(root):] + tail
        return (Path(path).name or "/") + tail

    return _ABSOLUTE.sub(shorten, str(text))
