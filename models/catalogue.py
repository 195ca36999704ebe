"""The encoders the project knows: what each is, what it was measured to do, where the figures come from.

Pure data (no torch): the CLI's ``python -m app models``, the web app's encoder picker, the
query-encoder ``auto`` choice and ``bench/encoders.py`` read it. Any other open_clip spec still
works; it is simply not described here.

Published retrieval figures are other people's measurements on public benchmarks, quoted with
their source; they are not measured here (no trained CLIP weights can be downloaded on the
machines that built this project). ``cpu_images_per_s`` *is* measured here, by
``bench/encoders.py``: the real architectures with random weights (same FLOPs), batch 8, fp32,
all models interleaved in one run (figures in ``bench/results/encoders.json``).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Where the Crossmodal-3600 figures come from: Immich's model table, "Recall (%)" = the mean of
#: R@1, R@5 and R@10 for zero-shot text-to-image retrieval on Crossmodal-3600, per query language.
IMMICH = ("Immich model table (docs/features/searching.md): Crossmodal-3600 text-to-image, "
          "mean of R@1/5/10")
MCLIP_SOURCE = ("Multilingual-CLIP README (FreddeFrallan/Multilingual-CLIP): MS-COCO text-to-image R@10, "
                "XLM-R Large + ViT-L/14")
#: The machine ``cpu_images_per_s`` was measured on (see README, "Performance").
BENCH_MACHINE = ("2 shared x86-64 cores (AVX2, no GPU), fp32, batch 8, random weights, bench/encoders.py, 5 rounds "
                 "interleaved at load average 13-20 (absolute images/s ~10x below a quiet machine; the ratios hold)")


@dataclass(frozen=True)
class EncoderEntry:
    """One image-text encoder. ``spec`` is its open_clip ``NAME/TAG``; ``name`` a short alias."""

    name: str
    spec: str
    dim: int
    languages: str
    multilingual: bool
    es_recall: float | None
    en_recall: float | None
    source: str
    licence: str
    role: str
    cpu_images_per_s: float | None = None
    cpu_ratio_vs_l14: float | None = None


@dataclass(frozen=True)
class QueryEncoderEntry:
    """A text-only tower that maps queries into an image encoder's space (``space`` is that
    encoder's spec), or a translation step placed in front of an English text tower."""

    name: str
    kind: str  # "mclip" | "translate"
    model: str
    space: str | None
    languages: str
    es_recall: float | None
    en_recall: float | None
    source: str
    licence: str


DEFAULT_ENCODER = "ViT-B-16-SigLIP2/webli"
ORIGINAL_ENCODER = "ViT-L-14/openai"
MCLIP_MODEL = "M-CLIP/XLM-Roberta-Large-Vit-L-14"

ENCODERS: tuple[EncoderEntry, ...] = (
    EncoderEntry("siglip2-b16", DEFAULT_ENCODER, 768, "multilingual (WebLI, 100+ languages)", True,
                 82.22, 75.19, IMMICH, "Apache-2.0", "default: best Spanish recall per CPU second",
                 cpu_images_per_s=0.35, cpu_ratio_vs_l14=4.64),
    EncoderEntry("clip-l14", ORIGINAL_ENCODER, 768, "English", False,
                 37.59, 60.12, IMMICH, "MIT", "the original system's model; Spanish queries through M-CLIP or Apertium",
                 cpu_images_per_s=0.08, cpu_ratio_vs_l14=1.0),
    EncoderEntry("siglip2-b32", "ViT-B-32-SigLIP2-256/webli", 768, "multilingual (WebLI, 100+ languages)", True,
                 78.99, 73.15, IMMICH, "Apache-2.0", "fast CPU model",
                 cpu_images_per_s=0.58, cpu_ratio_vs_l14=7.59),
    EncoderEntry("siglip2-so400m", "ViT-SO400M-16-SigLIP2-384/webli", 1152, "multilingual (WebLI, 100+ languages)",
                 True, 83.78, 75.09, IMMICH, "Apache-2.0", "large GPU model",
                 cpu_images_per_s=0.03, cpu_ratio_vs_l14=0.38),
)

QUERY_ENCODERS: tuple[QueryEncoderEntry, ...] = (
    QueryEncoderEntry("mclip", "mclip", MCLIP_MODEL, ORIGINAL_ENCODER, "48 languages (XLM-RoBERTa Large)",
                      91.0, 91.8, MCLIP_SOURCE, "MIT"),
    QueryEncoderEntry("translate", "translate", "apertium spa-eng (Debian apertium-eng-spa)", None,
                      "Spanish to English, rule-based, in front of any English-only text tower",
                      None, None, "no published retrieval figure", "GPL-2.0 (data)"),
)


def find_encoder(name_or_spec: str) -> EncoderEntry | None:
    """The catalogue entry for a short name or an open_clip spec, or ``None`` (any spec still works)."""
    key = name_or_spec.strip()
    return next((e for e in ENCODERS if key in (e.name, e.spec)), None)


def resolve_encoder_name(name_or_spec: str) -> str:
    """A short catalogue name becomes its spec; anything else is returned unchanged."""
    entry = find_encoder(name_or_spec)
    return entry.spec if entry else name_or_spec.strip()


def is_multilingual(spec: str) -> bool | None:
    """``True``/``False`` for a catalogue encoder; ``None`` when the catalogue does not know it."""
    entry = find_encoder(spec)
    return entry.multilingual if entry else None
