"""CLI commands ``models`` (the encoder catalogue) and ``models download`` (files for offline machines).

Top-level imports stay light (``app.cli.main`` imports this module to build its parser).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import asdict

from app.cli.output import EXIT_ERROR, EXIT_OK, print_json
from app.config import Settings

EPILOG = """\
Published figures are other people's measurements (source given); images/s is measured here by
bench/encoders.py (random weights in the real architectures, so timings hold, quality does not).

Download for an isolated machine, then point BUSCA_MODELS_DIR (or --models-dir) at the folder:
  python -m app models download siglip2-b16 ViT-L-14/openai mclip whisper:small --to /models
  python -m app models download Qwen/Qwen2.5-VL-7B-Instruct intfloat/multilingual-e5-small --to /models
"""


def add_parsers(sub, add_common: Callable, add_model: Callable) -> None:
    p = sub.add_parser("models", help="the encoders this project knows (and: models download)", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    p.set_defaults(handler="app.cli.models:run_models")
    actions = p.add_subparsers(dest="models_command")
    d = actions.add_parser("download", help="fetch every file of some models into a folder, for offline use",
                           epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("names", nargs="+", help="catalogue names, open_clip specs, mclip, whisper:SIZE, or Hugging "
                   "Face org/name")
    d.add_argument("--to", required=True, help="the models folder to fill")
    d.set_defaults(handler="app.cli.models:run_download")


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def run_models(args: argparse.Namespace, settings: Settings) -> int:
    from models.catalogue import BENCH_MACHINE, ENCODERS, QUERY_ENCODERS

    default = settings.clip_model
    if args.json:
        print_json({"encoders": [{**asdict(e), "default": e.spec == default or e.name == default} for e in ENCODERS],
                    "query_encoders": [asdict(q) for q in QUERY_ENCODERS], "measured_on": BENCH_MACHINE})
        return EXIT_OK
    print(f"{'name':15} {'spec':33} {'dim':>4}  {'es':>5} {'en':>5}  {'img/s':>6} {'x L-14':>6}  {'licence':11} "
          "languages / role")
    for e in ENCODERS:
        mark = " (default)" if default in (e.spec, e.name) else ""
        speed = "—" if e.cpu_images_per_s is None else f"{e.cpu_images_per_s:.2f}"
        ratio = "—" if e.cpu_ratio_vs_l14 is None else f"{e.cpu_ratio_vs_l14:.1f}"
        print(f"{e.name:15} {e.spec:33} {e.dim:>4}  {_figure(e.es_recall):>5} {_figure(e.en_recall):>5}  {speed:>6} "
              f"{ratio:>6}  {e.licence:11} {e.languages}; {e.role}{mark}")
    print("\nquery encoders (text only, into an encoder's space):")
    for q in QUERY_ENCODERS:
        figures = f"es {_figure(q.es_recall)} / en {_figure(q.en_recall)}"
        print(f"{q.name:15} {q.model:45} {figures:18} {q.licence:14} {q.languages}"
              f"{'; maps into ' + q.space if q.space else ''}")
    sources = sorted({e.source for e in ENCODERS} | {q.source for q in QUERY_ENCODERS if q.es_recall is not None})
    print("\nes/en: published retrieval figures, from: " + " | ".join(sources))
    print(f"img/s: measured on {BENCH_MACHINE}. Any other open_clip spec works too (--clip-model).")
    return EXIT_OK


def run_download(args: argparse.Namespace, settings: Settings) -> int:
    from models.download import download
    from pipeline.errors import BuscaError

    failed = 0
    for name in args.names:
        try:
            folder = download(name, args.to)
        except BuscaError as err:
            print(f"FAILED  {err}", file=sys.stderr)
            failed += 1
            continue
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(f"ok      {name}: {folder} ({size / 1e6:.0f} MB)")
    if failed:
        return EXIT_ERROR
    print(f"point BUSCA_MODELS_DIR (or --models-dir) at {args.to} on the machine that runs the archive", file=sys.stderr)
    return EXIT_OK
