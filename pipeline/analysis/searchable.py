"""Analyses made searchable: each shot's validated description becomes the ``description``
channel of a search database (payload text, BM25 and dense text vectors, see
:mod:`pipeline.channels`).

The searchable text of a shot is its summary, setting, actions, objects, on-screen text and
speech summary and topics (the intolerance assessment is left out: it judges, it does not
describe). A shot stored as an error (the model never gave valid JSON) is skipped with a note.

The video must be in the database with the segmentation the analysis used. When it is not yet
there, its shots are indexed from the analysis's own artifacts (frame embeddings and
segmentation in the data directory; nothing is encoded again).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pipeline.analysis.export import job_results
from pipeline.analysis.jobs import read_manifest
from pipeline.analysis.schema import ShotDescription, VideoAnalysis
from pipeline.analysis.store import read_analysis
from pipeline.analysis.video import load_prepared
from pipeline.channels import DESCRIPTION, ChannelModels, ShotText, record_channel
from pipeline.errors import BuscaError, ConfigError
from pipeline.index import Catalog, DataLayout, catalog_for, index_video, place_media
from pipeline.store import VectorStore

log = logging.getLogger(__name__)


def description_text(d: ShotDescription) -> str:
    """The searchable text of one validated shot description."""
    parts = [d.summary, d.setting, "; ".join(d.actions), "; ".join(d.objects), "; ".join(d.on_screen_text),
             d.speech.summary, "; ".join(d.speech.topics)]
    return ". ".join(p.strip().rstrip(".") for p in parts if p and p.strip())


def description_texts(analysis: VideoAnalysis) -> tuple[list[ShotText], list[str]]:
    """The shots' texts, and a note per shot that was stored as an error (skipped)."""
    texts, notes = [], []
    for shot in analysis.shots:
        if shot.status != "ok" or shot.description is None:
            notes.append(f"shot {shot.shot_index}: stored as an error ({(shot.error or 'no description')[:120]}), "
                         "skipped")
            continue
        text = description_text(shot.description)
        if text:
            texts.append(ShotText(shot.shot_index, text))
    return texts, notes


@dataclass(frozen=True)
class IndexedAnalysis:
    """What became of one analysis: ``indexed`` (with the shots that got text) or ``failed``."""

    video_id: str
    source: str
    status: str
    shots: int = 0
    notes: tuple[str, ...] = ()
    error: str | None = None


def index_analysis(analysis: VideoAnalysis, vector_name: str, store: VectorStore, layout: DataLayout, db: str,
                   models: ChannelModels, media: Path | None = None, catalog: Catalog | None = None
                   ) -> IndexedAnalysis:
    """Make one analysed video's descriptions searchable in ``db`` (see the module docstring).
    ``vector_name`` is the encoder whose segmentation the analysis used; ``media`` the video file;
    ``catalog`` the store's own by default."""
    own = catalog is None
    catalog = catalog or catalog_for(store, layout.root)
    try:
        entry = catalog.get(db, analysis.video_id)
        if entry is None:
            prepared = load_prepared(layout, analysis.video_id, vector_name)
            placed = place_media(media, prepared.video_id, layout, "link") if media and Path(media).is_file() else None
            entry = index_video(prepared, store, layout, db, source=analysis.source or None, media_path=placed,
                                catalog=catalog)
    finally:
        if own:
            catalog.close()
    if len(analysis.shots) != entry.n_shots:
        raise ConfigError(f"the analysis of {entry.source} has {len(analysis.shots)} shots but database {db!r} holds "
                          f"{entry.n_shots}: it was made on another segmentation; analyse the video again")
    texts, notes = description_texts(analysis)
    shots = record_channel(store, layout, db, entry, DESCRIPTION, texts, models, analysis.model,
                           "; ".join(notes) or None)
    for note in notes:
        log.info("%s: %s", entry.source, note)
    return IndexedAnalysis(entry.video_id, entry.source, "indexed", shots, tuple(notes))


def index_job(job_dir: Path, store: VectorStore, layout: DataLayout, db: str, models: ChannelModels,
              catalog: Catalog | None = None) -> list[IndexedAnalysis]:
    """Every finished video of an analysis job into ``db``; one that fails is reported, the others go on.
    ``job_dir`` may also be one ``analysis.json`` (of a video analysed in ``layout``)."""
    job_dir = Path(job_dir)
    if job_dir.is_file():
        analysis = read_analysis(job_dir)
        vector = _vector_of(layout, analysis.video_id)
        return [_guarded(analysis.video_id, analysis.source,
                         lambda: index_analysis(analysis, vector, store, layout, db, models, catalog=catalog))]
    items = {i.id: i for i in read_manifest(job_dir).items}
    out = []
    for result in job_results(job_dir):
        if result.analysis is None:
            out.append(IndexedAnalysis(result.video_id or "", result.source, "failed",
                                       error=f"not analysed ({result.stage}: {result.error or result.status})"))
            continue
        stages = items[result.item_id].stages
        vector = stages["segment"].outputs.get("vector_name") or _vector_of(layout, result.analysis.video_id)
        media = stages["fetch"].outputs.get("path")
        out.append(_guarded(result.analysis.video_id, result.source, lambda a=result.analysis, v=vector, m=media:
                            index_analysis(a, v, store, layout, db, models, Path(m) if m else None, catalog)))
    return out


def _vector_of(layout: DataLayout, video_id: str) -> str:
    folders = sorted(p.parent.name for p in layout.video_dir(video_id).glob("*/segmentation.json"))
    if not folders:
        raise ConfigError(f"video {video_id} has no segmentation in {layout.root}: analyse it with this data directory")
    return folders[0]


def _guarded(video_id: str, source: str, call) -> IndexedAnalysis:
    try:
        return call()
    except BuscaError as err:
        log.warning("%s: %s", source, err)
        return IndexedAnalysis(video_id, source, "failed", error=str(err))
