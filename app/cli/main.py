"""The command line: ``python -m app COMMAND``. Errors become one line on stderr and exit 1.

Exit codes: 0 success; 1 an error (nothing done); 2 bad usage; 3 a batch finished but
some items failed (each failure is reported).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from app.cli.output import EXIT_ERROR
from app.config import ENVIRONMENT, Settings
from pipeline.errors import BuscaError

#: Modules that add commands: each has ``add_parsers(sub, add_common, add_model)`` and sets
#: ``handler="module:function"`` on its parsers. Their top-level imports must stay light.
COMMAND_MODULES = ("app.cli.index", "app.cli.archive", "app.cli.reindex", "app.cli.models", "app.cli.evaluate",
                   "app.cli.admin", "app.cli.analyze", "app.cli.duplicates", "app.cli.exports", "app.cli.segmentation")

def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data directory (env BUSCA_DATA_DIR, default ./data)")
    parser.add_argument("--db", help="database name (env BUSCA_DB, default 'archivo')")
    parser.add_argument("--qdrant-url", help="Qdrant server/cluster URL instead of the embedded store (env BUSCA_QDRANT_URL)")
    parser.add_argument("--qdrant-api-key", help="API key for --qdrant-url (env BUSCA_QDRANT_API_KEY)")
    parser.add_argument("--store", choices=["edge", "local", "memory"], help="embedded store backend (env BUSCA_STORE, default edge)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")

def _add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clip-model", help="encoder: a catalogue name or open_clip spec, e.g. ViT-B-16-SigLIP2/webli, "
                        "ViT-L-14/openai, hf-hub:org/repo, local-dir:/path (env BUSCA_CLIP_MODEL; default: the "
                        "database's own encoder, or the default for a new database)")
    parser.add_argument("--device", help="auto, cuda, mps or cpu (env BUSCA_DEVICE)")
    parser.add_argument("--models-dir", help="load every model from this folder, never from the network "
                        "(env BUSCA_MODELS_DIR; fill it with: python -m app models download)")

def build_parser() -> argparse.ArgumentParser:
    env_help = "\n".join(f"  {name:22} {desc} (default: {default or 'unset'})"
                         for name, (default, desc) in ENVIRONMENT.items())
    parser = argparse.ArgumentParser(
        prog="python -m app", description="BuscaEscenas: semantic shot search for video archives.",
        epilog="Without a command, the web app starts.\n\nEnvironment:\n" + env_help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command")

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parsers(sub, _add_common, _add_model)
    return parser

def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env().override(
        data_dir=getattr(args, "data_dir", None), db=getattr(args, "db", None),
        qdrant_url=getattr(args, "qdrant_url", None), qdrant_api_key=getattr(args, "qdrant_api_key", None),
        store=getattr(args, "store", None), clip_model=getattr(args, "clip_model", None),
        device=getattr(args, "device", None), fps=getattr(args, "fps", None),
        models_dir=getattr(args, "models_dir", None), query_encoder=getattr(args, "query_encoder", None),
    )

def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    handler = getattr(args, "handler", "app.cli.index:run_serve")
    try:
        settings = _settings(args)
        module_name, function = handler.split(":")
        module = importlib.import_module(module_name)  # heavy imports wait until a command runs
        return getattr(module, function)(args, settings)
    except BuscaError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
