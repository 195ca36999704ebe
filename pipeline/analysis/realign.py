"""Shot analyses after a re-segmentation (``python -m app resegment``): aligned by time.

A shot analysis describes the frames between its ``start_s`` and ``end_s``. After the shots are
recomputed, every analysis whose span is still exactly a shot's span is kept, re-filed under
that shot's new index, in ``analysis.partial.json``: the resume checkpoint of
:func:`pipeline.analysis.video.describe_video`, so the next analysis run reuses those results
(same model, same instructions) and describes only the shots that are new. The finished
``analysis.json``, made for the old shots, is moved aside to ``analysis.before-resegment.json``
(nothing is lost). Matching by time makes this idempotent: a re-run after a crash files the
same results again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from pipeline.analysis.store import read_analysis, read_partial, write_partial
from pipeline.errors import MediaError
from pipeline.records import Shot

BEFORE = "analysis.before-resegment.json"


def _span(start_s: float, end_s: float) -> tuple[float, float]:
    return round(start_s, 3), round(end_s, 3)


def realign_analysis(folder: Path, shots: Sequence[Shot]) -> int:
    """Re-file the shot analyses in ``folder`` (a video's ``analysis/``) for ``shots``; returns how
    many were kept. Does nothing when the video was never analysed."""
    final, partial = folder / "analysis.json", folder / "analysis.partial.json"
    earlier = list(read_partial(partial).values())
    if final.is_file():
        with suppress(MediaError):  # another schema version or unreadable: only moved aside below
            earlier += read_analysis(final).shots
    if not earlier and not final.is_file():
        return 0
    by_span = {_span(a.start_s, a.end_s): a for a in earlier}
    kept = []
    for shot in shots:
        found = by_span.get(_span(shot.start_s, shot.end_s))
        if found is not None:
            kept.append(found.model_copy(update={"shot_index": shot.index}))
    write_partial(partial, kept)
    if final.is_file():
        os.replace(final, folder / BEFORE)
    return len(kept)
