"""Two-part log queries: "A, then B", as known-item searchers describe most moments.

A log entry whose description holds ``>>`` (or ``→``) between two moments is a temporal query:
``DG90602601.mp4 00:02:22 - 00:02:58 UNA MUJER ENTRA >> EL HOMBRE SALE (A WOMAN ENTERS >> THE MAN
LEAVES)``. Each part is searched on its own, the two rankings are paired by
:func:`pipeline.search.pair_hits` (B within ``within_s`` seconds after A, the same rule and score
as ``search --then``), and the ranked pairs are judged as hits spanning from A's start to B's end:
the logged span should cover both moments. A translation is split the same way; one without the
separator serves no part (a configuration that needs translations excludes the entry).
"""

from __future__ import annotations

import re
from dataclasses import replace

from pipeline.evaluation.logs import LogEntry

#: What separates the two moments of a description: ``>>`` or ``→``, with any spaces around.
THEN = re.compile(r"\s*(?:>>|\u2192)\s*")


def split_then(text: str | None) -> tuple[str, str] | None:
    """``"A >> B"`` -> ``("A", "B")``; None when ``text`` is not two non-empty moments."""
    if not text:
        return None
    parts = THEN.split(text.strip())
    if len(parts) != 2 or not all(p.strip() for p in parts):
        return None
    return parts[0].strip(), parts[1].strip()


def entry_parts(entry: LogEntry) -> tuple[LogEntry, LogEntry] | None:
    """The two moments of a two-part entry as entries of their own (same video and span), or None."""
    text = split_then(entry.text)
    if text is None:
        return None
    translation = split_then(entry.translation) or (None, None)
    return (replace(entry, text=text[0], translation=translation[0]),
            replace(entry, text=text[1], translation=translation[1]))


def has_translation(entry: LogEntry) -> bool:
    """Whether every part of the entry has a translation to query."""
    parts = entry_parts(entry)
    return bool(entry.translation) if parts is None else all(p.translation for p in parts)
