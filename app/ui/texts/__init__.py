"""The web app's texts, one module per area, each with an ``ES`` and an ``EN`` table of the same keys.

A new area adds a module here and lists it in ``AREAS``; :mod:`app.ui.i18n` merges them and
refuses a key defined twice.
"""

from app.ui.texts import analysis_jobs, base, encoders, errors, manage, reliability, search_review, vbs

AREAS = (base, errors, manage, search_review, analysis_jobs, vbs, encoders, reliability)
