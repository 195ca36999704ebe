"""Move a database between stores, and back it up to / restore it from plain files.

Backup layout, one directory written atomically (built beside the target, then renamed)::

    manifest.json     {"format": "buscaescenas-collection", "version": 1, "name", "count",
                       "vectors": [{"name", "dim", "file"}], "points": "points.jsonl",
                       "metadata": {...}}  (the database's metadata, e.g. which model made each vector)
    points.jsonl      one point per line: {"id", "payload", "vectors": [names the point has]}
    vectors_000.npy   (count, dim) float32 per named vector; row i belongs to line i
                      (zeros where that point has no such vector)

No pickle anywhere: numpy files are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np

from pipeline.core.atomic import read_json, write_json
from pipeline.errors import ConfigError, StoreError
from pipeline.store.base import StoredPoint, VectorStore

log = logging.getLogger(__name__)

FORMAT = "buscaescenas-collection"
VERSION = 1
MANIFEST = "manifest.json"
POINTS = "points.jsonl"

Progress = Callable[[int, int], None]  # (points done, points in all)


def copy_collection(src: VectorStore, dst: VectorStore, name: str, dst_name: str | None = None,
                    batch_size: int = 512, progress: Progress | None = None) -> int:
    """Copy every point (ids, payloads, all named vectors) of ``src``'s ``name`` into ``dst``'s
    ``dst_name`` (default: the same name), which must be new or empty. Returns the points copied."""
    dst_name = dst_name or name
    if src is dst and dst_name == name:
        raise ConfigError(f"copying {name!r} onto itself: give another destination name")
    total = src.count(name)
    _prepare_empty(dst, dst_name, src.vector_names(name), src.metadata(name))
    copied = _upsert_stream(dst, dst_name, src.scroll(name, with_vectors=True, batch_size=batch_size),
                            batch_size, total, progress)
    dst.flush()
    _verify(dst, dst_name, copied)
    log.info("copied %d points from %s %r to %s %r", copied, src.kind, name, dst.kind, dst_name)
    return copied


def export_collection(store: VectorStore, name: str, directory: Path, progress: Progress | None = None) -> int:
    """Back ``name`` up into ``directory`` (new or empty). Returns the points written."""
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise StoreError(f"{directory} already exists and is not an empty directory: export into a new one")
    vectors = store.vector_names(name)
    total = store.count(name)
    tmp = directory.parent / f".{directory.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        files = {v: f"vectors_{i:03d}.npy" for i, v in enumerate(sorted(vectors))}
        written = _write_points(store, name, tmp, files, vectors, total, progress)
        manifest = {
            "format": FORMAT, "version": VERSION, "name": name, "count": written, "points": POINTS,
            "vectors": [{"name": v, "dim": vectors[v], "file": files[v]} for v in sorted(vectors)],
            "metadata": store.metadata(name),
        }
        write_json(tmp / MANIFEST, manifest)
        if directory.exists():
            directory.rmdir()
        os.replace(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("exported %d points of %r to %s", written, name, directory)
    return written


def _write_points(store: VectorStore, name: str, folder: Path, files: dict[str, str], vectors: dict[str, int],
                  total: int, progress: Progress | None) -> int:
    arrays = {v: np.zeros((total, vectors[v]), dtype=np.float32) if total == 0 else
              np.lib.format.open_memmap(folder / files[v], mode="w+", dtype=np.float32, shape=(total, vectors[v]))
              for v in vectors}
    n = 0
    with open(folder / POINTS, "w", encoding="utf-8") as out:
        for point in store.scroll(name, with_vectors=True):
            if n == total:
                raise StoreError(f"database {name!r} changed during the export: export it again")
            for vname, vector in point.vectors.items():
                arrays[vname][n] = vector
            record = {"id": point.id, "payload": point.payload, "vectors": sorted(point.vectors)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
            if progress is not None and n % 1024 == 0:
                progress(n, total)
        out.flush()
        os.fsync(out.fileno())
    if n != total:
        raise StoreError(f"database {name!r} changed during the export ({n} of {total} points): export it again")
    for vname, array in arrays.items():
        if total == 0:
            np.save(folder / files[vname], array, allow_pickle=False)
        else:
            array.flush()
    if progress is not None:
        progress(n, total)
    return n


def import_collection(store: VectorStore, directory: Path, name: str | None = None, batch_size: int = 512,
                      progress: Progress | None = None) -> int:
    """Restore a backup made by :func:`export_collection` into ``name`` (default: the exported
    name), which must be new or empty. Returns the points restored."""
    directory = Path(directory)
    manifest = _read_manifest(directory)
    name = name or manifest["name"]
    count = manifest["count"]
    vectors = {v["name"]: v["dim"] for v in manifest["vectors"]}
    arrays = {}
    for v in manifest["vectors"]:
        arrays[v["name"]] = np.load(directory / v["file"], mmap_mode="r" if count else None, allow_pickle=False)
        if arrays[v["name"]].shape != (count, v["dim"]):
            raise StoreError(f"{directory / v['file']} has shape {arrays[v['name']].shape}, the manifest says "
                             f"({count}, {v['dim']}): the backup is damaged")
    _prepare_empty(store, name, vectors, manifest.get("metadata") or {})
    restored = _upsert_stream(store, name, _read_points(directory / manifest["points"], arrays, count),
                              batch_size, count, progress)
    store.flush()
    if restored != count:
        raise StoreError(f"{directory} holds {restored} points but its manifest says {count}: the backup is damaged")
    _verify(store, name, restored)
    log.info("imported %d points from %s into %r", restored, directory, name)
    return restored


def export_contents(directory: Path) -> tuple[str, dict[str, int]]:
    """The database name and the named vectors (``{name: dim}``) of an export made by
    :func:`export_collection`; :class:`StoreError` naming the file when it is not one."""
    manifest = _read_manifest(Path(directory))
    try:
        return str(manifest["name"]), {v["name"]: int(v["dim"]) for v in manifest["vectors"]}
    except (KeyError, TypeError, ValueError) as err:
        raise StoreError(f"{Path(directory) / MANIFEST} is damaged ({err}): give the directory made by an export") from err


def _read_manifest(directory: Path) -> dict:
    path = directory / MANIFEST
    try:
        manifest = read_json(path)
    except (OSError, ValueError) as err:
        raise StoreError(f"{directory} is not a backup made by `python -m app backup`: {path} cannot be read ({err})") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StoreError(f"{directory} is not a backup made by `python -m app backup`: {path} is not a BuscaEscenas database export")
    if manifest.get("version") != VERSION:
        raise StoreError(f"{path} has export version {manifest.get('version')}; this program reads version {VERSION}")
    return manifest


def _read_points(path: Path, arrays: dict[str, np.ndarray], count: int) -> Iterator[StoredPoint]:
    with open(path, encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if i >= count:
                raise StoreError(f"{path} has more points than its manifest says ({count}): the backup is damaged")
            record = json.loads(line)
            vectors = {v: np.array(arrays[v][i], dtype=np.float32) for v in record["vectors"]}
            yield StoredPoint(id=record["id"], payload=record["payload"], vectors=vectors)


def _prepare_empty(store: VectorStore, name: str, vectors: dict[str, int], metadata: dict) -> None:
    if store.has_collection(name) and (n := store.count(name)) > 0:
        raise StoreError(f"database {name!r} in the {store.kind} store already has {n} points: "
                         "copy into a new or empty database, or drop it first")
    store.ensure_collection(name, vectors)
    if metadata:
        store.update_metadata(name, metadata)


def _upsert_stream(store: VectorStore, name: str, points: Iterable[StoredPoint], batch_size: int, total: int,
                   progress: Progress | None) -> int:
    """Upsert in batches; points with different sets of named vectors go in separate calls."""
    done = 0
    iterator = iter(points)
    while batch := list(islice(iterator, max(1, batch_size))):
        groups: dict[tuple[str, ...], list[StoredPoint]] = {}
        for point in batch:
            groups.setdefault(tuple(sorted(point.vectors)), []).append(point)
        for names, group in groups.items():
            if not names:
                raise StoreError(f"point {group[0].id} has no vectors: it cannot be stored")
            store.upsert(name, [p.id for p in group], {v: np.stack([p.vectors[v] for p in group]) for v in names},
                         [p.payload for p in group])
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return done


def _verify(store: VectorStore, name: str, expected: int) -> None:
    found = store.count(name)
    if found != expected:
        raise StoreError(f"database {name!r} has {found} points after the transfer, expected {expected}: "
                         "the transfer is incomplete; drop the destination and run it again")
