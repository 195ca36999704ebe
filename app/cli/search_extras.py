"""What ``search`` adds to a ranked list: "A, then B" temporal pairs (``--then``/``--then-image``,
``--within``), a minimum score and an order (``--min-score``, ``--sort``), an EDL of the results
(``--edl``) and a deep link on every result. ``app.cli.index.run_search`` runs the query and calls
these; the search itself stays one function of a query (any channel of the fused search).

Top-level imports stay light (``app.cli.main`` imports this module through ``app.cli.index``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from app.cli.output import print_json
from app.config import Settings


def add_search_flags(search: argparse.ArgumentParser) -> None:
    search.add_argument("--then", metavar="TEXT", help="temporal query: a later moment B, in the same video, "
                        "within --within seconds after the moment --text/--image describes (A)")
    search.add_argument("--then-image", metavar="FILE", help="temporal query: B as an example image (with or "
                        "without --then)")
    search.add_argument("--within", type=float,
                        help="temporal query: B starts at most this many seconds after A ends (default 60)")
    search.add_argument("--min-score", type=float, help="drop results scored below this (cosines for a visual "
                        "search; fused searches score lower, see README)")
    search.add_argument("--sort", choices=["score", "video", "date", "date-asc"], default="score",
                        help="order: score (default), video and time, ingest date (newest first) or date-asc")
    search.add_argument("--edl", metavar="FILE", help="also write the results as a CMX3600 EDL for an editor")


def within_s(args: argparse.Namespace) -> float:
    from pipeline.search import DEFAULT_WITHIN_S

    return DEFAULT_WITHIN_S if args.within is None else float(args.within)


def then_query(args: argparse.Namespace, first):
    """The second part of a temporal query (None for a plain search): ``first``'s settings, B's text/image."""
    from pipeline.search import Query, check_within
    from pipeline.sources import load_image

    if not args.then and not args.then_image:
        return None
    check_within(within_s(args))
    image = load_image(args.then_image) if args.then_image else None
    return Query(text=args.then, image=image, image_weight=first.image_weight, k=first.k,
                 one_per_video=first.one_per_video, video_ids=first.video_ids)


def ranked_results(args: argparse.Namespace, services, db: str, query, then, search: Callable) -> list:
    """Hits of ``query`` (or "query, then ``then``" pairs), cut at ``--min-score`` and in ``--sort`` order;
    ``search(query) -> hits`` is the one search of a query. Writes ``--edl`` when asked."""
    from pipeline.search import arrange, temporal_search

    results = temporal_search(search, query, then, within_s(args)) if then is not None else search(query)
    dates = {v.video_id: v.indexed_at for v in services.catalog.videos(db).values()} \
        if args.sort.startswith("date") else None
    results = arrange(results, args.min_score, args.sort, dates)
    if args.edl:
        write_edl(args.edl, results, services.layout, db, then is not None)
    return results


def write_edl(path: str, results: Sequence, layout, db: str, pairs: bool) -> None:
    """Results (or both shots of each pair) as a CMX3600 EDL at ``path``."""
    from app.cli.exports import save_edl
    from app.config import public_url
    from pipeline.exports import hit_clips

    if pairs:
        shots = [shot for p in results for shot in (p.first, p.then)]
        notes = [f"pair #{p.rank} score {p.score:.3f} {part}" for p in results for part in ("A", "B")]
    else:
        shots, notes = list(results), None
    save_edl(path, hit_clips(shots, layout, db, public_url(), notes), f"BuscaEscenas {db}")


def print_results(args: argparse.Namespace, settings: Settings, results: Sequence, pairs: bool) -> bool:
    """Print temporal pairs, or the JSON of hits (with deep links); False when the caller prints the table."""
    from app.config import public_url
    from pipeline.exports import deep_link

    base = public_url()

    def link(hit) -> str:
        return deep_link(base, settings.db, hit.video_id, hit.start_s)

    if args.json:
        out = []
        for r in results:
            item = {**r.to_json(), "link": link(r)}
            for part in ("first", "then") if pairs else ():
                item[part]["link"] = link(getattr(r, part))
                item[part]["thumbnail_path"] = str(settings.data_dir / getattr(r, part).thumbnail)
            if not pairs:
                item["thumbnail_path"] = str(settings.data_dir / r.thumbnail)
            out.append(item)
        print_json(out)
        return True
    if not pairs:
        return False
    if not results:
        print("no pairs")
        return True
    print(f"{'#':>3}  {'score':>6}  {'video':30}  {'A start':>12} - {'A end':12}  {'B start':>12} - {'B end':12}  "
          "gap")
    for p in results:
        print(f"{p.rank:>3}  {p.score:6.3f}  {p.source[:30]:30}  {p.first.start_tc:>12} - {p.first.end_tc:12}  "
              f"{p.then.start_tc:>12} - {p.then.end_tc:12}  {p.gap_s:.1f} s  {link(p)}")
    return True
