"""Many workers, one archive.

``ingest --workers N``: N worker processes decode, embed and segment videos
(:func:`~pipeline.index.ingest.prepare_video`, which writes each video's artifacts), while this
process alone writes to the database (:func:`~pipeline.index.ingest.finish_ingest`: media, points,
catalog). So an embedded store keeps its single writer, and a worker that dies loses only the
video it was preparing: artifacts are written atomically and marked finished last, nothing of it
reached the store. The pool is started again and the videos that were in flight are retried
(``MAX_ATTEMPTS`` each); a video whose worker dies every time is reported as failed.

``ingest --shard I/N``: the inputs are split deterministically, so that N machines given the same
inputs ingest disjoint parts into one Qdrant server. A folder's videos are assigned by their path
inside the folder (the same whatever the mount point), other inputs by file name (URLs by URL):
a stable hash, modulo N.

Two workers (or machines) given files with the same content serialise on a lock per video id
(``<data>/videos/.locks/<id>.lock``), so they never write one video's artifacts at once.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm.auto import tqdm

from pipeline.core import check_db_name, exclusive_lock
from pipeline.errors import ConfigError, MediaError
from pipeline.index.catalog import Catalog, catalog_for
from pipeline.index.fingerprint import ContentIds
from pipeline.index.ingest import IngestResult, failed_result, fetch_source, finish_ingest
from pipeline.index.layout import DataLayout
from pipeline.index.prepare import IngestOptions, PreparedVideo, prepare_video
from pipeline.protocols import CutDetector, ImageTextEncoder
from pipeline.sources import SourceOptions, expand_sources, looks_like_url
from pipeline.store import VectorStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

#: Makes the encoder inside a worker process; must pickle (a module-level function or a partial of one).
EncoderFactory = Callable[[], ImageTextEncoder]
#: Makes the shot-boundary detector inside a worker process (``ingest --cuts``); must pickle too.
CutDetectorFactory = Callable[[], CutDetector]


@dataclass(frozen=True)
class Shard:
    """Part ``index`` (1..count) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise ConfigError(f"--shard must be I/N with 1 <= I <= N (e.g. 1/3), got {text!r}")
        return cls(int(match[1]), int(match[2]))

    def owns(self, key: str) -> bool:
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.count == self.index - 1


def shard_key(source: str, given: str) -> str:
    """What decides a source's shard: its path inside the folder the user gave, else its file name."""
    if looks_like_url(source):
        return source
    folder = Path(os.path.abspath(Path(given).expanduser()))
    path = Path(source)
    if folder.is_dir() and path.is_relative_to(folder):
        return path.relative_to(folder).as_posix()
    return path.name


def select_shard(inputs: Sequence[str | Path], shard: Shard | None) -> list[str]:
    """The sources of the inputs (as :func:`pipeline.sources.expand_sources` gives them) that belong
    to ``shard`` (all of them for None)."""
    if shard is None:
        return expand_sources(inputs)
    chosen: list[str] = []
    for given in inputs:
        chosen += [s for s in expand_sources([given]) if shard.owns(shard_key(s, str(given)))]
    return list(dict.fromkeys(chosen))


# --- inside a worker process ---------------------------------------------------------------------

_ENCODER: ImageTextEncoder | None = None
_CUTS: CutDetector | None = None


def _start_worker(make_encoder: EncoderFactory, threads: int, make_cuts: CutDetectorFactory | None = None) -> None:
    global _ENCODER, _CUTS
    for name in THREAD_VARIABLES:  # read when the model library loads, which is after this
        os.environ[name] = str(threads)
    _ENCODER = make_encoder()
    _CUTS = make_cuts() if make_cuts is not None else None


