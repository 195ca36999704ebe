"""``check``: drift between a database's points, its catalog rows and its files, and its repair.

Kinds of drift (``Drift.kind``), and what ``repair`` does about each:

* ``orphan_points`` — points of a video the catalog does not list (a catalog lost or damaged).
  Rebuilt from the video's artifacts when they are complete (the record, and every point
  rewritten); else from the points themselves when they hold every shot ``0..n-1``; else the
  points are deleted (the video must be ingested again).
* ``interrupted`` — an ingest noted the video (``pending``) and died before recording it.
  Its points, if any, are completed from the artifacts, or deleted; the marker is dropped.
* ``missing_points`` / ``incomplete_points`` — the catalog lists a video whose points are gone,
  or not all there (points lost from the store). Rewritten from the artifacts; without them the
  record is dropped (and what is left of the points deleted).
* ``missing_media`` — the video file for playback is gone. Placed again (hard link or copy)
  from the original file when it still exists with the same content; otherwise reported.
* ``missing_thumbnails`` — shot thumbnails are gone. Cut again from the video file at each
  shot's keyframe; without the video file, reported.

A damaged catalog file is moved aside by ``repair`` and every database is rebuilt from the store
(:func:`check_archive`).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from pipeline.core import atomic
from pipeline.errors import BuscaError, CatalogError
from pipeline.index.catalog import Catalog
from pipeline.index.ingest import index_video, place_media
from pipeline.index.layout import DataLayout, content_id
from pipeline.index.prepare import PreparedVideo
from pipeline.media import iter_frames_at
from pipeline.records import IndexedVideo, VideoInfo
from pipeline.store import VectorStore

log = logging.getLogger(__name__)

THUMB_SIDE = 224  # the size ingest's thumbnails have (DecodeOptions.short_side)

#: Each kind of drift, in words (formatted with ``Drift.values``); the web app has its own texts.
DETAILS = {
    "orphan_points": "{points} points in the store, no catalog record",
    "interrupted": "an ingest began and never finished; {points} points stored",
    "missing_points": "the catalog lists {shots} shots, the store holds none",
    "incomplete_points": "the catalog lists {shots} shots, the store holds {points} of them",
    "missing_media": "the video file {path} is gone",
    "missing_thumbnails": "{missing} of {points} shot thumbnails are gone",
}
#: What a repair did.
OUTCOMES = {
    "rewritten": "rewrote its record and its {shots} points from the artifacts",
    "from_points": "rebuilt its record from its {points} points (its artifacts are gone)",
    "deleted": "deleted its {points} points and its record: ingest the video again",
    "forgotten": "dropped its record: ingest the video again",
    "marker_dropped": "dropped the marker",
    "media_placed": "placed the file again from {original}",
    "thumbs_cut": "cut {missing} thumbnails again from the video file",
}
#: What to do when a repair cannot fix it.
ADVICE = {
    "missing_media": "copy the file back, or ingest the video again",
    "missing_thumbnails": "they need the video file: restore it, or ingest the video again",
}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Drift:
    """One problem with one video. ``outcome`` names what the repair did (a key of ``OUTCOMES``,
    "" when not repaired); ``values`` fill the texts."""

    kind: str
    video_id: str
    source: str
    values: dict = field(default_factory=dict)
    outcome: str = ""

    @property
    def repaired(self) -> bool:
        return bool(self.outcome)

    @property
    def detail(self) -> str:
        return DETAILS[self.kind].format(**self.values)

    @property
    def action(self) -> str:
        return OUTCOMES[self.outcome].format(**self.values) if self.outcome else ""

    @property
    def advice(self) -> str:
        return "" if self.outcome else ADVICE.get(self.kind, "")

    def to_json(self) -> dict:
        return {**asdict(self), "repaired": self.repaired, "detail": self.detail, "action": self.action}


@dataclass(frozen=True)
class CatalogIssue:
    """The catalog itself is damaged: ``where`` names the file; ``rebuilt`` when the repair set it
    aside and rebuilt the catalog from the store."""

    where: str
    message: str
    rebuilt: bool = False

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class CheckReport:
    db: str
    videos: int  # indexed videos the catalog lists (after any repair)
    points: int  # points in the store (after any repair)
    drift: list[Drift] = field(default_factory=list)
    catalog_problems: list[CatalogIssue] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.drift and not self.catalog_problems

    @property
    def unrepaired(self) -> list[Drift]:
        return [d for d in self.drift if not d.repaired]

    def to_json(self) -> dict:
        return {"db": self.db, "videos": self.videos, "points": self.points, "clean": self.clean,
                "catalog_problems": [asdict(c) for c in self.catalog_problems],
                "drift": [d.to_json() for d in self.drift]}


@dataclass
class _Points:
    """What the store holds of one video."""

    source: str = ""
    shots: dict[int, dict] = field(default_factory=dict)  # shot index -> payload

    @property
    def vector_name(self) -> str | None:
        """The encoder folder its thumbnails live in: ``videos/<id>/<vector>/thumbs/...``."""
        for payload in self.shots.values():
            parts = Path(str(payload.get("thumbnail", ""))).parts
            if len(parts) >= 4 and parts[0] == "videos":
                return parts[2]
        return None

    @property
    def complete(self) -> bool:
        return set(self.shots) == set(range(len(self.shots)))


def _store_points(store: VectorStore, db: str) -> dict[str, _Points]:
    found: dict[str, _Points] = {}
    if not store.has_collection(db):
        return found
    for point in store.scroll(db, batch_size=1024):
        video_id = str(point.payload.get("video_id", ""))
        entry = found.setdefault(video_id, _Points(source=str(point.payload.get("source", ""))))
        entry.shots[int(point.payload.get("shot_index", -1))] = point.payload
    return found


def load_prepared(layout: DataLayout, video_id: str, vector_name: str | None) -> PreparedVideo | None:
    """A video's finished artifacts for ``vector_name`` (``meta.json`` written), or None."""
    if not vector_name:
        return None
    try:
        if layout.read_meta(video_id, vector_name) is None:
            return None
        data = atomic.read_json(layout.video_dir(video_id) / "info.json")
        info = VideoInfo(**{f.name: data[f.name] for f in fields(VideoInfo)})
        frames = layout.load_frames(video_id, vector_name)
        seg = layout.load_segmentation(video_id, vector_name)
    except (OSError, ValueError, KeyError, TypeError, BuscaError) as err:
        log.info("artifacts of %s (%s) are not usable: %s", video_id, vector_name, err)
        return None
    return PreparedVideo(video_id, info, frames, seg, vector_name, reused=True)


