"""One video's frames to embeddings: decode in a background thread, encode in this one.

The decode thread does all the per-frame CPU work, so that it overlaps the encoder: it
decodes and resizes (PyAV/swscale, or a GPU decoder), compresses each sampled frame to JPEG
for the thumbnails, and computes each frame's near-duplicate signature
(:mod:`pipeline.media.similar`). The JPEGs go to a :class:`FrameSpool` (in memory, or one
anonymous temporary file for a long video), read back for the shots' keyframes (and written
out one file per frame with ``keep_frames``) and then dropped. The encoder sees only the
frames that are not near duplicates of the last one it encoded; the others take that frame's
embedding.

When the consumer stops early (the encoder raised, the caller gave up), :class:`Prefetch`
stops the decode thread, which closes the decoder and ends: no thread is left blocked on a
full queue.
"""

from __future__ import annotations

import io
import logging
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from pipeline.errors import MediaError
from pipeline.media import FRAME_JPEG_QUALITY, DecodeOptions, FrameBatch, plan_reuse, signature
from pipeline.protocols import ImageTextEncoder

log = logging.getLogger(__name__)

SPOOL_MEMORY = 256 << 20  # bytes of frame JPEGs held in memory before the spool goes to a temporary file
#: A frame source: ``(path, options) -> batches``; :func:`pipeline.media.iter_frames` by default.
Decoder = Callable[[Path, DecodeOptions], Iterator[FrameBatch]]


@dataclass
class StageTimes:
    """Seconds spent per stage of one video's ingest. ``decode_s``, ``jpeg_s`` and
    ``signature_s`` are CPU seconds of the decode thread (they overlap the encoder);
    ``encode_s`` is the encoder's wall time, ``wait_s`` the time the encoder waited for
    frames; the others are wall times on the calling thread. ``frames`` were sampled,
    ``encoded`` went through the encoder (the others were near duplicates)."""

    probe_s: float = 0.0
    hash_s: float = 0.0
    decode_s: float = 0.0
    jpeg_s: float = 0.0
    signature_s: float = 0.0
    wait_s: float = 0.0
    encode_s: float = 0.0
    segment_s: float = 0.0
    thumbnails_s: float = 0.0
    store_s: float = 0.0
    frames: int = 0
    encoded: int = 0
    jpeg_bytes: int = 0  # the sampled frames as spooled (or kept) JPEGs

    def as_dict(self) -> dict[str, float]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


class FrameSpool:
    """Sampled frames as JPEG bytes in one buffer, read back by index for the thumbnails: in
    memory up to ``max_memory`` bytes (about 2 hours of video at 2 fps), beyond that in one
    anonymous temporary file in ``folder`` (unlinked from the start: nothing is left behind,
    even by a killed process). Never one file per frame."""

    def __init__(self, folder: Path, max_memory: int = SPOOL_MEMORY):
        folder.mkdir(parents=True, exist_ok=True)
        self._file = tempfile.SpooledTemporaryFile(max_size=max_memory, dir=folder)  # noqa: SIM115 - closed in close()
        self._spans: list[tuple[int, int]] = []
        self._end = 0
        self._lock = threading.Lock()

    @property
    def on_disk(self) -> bool:
        return bool(getattr(self._file, "_rolled", False))

    def add(self, index: int, jpeg: bytes) -> None:
        with self._lock:
            if index != len(self._spans):
                raise ValueError(f"frame {index} spooled out of order (expected {len(self._spans)})")
            self._file.seek(self._end)
            self._file.write(jpeg)
            self._spans.append((self._end, len(jpeg)))
            self._end += len(jpeg)

    def read(self, index: int) -> bytes:
        with self._lock:
            offset, size = self._spans[index]
            self._file.seek(offset)
            return self._file.read(size)

    def close(self) -> None:
        self._file.close()


