"""Re-segmentation without re-encoding: ``python -m app resegment --db NAME [options]``.

Classes, scenes and shots are recomputed from each video's stored frame embeddings with new
:class:`~pipeline.segment.SegmentOptions` (and hard cuts), and the points are updated in every
database that holds the video (its artifacts are shared by them). What survives:

- the point id of every shot that spans the same frames as before (:mod:`pipeline.index.shots`);
  new shots get ids of their own, and the points of shots that are gone are deleted;
- thumbnails of keyframes that were already keyframes (the others are decoded from the media);
- analyses, aligned by time: a caller's ``on_commit`` hook re-files them
  (``pipeline.analysis.realign_analysis``).

One video at a time, crash-safe and resumable. The new artifacts are first written to a staging
folder ``<vector_name>/.resegment/`` with ``ready.json`` written last; only then are they moved
into place, the points upserted, the stale ones deleted, the store flushed, the catalog updated,
the hook called and ``meta.json`` (which says which options made the artifacts) replaced; the
staging folder goes last. A run killed before ``ready.json`` leaves the video as it was; one
killed after it is finished by the next run, every step of which can be repeated. A video whose
``meta.json`` already names the requested options is skipped at once, so re-running a killed
``resegment`` resumes where it stopped: no duplicate point, no orphan, no lost thumbnail.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tqdm.auto import tqdm

from pipeline.core import atomic, check_db_name
from pipeline.errors import BuscaError, ConfigError, MediaError
from pipeline.index.catalog import Catalog, catalog_for
from pipeline.index.layout import DataLayout
from pipeline.index.shots import (
    carry_ids,
    hard_cuts,
    old_thumbnails,
    previous_ids,
    prune_thumbnails,
    read_cuts,
    shot_payloads,
    stored_point_ids,
    write_point_ids,
    write_thumbnails,
)
from pipeline.protocols import CutDetector
from pipeline.records import IndexedVideo, Segmentation
from pipeline.segment import SegmentOptions, segment
from pipeline.store import VectorStore

log = logging.getLogger(__name__)

STAGING = ".resegment"
READY = "ready.json"
#: Staged artifacts, moved into place in this order (``meta.json`` last of all).
ARTIFACTS = ("segmentation.json", "shot_embeddings.npy", "point_ids.json")
#: ``cuts``: keep each video's hard cuts as they were (the ``cuts`` of its meta.json), or none.
KEEP, NONE = "keep", "none"


@dataclass(frozen=True)
class ResegmentResult:
    """One video: ``resegmented``, ``unchanged`` (already made with these options, or the same
    shots again) or ``failed`` (``error`` says why; the video keeps its earlier segmentation)."""

    video_id: str
    source: str
    status: str
    n_shots: int = 0
    kept_ids: int = 0
    error: str | None = None


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def resegment_database(store: VectorStore, layout: DataLayout, db: str, options: SegmentOptions,
                       cuts: str = KEEP, detector: CutDetector | None = None,
                       video_ids: Sequence[str] | None = None, short_side: int = 224,
                       on_commit: Callable[[str, Segmentation], None] | None = None,
                       catalog: Catalog | None = None, progress: bool = True) -> list[ResegmentResult]:
    """Re-segment the videos of ``db`` (or ``video_ids`` of it). ``cuts``: ``"keep"``, ``"none"``
    or the name of ``detector``, whose cuts are read from ``cuts.json`` or found in the media.
    ``short_side``: size of thumbnails decoded anew; ``catalog``: the store's own by default.
    One failing video never stops the others."""
    check_db_name(db)
    if cuts not in (KEEP, NONE) and (detector is None or detector.name != cuts):
        raise ConfigError(f"hard cuts {cuts!r} need that detector; use keep, none or the detector's name")
    catalog = catalog or catalog_for(store, layout.root)
    entries = catalog.videos(db)
    unknown = sorted(set(video_ids or ()) - set(entries))
    if unknown:
        raise ConfigError(f"videos not in database {db!r}: {', '.join(unknown)}")
    chosen = [entries[v] for v in (video_ids or entries)]  # the catalog gives them in source-name order
    results = []
    for entry in tqdm(chosen, desc="resegment", unit="video", disable=not progress or len(chosen) < 2):
        job = _Job(store, layout, catalog, entry, options, cuts, detector, short_side, on_commit)
        try:
            results.append(job.run())
        except BuscaError as err:
            log.warning("%s: %s", entry.source, err)
            results.append(ResegmentResult(entry.video_id, entry.source, "failed", error=str(err)))
        except (OSError, ValueError, KeyError) as err:  # unreadable or inconsistent artifacts
            error = MediaError(entry.source, f"cannot be re-segmented ({type(err).__name__}: {err}); re-ingest it")
            log.warning("%s", error)
            results.append(ResegmentResult(entry.video_id, entry.source, "failed", error=str(error)))
    return results


@dataclass
class _Job:
    store: VectorStore
    layout: DataLayout
    catalog: Catalog
    entry: IndexedVideo
    options: SegmentOptions
    cuts: str
    detector: CutDetector | None
    short_side: int
    on_commit: Callable[[str, Segmentation], None] | None

    @property
    def folder(self) -> Path:
        return self.layout.encoder_dir(self.entry.video_id, self.entry.encoder)

    @property
    def staging(self) -> Path:
        return self.folder / STAGING

    def run(self) -> ResegmentResult:
        vid, vector = self.entry.video_id, self.entry.encoder
        ready = self.staging / READY
        if ready.is_file():
            marks = atomic.read_json(ready)
            if _fingerprint(self.folder / "segmentation.json") in (marks["based_on"], marks["result"]):
                return self._commit(kept=int(marks["kept"]))  # a killed run got this far: finish it
        shutil.rmtree(self.staging, ignore_errors=True)
        meta = self.layout.read_meta(vid, vector)
        if meta is None:
            raise MediaError(self.entry.source, "its artifacts are incomplete (no meta.json): re-ingest it")
        cuts_name = meta.get("cuts") if self.cuts == KEEP else (None if self.cuts == NONE else self.cuts)
        new_meta = {**meta, "segment": asdict(self.options), "cuts": cuts_name}
        if new_meta == meta:
            return ResegmentResult(vid, self.entry.source, "unchanged", self.entry.n_shots, self.entry.n_shots)
        frames = self.layout.load_frames(vid, vector)
        old = self.layout.load_segmentation(vid, vector)
        seg = segment(frames, self.options, self._hard_cuts(cuts_name))
        before = previous_ids(old, self.folder)
        ids = carry_ids(seg, before)
        kept = sum(i in set(before.values()) for i in ids)
        if seg.to_json() == old.to_json() and ids == stored_point_ids(self.layout, old, vector):
            self.layout.write_meta(vid, vector, new_meta)
            return ResegmentResult(vid, self.entry.source, "unchanged", len(seg.shots), kept)
        staged = self.staging
        atomic.write_npy(staged / "shot_embeddings.npy", seg.shot_embeddings)
        atomic.write_json(staged / "segmentation.json", seg.to_json())
        write_point_ids(staged, seg, ids)
        write_thumbnails(seg, frames.timestamps, staged / "thumbs", self._media(),
                         old_thumbnails(self.layout, old, vector), self.short_side)
        atomic.write_json(staged / "meta.json", new_meta)
        atomic.write_json(staged / READY, {"based_on": _fingerprint(self.folder / "segmentation.json"),
                                           "result": _fingerprint(staged / "segmentation.json"), "kept": kept})
        return self._commit(kept)

    def _hard_cuts(self, cuts_name: str | None) -> list[float] | None:
        if cuts_name is None:
            return None
        found = read_cuts(self.layout, self.entry.video_id, cuts_name)
        if found is not None:
            return found
        if self.detector is None or self.detector.name != cuts_name:
            raise ConfigError(f"the {cuts_name} cuts of {self.entry.source} are not stored: "
                              f"pass --cuts {cuts_name} to find them again, or --cuts none")
        return hard_cuts(self._media(), self.entry.video_id, self.detector, self.layout)

    def _media(self) -> Path | None:
        return self.layout.media_file(self.entry.path, self.entry.video_id)

    def _commit(self, kept: int) -> ResegmentResult:
        """Move the staged artifacts into place and update the points; every step can be repeated."""
        vid, vector, staged = self.entry.video_id, self.entry.encoder, self.staging
        thumbs = self.folder / "thumbs"
        thumbs.mkdir(parents=True, exist_ok=True)
        for path in sorted((staged / "thumbs").glob("shot_*.jpg")):
            os.replace(path, thumbs / path.name)
        for name in ARTIFACTS:
            if (staged / name).is_file():
                os.replace(staged / name, self.folder / name)
        seg = self.layout.load_segmentation(vid, vector)
        prune_thumbnails(thumbs, len(seg.shots))
        ids = stored_point_ids(self.layout, seg, vector)
        catalog = self.catalog
        for db in catalog.holders(vid):  # every database that lists the video shares its artifacts
            entry = catalog.get(db, vid)
            if entry is None or entry.encoder != vector or not self.store.has_collection(db):
                continue
            self.store.ensure_collection(db, {vector: int(seg.shot_embeddings.shape[1])})
            self.store.upsert(db, ids, {vector: seg.shot_embeddings}, shot_payloads(seg, vector, self.layout, entry.source))
            self.store.delete_video(db, vid, keep_ids=ids)
            self.store.flush()
            catalog.record(db, replace(entry, n_shots=len(seg.shots), n_scenes=len(seg.scenes), n_classes=seg.n_classes))
        if self.on_commit is not None:
            self.on_commit(vid, seg)
        if (staged / "meta.json").is_file():
            os.replace(staged / "meta.json", self.folder / "meta.json")
        shutil.rmtree(staged, ignore_errors=True)
        return ResegmentResult(vid, self.entry.source, "resegmented", len(seg.shots), kept)
