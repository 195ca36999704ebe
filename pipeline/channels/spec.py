"""The channels a database can hold, their names in Qdrant, and how users write them.

- ``visual``: the CLIP shot vector (named after the encoder, e.g. ``clip-vit-l-14-openai``);
- ``speech``: what is said (faster-whisper), aligned to shots;
- ``ocr``: what is written on screen (OCR of frames);
- ``description``: the validated fields of a VLM analysis of the shot.

Each text channel ``C`` stores, on the shots that have text in it: the payload ``C_text``,
a BM25 sparse vector ``C-bm25`` and a dense text vector ``C-<model>`` (e.g. ``speech-e5-small``).
Speech also keeps ``speech_segments`` (times and words, to play from the spoken moment) and
on-screen text ``ocr_lines`` (when each line was first seen).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipeline.errors import ConfigError

VISUAL, SPEECH, OCR, DESCRIPTION = "visual", "speech", "ocr", "description"
ALL_CHANNELS = (VISUAL, SPEECH, OCR, DESCRIPTION)
TEXT_CHANNELS = (SPEECH, OCR, DESCRIPTION)
#: What ``enrich`` and ``ingest --channels`` compute from the media (descriptions come from an analysis).
MEDIA_CHANNELS = (SPEECH, OCR)
_ALIASES = {"asr": SPEECH, "audio": SPEECH, "habla": SPEECH, "voz": SPEECH, "text": OCR, "rotulos": OCR,
            "rótulos": OCR, "image": VISUAL, "imagen": VISUAL, "clip": VISUAL, "descripcion": DESCRIPTION,
            "descripción": DESCRIPTION, "vlm": DESCRIPTION}


def sparse_name(channel: str) -> str:
    return f"{channel}-bm25"


def dense_name(channel: str, model_part: str) -> str:
    return f"{channel}-{model_part}"


def text_field(channel: str) -> str:
    return f"{channel}_text"


#: Payload keys a text channel writes on a shot (cleared when the channel is recomputed).
def payload_fields(channel: str) -> tuple[str, ...]:
    extra = {SPEECH: ("speech_segments",), OCR: ("ocr_lines",)}.get(channel, ())
    return (text_field(channel), *extra)


def parse_channels(value: str | Iterable[str] | None, allowed: Iterable[str] = ALL_CHANNELS) -> tuple[str, ...]:
    """``"visual,speech"`` (or a list; ``all``; Spanish and short aliases) -> channel names in
    canonical order; :class:`ConfigError` naming the unknown one."""
    allowed = tuple(allowed)
    if value is None:
        return allowed
    items = value.split(",") if isinstance(value, str) else list(value)
    out = set()
    for raw in items:
        item = raw.strip().lower()
        if not item:
            continue
        if item == "all":
            out.update(allowed)
            continue
        name = _ALIASES.get(item, item)
        if name not in allowed:
            raise ConfigError(f"unknown channel {raw.strip()!r}: use {', '.join(allowed)} (or all)")
        out.add(name)
    if not out:
        raise ConfigError(f"no channel given: use {', '.join(allowed)}")
    return tuple(c for c in allowed if c in out)


def parse_weights(value: str | Mapping[str, float] | None) -> dict[str, float]:
    """``"speech=2,ocr=1.5"`` (or ``speech:2``, or a mapping) -> ``{channel: weight}``; weights >= 0."""
    if not value:
        return {}
    pairs = value.items() if isinstance(value, Mapping) else (
        item.replace(":", "=").partition("=")[::2] for item in str(value).replace("+", ",").split(",") if item.strip())
    out = {}
    for raw_name, raw_weight in pairs:
        (name,) = parse_channels(str(raw_name))
        try:
            weight = float(raw_weight)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"channel weight for {name} must be a number, got {raw_weight!r}") from err
        if not 0 <= weight <= 100:
            raise ConfigError(f"channel weight for {name} must be between 0 and 100, got {weight}")
        out[name] = weight
    return out
