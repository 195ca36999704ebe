"""Qdrant Edge's fault boundary: errors and panics of the bindings become :class:`StoreError`
naming the database, and leftovers of an interrupted index build are removed.

A damaged segment file can make the bindings *panic*; the panic reaches Python as
``pyo3_runtime.PanicException``, which derives from ``BaseException``, so an ``except Exception``
misses it (the CLI printed a traceback, a web event never answered).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import BuscaError, StoreError

log = logging.getLogger(__name__)

TEMP_SEGMENTS = "temp_segments"
#: Python's own BaseExceptions, which are never a fault of the store.
_NOT_FAULTS = (KeyboardInterrupt, SystemExit, GeneratorExit)


def is_panic(err: BaseException) -> bool:
    """A Rust panic inside the bindings (``pyo3_runtime.PanicException``, a BaseException)."""
    return not isinstance(err, (Exception, *_NOT_FAULTS)) and type(err).__name__ == "PanicException"


def panic_error(action: str, name: str, err: BaseException) -> StoreError:
    return StoreError(code="store.damaged", action=action, name=name, reason=str(err).strip()[:200] or "panic")


@contextmanager
def edge_errors(action: str, name: str) -> Iterator[None]:
    """The bindings raise plain ``Exception``, or panic on damaged files: name the database and
    the operation, as a :class:`StoreError` in both cases."""
    try:
        yield
    except BuscaError:
        raise
    except Exception as err:
        raise StoreError(f"Qdrant Edge could not {action} in database {name!r}: {err}") from err
    except BaseException as err:
        if is_panic(err):
            raise panic_error(action, name, err) from err
        raise


def remove_builder_leftovers(shard: Path) -> None:
    """What a process killed during an index build left in ``temp_segments`` (nothing else uses it
    while this process holds the store's lock)."""
    temp = shard / TEMP_SEGMENTS
    if not temp.is_dir():
        return
    for leftover in temp.iterdir():
        size = sum(f.stat().st_size for f in leftover.rglob("*") if f.is_file()) if leftover.is_dir() else 0
        log.warning("removing %s (%d MB), left by an interrupted index build", leftover, size >> 20)
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
