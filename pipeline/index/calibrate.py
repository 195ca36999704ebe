"""``python -m app calibrate``: a database's similarity statistics per encoder, from stored artifacts.

Reads each video's frame embeddings, segmentation and hard cuts (``cuts.json``, when a shot
detector ran), and pools them per encoder (:mod:`pipeline.segment.calibrate`). No model runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.core import atomic, check_db_name
from pipeline.errors import ConfigError
from pipeline.index.catalog import Catalog
from pipeline.index.layout import DataLayout
from pipeline.index.shots import cuts_path
from pipeline.segment import Fit, SegmentOptions, VideoStats, fit_report, summary, video_stats


@dataclass(frozen=True)
class EncoderCalibration:
    """One encoder's pooled numbers (:func:`pipeline.segment.calibrate.summary`), its videos' own
    numbers, and how the options fit them."""

    encoder: str
    summary: dict
    videos: list[VideoStats]
    fit: Fit

    def to_json(self) -> dict:
        return {"encoder": self.encoder, **self.summary, "fits": self.fit.ok, "fit": self.fit.lines,
                "per_video": [{"video_id": v.video_id, "adjacent": round(v.scale.adjacent, 4),
                               "typical": round(v.scale.typical, 4), "shots": v.n_shots, "flat": v.flat,
                               "hard_cuts": v.hard_cuts} for v in self.videos]}


def calibrate_database(layout: DataLayout, catalog: Catalog, db: str, options: SegmentOptions,
                       video_ids: Sequence[str] | None = None) -> list[EncoderCalibration]:
    """The statistics of ``db`` (or of ``video_ids`` in it), one entry per encoder."""
    check_db_name(db)
    entries = catalog.videos(db)
    unknown = sorted(set(video_ids or ()) - set(entries))
    if unknown:
        raise ConfigError(f"videos not in database {db!r}: {', '.join(unknown)}")
    by_encoder: dict[str, list[VideoStats]] = {}
    for vid in video_ids or entries:
        entry = entries[vid]
        frames = layout.load_frames(vid, entry.encoder)
        seg = layout.load_segmentation(vid, entry.encoder)
        path = cuts_path(layout, vid)
        cuts = atomic.read_json(path)["cuts"] if path.is_file() else None
        by_encoder.setdefault(entry.encoder, []).append(video_stats(frames, seg, options, cuts))
    return [EncoderCalibration(name, summary(stats), stats, fit_report(stats, options))
            for name, stats in sorted(by_encoder.items())]
