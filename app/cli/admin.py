"""CLI commands for moving databases: ``migrate`` (embedded <-> Qdrant server), ``backup``, ``restore``.

Top-level imports stay light (``app.cli.main`` imports this module to build its parser); the
pipeline and the stores are imported when a command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from app.config import Settings

MIGRATE_EPILOG = """\
Stores: 'embedded' (the --store backend, default edge), 'edge', 'local', or a server URL.
--from defaults to the configured store (BUSCA_QDRANT_URL / --qdrant-url, else embedded).

  python -m app migrate --db archivo --to http://qdrant:6333 --shards 3 --replication-factor 2
  python -m app migrate --db archivo --from http://qdrant:6333 --to embedded

Collection options (server/cluster only; flags win over environment):
  --shards N                BUSCA_SHARD_NUMBER
  --replication-factor N    BUSCA_REPLICATION_FACTOR
  --on-disk-vectors         BUSCA_ON_DISK_VECTORS=1
  --scalar-quantization     BUSCA_SCALAR_QUANTIZATION=1   (int8, quantile 0.99, kept in RAM)
"""


def add_parsers(sub, add_common: Callable, add_model: Callable) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    mg = sub.add_parser("migrate", help="copy a database between the embedded store and a Qdrant server",
                        epilog=MIGRATE_EPILOG, formatter_class=fmt)
    mg.add_argument("--to", required=True, dest="to_store", help="destination: embedded, edge, local or URL")
    mg.add_argument("--from", dest="from_store", help="source: embedded, edge, local or URL")
    mg.add_argument("--to-db", help="name in the destination (default: the same)")
    mg.add_argument("--to-api-key", help="API key of a destination server (default: --qdrant-api-key)")
    mg.add_argument("--from-api-key", help="API key of a source server (default: --qdrant-api-key)")
    mg.add_argument("--replace", action="store_true", help="drop a non-empty destination database first")
    mg.add_argument("--batch-size", type=int, default=512)
    _add_collection_flags(mg)
    mg.set_defaults(handler="app.cli.admin:run_migrate")
    add_common(mg)

    bk = sub.add_parser("backup", help="export a database (points, vectors, catalog) to a directory")
    bk.add_argument("--out", required=True, help="new or empty directory")
    bk.set_defaults(handler="app.cli.admin:run_backup")
    add_common(bk)

    rs = sub.add_parser("restore", help="restore a backup made by `backup` into the configured store",
                        description="Restore a backup (points, vectors and catalog) into the configured store. "
                        "The database keeps its backed-up name unless --db gives another (BUSCA_DB is not used).")
    rs.add_argument("directory", help="the backup directory")
    rs.add_argument("--replace", action="store_true", help="drop a non-empty database of that name first")
    _add_collection_flags(rs)
    rs.set_defaults(handler="app.cli.admin:run_restore")
    add_common(rs)


def _add_collection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shards", type=int, help="shard_number (env BUSCA_SHARD_NUMBER)")
    parser.add_argument("--replication-factor", type=int, help="replication_factor (env BUSCA_REPLICATION_FACTOR)")
    parser.add_argument("--on-disk-vectors", action="store_true", default=None,
                        help="keep original vectors on disk (env BUSCA_ON_DISK_VECTORS)")
    parser.add_argument("--scalar-quantization", action="store_true", default=None,
                        help="int8 scalar quantization (env BUSCA_SCALAR_QUANTIZATION)")


# --- migrate, backup, restore ------------------------------------------------------------------


def _flag_or_env(value, env: Mapping[str, str], name: str, kind: type):
    if value is not None:
        return value
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if kind is bool:
        return raw.lower() in ("1", "true", "yes", "on")
    try:
        return kind(raw)
    except ValueError as err:
        from pipeline.errors import ConfigError

        raise ConfigError(f"{name} must be {kind.__name__}, got {raw!r}") from err


def collection_options(args: argparse.Namespace, env: Mapping[str, str] | None = None):
    """CollectionOptions from the migrate/restore flags, else the BUSCA_* environment."""
    from pipeline.store import CollectionOptions

    env = os.environ if env is None else env
    return CollectionOptions(
        shard_number=_flag_or_env(args.shards, env, "BUSCA_SHARD_NUMBER", int),
        replication_factor=_flag_or_env(args.replication_factor, env, "BUSCA_REPLICATION_FACTOR", int),
        on_disk_vectors=bool(_flag_or_env(args.on_disk_vectors, env, "BUSCA_ON_DISK_VECTORS", bool)),
        scalar_quantization=bool(_flag_or_env(args.scalar_quantization, env, "BUSCA_SCALAR_QUANTIZATION", bool)),
    )


def endpoint(spec: str, settings: Settings, api_key: str | None) -> tuple[str, dict]:
    """``embedded``/``edge``/``local``/URL -> (label, keyword arguments of ``open_store``)."""
    from pipeline.errors import ConfigError

    spec = spec.strip()
    if spec.startswith(("http://", "https://")):
        return spec, {"url": spec, "api_key": api_key}
    backend = settings.store if spec == "embedded" else spec
    if backend not in ("edge", "local"):
        raise ConfigError(f"unknown store {spec!r}: use embedded, edge, local or a http(s):// URL")
    return backend, {"backend": backend}


def _progress(label: str):
    from tqdm.auto import tqdm

    bar = tqdm(desc=label, unit="shot", disable=not sys.stderr.isatty())

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


def _prepare_destination(store, name: str, vectors: dict[str, int], options, replace: bool) -> None:
    from pipeline.errors import StoreError

    if store.has_collection(name) and store.count(name) > 0:
        if not replace:
            raise StoreError(f"database {name!r} already has {store.count(name)} points in the {store.kind} store: "
                             "pass --replace to drop it first, or choose another name")
        store.drop_collection(name)
    store.ensure_collection(name, vectors, options)


def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli.output import EXIT_OK
    from pipeline.core import check_db_name
    from pipeline.errors import ConfigError, UnknownDatabaseError
    from pipeline.index import catalog_for
    from pipeline.store import copy_collection, open_store

    name = check_db_name(settings.db)
    dst_name = check_db_name(args.to_db or name)
    key = settings.qdrant_api_key
    src_label, src_kw = endpoint(args.from_store or settings.qdrant_url or "embedded", settings, args.from_api_key or key)
    dst_label, dst_kw = endpoint(args.to_store, settings, args.to_api_key or key)
    if src_label == dst_label and name == dst_name:
        raise ConfigError(f"source and destination are both {src_label} {name!r}: give another --to or --to-db")
    options = collection_options(args)
    src = open_store(settings.data_dir, **src_kw)
    try:
        if not src.has_collection(name):
            raise UnknownDatabaseError(name, src.list_collections())
        dst = open_store(settings.data_dir, **dst_kw)
        try:
            _prepare_destination(dst, dst_name, src.vector_names(name), options, args.replace)
            bar, update = _progress(f"{name} -> {dst_name}")
            with bar:
                copied = copy_collection(src, dst, name, dst_name, batch_size=args.batch_size, progress=update)
            videos, channels = _read_catalog(src, name, settings)
            n_videos = _put_catalog(dst, catalog_for(dst, settings.data_dir, options.replication_factor), dst_name,
                                    videos, channels, settings)
        finally:
            dst.close()
    finally:
        src.close()
    print(f"copied {copied} shots of '{name}' from {src_label} to {dst_label} as '{dst_name}', "
          f"with {n_videos} catalog records")
    if dst_label.startswith("http"):
        print(f"point the app at it: BUSCA_QDRANT_URL={dst_label} (and BUSCA_QDRANT_API_KEY), same --data-dir",
              file=sys.stderr)
    return EXIT_OK


def _read_catalog(store, name: str, settings: Settings) -> tuple[list, dict]:
    """``name``'s videos and text-channel registry (``pipeline.channels``, in its JSON form), read
    before anything is written: a damaged catalog stops the command here."""
    from pipeline.channels import ChannelRegistry
    from pipeline.index import catalog_for

    catalog = catalog_for(store, settings.data_dir)
    try:
        videos = list(catalog.videos(name).values())
        return videos, ChannelRegistry(store, settings.data_dir, catalog).read(name)
    finally:
        catalog.close()


def _put_catalog(store, catalog, name: str, videos, channels: dict | None, settings: Settings) -> int:
    """Make ``name``'s catalog hold exactly ``videos`` (media paths relative to the data directory;
    None: leave its videos as they are) and the channel records of ``channels``; closes ``catalog``."""
    from dataclasses import replace

    from pipeline.channels import ChannelRegistry
    from pipeline.index import DataLayout

    layout = DataLayout(settings.data_dir)
    try:
        n = 0
        if videos is not None:
            catalog.drop_database(name)
            n = catalog.record_many(name, [replace(v, path=layout.stored_path(v.path)) if v.path else v
                                           for v in videos])
        if channels:
            ChannelRegistry(store, settings.data_dir, catalog).write(name, channels)
        return n
    finally:
        catalog.close()


CATALOG_FILE = "catalog.json"
CHANNELS_FILE = "channels.json"


def run_backup(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli.output import EXIT_OK
    from pipeline.core import atomic, check_db_name
    from pipeline.errors import UnknownDatabaseError
    from pipeline.index import write_json_catalog
    from pipeline.store import export_collection, open_store

    name = check_db_name(settings.db)
    out = Path(args.out)
    store = open_store(settings.data_dir, url=settings.qdrant_url, api_key=settings.qdrant_api_key,
                       backend=settings.store)
    try:
        if not store.has_collection(name):
            raise UnknownDatabaseError(name, store.list_collections())
        videos, channels = _read_catalog(store, name, settings)
        bar, update = _progress(f"backup {name}")
        with bar:
            written = export_collection(store, name, out, progress=update)
        n_videos = write_json_catalog(out / CATALOG_FILE, videos)
        if channels["channels"] or channels["videos"]:
            atomic.write_json(out / CHANNELS_FILE, channels)
    finally:
        store.close()
    print(f"backed up {written} shots of '{name}' and its catalog ({n_videos} videos) to {out}")
    return EXIT_OK


def run_restore(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli.output import EXIT_OK
    from pipeline.channels import read_registry_file
    from pipeline.core import check_db_name
    from pipeline.index import catalog_for, read_json_catalog
    from pipeline.store import export_contents, import_collection, open_store

    directory = Path(args.directory)
    exported, vectors = export_contents(directory)
    name = check_db_name(args.db or exported)  # --db here means "restore under this name"
    listed = directory / CATALOG_FILE
    videos = read_json_catalog(listed) if listed.exists() else None  # a damaged one stops the restore here
    channels = read_registry_file(directory / CHANNELS_FILE) if (directory / CHANNELS_FILE).exists() else None
    store = open_store(settings.data_dir, url=settings.qdrant_url, api_key=settings.qdrant_api_key,
                       backend=settings.store)
    options = collection_options(args)
    try:
        _prepare_destination(store, name, vectors, options, args.replace)
        bar, update = _progress(f"restore {name}")
        with bar:
            restored = import_collection(store, directory, name, progress=update)
        if videos is not None or channels:
            _put_catalog(store, catalog_for(store, settings.data_dir, options.replication_factor), name, videos,
                         channels, settings)
    finally:
        store.close()
    if videos is None:
        print(f"warning: {directory} has no {CATALOG_FILE}: the videos of '{name}' are not listed; "
              f"`python -m app check --db {name} --repair` rebuilds them from the store", file=sys.stderr)
    print(f"restored {restored} shots into '{name}' ({store.kind} store)")
    return EXIT_OK
