"""CLI commands for the archive: ``ingest``, ``search``, ``videos`` and ``serve``.

Each command parses its values, calls one pipeline function and prints records. Top-level
imports stay light (``app.cli.main`` imports this module to build its parser).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import asdict

from app.cli.channels import add_channel_model_flags
from app.cli.output import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, print_json
from app.cli.search_extras import add_search_flags
from app.config import ChannelSettings, Settings


def add_parsers(sub, add_common: Callable, add_model: Callable) -> None:
    ingest = sub.add_parser("ingest", help="index video files, folders and URLs into a database",
                            epilog=INGEST_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ingest.add_argument("inputs", nargs="+", help="video files, folders (searched recursively), @list.txt files, "
                        "or http(s) URLs (YouTube plus BUSCA_ALLOWED_HOSTS)")
    ingest.add_argument("--fps", type=float, help="frames sampled per second (env BUSCA_FPS, default 2)")
    ingest.add_argument("--force", action="store_true", help="recompute artifacts even if they exist")
    ingest.add_argument("--keep-frames", action="store_true", help="keep every sampled frame as JPEG")
    ingest.add_argument("--workers", type=int, default=1,
                        help="worker processes that decode and encode videos (this process alone writes)")
    ingest.add_argument("--shard", metavar="I/N", help="ingest only part I of N of the inputs (machines sharing "
                        "one Qdrant server and one data directory each take one part)")
    ingest.add_argument("--cuts", default="none", choices=["none", "transnetv2"],
                        help="hard cuts that bound the semantic shots: none (default) or transnetv2 (a shot-boundary "
                             "network over every frame; on CPU ~0.14x the time of ViT-L-14 at 2 fps, see README)")
    ingest.add_argument("--skip-similar", type=float, default=3.0, metavar="LEVELS",
                        help="reuse the last embedding for a frame within this many grey levels of the last frame "
                             "encoded, in every 16x16 cell (default 3; 0 encodes every frame)")
    ingest.add_argument("--decoder", choices=("pyav", "torchcodec"), default="pyav",
                        help="frame source: pyav (CPU) or torchcodec (NVDEC with its CUDA build)")
    ingest.add_argument("--decode-ahead", type=int, metavar="N",
                        help="videos decoding while one is encoded (default: 4 on a GPU, 0 on a CPU)")
    ingest.add_argument("--json", action="store_true", help="print the per-file results as JSON")
    ingest.add_argument("--channels", help="visual plus speech and/or ocr (env BUSCA_CHANNELS, default "
                        "visual,speech,ocr; see `enrich --help`)")
    add_channel_model_flags(ingest)
    ingest.set_defaults(handler="app.cli.index:run_ingest")
    add_common(ingest)
    add_model(ingest)

    search = sub.add_parser("search", help="search shots by text, image or both, or shots like a given one")
    search.add_argument("--text", help="description of the scene")
    search.add_argument("--like", metavar="SHOT", help="more like this: shots similar to SHOT, given as VIDEO_ID:N "
                        "(N = the shot number shown, from 1) or as a point id from --json; not with --text/--image")
    search.add_argument("--image", help="example image (JPG, PNG, WEBP, AVIF)")
    search.add_argument("--image-weight", type=float, default=0.5, help="weight of the image with --text (0..1)")
    search.add_argument("--k", type=int, default=10, help="number of results")
    search.add_argument("--one-per-video", action="store_true", help="keep only the best shot of each video")
    search.add_argument("--video", action="append", help="restrict to this video id (repeatable)")
    search.add_argument("--query-encoder", choices=["auto", "native", "mclip", "translate"],
                        help="how the text becomes a vector: the encoder's own text tower (native), M-CLIP (Spanish "
                             "on ViT-L-14/openai databases), Apertium translation to English, or auto (per database; "
                             "env BUSCA_QUERY_ENCODER)")
    search.add_argument("--channels", help="channels to search: visual, speech, ocr, description (default: every "
                        "channel the database holds)")
    search.add_argument("--weights", help="channel weights in the fusion, e.g. speech=2,ocr=1.5 (env "
                        "BUSCA_CHANNEL_WEIGHTS; others 1)")
    search.add_argument("--image-fusion", choices=["rrf", "vector"], default="rrf",
                        help="text+image: rrf fuses the two rankings (0.5 = balanced), vector averages the vectors")
    search.add_argument("--text-model", help="dense text model of the text channels (env BUSCA_TEXT_MODEL)")
    search.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_search_flags(search)
    search.set_defaults(handler="app.cli.index:run_search")
    add_common(search)
    add_model(search)

    videos = sub.add_parser("videos", help="list the videos indexed in a database")
    videos.add_argument("--json", action="store_true")
    videos.set_defaults(handler="app.cli.index:run_videos")
    add_common(videos)

    serve = sub.add_parser("serve", help="start the web app (the default without a command)")
    serve.add_argument("--host", help="bind address (env BUSCA_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (env BUSCA_PORT, default 7860)")
    serve.set_defaults(handler="app.cli.index:run_serve")
    add_common(serve)
    add_model(serve)


INGEST_EPILOG = """\
Many workers, one archive:
  python -m app ingest /archivo --workers 4            4 processes decode and encode, one writes
  python -m app ingest /archivo --shard 2/3 --qdrant-url http://qdrant:6333 --data-dir /mnt/busca
                                                       machine 2 of 3 into one Qdrant server
