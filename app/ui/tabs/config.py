"""The "Configuración" tab: audio language, Whisper model, frames per shot, the vision-language
model (backend, model, OpenAI-compatible server and key) and the editable instructions.

What is saved applies to this session's later analyses (a ``gr.State``); the models
themselves are owned by the context (:class:`app.ui.analysis_models.AnalysisModels`).
"""

from __future__ import annotations

import gradio as gr

from app.config import VLM_BACKENDS
from app.ui.analysis_format import config_markdown
from app.ui.analysis_models import AUDIO_LANGS, MAX_FRAMES_PER_SHOT, WHISPER_SIZES, AnalysisConfig
from app.ui.context import UiContext
from app.ui.errors import ui_free_error
from app.ui.i18n import check_lang, t
from pipeline.analysis import DEFAULT_INSTRUCTIONS
from pipeline.errors import BuscaError


class ConfigHandlers:
    def __init__(self, ctx: UiContext):
        self.ctx = ctx

    def save(self, audio_lang: str, whisper_model: str, frames_per_shot: float, vlm_backend: str, vlm_model: str,
             vlm_url: str, vlm_api_key: str, instructions: str, lang: str):
        """Check the settings (no model is loaded) and keep them for this session's analyses."""
        lang = check_lang(lang)
        try:
            config = AnalysisConfig.from_form(audio_lang, whisper_model, frames_per_shot, vlm_backend, vlm_model,
                                              vlm_url, vlm_api_key, instructions)
            config.check(self.ctx.analysis_env)
        except BuscaError as err:
            raise ui_free_error(str(err)) from err
        line = config_markdown(config, lang)
        return config, t(lang, "config_saved", line=line), line, line

    @staticmethod
    def restore() -> str:
        """The default (Spanish) analysis instructions."""
        return DEFAULT_INSTRUCTIONS


def build_config_tab(ctx: UiContext, config: gr.State, lang: gr.State, config_lines: list[gr.Markdown]) -> None:
    """The tab; ``config_lines`` (the other tabs' "configuration in use" lines) follow a save."""
    tx, handlers = ctx.texts, ConfigHandlers(ctx)
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
        url = tx.bind(gr.Textbox(default.vlm_url, label=tx("vlm_url"), placeholder="http://localhost:8000/v1",
                                 elem_id="be-cfg-url"), label="vlm_url")
        key = tx.bind(gr.Textbox("", type="password", label=tx("vlm_api_key"), info=tx("vlm_api_key_info"),
                                 elem_id="be-cfg-key"), label="vlm_api_key", info="vlm_api_key_info")
    instructions = tx.bind(gr.Textbox(default.instructions, lines=12, max_lines=30, label=tx("instructions"),
                                      info=tx("instructions_info"), elem_id="be-cfg-instructions"),
                           label="instructions", info="instructions_info")
    with gr.Row():
        save_btn = tx.bind(gr.Button(tx("save_config"), variant="primary", elem_id="be-cfg-save"), value="save_config")
        restore_btn = tx.bind(gr.Button(tx("restore_instructions"), elem_id="be-cfg-restore"),
                              value="restore_instructions")
    status = gr.Markdown(elem_id="be-cfg-status")

    fields = [audio, whisper, frames, backend, model, url, key, instructions, lang]
    save_btn.click(handlers.save, fields, [config, status, *config_lines], api_name="save_config")
    restore_btn.click(handlers.restore, None, instructions, api_name="restore_instructions", queue=False)