class _Checker:
    def __init__(self, store: VectorStore, catalog: Catalog, layout: DataLayout, db: str, repair: bool):
        self.store, self.catalog, self.layout, self.db, self.repair = store, catalog, layout, db, repair
        self.drift: list[Drift] = []

    def note(self, kind: str, video_id: str, source: str, values: dict, outcome: str = "") -> None:
        self.drift.append(Drift(kind, video_id, source, values, outcome))

    def rewrite(self, video_id: str, source: str, vector_name: str | None, values: dict, media_hint: str = "") -> str:
        """Record the video and rewrite all its points from its artifacts; "" when they are unusable."""
        prepared = load_prepared(self.layout, video_id, vector_name)
        if prepared is None:
            return ""
        media = self.layout.media_file(media_hint, video_id)
        index_video(prepared, self.store, self.layout, self.db, source=source, media_path=media, catalog=self.catalog)
        values["shots"] = len(prepared.segmentation.shots)
        return "rewritten"

    def drop(self, video_id: str, n_points: int) -> str:
        if n_points and self.store.has_collection(self.db):
            self.store.delete_video(self.db, video_id)
            self.store.flush()
        self.catalog.forget(self.db, video_id)
        return "deleted" if n_points else "forgotten"

    def from_points(self, video_id: str, got: _Points) -> IndexedVideo:
        payloads = list(got.shots.values())
        media = self.layout.media_file("", video_id)
        return IndexedVideo(
            video_id=video_id, source=got.source, path=self.layout.stored_path(media) if media else "",
            duration_s=max(float(p.get("end_s", 0.0)) for p in payloads), n_frames=0, n_shots=len(payloads),
            n_scenes=len({p.get("scene") for p in payloads}), n_classes=len({p.get("class_id") for p in payloads}),
            encoder=got.vector_name or next(iter(self.store.vector_names(self.db)), ""),
            indexed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def unlisted(self, video_id: str, got: _Points, interrupted: bool) -> None:
        values = {"points": len(got.shots)}
        outcome = ""
        if self.repair:
            outcome = self.rewrite(video_id, got.source, got.vector_name, values)
            if not outcome and got.complete and not interrupted:
                self.catalog.record(self.db, self.from_points(video_id, got))
                outcome = "from_points"
            outcome = outcome or self.drop(video_id, len(got.shots))
        self.note("interrupted" if interrupted else "orphan_points", video_id, got.source, values, outcome)

    def listed(self, entry: IndexedVideo, got: _Points | None) -> None:
        have = len(got.shots) if got else 0
        if got and set(got.shots) == set(range(entry.n_shots)):
            return
        values = {"shots": entry.n_shots, "points": have}
        outcome = ""
        if self.repair:
            outcome = (self.rewrite(entry.video_id, entry.source, entry.encoder, values, entry.path)
                       or self.drop(entry.video_id, have))
        self.note("missing_points" if not have else "incomplete_points", entry.video_id, entry.source, values,
                  outcome)

    def media(self, entry: IndexedVideo) -> None:
        if self.layout.media_file(entry.path, entry.video_id) is not None:
            return
        values = {"path": entry.path or "(none)"}
        outcome = ""
        if self.repair:
            original = _original_path(self.layout, entry.video_id)
            if original is not None:
                placed = place_media(original, entry.video_id, self.layout, "link")
                self.catalog.record(self.db, replace(entry, path=self.layout.stored_path(placed)))
                values["original"], outcome = str(original), "media_placed"
        self.note("missing_media", entry.video_id, entry.source, values, outcome)

    def thumbnails(self, entry: IndexedVideo, got: _Points | None) -> None:
        missing = {i: p for i, p in (got.shots.items() if got else ()) if not self._thumb_ok(p)}
        if not missing:
            return
        values = {"missing": len(missing), "points": len(got.shots)}
        outcome = ""
        media = self.layout.media_file(entry.path, entry.video_id)
        if self.repair and media is not None:
            self._cut_thumbnails(entry, media, missing)
            outcome = "thumbs_cut"
        self.note("missing_thumbnails", entry.video_id, entry.source, values, outcome)

    def _thumb_ok(self, payload: dict) -> bool:
        try:
            return self.layout.resolve(str(payload.get("thumbnail", ""))).is_file()
        except BuscaError:
            return False

    def _cut_thumbnails(self, entry: IndexedVideo, media: Path, missing: dict[int, dict]) -> None:
        prepared = load_prepared(self.layout, entry.video_id, entry.encoder)
        order = sorted(missing)
        times = []
        for index in order:
            payload = missing[index]
            if prepared is not None and index < len(prepared.segmentation.shots):
                times.append(float(prepared.frames.timestamps[prepared.segmentation.shots[index].keyframe]))
            else:
                times.append((float(payload.get("start_s", 0.0)) + float(payload.get("end_s", 0.0))) / 2)
        for picked in iter_frames_at(media, times, short_side=THUMB_SIDE):
            buffer = io.BytesIO()
            Image.fromarray(picked.image).save(buffer, format="JPEG", quality=85)
            atomic.write_bytes(self.layout.resolve(str(missing[order[picked.request]]["thumbnail"])), buffer.getvalue())


def _original_path(layout: DataLayout, video_id: str) -> Path | None:
    """The file the video was ingested from, if it is still there with the same content."""
    try:
        original = Path(str(atomic.read_json(layout.video_dir(video_id) / "info.json")["path"]))
        if original.is_file() and content_id(original) == video_id:
            return original
    except (OSError, ValueError, KeyError, TypeError, BuscaError):
        pass
    return None


def check_database(store: VectorStore, catalog: Catalog, layout: DataLayout, db: str, repair: bool = False,
                   progress: Progress | None = None) -> CheckReport:
    """Find (and with ``repair`` fix) the drift of one database (see the module's documentation)."""
    say = progress or (lambda _text: None)
    checker = _Checker(store, catalog, layout, db, repair)
    say(f"reading the points of {db!r}")
    points = _store_points(store, db)
    records = catalog.videos(db)
    pending = set(catalog.pending(db))
    say(f"comparing {len(points)} videos in the store with {len(records)} in the catalog")
    for video_id in sorted(points.keys() - records.keys()):
        checker.unlisted(video_id, points[video_id], video_id in pending)
    for video_id in sorted(pending - points.keys() - records.keys()):  # died before writing any point
        if repair:
            catalog.forget(db, video_id)
        checker.note("interrupted", video_id, "", {"points": 0}, "marker_dropped" if repair else "")
    for entry in records.values():
        checker.listed(entry, points.get(entry.video_id))
    if repair and checker.drift:
        points, records = _store_points(store, db), catalog.videos(db)
    say("checking the video files and the thumbnails")
    for entry in records.values():
        checker.media(entry)
        checker.thumbnails(entry, points.get(entry.video_id))
    n_points = store.count(db) if store.has_collection(db) else 0
    return CheckReport(db, len(catalog.videos(db)) if repair else len(records), n_points, checker.drift)


def check_archive(store: VectorStore, catalog: Catalog, layout: DataLayout, db: str, repair: bool = False,
                  progress: Progress | None = None) -> list[CheckReport]:
    """:func:`check_database` for ``db``, with the catalog's own problems. When the catalog file is
    damaged, ``repair`` moves it aside and rebuilds every database of the store into a fresh one
    (one report per database)."""
    try:
        catalog.videos(db)
    except CatalogError as err:
        moved = catalog.quarantine() if repair else None
        if moved is None:
            n_points = store.count(db) if store.has_collection(db) else 0
            return [CheckReport(db, 0, n_points, [], [CatalogIssue(err.where, str(err))])]
        log.warning("rebuilding every database's catalog from the store (the damaged file is now %s)", moved)
        reports = [check_database(store, catalog, layout, name, True, progress)
                   for name in [db, *(n for n in store.list_collections() if n != db)]]
        issue = CatalogIssue(err.where, f"{err.where}: was damaged; moved to {moved} and rebuilt from the store", True)
        return [replace(reports[0], catalog_problems=[issue]), *reports[1:]]
    damaged = catalog.damaged_json(db)
    report = check_database(store, catalog, layout, db, repair, progress)
    if not damaged:
        return [report]
    where = damaged.where
    issue = CatalogIssue(where, str(damaged))
    if repair:
        catalog.retire_damaged_json(db)
        issue = CatalogIssue(where, f"{where}: was damaged; set aside as .damaged and {db!r} rebuilt from the store",
                             True)
    return [replace(report, catalog_problems=[issue])]