Every machine gives the same inputs and the same shared data directory (thumbnails, media).
Killing any worker or machine loses nothing: run the same command again to finish.
"""


def run_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from functools import partial

    from app.cli.channels import checked_models
    from app.config import AnalysisSettings
    from app.services import Services, make_cut_detector, make_decoder, make_encoder, make_source_options
    from models.device import resolve_device
    from pipeline.core import check_db_name
    from pipeline.index import IngestOptions, Shard, ingest_parallel, ingest_paths, record_encoder, select_shard
    from pipeline.media import DecodeOptions

    check_db_name(settings.db)
    extra, asked = ingest_channels(args)
    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.workers > 1 and args.decoder != "pyav":
        print("error: --decoder torchcodec runs in one process (one GPU model, several videos decoding at once): "
              "drop --workers", file=sys.stderr)
        return EXIT_USAGE
    shard = Shard.parse(args.shard) if args.shard else None
    sources = select_shard(args.inputs, shard)
    if shard is not None:
        print(f"shard {shard.index}/{shard.count}: {len(sources)} inputs", file=sys.stderr)
    fetch = make_source_options(settings.data_dir, AnalysisSettings.from_env())
    services = Services.start(settings, write=f"ingest into database {settings.db!r}")
    channel_results = []
    try:
        services.catalog.pending(settings.db)  # a damaged catalog stops the ingest here, before any work
        # The model loads and is checked against the database here, before the per-video loop: a
        # model that cannot be had fails once, with one line.
        encoder = services.encoder_for_db(settings.db)
        encoder.load()
        record_encoder(services.store, settings.db, encoder)
        extra, channel_models = checked_models(settings, args, extra, asked)  # before any video, too
        gpu = resolve_device(settings.device) != "cpu"
        ahead = args.decode_ahead if args.decode_ahead is not None else (4 if gpu else 0)
        decode = DecodeOptions(fps=settings.fps, short_side=max(DecodeOptions.short_side, encoder.image_size),
                               batch_size=64 if gpu else 32)
        options = IngestOptions(decode=decode, force=args.force, keep_frames=args.keep_frames, margin=settings.margin,
                                skip_similar=args.skip_similar, decode_ahead=ahead)
        detector = make_cut_detector(args.cuts, settings.device) if args.cuts != "none" else None
        if args.workers > 1 and sources:
            factory = partial(make_encoder, encoder.name, settings.device, settings.models_dir, settings.text_runtime)
            cuts = partial(make_cut_detector, args.cuts, settings.device) if detector is not None else None
            results = ingest_parallel(sources, factory, services.store, services.layout, settings.db, options,
                                      args.workers, services.catalog, fetch, make_cuts=cuts)
        else:
            results = ingest_paths(sources, encoder, services.store, services.layout, settings.db, options,
                                   services.catalog, fetch, cut_detector=detector,
                                   decoder=make_decoder(args.decoder, settings.device))
        indexed = list(dict.fromkeys(r.video_id for r in results if r.status == "indexed"))
        added = services.add_other_encoders(settings.db, encoder, indexed, progress=sys.stderr.isatty())
        for result in added:
            print(f"{'FAILED ' if result.status == 'failed' else 'added  '} other encoders' vectors: "
                  f"{result.error or result.source}", file=sys.stderr)
        if extra and indexed:
            from app.cli.channels import run_channels

            channel_results = run_channels(services, settings, args, extra, indexed, args.force, channel_models)
    finally:
        services.close()
    if args.json:
        print_json([asdict(r) for r in results])
    else:
        for r in results:
            if r.status == "indexed":
                how = "reused artifacts" if r.reused else f"{r.seconds:.1f} s"
                print(f"ok      {r.path}: {r.n_shots} shots, {r.n_scenes} scenes ({how}) id={r.video_id}")
            else:
                print(f"FAILED  {r.error}")
    failed = sum(r.status != "indexed" for r in results)
    print(f"{len(results) - failed} indexed, {failed} failed, database '{settings.db}'", file=sys.stderr)
    if not results and shard is not None:
        return EXIT_OK  # this machine's part of the inputs is empty
    if not results:
        print("error: no video files found in the given inputs", file=sys.stderr)
        return EXIT_ERROR
    if channel_results:
        from app.cli.channels import print_channel_results

        failed += print_channel_results(channel_results, False) != EXIT_OK
    return EXIT_PARTIAL if failed else EXIT_OK


def ingest_channels(args: argparse.Namespace) -> tuple[tuple[str, ...], bool]:
    """The channels ingest adds after the visual one (visual itself is always computed: shots are cut
    from the frame embeddings), and whether they were asked for (``--channels``, ``BUSCA_CHANNELS``)
    rather than the defaults."""
    from pipeline.channels import ALL_CHANNELS, MEDIA_CHANNELS, VISUAL, parse_channels
    from pipeline.errors import ConfigError

    asked = args.channels or os.environ.get("BUSCA_CHANNELS", "").strip()
    wanted = parse_channels(asked or ChannelSettings.from_env().channels, (VISUAL, *MEDIA_CHANNELS))
    if VISUAL not in wanted:
        raise ConfigError(f"ingest always computes the visual channel (shots are cut from it): give "
                          f"--channels visual,{','.join(wanted)}; to add channels to indexed videos use enrich")
    return tuple(c for c in wanted if c != VISUAL and c in ALL_CHANNELS), bool(asked)


def _require_db(services, db: str) -> None:
    from pipeline.core import check_db_name
    from pipeline.errors import UnknownDatabaseError

    check_db_name(db)
    if not services.store.has_collection(db):
        raise UnknownDatabaseError(db, services.databases())


def like_point_id(shot: str, services) -> str:
    """``VIDEO_ID:N`` (N the 1-based shot number people see) or a point id, as the store's point id
    (a re-segmented video's ids no longer follow its shot numbers: :func:`pipeline.index.shot_point_id`)."""
    from pipeline.core import check_video_id
    from pipeline.errors import QueryError
    from pipeline.index import shot_point_id

    video_id, sep, number = shot.strip().partition(":")
    if not sep:
        return shot.strip()
    if not number.isdigit() or int(number) < 1:
        raise QueryError(f"--like {shot!r}: give VIDEO_ID:N with N the shot number, from 1")
    entry = services.catalog.get(services.settings.db, check_video_id(video_id))
    return shot_point_id(services.layout, entry.encoder if entry else None, video_id, int(number) - 1)


def run_search(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli.channels import channel_settings
    from app.cli.search_extras import print_results, ranked_results, then_query
    from app.config import public_url
    from app.services import Services, describe_choice, make_text_embedder
    from pipeline.channels import parse_weights
    from pipeline.core import format_number
    from pipeline.errors import QueryError
    from pipeline.exports import deep_link
    from pipeline.search import Query, search_channels, similar
    from pipeline.sources import load_image

    video_ids = tuple(args.video) if args.video else None
    if args.like and (args.text or args.image):
        raise QueryError("--like searches from a shot alone: leave out --text and --image")
    if args.like and (args.then or args.then_image):
        raise QueryError("--like cannot start a temporal query: give A with --text or --image")
    chs = channel_settings(args)
    if args.like:
        query = None
    else:
        image = load_image(args.image) if args.image else None
        weights = parse_weights(args.weights if args.weights is not None else chs.weights)
        query = Query(text=args.text, image=image, image_weight=args.image_weight, k=args.k,
                      one_per_video=args.one_per_video, video_ids=video_ids, channels=args.channels or None,
                      weights=tuple(weights.items()), image_fusion=args.image_fusion)
    then = then_query(args, query) if query is not None else None
    services = Services.start(settings)
    notes: dict[str, None] = {}  # each part of a temporal query searches the channels: its notes, once
    try:
        _require_db(services, settings.db)
        for warning in services.warnings([settings.db]):
            print(f"warning: {warning}", file=sys.stderr)
        like = like_point_id(args.like, services) if query is None else None
        encoder = services.encoder_for_db(settings.db, settings.clip_model if settings.clip_model_explicit else None)
        text_encoder, choice = services.query_encoder(settings.db, encoder)
        embedder = make_text_embedder(chs, settings.device, settings.models_dir)
        durations = {v.video_id: v.duration_s for v in services.catalog.videos(settings.db).values()}

        def ranked(q):
            if q is None:
                found = similar(services.store, encoder.vector_name, settings.db, like, args.k, video_ids,
                                args.one_per_video)
            else:
                result = search_channels(services.store, encoder, settings.db, q, embedder,
                                         text_encoder=text_encoder if q.text else None)
                notes.update(dict.fromkeys(result.notes))
                found = result.hits
            return [h.clamped(durations.get(h.video_id)) for h in found]

        hits = ranked_results(args, services, settings.db, query, then, ranked)
        if query is not None:
            print(describe_choice(encoder, text_encoder, choice), file=sys.stderr)
            translated = getattr(text_encoder, "last_translations", {}).get((args.text or "").strip())
            if translated and translated != (args.text or "").strip():
                print(f"query translated to: {translated}", file=sys.stderr)
    finally:
        services.close()
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if print_results(args, settings, hits, pairs=then is not None):
        return EXIT_OK
    if not hits:
        print("no results")
        return EXIT_OK
    print(f"{'#':>3}  {'score':>6}  {'video':30}  {'start':>12} - {'end':12}  {'shot':>24}  thumbnail  link")
    for h in hits:
        shot = f"{h.video_id}:{h.shot_index + 1}"  # what --like takes
        print(f"{h.rank:>3}  {format_number(h.score, digits=3):>6}  {h.source[:30]:30}  {h.start_tc:>12} - "
              f"{h.end_tc:12}  {shot:>24}  {settings.data_dir / h.thumbnail}  "
              f"{deep_link(public_url(), settings.db, h.video_id, h.start_s)}")
        if h.matches and (len(h.matches) > 1 or h.snippets or h.matches[0].channel != "visual"):
            print(f"     why: {why_line(h)}")
    return EXIT_OK


def why_line(hit) -> str:
    """``speech #1 (words), visual #7 (text); speech at 00:00:03.200: "... **casablanca** ..."``."""
    from pipeline.core import format_timecode

    found = ", ".join(f"{m.channel} #{m.rank} ({m.ranking})" for m in hit.matches)
    parts = [found] if found else []
    for s in hit.snippets:
        marked, last = [], 0
        for a, b in s.spans:
            marked += [s.text[last:a], "**", s.text[a:b], "**"]
            last = b
        at = f" at {format_timecode(s.moment_s)}" if s.moment_s is not None else ""
        parts.append(f'{s.channel}{at}: "{"".join(marked) + s.text[last:]}"')
    return "; ".join(parts)


def run_videos(args: argparse.Namespace, settings: Settings) -> int:
    """Reads the catalog only: it works while the web app holds an embedded store."""
    from app.services import open_settings_catalog
    from pipeline.core import check_db_name, format_timecode
    from pipeline.errors import UnknownDatabaseError

    check_db_name(settings.db)
    catalog = open_settings_catalog(settings)
    try:
        videos = list(catalog.videos(settings.db).values())
        if not videos and settings.db not in catalog.databases():
            raise UnknownDatabaseError(settings.db, catalog.databases())
    finally:
        catalog.close()
    if args.json:
        print_json([asdict(v) for v in videos])
        return EXIT_OK
    print(f"{'video id':20}  {'duration':>12}  {'shots':>5} {'scenes':>6}  source")
    for v in videos:
        print(f"{v.video_id:20}  {format_timecode(v.duration_s):>12}  {v.n_shots:>5} {v.n_scenes:>6}  {v.source}")
    print(f"{len(videos)} videos in '{settings.db}'", file=sys.stderr)
    return EXIT_OK


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from app.ui import launch
    except ImportError as err:
        print(f"error: the web app is not available ({err})", file=sys.stderr)
        return EXIT_ERROR
    return launch(settings, host=getattr(args, "host", None), port=getattr(args, "port", None))

