"""The encoder picker in the search options: which of the database's encoders to search with, and
which query encoder turns the text into a vector. The search handlers call :func:`encoders_for`;
the choices follow the chosen database (:func:`encoder_choices`)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from app.ui.context import UiContext
from app.ui.errors import public_spec
from app.ui.i18n import t
from pipeline.errors import BuscaError
from pipeline.search import QUERY_ENCODERS


@dataclass
class EncoderPicker:
    encoder: gr.Dropdown
    query_encoder: gr.Dropdown


def _query_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(lang, f"query_encoder_{kind}"), kind) for kind in QUERY_ENCODERS]


def encoder_choices(ctx: UiContext, db: str | None, lang: str) -> list[tuple[str, str]]:
    """``(label, model spec)`` of every encoder the database holds; ``""`` means its own default."""
    choices = [(t(lang, "encoder_default"), "")]
    if not db:
        return choices
    try:
        if not ctx.services.store.has_collection(db):
            return choices
        records = ctx.services.db_encoders(db)
    except BuscaError:
        return choices
    for record in records.values():
        if record.model:
            note = "" if record.recorded else f", {t(lang, 'encoder_unrecorded')}"
            choices.append((f"{public_spec(record.model)} ({record.dim}-d{note})", record.model))
    return choices


def build_encoder_picker(ctx: UiContext) -> EncoderPicker:
    """The two dropdowns (inside the search options accordion)."""
    tx = ctx.texts
    with gr.Row():
        encoder = tx.bind(gr.Dropdown(choices=encoder_choices(ctx, ctx.services.settings.db, tx.lang), value="",
                                      label=tx("encoder_pick"), info=tx("encoder_pick_info"), elem_id="be-encoder"),
                          label="encoder_pick", info="encoder_pick_info")
        query = tx.bind(gr.Dropdown(choices=_query_choices(tx.lang), value=ctx.services.settings.query_encoder,
                                    label=tx("query_encoder_pick"), info=tx("query_encoder_info"),
                                    elem_id="be-query-encoder"),
                        label="query_encoder_pick", info="query_encoder_info")
    return EncoderPicker(encoder, query)


def refresh_choices(ctx: UiContext, db: str | None, lang: str):
    """The encoder dropdown for another database (or language)."""
    return gr.update(choices=encoder_choices(ctx, db, lang), value="")


def encoders_for(ctx: UiContext, db: str, spec: str | None, query_encoder: str | None, has_text: bool):
    """``(image encoder, text encoder or None, query-encoder choice)`` for a search of ``db``. Nothing
    is loaded here: each model loads (once, under its own lock) when it first runs, so a text
    query through M-CLIP never loads the image model."""
    services = ctx.services
    encoder = services.encoder_for_db(db, spec or None)
    text_encoder, choice = services.query_encoder(db, encoder, query_encoder or None)
    return encoder, (text_encoder if has_text else None), choice


def ran_state(encoder, text_encoder, choice, text: str) -> dict:
    """What the status line says about the encoders, kept in the query state (a language switch
    re-renders it with :func:`ran_text`)."""
    translations = getattr(text_encoder, "last_translations", {}) if text_encoder is not None else {}
    translated = translations.get(text)
    return {"encoder": getattr(encoder, "model_id", encoder.name), "kind": choice.kind, "code": choice.code,
            "translated": translated if translated and translated != text else None}


def ran_text(lang: str, ran: dict | None) -> str:
    """`` Codificador: …; consulta: … (why).`` (and the translation), or nothing."""
    if not ran:
        return ""
    line = " " + t(lang, "encoders_ran", encoder=public_spec(str(ran["encoder"])), query=t(lang, f"query_encoder_{ran['kind']}"),
                   reason=t(lang, f"qe_reason_{ran['code']}"))
    return line + (f" {t(lang, 'query_translated', text=ran['translated'])}" if ran.get("translated") else "")
