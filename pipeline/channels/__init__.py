"""Text channels per shot (speech, on-screen text, analysis descriptions) beside the visual one:
their names, the text of each shot, writing them to the store, and which a database holds."""

from pipeline.channels.enrich import (
    ChannelModels,
    ChannelOptions,
    ChannelResult,
    channel_texts,
    enrich,
    enrich_video,
    record_channel,
    write_channel,
)
from pipeline.channels.registry import ChannelDone, ChannelRegistry
from pipeline.channels.shot_text import ShotText, merge_lines, ocr_per_shot, ocr_times, speech_per_shot
from pipeline.channels.spec import (
    ALL_CHANNELS,
    DESCRIPTION,
    MEDIA_CHANNELS,
    OCR,
    SPEECH,
    TEXT_CHANNELS,
    VISUAL,
    dense_name,
    parse_channels,
    parse_weights,
    payload_fields,
    sparse_name,
    text_field,
)

__all__ = [
    "ALL_CHANNELS",
    "DESCRIPTION",
    "MEDIA_CHANNELS",
    "OCR",
    "SPEECH",
    "TEXT_CHANNELS",
    "VISUAL",
    "ChannelDone",
    "ChannelModels",
    "ChannelOptions",
    "ChannelRegistry",
    "ChannelResult",
    "ShotText",
    "channel_texts",
    "dense_name",
    "enrich",
    "enrich_video",
    "merge_lines",
    "ocr_per_shot",
    "ocr_times",
    "parse_channels",
    "parse_weights",
    "payload_fields",
    "record_channel",
    "sparse_name",
    "speech_per_shot",
    "text_field",
    "write_channel",
]