class Prefetch:
    """Iterate ``items`` in a background thread, ``depth`` items ahead (decoding releases the GIL).

    Iterating re-raises the producer's exception. ``close()`` (or leaving its ``with`` block, or
    finishing the loop) tells the thread to stop: it closes ``items`` (a generator's ``finally``
    and ``with`` blocks run, so the decoder closes its file) and ends; ``close()`` waits for it.
    Use it as a context manager: a consumer that raises mid-loop leaves its generator suspended,
    not closed, until it is garbage-collected.
    """

    def __init__(self, items: Iterator, depth: int = 3, name: str = "decode"):
        self._items = items
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = object()
        self.thread = threading.Thread(target=self._run, daemon=True, name=name)
        self.thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    break
        except BaseException as err:  # handed to the consumer, which re-raises it
            self._put(err)
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:
                close()
        self._put(self._done)

    def __iter__(self) -> Iterator:
        try:
            while True:
                item = self._queue.get()
                if item is self._done:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout)
            if self.thread.is_alive():
                log.warning("the %s thread did not stop within %.0f s", self.thread.name, timeout)


def _jpeg(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=FRAME_JPEG_QUALITY)
    return buffer.getvalue()


def decoded_frames(path: Path, options: DecodeOptions, decoder: Decoder, sink: FrameSpool,
                   times: StageTimes, with_signatures: bool) -> Iterator[tuple[FrameBatch, list[np.ndarray]]]:
    """Batches with their signatures; each frame's JPEG written to ``sink`` on the way (this
    runs in the decode thread: it measures its own CPU time per stage)."""
    frames = decoder(path, options)
    try:
        while True:
            started = time.thread_time()
            batch = next(frames, None)
            times.decode_s += time.thread_time() - started
            if batch is None:
                return
            started = time.thread_time()
            jpegs = batch.jpegs if batch.jpegs is not None else [_jpeg(image) for image in batch.images]
            for offset, jpeg in enumerate(jpegs):
                sink.add(batch.first_index + offset, jpeg)
                times.jpeg_bytes += len(jpeg)
            times.jpeg_s += time.thread_time() - started
            started = time.thread_time()
            if not with_signatures:
                signatures = []
            elif batch.signatures is not None:
                signatures = list(batch.signatures)
            else:
                signatures = [signature(image) for image in batch.images]
            times.signature_s += time.thread_time() - started
            yield batch, signatures
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


def _select(images: Sequence[Any], positions: list[int]) -> Any:
    if len(positions) == len(images):
        return images
    if isinstance(images, list):
        return [images[p] for p in positions]
    return images[positions]  # an array-like batch on the encoder's device


def embed_frames(path: Path, batches: Iterator[tuple[FrameBatch, list[np.ndarray]]], encoder: ImageTextEncoder,
                 skip_similar: float, times: StageTimes, bar: tqdm | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(timestamps, embeddings)`` for every frame; near duplicates take the embedding of the
    last frame encoded (``skip_similar`` grey levels, 0 encodes every frame)."""
    stamps, chunks = [], []
    ref_sig: np.ndarray | None = None
    ref_vec: np.ndarray | None = None
    waited = time.perf_counter()
    for batch, signatures in batches:
        times.wait_s += time.perf_counter() - waited
        n = len(batch.timestamps)
        encode, source = plan_reuse(signatures, ref_sig, skip_similar) if signatures else (list(range(n)), np.arange(n))
        started = time.perf_counter()
        images = batch.pixels if batch.pixels is not None else batch.images
        encoded = encoder.encode_images(_select(images, encode)) if encode else None
        times.encode_s += time.perf_counter() - started
        vectors = np.empty((n, ref_vec.shape[0] if encoded is None else encoded.shape[1]), np.float32)
        if encoded is not None:
            vectors[encode] = encoded
        for i in range(n):
            if source[i] != i:
                vectors[i] = ref_vec if source[i] < 0 else vectors[source[i]]
        if encode:
            ref_sig = signatures[encode[-1]] if signatures else None
            ref_vec = vectors[encode[-1]]
        times.frames += n
        times.encoded += len(encode)
        stamps.append(batch.timestamps)
        chunks.append(vectors)
        if bar is not None:
            bar.update(n)
        waited = time.perf_counter()
    if not chunks:
        raise MediaError(path, code="media.no_frames", reason="")
    return np.concatenate(stamps), np.concatenate(chunks)
