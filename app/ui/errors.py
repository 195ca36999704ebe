"""What a web user is told when something fails, and what the server log keeps.

An error's full text (server paths included) goes to the log as **one line**; the user gets the
same message with every absolute server path shortened: a path under the data directory starts
at the data directory's own name (``data/videos/...``), any other path (Gradio's upload folder,
a temporary folder, the archive) keeps only its file name. The ``gr.Error`` prints no traceback (Gradio prints one for every error
otherwise: ~50 lines per refused URL). No gradio import here, so it can be used anywhere.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger("app.ui")

# An absolute POSIX path: a "/" that does not follow a word character, ":" or "/" (so not the
# path part of a URL, not "a/b"), then anything up to a space, quote, bracket or ", ".
_ABSOLUTE = re.compile(r"(?<![\w:/.~-])/(?:[^\s'\"()<>\[\],;]|,(?! ))+")


def public_message(text: str, data_dir: Path | None = None) -> str:
    """``text`` without absolute server paths (see the module's docstring)."""
    root = str(Path(data_dir).expanduser().resolve()) if data_dir is not None else None

    def shorten(match: re.Match) -> str:
        path = match.group(0).rstrip(".:")
        tail = match.group(0)[len(path):]
        if root and (path == root or path.startswith(root + "/")):
            return Path(root).name + path[len(root):] + tail
        return (Path(path).name or "/") + tail

    return _ABSOLUTE.sub(shorten, str(text))


def log_refusal(err: BaseException | str) -> None:
    """One log line for an expected failure (a refused URL, a bad file): no traceback."""
    log.warning("refused: %s", " ".join(str(err).split()))
