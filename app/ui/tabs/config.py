"""The "Configuración" tab: audio language, Whisper model, frames per shot, the vision-language
model (backend, model, OpenAI-compatible server and key), the editable instructions, and the
models' pre-flight ("Probar conexión": found / not found / server reachable) with a short how-to
for vLLM and Ollama.

What is saved applies to this session's later analyses (a ``gr.State``) and is kept by the
browser (``gr.BrowserState``, never the API key), so a reload brings it back; instructions
being edited are kept there too before they are saved. The models themselves are owned by
the context (:class:`app.ui.analysis_models.AnalysisModels`).

The server address is a list of the servers the administrator allowed (``BUSCA_VLM_URL``,
``BUSCA_VLM_URLS``); a typed address that is not on it is refused in the page's language,
with the reason. Messages never outlive what they describe: a save or a test clears the
previous ones first, and editing a field says that there are unsaved changes.
"""

from __future__ import annotations

import hashlib

import gradio as gr

from app.config import VLM_BACKENDS
from app.services import model_statuses
from app.ui.analysis_format import config_markdown
from app.ui.analysis_messages import error_text, models_html
from app.ui.analysis_models import AUDIO_LANGS, MAX_FRAMES_PER_SHOT, WHISPER_SIZES, AnalysisConfig, allowed_urls
from app.ui.context import UiContext
from app.ui.i18n import check_lang, t
from app.ui.job_view import quiet_sink
from pipeline.analysis import DEFAULT_INSTRUCTIONS
from pipeline.errors import BuscaError

#: Form fields, in the order the handlers take them.
FORM = ("audio_lang", "whisper_model", "frames_per_shot", "vlm_backend", "vlm_model", "vlm_url", "vlm_api_key",
        "instructions")


class ConfigHandlers:
    def __init__(self, ctx: UiContext, n_lines: int = 0):
        self.ctx = ctx
        self.n_lines = n_lines  # the other tabs' "configuration in use" lines

    def _config(self, values: tuple, lang: str) -> AnalysisConfig:
        """The form's configuration, checked (no model is loaded); refusals in the page's language."""
        try:
            config = AnalysisConfig.from_form(*values)
            config.check(self.ctx.analysis_env)
        except BuscaError as err:
            raise gr.Error(error_text(err, lang), print_exception=False) from err
        return config

    def _statuses(self, config: AnalysisConfig, lang: str) -> str:
        settings = config.check(self.ctx.analysis_env)
        return models_html(model_statuses(settings, self.ctx.services.settings.device), lang)

    def save(self, audio_lang: str, whisper_model: str, frames_per_shot: float, vlm_backend: str, vlm_model: str,
             vlm_url: str, vlm_api_key: str, instructions: str, lang: str):
        """Check the settings, keep them for this session's analyses, and show the models' pre-flight."""
        lang = check_lang(lang)
        values = (audio_lang, whisper_model, frames_per_shot, vlm_backend, vlm_model, vlm_url, vlm_api_key,
                  instructions)
        config = self._config(values, lang)
        line = config_markdown(config, lang)
        return config, t(lang, "config_saved", line=line), *[line] * self.n_lines, self._statuses(config, lang)

    @staticmethod
    def keep(config: AnalysisConfig | None) -> tuple:
        """The saved configuration (never the API key) for the browser, and no draft any more."""
        return (config.stored() if isinstance(config, AnalysisConfig) else gr.update()), None

    def test(self, audio_lang: str, whisper_model: str, frames_per_shot: float, vlm_backend: str, vlm_model: str,
             vlm_url: str, vlm_api_key: str, instructions: str, lang: str) -> str:
        """The models' pre-flight with the form's settings, without saving them."""
        lang = check_lang(lang)
        values = (audio_lang, whisper_model, frames_per_shot, vlm_backend, vlm_model, vlm_url, vlm_api_key,
                  instructions or DEFAULT_INSTRUCTIONS)
        config = self._config(values, lang)
        return self._statuses(config, lang) + f"<p><small>{t(lang, 'status_checked')}</small></p>"

    @staticmethod
    def restore() -> str:
        """The default (Spanish) analysis instructions."""
        return DEFAULT_INSTRUCTIONS

    @staticmethod
    def unsaved(lang: str) -> str:
        return t(check_lang(lang), "config_unsaved")

    @staticmethod
    def keep_draft(instructions: str) -> str:
        """Instructions being edited, kept by the browser until they are saved."""
        return instructions

    def restore_stored(self, saved: dict | None, draft: str | None, lang: str, request: gr.Request = None):
        """On page load: the configuration the browser kept (if it still passes the server's
        checks) into the session and the form; instructions being edited into their field.
        Returns the session's config, the form, one line per "configuration in use", the status."""
        wanted = request.query_params.get("lang") if request is not None else None
        lang = check_lang(wanted or lang)
        default = AnalysisConfig.from_settings(self.ctx.analysis_env)
        config = AnalysisConfig.from_stored(saved, default)
        try:
            if config is not None:
                config.check(self.ctx.analysis_env)  # the administrator may have changed what is allowed
        except BuscaError:
            config = None
        draft = draft if isinstance(draft, str) else None
        urls = allowed_urls(self.ctx.analysis_env)  # what the server allows now
        info = t(lang, _url_info(self.ctx))
        if config is None and draft is None:
            url = gr.update(choices=urls, info=info)
            return [gr.update(), *[gr.update()] * 5, url, gr.update(), gr.update(), *[gr.update()] * self.n_lines, ""]
        shown = config or default
        url = gr.update(choices=list(dict.fromkeys([*urls, shown.vlm_url] if shown.vlm_url else urls)),
                        value=shown.vlm_url or None, info=info)
        form = [shown.audio_lang, shown.whisper_model, shown.frames_per_shot, shown.vlm_backend, shown.vlm_model,
                url, gr.update(), draft if draft is not None else shown.instructions]
        line = config_markdown(shown, lang) if config is not None else gr.update()
        unsaved = t(lang, "config_unsaved") if draft is not None and draft != shown.instructions else ""
        return [config if config is not None else gr.update(), *form, *[line] * self.n_lines, unsaved]


