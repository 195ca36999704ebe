"""The web app's texts, one module per area, each with an ``ES`` and an ``EN`` table of the same keys.

A new area adds a module here and lists it in ``AREAS``; :mod:`app.ui.i18n` merges them and
refuses a key defined twice.
"""

from app.ui.texts import base, errors, manage, search_review

AREAS = (base, errors, manage, search_review)
