"""The torchcodec frame source (``models.video``), the NVDEC path's code, run here on torchcodec's CPU
decoder: the same samples as PyAV's within a frame, and an ingest fed by it, with the frames
handed to the encoder as a device tensor (``FrameBatch.pixels``). The GPU itself is not tested
here (no GPU on the machines that build this)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pipeline.index import DataLayout, IngestOptions, ingest_one
from pipeline.media import DecodeOptions, iter_frames, signature
from pipeline.store import open_store

pytest.importorskip("torchcodec.decoders", reason="pip install torchcodec==0.17.0")


def test_samples_match_pyav_within_one_frame(slideshow):
    from models.video import TorchcodecDecoder

    options = DecodeOptions(fps=2.0, batch_size=5)
    ours = list(TorchcodecDecoder("cpu")(slideshow, options))
    theirs = list(iter_frames(slideshow, options))
    times = np.concatenate([b.timestamps for b in ours])
    assert len(times) == sum(len(b.timestamps) for b in theirs) == 16
    assert [b.first_index for b in ours] == [b.first_index for b in theirs] == [0, 4, 9, 14]  # a small first batch
    np.testing.assert_allclose(times, np.concatenate([b.timestamps for b in theirs]), atol=0.1 + 1e-6)  # 10 fps
    for mine, other in zip(ours, theirs, strict=True):
        n = len(mine.timestamps)
        assert tuple(mine.pixels.shape) == (n, 3, 224, 298) and str(mine.pixels.dtype) == "torch.uint8"
        assert mine.images == [] and len(mine.jpegs) == n and mine.signatures.shape == (n, 16, 16)
        for k, (a, b) in enumerate(zip(mine.pixels.permute(0, 2, 3, 1).numpy(), other.images, strict=True)):
            assert a.shape == b.shape == (224, 298, 3)
            assert np.abs(a.astype(int) - b.astype(int)).mean() < 6  # another resampler, the same picture
            np.testing.assert_allclose(mine.signatures[k], signature(a), atol=1e-3)  # as the CPU's signature
            with Image.open(io.BytesIO(mine.jpegs[k])) as jpeg:
                assert jpeg.format == "JPEG" and jpeg.size == (298, 224)
                assert np.abs(np.asarray(jpeg.convert("RGB"), int) - a).mean() < 4


def test_ingest_with_the_torchcodec_decoder_feeds_the_encoder_device_tensors(slideshow, tiny_encoder, tmp_path):
    from models.video import TorchcodecDecoder

    store = open_store(tmp_path)
    try:
        options = IngestOptions(decode=DecodeOptions(fps=2.0), progress=False)
        result = ingest_one(slideshow, tiny_encoder, store, DataLayout(tmp_path), "archivo", options,
                            decoder=TorchcodecDecoder("cpu"))
    finally:
        store.close()
    assert result.status == "indexed", result.error
    frames = DataLayout(tmp_path).load_frames(result.video_id, tiny_encoder.vector_name)
    assert len(frames.timestamps) == 16 and np.allclose(np.linalg.norm(frames.embeddings, axis=1), 1.0, atol=1e-5)
    meta = DataLayout(tmp_path).read_meta(result.video_id, tiny_encoder.vector_name)
    assert meta["decoder"] == "torchcodec-cpu"


def test_a_file_torchcodec_cannot_open_is_a_media_error_naming_it(tmp_path):
    from models.video import TorchcodecDecoder
    from pipeline.errors import MediaError

    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 4096)
    with pytest.raises(MediaError, match="bad.mp4"):
        list(TorchcodecDecoder("cpu")(bad, DecodeOptions()))
