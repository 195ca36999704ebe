"""The data directory: where each per-video artifact lives, and reading and writing them.

Layout (every write atomic, see :mod:`pipeline.core.atomic`)::

    <data>/videos/<video_id>/info.json                    probe result + source name
    <data>/videos/<video_id>/frames/000000.jpg            every sampled frame, only with keep_frames
    <data>/videos/<video_id>/<vector_name>/timestamps.npy  (N,) float64 seconds
    <data>/videos/<video_id>/<vector_name>/embeddings.npy  (N, D) float32, L2-normalised
    <data>/videos/<video_id>/<vector_name>/segmentation.json
    <data>/videos/<video_id>/<vector_name>/shot_embeddings.npy
    <data>/videos/<video_id>/<vector_name>/meta.json      options that produced the above
    <data>/videos/<video_id>/<vector_name>/thumbs/shot_0000.jpg
    <data>/media/<video_id>.<ext>                         the video itself (hard link or copy), for playback
    <data>/catalog/catalog.sqlite3                        videos confirmed in each database (pipeline.index.catalog)
    <data>/content_ids.sqlite                             video ids by file fingerprint (pipeline.index.fingerprint)
    <data>/edge/ or <data>/qdrant/                        the embedded vector store

Each stage reads the previous stage's files, so a stage can be re-run alone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from pipeline.core import atomic, check_video_id
from pipeline.errors import ConfigError, MediaError
from pipeline.records import FrameEmbeddings, Segmentation, VideoInfo


def content_id(path: str | Path, chunk_size: int = 4 << 20) -> str:
    """Video id: BLAKE2b (80 bits) of the file's bytes. Same content, same id, whatever the name."""
    digest = hashlib.blake2b(digest_size=10)
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(chunk_size):
                digest.update(chunk)
    except OSError as err:
        raise MediaError(path, code="media.unreadable", reason=err.strerror or str(err)) from err
    return digest.hexdigest()


@dataclass(frozen=True)
class DataLayout:
    """Paths under one data directory. Every path is built from checked names only."""

    root: Path

    def video_dir(self, video_id: str) -> Path:
        return self.root / "videos" / check_video_id(video_id)

    def encoder_dir(self, video_id: str, vector_name: str) -> Path:
        if not re.match(r"^[a-z0-9][a-z0-9-]{0,99}$", vector_name):
            raise ConfigError(f"invalid vector name {vector_name!r}")
        return self.video_dir(video_id) / vector_name

    def frame_path(self, video_id: str, index: int) -> Path:
        """Where ingest writes sampled frame ``index`` as JPEG (kept only with ``keep_frames``)."""
        return self.video_dir(video_id) / "frames" / f"{int(index):06d}.jpg"

    def thumb_path(self, video_id: str, vector_name: str, shot_index: int) -> Path:
        return self.encoder_dir(video_id, vector_name) / "thumbs" / f"shot_{shot_index:04d}.jpg"

    def media_path(self, video_id: str, suffix: str) -> Path:
        suffix = suffix.lower() if re.match(r"^\.[A-Za-z0-9]{1,5}$", suffix) else ".bin"
        return self.root / "media" / f"{check_video_id(video_id)}{suffix}"

    def relative(self, path: Path) -> str:
        return str(Path(path).relative_to(self.root))

    def stored_path(self, path: str | Path) -> str:
        """How the catalog keeps a media path: relative to the data directory when the file lies inside
        it (moving, copying or restoring the directory keeps playback), else absolute."""
        path = Path(path)
        if not path.is_absolute():
            return str(path)
        root = self.root.resolve()
        resolved = path.resolve()
        return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(resolved)

    def media_file(self, stored: str, video_id: str) -> Path | None:
        """The existing media file a catalog path names: a relative path under the data directory; an
        absolute one (catalogs of earlier versions) as it is, or, when it is gone, the file of the same
        name under ``<data>/media`` (the data directory was moved); else ``<data>/media/<video_id>.*``."""
        candidates: list[Path] = []
        if stored:
            path = Path(stored)
            if path.is_absolute():
                candidates += [path, self.root / "media" / path.name]
            elif ".." not in path.parts:
                candidates.append(self.root / path)
        media = self.root / "media"
        if media.is_dir():
            candidates += sorted(p for p in media.glob(f"{check_video_id(video_id)}.*") if not p.name.startswith("."))
        return next((p for p in candidates if p.is_file()), None)

    def resolve(self, relative: str) -> Path:
        """A path stored in a payload, back to a file inside the data directory (never outside)."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ConfigError(f"path {relative!r} points outside the data directory")
        return path

    # --- frame embeddings and segmentation -------------------------------------------------

    def save_frames(self, frames: FrameEmbeddings, vector_name: str) -> None:
        folder = self.encoder_dir(frames.video_id, vector_name)
        atomic.write_npy(folder / "timestamps.npy", frames.timestamps.astype(np.float64))
        atomic.write_npy(folder / "embeddings.npy", frames.embeddings.astype(np.float32))

    def load_frames(self, video_id: str, vector_name: str) -> FrameEmbeddings:
        folder = self.encoder_dir(video_id, vector_name)
        return FrameEmbeddings(
            video_id=video_id,
            timestamps=atomic.read_npy(folder / "timestamps.npy"),
            embeddings=atomic.read_npy(folder / "embeddings.npy"),
        )

    def save_segmentation(self, segmentation: Segmentation, vector_name: str) -> None:
        folder = self.encoder_dir(segmentation.video_id, vector_name)
        atomic.write_npy(folder / "shot_embeddings.npy", segmentation.shot_embeddings.astype(np.float32))
        atomic.write_json(folder / "segmentation.json", segmentation.to_json())

    def load_segmentation(self, video_id: str, vector_name: str) -> Segmentation:
        folder = self.encoder_dir(video_id, vector_name)
        return Segmentation.from_json(
            atomic.read_json(folder / "segmentation.json"), atomic.read_npy(folder / "shot_embeddings.npy")
        )

    def load_info(self, video_id: str) -> VideoInfo:
        """The probe result stored at ingest (``info.json``): duration, frame rate, size..."""
        path = self.video_dir(video_id) / "info.json"
        try:
            data = atomic.read_json(path)
            return VideoInfo(**{f.name: data[f.name] for f in fields(VideoInfo)})
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise MediaError(path, f"the video's probe result cannot be read ({err}); ingest it again") from err

    def read_meta(self, video_id: str, vector_name: str) -> dict | None:
        path = self.encoder_dir(video_id, vector_name) / "meta.json"
        return atomic.read_json(path) if path.exists() else None

    def write_meta(self, video_id: str, vector_name: str, meta: dict) -> None:
        atomic.write_json(self.encoder_dir(video_id, vector_name) / "meta.json", meta)
