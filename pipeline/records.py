"""Typed records shared by every stage. Children carry their parent's id.

Time is float seconds. Frame indices (``first_frame``/``end_frame``) index the
*sampled* frames of a video, half-open: ``[first_frame, end_frame)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from pipeline.core import format_timecode


class TimeSpan:
    """Mixin for records with ``start_s``/``end_s``: their ``HH:MM:SS.mmm`` timecodes."""

    start_s: float
    end_s: float

    @property
    def start_tc(self) -> str:
        return format_timecode(self.start_s)

    @property
    def end_tc(self) -> str:
        return format_timecode(self.end_s)


@dataclass(frozen=True)
class VideoInfo:
    """What probing a media file tells us, before any frame is decoded."""

    path: str
    duration_s: float
    fps: float
    width: int
    height: int
    rotation: int
    has_audio: bool
    codec: str
    size_bytes: int

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as shown, after the rotation metadata is applied."""
        if self.rotation % 180:
            return self.height, self.width
        return self.width, self.height


@dataclass(frozen=True)
class FrameEmbeddings:
    """The sampled frames of one video: times and L2-normalised embeddings."""

    video_id: str
    timestamps: np.ndarray  # (N,) float64 seconds, strictly increasing
    embeddings: np.ndarray  # (N, D) float32, L2-normalised

    def __post_init__(self) -> None:
        if self.embeddings.ndim != 2 or len(self.timestamps) != len(self.embeddings):
            raise ValueError(
                f"timestamps {self.timestamps.shape} and embeddings {self.embeddings.shape} do not match"
            )


@dataclass(frozen=True)
class Scene:
    """A run of frames whose semantic class stays the same along the timeline."""

    video_id: str
    index: int
    class_id: int
    first_frame: int
    end_frame: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Shot(TimeSpan):
    """A run of consecutive, nearby frames inside one scene."""

    video_id: str
    index: int
    scene: int
    class_id: int
    first_frame: int
    end_frame: int
    keyframe: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Segmentation:
    """The four steps' result for one video: classes, scenes, shots and shot embeddings."""

    video_id: str
    frame_classes: np.ndarray  # (N,) int, the class of each frame after noise handling
    raw_labels: np.ndarray  # (N,) int, HDBSCAN's labels, -1 for noise
    scenes: tuple[Scene, ...]
    shots: tuple[Shot, ...]
    shot_embeddings: np.ndarray  # (len(shots), D) float32, L2-normalised

    @property
    def n_classes(self) -> int:
        return len(set(self.frame_classes.tolist()))

    def to_json(self) -> dict:
        """The JSON artifact (embeddings live in their own ``.npy`` file)."""
        return {
            "video_id": self.video_id,
            "frame_classes": self.frame_classes.tolist(),
            "raw_labels": self.raw_labels.tolist(),
            "scenes": [asdict(s) for s in self.scenes],
            "shots": [asdict(s) for s in self.shots],
        }

    @classmethod
    def from_json(cls, data: dict, shot_embeddings: np.ndarray) -> Segmentation:
        return cls(
            video_id=data["video_id"],
            frame_classes=np.asarray(data["frame_classes"], dtype=np.int64),
            raw_labels=np.asarray(data["raw_labels"], dtype=np.int64),
            scenes=tuple(Scene(**s) for s in data["scenes"]),
            shots=tuple(Shot(**s) for s in data["shots"]),
            shot_embeddings=shot_embeddings,
        )


@dataclass(frozen=True)
class IndexedVideo:
    """A catalog entry: a video whose shots are confirmed in a database."""

    video_id: str
    source: str  # file name shown to users
    path: str  # where the media file is, for playback
    duration_s: float
    n_frames: int
    n_shots: int
    n_scenes: int
    n_classes: int
    encoder: str
    indexed_at: str


@dataclass(frozen=True)
class SearchHit(TimeSpan):
    """One ranked shot."""

    rank: int
    score: float
    point_id: str
    video_id: str
    source: str
    shot_index: int
    scene: int
    class_id: int
    start_s: float
    end_s: float
    thumbnail: str
    extra: dict = field(default_factory=dict, compare=False)

    def clamped(self, duration_s: float | None) -> SearchHit:
        """The hit with its span clamped to the video's duration (the last sampled frame's span
        may end a frame after the video does); unchanged when the duration is unknown."""
        if not duration_s or duration_s <= 0:
            return self
        return replace(self, start_s=min(self.start_s, duration_s), end_s=min(self.end_s, duration_s))

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("extra")
        data["start_tc"] = self.start_tc
        data["end_tc"] = self.end_tc
        return data


@dataclass(frozen=True)
class TranscriptSegment:
    """A stretch of recognised speech. ``video_id`` is empty when the transcript was made
    from a file before it had an id."""

    video_id: str
    start_s: float
    end_s: float
    text: str

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TranscriptSegment:
        return cls(str(data.get("video_id", "")), float(data["start_s"]), float(data["end_s"]), str(data["text"]))
