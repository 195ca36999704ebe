"""The web app's texts in Spanish (default, as the original system) and English.

Gradio's own ``gr.I18n`` picks the language from the browser's locale; an archive
deployment wants Spanish whatever the browser says, with English one click away, so
the table is applied on the server: the page is built in ``BUSCA_LANG`` and the
language selector (or ``?lang=en`` in the URL) relabels every registered component.
The tables themselves live in :mod:`app.ui.texts`, one module per area.
"""

from __future__ import annotations

from app.ui.texts import AREAS
from pipeline.core import format_number

LANGUAGES = {"es": "Español", "en": "English"}
DEFAULT_LANG = "es"


def _merge(tables: list[dict[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for table in tables:
        twice = merged.keys() & table.keys()
        if twice:
            raise KeyError(f"text keys defined in two areas of app.ui.texts: {sorted(twice)}")
        merged.update(table)
    return merged


ES = _merge([area.ES for area in AREAS])
EN = _merge([area.EN for area in AREAS])
TEXTS = {"es": ES, "en": EN}


def check_lang(lang: str | None) -> str:
    """A supported language code; anything else falls back to the default."""
    return lang if lang in TEXTS else DEFAULT_LANG


def t(lang: str | None, key: str, **values: object) -> str:
    """The text for ``key`` in ``lang``, formatted with ``values``."""
    text = TEXTS[check_lang(lang)][key]
    return text.format(**values) if values else text


def tn(lang: str | None, key: str, n: int, **values: object) -> str:
    """The text for a count ``n`` ("1 escena", "3 escenas"): ``key + "_one"`` when ``n == 1``."""
    table = TEXTS[check_lang(lang)]
    return t(lang, f"{key}_one" if n == 1 and f"{key}_one" in table else key, n=n, **values)


def decimal(lang: str | None, value: float, digits: int) -> str:
    """A number with the language's decimal mark (``0,812`` in Spanish), never ``-0,000``."""
    return format_number(float(value), "," if check_lang(lang) == "es" else ".", digits)
