"""Every error code of the pipeline, rendered in both languages of the web app: no English domain
message reaches the Spanish interface, no server path reaches anyone, and ``str(err)`` stays the
CLI's English one-liner."""

from __future__ import annotations

import string

import pytest

from app.ui.errors import error_text, render_error
from app.ui.i18n import EN, ES
from pipeline.errors import (
    MESSAGES,
    BuscaError,
    ConfigError,
    MediaError,
    QueryError,
    StoreLockedError,
    UnknownDatabaseError,
)

TEMP_PATH = "/tmp/gradio/310aa2fd47b647019633560b70c28ed493769c52c33c9aa4bc00db373f645984/falso.mp4"


def _fields(text: str) -> set[str]:
    return {name.split("!")[0] for _, name, _, _ in string.Formatter().parse(text) if name}


def _sample(code: str) -> dict:
    """A value for every parameter of the code's English text (a temporary upload path for paths)."""
    params = {name: f"<{name}>" for name in _fields(MESSAGES[code])}
    params["path"] = TEMP_PATH
    return params


def test_every_code_has_a_spanish_and_an_english_text_and_nothing_else():
    codes = {f"err.{code}" for code in MESSAGES}
    assert codes == {k for k in ES if k.startswith("err.")} == {k for k in EN if k.startswith("err.")}


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_each_code_renders_in_both_languages_without_paths_or_placeholders(code):
    params = _sample(code)
    if code.startswith(("media.", "image.")):
        english_cli = str(MediaError(TEMP_PATH, code=code, **{k: v for k, v in params.items() if k != "path"}))
    else:
        english_cli = str(BuscaError(code=code, **params))
    assert english_cli and "{" not in english_cli
    spanish, english = render_error("es", code, params), render_error("en", code, params)
    for text in (spanish, english):
        assert text and "{" not in text and "}" not in text
        assert "/tmp" not in text and "gradio" not in text  # the upload's folder never shows
        for name in ("reason", "detail"):  # library messages stay in the log
            assert f"<{name}>" not in text
    assert spanish != english
    # what a Spanish text may use: the code's parameters, and the file name made from a path
    assert _fields(ES[f"err.{code}"]) <= _fields(MESSAGES[code]) | {"name"}
    assert _fields(EN[f"err.{code}"]) <= _fields(MESSAGES[code]) | {"name"}


def test_cause_first_and_the_file_by_its_name():
    err = MediaError(TEMP_PATH, code="media.still_image", format="jpeg")
    assert str(err) == f"{TEMP_PATH}: is a still image (jpeg), not a video"  # the CLI's line
    assert error_text("es", err) == "Es una imagen fija (jpeg), no un vídeo: «falso.mp4»."
    assert error_text("en", err) == "This is a still image (jpeg), not a video: “falso.mp4”."
    image = MediaError("/tmp/x/falso.jpg", code="image.invalid")
    assert error_text("es", image).startswith("El archivo no es una imagen válida")


def test_errors_raised_with_free_text_get_their_class_text_not_english():
    err = QueryError("k must be a positive number of results, or else")
    assert err.code == "query" and str(err) == "k must be a positive number of results, or else"
    assert error_text("es", err) == ES["err.query"]
    legacy = MediaError(TEMP_PATH, "is somehow broken")
    assert str(legacy).endswith("is somehow broken") and "falso.mp4" in error_text("es", legacy)
    assert render_error("es", "nonexistent.code", {}) == ES["err.error"]
    with pytest.raises(KeyError):
        ConfigError(code="no.such.code")


def test_store_errors_carry_their_names():
    assert "«nada» no existe" in error_text("es", UnknownDatabaseError("nada", ["archivo"]))
    assert "archivo" in error_text("es", UnknownDatabaseError("nada", ["archivo"]))
    assert "todavía no hay ninguna" in error_text("es", UnknownDatabaseError("nada", []))
    locked = StoreLockedError("/srv/data/edge")
    assert "already open in another process" in str(locked) and "/srv" not in error_text("es", locked)
