"""The search tab's channel parts: the controls in "Opciones de búsqueda" (channels, their weights,
how text and image meet) and "play from the spoken moment". The reasons shown with each hit are in
:mod:`app.ui.channels_format`. The search tab calls these through small hooks.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from app.ui.channels_format import spoken_moment
from app.ui.i18n import t
from pipeline.channels import ALL_CHANNELS
from pipeline.core import format_timecode

WEIGHT_MAX = 3.0


@dataclass
class ChannelControls:
    channels: gr.CheckboxGroup
    weights: list[gr.Slider]
    fusion: gr.Radio

    @property
    def inputs(self) -> list:
        return [self.channels, *self.weights, self.fusion]


def build_channel_controls(ctx) -> ChannelControls:
    """Inside the options accordion: which channels, their weights, text+image fusion."""
    tx = ctx.texts
    choices = [(tx(f"ch_{c}"), c) for c in ALL_CHANNELS]
    channels = tx.bind(gr.CheckboxGroup(choices=choices, value=list(ALL_CHANNELS), label=tx("ch_channels"),
                                        info=tx("ch_channels_info"), elem_id="be-channels"),
                       label="ch_channels", info="ch_channels_info")
    with tx.accordion("ch_weights", open=False), gr.Row():
        weights = [tx.bind(gr.Slider(0.0, WEIGHT_MAX, value=1.0, step=0.25, label=tx(f"ch_{c}"),
                                     elem_id=f"be-weight-{c}"), label=f"ch_{c}") for c in ALL_CHANNELS]
    fusion = tx.bind(gr.Radio([(tx("ch_fusion_rrf"), "rrf"), (tx("ch_fusion_vector"), "vector")], value="rrf",
                              label=tx("ch_fusion"), elem_id="be-fusion"), label="ch_fusion")
    return ChannelControls(channels, weights, fusion)


def moment_button(selected: str | None, records: list[dict] | None, basket: list | None, lang: str):
    """Show "play from the spoken moment" for the opened hit (a result or the selection, by point id)
    when it was found in its speech."""
    if not selected:  # a card action that opens nothing: the details (and this button) stay as they are
        return gr.update(), gr.update()
    record = next((r for r in [*(records or []), *(basket or [])] if r.get("point_id") == selected), None)
    moment = spoken_moment(record)
    if moment is None:
        return gr.update(visible=False), None
    return gr.update(visible=True, value=t(lang, "ch_play_moment", tc=format_timecode(moment))), moment


def play_moment(moment: float | None, strip_state: dict | None):
    """Play the selected video from the spoken moment."""
    if moment is None or not strip_state or not strip_state.get("media"):
        return gr.update()
    return gr.update(value=strip_state["media"], playback_position=float(moment))


