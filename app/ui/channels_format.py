"""The reasons shown with each hit (channels and ranks, snippets with the query's words marked), the
notes on what a channel search could not do, and the Query fields of the channel options. No
gradio here: the cards (:mod:`app.ui.formatting`) use it too."""

from __future__ import annotations

import html

from app.ui.i18n import t
from pipeline.channels import ALL_CHANNELS, SPEECH
from pipeline.core import format_timecode

_KINDS = {f"ch_kind_{k}" for k in ("words", "meaning", "text", "image", "feedback")}


def channel_label(lang: str, channel: str) -> str:
    return t(lang, f"ch_{channel}")


def query_channels(channels: list[str] | None, weights: list[float] | tuple, fusion: str | None) -> dict:
    """The Query fields of the channel controls (all or none ticked: every channel the database holds,
    without a note about the others)."""
    chosen = tuple(c for c in ALL_CHANNELS if c in (channels or ()))
    return {"channels": chosen if 0 < len(chosen) < len(ALL_CHANNELS) else None, "image_fusion": fusion or "rrf",
            "weights": tuple((c, float(w)) for c, w in zip(ALL_CHANNELS, weights, strict=True)
                             if w is not None and float(w) != 1.0)}


def result_notes(results) -> dict:
    """What the query state keeps of channel searches (one, or both parts of "A, then B"): the
    channels missing and searched, those searched by words only, why meaning was unavailable."""
    out: dict = {"missing": [], "used": [], "words_only": [], "meaning_error": None}
    for r in results:
        for key in ("missing", "used", "words_only"):
            value = r.channels if key == "used" else getattr(r, key)
            out[key] += [c for c in value if c not in out[key]]
        out["meaning_error"] = out["meaning_error"] or r.meaning_error
    return out


def status_notes(notes: dict | None, db: str, lang: str) -> str:
    """The user's view of what a channel search could not do (missing channels, words only), from
    :func:`result_notes`."""
    if not notes:
        return ""
    lines = []
    if notes["missing"]:
        names = ", ".join(channel_label(lang, c) for c in notes["missing"])
        used = ", ".join(channel_label(lang, c) for c in notes["used"]) or "—"
        lines.append(t(lang, "ch_missing", db=db, channels=names, used=used))
    if notes["meaning_error"]:
        lines.append(t(lang, "ch_meaning_unavailable", cause=notes["meaning_error"][:160]))
    elif notes["words_only"]:
        lines.append(t(lang, "ch_words_only", channels=", ".join(channel_label(lang, c) for c in notes["words_only"])))
    return "".join(f"\n\n> {n}" for n in lines)


def _marked(text: str, spans: list, markdown: bool = False) -> str:
    """``text`` escaped (HTML, or Markdown), the spans marked (``<mark>``, or bold)."""
    if markdown:
        from app.ui.formatting import md_escape as escape  # formatting imports this module for the cards
    else:
        escape = html.escape
    open_, close = ("**", "**") if markdown else ("<mark>", "</mark>")
    out, last = [], 0
    for a, b in spans:
        out += [escape(text[last:a]), open_, escape(text[a:b]), close]
        last = b
    return "".join(out) + escape(text[last:])


def _ranks(record: dict, lang: str) -> str:
    seen, parts = set(), []
    for m in record.get("matches", []):
        label = f"{m['channel']}:{m['ranking']}"
        if label in seen:
            continue
        seen.add(label)
        name = channel_label(lang, m["channel"]) if m["channel"] in ALL_CHANNELS else m["channel"]
        kind = t(lang, f"ch_kind_{m['ranking']}") if f"ch_kind_{m['ranking']}" in _KINDS else m["ranking"]
        parts.append(f"{t(lang, 'ch_rank', channel=name, rank=m['rank'])} ({kind})")
    return ", ".join(parts)


def _moment(snippet: dict, lang: str) -> str:
    if snippet.get("moment_s") is None:
        return ""
    key = "ch_said_at" if snippet["channel"] == SPEECH else "ch_shown_at"
    return t(lang, key, tc=format_timecode(snippet["moment_s"]))


def why_html(record: dict, lang: str) -> str:
    """A card's reasons: the rankings that found it, then each text snippet with the query's words marked."""
    ranks = _ranks(record, lang)
    if not ranks:
        return ""
    parts = [f'<div class="be-why"><b>{html.escape(t(lang, "ch_found_by"))}:</b> {html.escape(ranks)}']
    for s in record.get("snippets", []):
        when = _moment(s, lang)
        parts.append(f'<div class="be-snippet" data-channel="{html.escape(s["channel"])}">'
                     f'<span class="be-snippet-ch">{html.escape(channel_label(lang, s["channel"]))}'
                     f'{" · " + html.escape(when) if when else ""}:</span> "{_marked(s["text"], s["spans"])}"</div>')
    return "".join(parts) + "</div>"


def why_markdown(record: dict, lang: str) -> str:
    """The "Más información" section on the reasons (Markdown with <mark> for the query's words)."""
    ranks = _ranks(record, lang)
    if not ranks:
        return ""
    lines = [f"\n#### {t(lang, 'ch_why_title')}", f"- **{t(lang, 'ch_found_by')}:** {ranks}"]
    for s in record.get("snippets", []):
        when = _moment(s, lang)
        lines.append(f"- **{channel_label(lang, s['channel'])}**{' (' + when + ')' if when else ''}: "
                     f"“{_marked(s['text'], s['spans'], markdown=True)}”")
    return "\n".join(lines) + "\n"


def spoken_moment(record: dict | None) -> float | None:
    for s in (record or {}).get("snippets", []):
        if s["channel"] == SPEECH and s.get("moment_s") is not None:
            return float(s["moment_s"])
    return None


CSS = """
.be-why { font-size: var(--text-xs); margin-top: 4px; line-height: 1.35; }
.be-snippet { margin-top: 2px; overflow-wrap: anywhere; }
.be-snippet-ch { color: var(--body-text-color-subdued); }
.be-why mark { background: #ffe066; color: #000; padding: 0 1px; border-radius: 2px; }
"""
