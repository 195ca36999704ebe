"""Why each hit matched: the rankings that found it and where, and a snippet of each text channel
that found it, with the query's words highlighted (through the BM25 tokenizer itself, so
"bidón" lights up "bidones") and the moment they are said or first shown on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pipeline.channels import OCR, SPEECH, TEXT_CHANNELS, text_field
from pipeline.records import ChannelMatch, SearchHit, Snippet
from pipeline.store import Bm25Encoder, StoredPoint

#: Longest snippet shown, in characters (cut around the first highlighted word).
SNIPPET_CHARS = 240


def window(text: str, spans: Sequence[tuple[int, int]], size: int = SNIPPET_CHARS) -> tuple[str, tuple]:
    """At most ``size`` characters of ``text`` around its first span, with ``…`` where cut; the
    spans shifted to the cut text (those that do not fit are dropped)."""
    if len(text) <= size:
        return text, tuple(spans)
    start = max(0, min(spans[0][0] - size // 3, len(text) - size)) if spans else 0
    end = min(len(text), start + size)
    prefix = "…" if start > 0 else ""
    cut = prefix + text[start:end] + ("…" if end < len(text) else "")
    shift = len(prefix) - start
    return cut, tuple((a + shift, b + shift) for a, b in spans if a >= start and b <= end)


def spoken_moment(segments: list, query: str, bm25: Bm25Encoder) -> float | None:
    """The start of the first word said in the shot that matches the query; else the start of the
    first segment whose text matches; else of the first segment."""
    if not segments:
        return None
    for seg in segments:
        for word in seg[3] if len(seg) > 3 else ():
            if bm25.matches(query, word[2]):
                return float(word[0])
    for seg in segments:
        if bm25.matches(query, seg[2]):
            return float(seg[0])
    return float(segments[0][0])


def shown_moment(lines: list, query: str, bm25: Bm25Encoder) -> float | None:
    """When the first matching line of on-screen text was first seen (else the first line)."""
    if not lines:
        return None
    return float(next((line[0] for line in lines if bm25.matches(query, line[1])), lines[0][0]))


def snippet(channel: str, payload: dict, query: str, bm25: Bm25Encoder) -> Snippet | None:
    text = payload.get(text_field(channel))
    if not text:
        return None
    cut, spans = window(text, bm25.matches(query, text))
    moment = None
    if channel == SPEECH:
        moment = spoken_moment(payload.get("speech_segments") or [], query, bm25)
    elif channel == OCR:
        moment = shown_moment(payload.get("ocr_lines") or [], query, bm25)
    return Snippet(channel, cut, spans, moment)


def explain(hits: Sequence[SearchHit], points: Sequence[StoredPoint], rankings: dict[str, list[str]], query: str,
            channels: Sequence[str], bm25: Bm25Encoder) -> list[SearchHit]:
    """The hits with their matches (sorted by rank) and snippets of the text channels that found them."""
    positions = {label: {pid: i for i, pid in enumerate(ids, start=1)} for label, ids in rankings.items()}
    out = []
    for hit, point in zip(hits, points, strict=True):
        matches = []
        for label, where in positions.items():
            if hit.point_id in where:
                channel, _, kind = label.partition(":")
                matches.append(ChannelMatch(channel, kind or "text", where[hit.point_id]))
        matches.sort(key=lambda m: (m.rank, m.channel))
        found = {m.channel for m in matches}
        snippets = [s for c in TEXT_CHANNELS if c in channels and c in found
                    for s in [snippet(c, point.payload, query, bm25)] if s is not None]
        out.append(replace(hit, matches=tuple(matches), snippets=tuple(snippets)))
    return out
