"""Messages for web users from what the analysis, the jobs and the evaluation report, in the
page's language: the models' pre-flight in words, a stopped batch, malformed log lines, our own
refusals; every other pipeline error through :func:`app.ui.errors.render_error` (its code and
parameters, never a server path)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from app.ui.errors import render_error
from app.ui.i18n import t
from models.preflight import ModelStatus, ModelUnavailable
from pipeline.analysis import StopInfo
from pipeline.errors import BuscaError

_MODEL_KINDS = ("whisper", "vlm")


def _reason(lang: str, code: str, params: dict) -> str:
    params = {"kind": "", "name": "", "where": "", "detail": "", **params}
    params["served"] = params.get("served") or "—"
    if code == "model_missing" and Path(params["where"]).is_absolute():
        code = "model_missing_folder"
    elif code == "model_reachable" and params["served"] == "—":
        code = "model_reachable_unlisted"
    return t(lang, code, **params)


def model_reason(status: ModelStatus, lang: str) -> str:
    """What a model's pre-flight found, in words."""
    return _reason(lang, status.code, status.params)


def _model_unusable(lang: str, code: str, params: dict) -> str:
    return t(lang, "model_unusable", kind=t(lang, f"kind_{params['kind']}"), name=params.get("name", ""),
             reason=_reason(lang, code, params))


def stop_text(stop: StopInfo, lang: str) -> str:
    """Why a batch stopped: "Trabajo detenido: …" (a model that failed its pre-flight, in words)."""
    if stop.reason == "cancelled":
        return t(lang, "job_stopped_cancelled")
    if (stop.code or "").startswith("model_") and stop.params.get("kind") in _MODEL_KINDS:
        return t(lang, "job_stopped", error=_model_unusable(lang, stop.code, stop.params))
    return t(lang, "job_stopped", error=render_error(lang, stop.code or "model", stop.params))


def plural(lang: str, key: str, n: int, **values: object) -> str:
    """``key`` with ``n``, or ``key_one`` when ``n`` is 1 ("1 vídeo", not "1 vídeos")."""
    return t(lang, f"{key}_one" if n == 1 else key, n=n, **values)


def problem_text(problem, lang: str) -> str:
    """A malformed log line (:class:`pipeline.evaluation.logs.LogProblem`), in words."""
    params = {k: "" if v is None else v for k, v in problem.params.items()}
    return f"{t(lang, 'eval_line', line=problem.line)}: {t(lang, f'problem_{problem.code}', **params)}"


def _log_refused(params: dict, lang: str) -> str:
    problems = "; ".join(problem_text(p, lang) for p in params.get("problems", [])[:3])
    return t(lang, "eval_no_entries", name=params.get("name", ""), problems=problems).replace(" . ", " ")


#: Pipeline errors that carry a ``code`` and ``params``, said in the page's language.
CODE_TEXTS = {
    "log_malformed": _log_refused,
    "log_empty": _log_refused,
    "log_nothing_matched": lambda params, lang: t(lang, "eval_nothing_matched", **params),
}


def error_text(err: BaseException | None, lang: str) -> str:
    """An error for a web user, in their language: a model that failed its pre-flight, in words;
    an evaluation's log problems; a refusal of ours (it has a text ``key`` and ``params``); any
    other pipeline error by its code; anything else (a bug) as the generic "something went wrong"
    (the details are in the server's log)."""
    if err is None:
        return ""
    if isinstance(err, ModelUnavailable):
        return _model_unusable(lang, err.code, err.params)
    code, params = getattr(err, "code", None), getattr(err, "params", None)
    if code in CODE_TEXTS and isinstance(params, dict):
        return CODE_TEXTS[code](params, lang)
    key = getattr(err, "key", None)
    if isinstance(key, str) and isinstance(params, dict):
        return t(lang, key, **params)
    if isinstance(err, BuscaError):
        return render_error(lang, err.code, err.params)
    return render_error(lang, "error")


def _initial(text: str) -> str:
    return text[:1].upper() + text[1:]


def models_html(statuses: Sequence[ModelStatus], lang: str) -> str:
    """The pre-flight of each model: a mark, its kind and name, what was found."""
    items = []
    for status in statuses:
        mark = "✅" if status.ok else "❌"
        items.append(f'<li class="be-model be-model-{"ok" if status.ok else "bad"}">{mark} '
                     f'<b>{html.escape(_initial(t(lang, f"kind_{status.kind}")))}</b> '
                     f'<code>{html.escape(status.name)}</code>: {html.escape(model_reason(status, lang))}</li>')
    title = html.escape(t(lang, "models_status"))
    return f'<div class="be-models"><b>{title}</b><ul>{"".join(items)}</ul></div>'