def _url_info(ctx: UiContext) -> str:
    env = ctx.analysis_env
    if env.ui_models == "open":
        return "vlm_url_info_open"
    return "vlm_url_info_list" if allowed_urls(env) else "vlm_url_info_none"


def browser_storage(ctx: UiContext) -> tuple[gr.BrowserState, gr.BrowserState]:
    """Where the browser keeps a session's saved analysis settings, and the instructions being
    edited (apart, so that each write holds one whole value). Made at the top of the page: a tab
    that is not shown yet is not mounted, and its browser state would not be read at load. The
    secret depends on the data directory only, so what was kept survives a server restart."""
    secret = hashlib.sha256(f"buscaescenas:{ctx.layout.root.resolve()}".encode()).hexdigest()[:32]
    return (gr.BrowserState(None, storage_key="buscaescenas-analysis", secret=secret),
            gr.BrowserState(None, storage_key="buscaescenas-instructions", secret=secret))


def build_config_tab(ctx: UiContext, config: gr.State, lang: gr.State, config_lines: list[gr.Markdown],
                     demo: gr.Blocks, stored: tuple[gr.BrowserState, gr.BrowserState]) -> None:
    """The tab; ``config_lines`` (the other tabs' "configuration in use" lines) follow a save.
    ``demo`` gets the load event that brings back what the browser kept in ``stored``
    (:func:`browser_storage`)."""
    saved, draft = stored
    tx, handlers = ctx.texts, ConfigHandlers(ctx, len(config_lines))
    default: AnalysisConfig = config.value
    tx.bind(gr.Markdown(tx("config_help")), value="config_help")
    with gr.Row():
        audio = tx.bind(gr.Dropdown(list(dict.fromkeys((*AUDIO_LANGS, default.audio_lang))), value=default.audio_lang,
                                    allow_custom_value=True, label=tx("audio_lang"), info=tx("audio_lang_info"),
                                    elem_id="be-cfg-audio"), label="audio_lang", info="audio_lang_info")
        whisper = tx.bind(gr.Dropdown(list(dict.fromkeys((*WHISPER_SIZES, default.whisper_model))),
                                      value=default.whisper_model, allow_custom_value=True, label=tx("whisper_model"),
                                      info=tx("whisper_model_info"), elem_id="be-cfg-whisper"),
                          label="whisper_model", info="whisper_model_info")
        frames = tx.bind(gr.Slider(1, MAX_FRAMES_PER_SHOT, value=default.frames_per_shot, step=1,
                                   label=tx("frames_per_shot"), elem_id="be-cfg-frames"), label="frames_per_shot")
    with gr.Row():
        backend = tx.bind(gr.Radio(list(VLM_BACKENDS), value=default.vlm_backend, label=tx("vlm_backend"),
                                   info=tx("vlm_backend_info"), elem_id="be-cfg-backend"),
                          label="vlm_backend", info="vlm_backend_info")
        model = tx.bind(gr.Textbox(default.vlm_model, label=tx("vlm_model"), info=tx("vlm_model_info"),
                                   elem_id="be-cfg-model"), label="vlm_model", info="vlm_model_info")
    with gr.Row():
        # Typed values reach the handler (allow_custom_value), which says why one is refused.
        urls = allowed_urls(ctx.analysis_env)
        url = tx.bind(gr.Dropdown(list(dict.fromkeys([*urls, default.vlm_url] if default.vlm_url else urls)),
                                  value=default.vlm_url or None, allow_custom_value=True, label=tx("vlm_url"),
                                  info=tx(_url_info(ctx)), elem_id="be-cfg-url"),
                      label="vlm_url", info=_url_info(ctx))
        key = tx.bind(gr.Textbox("", type="password", label=tx("vlm_api_key"), info=tx("vlm_api_key_info"),
                                 elem_id="be-cfg-key"), label="vlm_api_key", info="vlm_api_key_info")
    instructions = tx.bind(gr.Textbox(default.instructions, lines=12, max_lines=30, label=tx("instructions"),
                                      info=tx("instructions_info"), elem_id="be-cfg-instructions"),
                           label="instructions", info="instructions_info")
    with gr.Row():
        save_btn = tx.bind(gr.Button(tx("save_config"), variant="primary", elem_id="be-cfg-save"), value="save_config")
        test_btn = tx.bind(gr.Button(tx("test_connection"), elem_id="be-cfg-test"), value="test_connection")
        restore_btn = tx.bind(gr.Button(tx("restore_instructions"), elem_id="be-cfg-restore"),
                              value="restore_instructions")
    status = gr.Markdown(elem_id="be-cfg-status")
    models = gr.HTML(elem_id="be-cfg-models")
    with gr.Accordion(tx("howto_title"), open=not urls and default.vlm_backend == "openai",
                      elem_id="be-cfg-howto") as howto:
        tx.bind(howto, label="howto_title")
        tx.bind(gr.Markdown(tx("howto")), value="howto")

    fields = [audio, whisper, frames, backend, model, url, key, instructions]
    clear = {"fn": lambda: ("", ""), "inputs": None, "outputs": [status, models], "queue": False,
             "api_visibility": "private"}
    # A refusal is a toast in words, not a bare red "Error" over the fields (quiet_sink).
    quiet = {"show_progress": "hidden", "show_progress_on": [quiet_sink()]}
    save_btn.click(**clear).then(handlers.save, [*fields, lang], [config, status, *config_lines, models],
                                 api_name="save_config", **quiet).success(
        handlers.keep, config, [saved, draft], api_visibility="private", queue=False)
    test_btn.click(**clear).then(handlers.test, [*fields, lang], models, api_name="test_connection", **quiet)
    restore_btn.click(handlers.restore, None, instructions, api_name="restore_instructions", queue=False).then(
        handlers.keep_draft, instructions, draft, api_visibility="private", queue=False)
    for field in fields:
        field.input(handlers.unsaved, lang, status, api_visibility="private", queue=False, show_progress="hidden")
    # Queued and "always_last": the keystrokes' writes cannot finish out of order.
    instructions.input(handlers.keep_draft, instructions, draft, api_visibility="private", trigger_mode="always_last",
                       show_progress="hidden")
    demo.load(handlers.restore_stored, [saved, draft, lang], [config, *fields, *config_lines, status],
              api_visibility="private", queue=False)
