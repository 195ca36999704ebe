"""Real Apertium (Debian apertium-eng-spa) translating real Spanish queries; English passes through."""

from __future__ import annotations

import pytest

from models.translate import ApertiumTranslator, unknown_share

pytestmark = pytest.mark.skipif(not ApertiumTranslator.available(),
                                reason="Apertium is not installed: apt install apertium-eng-spa")


def test_spanish_archive_queries_come_out_in_english():
    translator = ApertiumTranslator()
    queries = ["Botellas con productos químicos en un laboratorio", "un gato negro",
               "Un astronauta flota cerca de la Estación Espacial", "una taza de café"]
    # Apertium's capitalisation depends on the neighbouring lines; CLIP's tokenizer lowercases anyway
    assert [t.lower() for t in translator.translate(queries)] == [
        "bottles with chemical products in a laboratory", "a black cat",
        "an astronaut floats near of the space station", "a cup of coffee"]


def test_english_queries_and_names_are_not_mangled():
    translator = ApertiumTranslator()
    english, named = translator.translate(["a man with a red car", "bidón Casablanca"])
    assert english == "a man with a red car"  # half its words unknown in Spanish: left as it is
    assert named == "drum Casablanca"  # an unknown capitalised name does not stop the translation
    assert unknown_share("to *man *with to net *car") == 0.5 and unknown_share("drum *Casablanca") == 0.0


def test_line_breaks_inside_a_query_do_not_shift_the_others():
    translated = ApertiumTranslator().translate(["un gato\nnegro", "una taza"])
    assert [t.lower() for t in translated] == ["a black cat", "a cup"]