def _prepare(path: Path, root: Path, options: IngestOptions, started: float) -> PreparedVideo | IngestResult:
    """A prepared video, or its ``failed`` result (the pipeline's exceptions do not all pickle)."""
    layout = DataLayout(root)
    try:
        video_id = ContentIds(layout.root).video_id(path)  # not read again when unchanged
        with exclusive_lock(layout.root / "videos" / ".locks" / f"{video_id}.lock"):
            return prepare_video(path, _ENCODER, layout, options, video_id=video_id, cut_detector=_CUTS)
    except Exception as err:
        return failed_result(path, err, started)


# --- the writer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    index: int
    path: Path
    name: str | None
    started: float


def ingest_parallel(sources: Sequence[str], make_encoder: EncoderFactory, store: VectorStore, layout: DataLayout,
                    db: str, options: IngestOptions, workers: int = 2,
                    catalog: Catalog | None = None, fetch: SourceOptions | None = None,
                    mp_context: str = "spawn", make_cuts: CutDetectorFactory | None = None) -> list[IngestResult]:
    """Ingest ``sources`` (already expanded: files and URLs) with ``workers`` processes preparing
    videos and this process writing them; results in the order of ``sources``. ``make_cuts``: the
    shot-boundary detector each worker makes (``ingest --cuts``)."""
    check_db_name(db)
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    catalog = catalog or catalog_for(store, layout.root)
    results: list[IngestResult | None] = [None] * len(sources)
    queue: deque[_Item] = deque()
    for i, source in enumerate(sources):  # downloads happen here, through the one URL validator
        started = time.perf_counter()
        try:
            path, name = fetch_source(source, fetch)
        except Exception as err:
            results[i] = failed_result(source, err, started)
            continue
        queue.append(_Item(i, path, name, started))
    attempts: Counter[int] = Counter()
    threads = max(1, (os.cpu_count() or 1) // workers)
    worker_options = replace(options, progress=False)
    bar = tqdm(total=len(queue), desc="videos", unit="video", disable=not options.progress or len(queue) < 2)
    with bar:
        while queue:
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(mp_context),
                                       initializer=_start_worker, initargs=(make_encoder, threads, make_cuts))
            try:
                lost = _run_pool(pool, queue, attempts, workers, worker_options, layout, results,
                                 lambda item, prepared: finish_ingest(item.path, prepared, store, layout, db, options,
                                                                      catalog, item.name, item.started), bar)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            for item in lost:
                if attempts[item.index] >= MAX_ATTEMPTS:
                    error = MediaError(item.path, code="media.worker_died", times=attempts[item.index])
                    results[item.index] = IngestResult(str(item.path), "failed", error=str(error),
                                                       error_code=error.code, error_params=dict(error.params),
                                                       seconds=time.perf_counter() - item.started)
                    bar.update(1)
                else:
                    queue.appendleft(item)
            if lost:
                log.warning("a worker process died; %d video(s) in flight go back in the queue", len(lost))
    return results  # type: ignore[return-value]  # every index is filled


def _run_pool(pool: ProcessPoolExecutor, queue: deque[_Item], attempts: Counter[int], workers: int,
              options: IngestOptions, layout: DataLayout, results: list[IngestResult | None],
              write: Callable[[_Item, PreparedVideo], IngestResult], bar) -> list[_Item]:
    """Feed the pool until the queue is empty; the items in flight when it broke come back."""
    in_flight: dict[Future, _Item] = {}

    def feed() -> None:
        while queue and len(in_flight) < 2 * workers:  # a bounded look-ahead: prepared videos wait in memory
            item = queue.popleft()
            attempts[item.index] += 1
            in_flight[pool.submit(_prepare, item.path, layout.root, options, item.started)] = item

    feed()
    while in_flight:
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        lost = []
        for future in done:
            item = in_flight.pop(future)
            try:
                prepared = future.result()
            except BrokenProcessPool:
                lost.append(item)
                continue
            except Exception as err:  # the pool could not run the task at all
                prepared = failed_result(item.path, err, item.started)
            results[item.index] = prepared if isinstance(prepared, IngestResult) else write(item, prepared)
            bar.update(1)
        if lost:
            return lost + list(in_flight.values())
        feed()
    return []
