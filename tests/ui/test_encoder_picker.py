"""The encoder picker in the search options: the database's encoders as choices, the query
encoder chosen per search, and a status line that says which ones ran (tiny model: wiring only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ui.tabs.encoder_picker import encoder_choices
from models.translate import ApertiumTranslator
from pipeline.index import record_encoder


def test_the_picker_lists_the_encoders_the_database_records(running_app, tiny_encoder):
    ctx = running_app.ctx
    assert encoder_choices(ctx, "nada", "es") == [("El de la base de datos", "")]
    record_encoder(ctx.services.store, "archivo", tiny_encoder)  # the same weights that made the shots
    labels = dict((value, label) for label, value in encoder_choices(ctx, "archivo", "en"))
    assert labels[""] == "The database's own" and labels[tiny_encoder.model_id] == f"local-dir:{Path(tiny_encoder.model_id).name} (768-d)"


def _search(client, text: str, query_encoder: str):
    """``/search`` with the picker's two inputs, last after "A, then B", minimum score and order."""
    return client.predict("archivo", text, None, 0.5, 3, False, [], "", None, 60, 0, "score", "", query_encoder,
                          api_name="/search")


def test_search_says_which_encoder_and_query_encoder_ran(client):
    _cards, status, *_ = _search(client, "un gato", "native")
    assert "Codificador: local-dir:tiny-clip" in status and "consulta: El del modelo (elegido)" in status
    assert "/tmp" not in status  # a local model's folder by its name, never the server's path


@pytest.mark.skipif(not ApertiumTranslator.available(), reason="apt install apertium-eng-spa")
def test_a_translated_query_shows_its_translation(client):
    _cards, status, *_ = _search(client, "un gato negro", "translate")
    assert "Traducir al inglés (Apertium)" in status and "«a black cat»" in status.lower()
