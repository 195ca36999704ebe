"""CLI commands ``calibrate`` and ``resegment``: a database's similarity scales, and new classes,
scenes and shots from the stored frame embeddings (no re-encoding).

Top-level imports stay light (``app.cli.main`` imports this module to build its parser).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from app.cli.output import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, print_json
from app.config import Settings

#: Segmentation options settable from the command line: flag -> (option, type, help).
SEGMENT_FLAGS = {
    "--scale": ("scale", str, "how thresholds are read: video (each video's own levels, default) or absolute "
                              "(plain cosines, tuned for CLIP ViT-L-14)"),
    "--shot-threshold": ("shot_threshold", float, "distance that cuts a shot (video scale 0.25, absolute 0.15)"),
    "--class-merge-similarity": ("class_merge_similarity", float, "clusters this alike become one class "
                                                                  "(video scale 0.2, absolute 0.75)"),
    "--noise-min-similarity": ("noise_min_similarity", float, "a noise frame joins a class this alike "
                                                              "(video scale 0.2, absolute 0.75)"),
    "--shot-min-jitter": ("shot_min_jitter", float, "a cut must exceed this many jitters (video scale, 1.5)"),
    "--min-scene-s": ("min_scene_s", float, "shortest scene in seconds (3)"),
    "--min-shot-s": ("min_shot_s", float, "shortest shot in seconds (1)"),
    "--shot-window-s": ("shot_window_s", float, "seconds compared on each side of a boundary (1)"),
    "--min-cluster-s": ("min_cluster_s", float, "least footage of a class in seconds (10)"),
}
CUT_DETECTORS = ("transnetv2",)


def add_segment_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("segmentation options (pipeline.segment.SegmentOptions)")
    for flag, (_, kind, text) in SEGMENT_FLAGS.items():
        group.add_argument(flag, type=kind, help=text, **({"choices": ["video", "absolute"]} if kind is str else {}))


def segment_options(args: argparse.Namespace):
    """SegmentOptions from the flags; ``--scale absolute`` starts from the absolute thresholds."""
    from pipeline.segment import SegmentOptions

    given = {name: getattr(args, flag[2:].replace("-", "_")) for flag, (name, _, _) in SEGMENT_FLAGS.items()}
    given = {k: v for k, v in given.items() if v is not None}
    return SegmentOptions.absolute(**given) if given.get("scale") == "absolute" else SegmentOptions(**given)


def add_parsers(sub, add_common: Callable, add_model: Callable) -> None:
    cal = sub.add_parser("calibrate", help="similarity statistics of a database per encoder, and whether the "
                                           "segmentation options fit them")
    cal.add_argument("--video", action="append", help="only this video id (repeatable)")
    cal.add_argument("--plot", help="write the histograms to this SVG file (default: calibrate-DB.svg)")
    cal.add_argument("--json", action="store_true", help="print the statistics as JSON")
    add_segment_flags(cal)
    cal.set_defaults(handler="app.cli.segmentation:run_calibrate")
    add_common(cal)

    res = sub.add_parser("resegment", help="recompute classes, scenes and shots from the stored frame embeddings "
                                           "and update the points (no re-encoding; resumable)")
    res.add_argument("--video", action="append", help="only this video id (repeatable)")
    res.add_argument("--cuts", default="keep", choices=["keep", "none", *CUT_DETECTORS],
                     help="hard cuts that bound shots: keep each video's (default), none, or transnetv2 "
                          "(read from cuts.json, else found in the media file)")
    res.add_argument("--json", action="store_true", help="print the per-video results as JSON")
    add_segment_flags(res)
    res.set_defaults(handler="app.cli.segmentation:run_resegment")
    add_common(res)
    res.add_argument("--device", help="device for the shot detector: auto, cuda or cpu (env BUSCA_DEVICE)")


def run_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import open_settings_catalog
    from pipeline.core import check_db_name
    from pipeline.errors import UnknownDatabaseError
    from pipeline.index import DataLayout, calibrate_database

    check_db_name(settings.db)
    options = segment_options(args)
    catalog = open_settings_catalog(settings)  # reads artifacts only: the store may stay with the web app
    try:
        if not catalog.videos(settings.db):
            raise UnknownDatabaseError(settings.db, catalog.databases())
        results = calibrate_database(DataLayout(settings.data_dir), catalog, settings.db, options, args.video)
    finally:
        catalog.close()
    plot = Path(args.plot or f"calibrate-{settings.db}.svg")
    plot.write_text(calibration_svg(settings.db, results, options), encoding="utf-8")
    if args.json:
        print_json({"database": settings.db, "options": asdict(options), "plot": str(plot),
                    "encoders": [r.to_json() for r in results]})
    else:
        for r in results:
            _print_calibration(r)
    print(f"plot: {plot}", file=sys.stderr)
    return EXIT_OK if all(r.fit.ok for r in results) else EXIT_PARTIAL


def _print_calibration(r) -> None:
    s = r.summary
    q = lambda name: "  ".join(f"{k} {v}" for k, v in s[name].items())  # noqa: E731
    print(f"encoder {r.encoder}: {s['videos']} videos, {s['hours']} h, {s['shots_per_minute']} shots/min")
    print(f"  adjacent-frame cosine      {q('adjacent')}")
    print(f"  consecutive-shot cosine    {q('shot_to_shot')}   (same class: {q('same_class')};"
          f" other class: {q('other_class')})")
    print(f"  boundary distance (video)  {q('distances')}")
    print(f"  distance peak at hard cuts {q('cut_distances')}")
    cuts = s["hard_cuts"]
    if cuts["cuts"]:
        print(f"  hard cuts {cuts['cuts']} in {cuts['videos_with_cuts']} videos: "
              f"{cuts['cuts_with_a_semantic_boundary']:.0%} have a semantic shot boundary within one frame; "
              f"{cuts['semantic_boundaries_at_a_cut'] or 0:.0%} of semantic boundaries sit at a hard cut")
    for line in r.fit.lines:
        print(f"  {line}")
    print(f"  options fit: {'yes' if r.fit.ok else 'no'}")


def calibration_svg(db: str, results, options) -> str:
    """Three histograms per encoder: adjacent frames, consecutive shots, boundary distances."""
    import numpy as np

    from app.cli.plot import Panel, histograms_svg

    panels = []
    for r in results:
        pool = {name: np.concatenate([getattr(v, name) for v in r.videos]) for name in
                ("adjacent", "same_class", "other_class", "distances", "cut_distances")}
        panels += [
            Panel(f"{r.encoder}: cosine of adjacent frames", [("adjacent frames", pool["adjacent"])]),
            Panel(f"{r.encoder}: cosine of consecutive shots",
                  [("same class", pool["same_class"]), ("other class", pool["other_class"])]),
            Panel(f"{r.encoder}: distance across frame boundaries ({options.scale} scale)",
                  [("all boundaries", pool["distances"]), ("at hard cuts", pool["cut_distances"])],
                  [("shot_threshold", options.shot_threshold)] if options.scale == "video" else []),
        ]
    return histograms_svg(f"calibrate --db {db}", panels)


def run_resegment(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import Services, make_cut_detector
    from pipeline.analysis import realign_analysis
    from pipeline.errors import UnknownDatabaseError
    from pipeline.index import resegment_database

    options = segment_options(args)
    detector = make_cut_detector(args.cuts, settings.device) if args.cuts in CUT_DETECTORS else None
    services = Services.start(settings)
    layout = services.layout
    try:
        if not services.store.has_collection(settings.db):
            raise UnknownDatabaseError(settings.db, services.databases())
        results = resegment_database(
            services.store, layout, settings.db, options, cuts=args.cuts, detector=detector, video_ids=args.video,
            on_commit=lambda vid, seg: realign_analysis(layout.video_dir(vid) / "analysis", seg.shots),
            catalog=services.catalog)
    finally:
        services.close()
        if detector is not None:
            detector.unload()
    if args.json:
        print_json([asdict(r) for r in results])
    else:
        for r in results:
            if r.status == "failed":
                print(f"FAILED  {r.error}")
            else:
                print(f"{r.status:12} {r.source}: {r.n_shots} shots ({r.kept_ids} kept their ids) id={r.video_id}")
    failed = sum(r.status == "failed" for r in results)
    print(f"{len(results) - failed} re-segmented or unchanged, {failed} failed, database '{settings.db}'",
          file=sys.stderr)
    if not results:
        return EXIT_ERROR
    return EXIT_PARTIAL if failed else EXIT_OK
